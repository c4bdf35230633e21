// Start-up: giving every VM its disks through the vSphere API.

package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// addDisks gives every VM -disks disks, attached to the controller of its first disk.
func addDisks(ctx context.Context, u *url.URL, want int, diskMB int64) error {
	gc, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer func() { _ = gc.Logout(ctx) }()
	for _, e := range simulator.Map.All("VirtualMachine") {
		vmo := object.NewVirtualMachine(gc.Client, e.(*simulator.VirtualMachine).Self)
		devs, err := vmo.Device(ctx)
		if err != nil {
			return err
		}
		existing := devs.SelectByType((*types.VirtualDisk)(nil))
		if len(existing) == 0 {
			return fmt.Errorf("%s has no disk to copy the datastore from", vmo.Reference().Value)
		}
		_, b := flatBacking(existing[0])
		if b == nil || b.Datastore == nil {
			return fmt.Errorf("%s: unexpected disk backing", vmo.Reference().Value)
		}
		for i := len(existing); i < want; i++ {
			ctrl, err := devs.FindDiskController("")
			if err != nil {
				return err
			}
			nd := devs.CreateDisk(ctrl, *b.Datastore, "")
			nd.CapacityInKB = diskMB * 1024 // 0 would mean "attach an existing file"
			if err := vmo.AddDevice(ctx, nd); err != nil {
				return fmt.Errorf("add disk to %s: %w", vmo.Reference().Value, err)
			}
			if devs, err = vmo.Device(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
