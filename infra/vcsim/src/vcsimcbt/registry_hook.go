// The Registry handler through which the harness sees snapshots and VMs come and go.

package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// hook is a Registry handler: it sees snapshots and VMs come and go.
type hook struct {
	self types.ManagedObjectReference
	c    *cbt
}

func (h *hook) Reference() types.ManagedObjectReference { return h.self }

func (h *hook) PutObject(o mo.Reference) {
	switch x := o.(type) {
	case *simulator.VirtualMachineSnapshot:
		h.c.onSnapshot(x)
	case *simulator.VirtualMachine:
		registerCbtVM(h.c, x.Self)
	}
}

func (h *hook) UpdateObject(mo.Reference, []types.PropertyChange) {}

func (h *hook) RemoveObject(ref types.ManagedObjectReference) {
	switch ref.Type {
	case "VirtualMachineSnapshot":
		h.c.onSnapshotRemoved(ref)
	case "VirtualMachine":
		h.c.onVMRemoved(ref)
	}
}
