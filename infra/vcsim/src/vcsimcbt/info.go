// GET /harness/info: VMs, disks, local flat files and frozen snapshots.

package main

import (
	"sort"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func findVM(ref string) *simulator.VirtualMachine {
	vm, _ := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: ref}).(*simulator.VirtualMachine)
	return vm
}

type diskJSON struct {
	Key      int32  `json:"key"`
	UUID     string `json:"uuid,omitempty"`
	FileName string `json:"fileName"`
	FlatPath string `json:"flatPath"`
	Capacity int64  `json:"capacityInBytes"`
	ChangeID string `json:"changeId,omitempty"`
	Error    string `json:"error,omitempty"`
}

type snapJSON struct {
	Ref   string     `json:"ref"`
	Disks []diskJSON `json:"disks"`
}

type vmJSON struct {
	Ref                   string     `json:"ref"`
	Name                  string     `json:"name"`
	ChangeTrackingEnabled bool       `json:"changeTrackingEnabled"`
	Disks                 []diskJSON `json:"disks"`
	Snapshots             []snapJSON `json:"snapshots"`
}

type infoJSON struct {
	URL        string   `json:"url"`
	SDK        string   `json:"sdk"`
	Datacenter string   `json:"datacenter"`
	BlockBytes int64    `json:"blockBytes"`
	PageBytes  int64    `json:"pageBytes"`
	VMs        []vmJSON `json:"vms"`
}

func (h *harness) info() infoJSON {
	out := infoJSON{URL: h.url, SDK: h.url + "/sdk", Datacenter: h.datacenter, BlockBytes: h.c.block, PageBytes: h.c.page, VMs: []vmJSON{}}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		vi := vmJSON{Disks: []diskJSON{}, Snapshots: []snapJSON{}}
		simulator.Map.WithLock(vm, func() {
			vi.Ref, vi.Name, vi.ChangeTrackingEnabled = vm.Self.Value, vm.Name, trackingEnabled(vm)
			for _, d := range vm.Config.Hardware.Device {
				if disk, b := flatBacking(d); disk != nil {
					vi.Disks = append(vi.Disks, diskJSON{Key: disk.Key, UUID: b.Uuid, FileName: b.FileName, FlatPath: flatPath(b.FileName), Capacity: capacity(disk)})
				}
			}
		})
		sort.Slice(vi.Disks, func(i, j int) bool { return vi.Disks[i].Key < vi.Disks[j].Key })
		h.c.mu.Lock()
		var sis []*snapInfo
		refs := map[*snapInfo]string{}
		for ref, si := range h.c.snaps {
			if si.vm == vm.Self {
				sis = append(sis, si)
				refs[si] = ref
			}
		}
		sort.Slice(sis, func(i, j int) bool { return sis[i].seq < sis[j].seq })
		for _, si := range sis {
			sj := snapJSON{Ref: refs[si], Disks: []diskJSON{}}
			for _, sd := range si.disks {
				sj.Disks = append(sj.Disks, diskJSON{Key: sd.key, FileName: sd.fileName, FlatPath: sd.flatPath, Capacity: sd.capacity, ChangeID: sd.changeId, Error: sd.err})
			}
			sort.Slice(sj.Disks, func(i, j int) bool { return sj.Disks[i].Key < sj.Disks[j].Key })
			vi.Snapshots = append(vi.Snapshots, sj)
		}
		h.c.mu.Unlock()
		out.VMs = append(out.VMs, vi)
	}
	sort.Slice(out.VMs, func(i, j int) bool { return out.VMs[i].Name < out.VMs[j].Name })
	return out
}
