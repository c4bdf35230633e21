// QueryChangedDiskAreas, computed from content against the snapshot that issued the changeId.

package main

import (
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func fileFault(file, msg string) (*types.DiskChangeInfo, types.BaseMethodFault, string) {
	return nil, &types.FileFault{File: file}, msg
}

func (c *cbt) query(vm types.ManagedObjectReference, req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, types.BaseMethodFault, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Snapshot == nil {
		return nil, &types.InvalidArgument{InvalidProperty: "snapshot"}, "snapshot is required (the VM is powered on)"
	}
	snap, ok := simulator.Map.Get(*req.Snapshot).(*simulator.VirtualMachineSnapshot)
	si := c.snaps[req.Snapshot.Value]
	if !ok || snap.Vm != vm || si == nil {
		return nil, &types.ManagedObjectNotFound{Obj: *req.Snapshot}, "snapshot not found"
	}
	sd := si.disks[req.DeviceKey]
	if sd == nil {
		return nil, &types.InvalidArgument{InvalidProperty: "deviceKey"}, "no such disk in the snapshot"
	}
	if sd.err != "" {
		return fileFault(sd.fileName, sd.err)
	}
	if sd.changeId == "" {
		return fileFault(sd.fileName, "change tracking was not enabled when the snapshot was taken")
	}
	if req.StartOffset < 0 || req.StartOffset >= sd.capacity {
		return nil, &types.InvalidArgument{InvalidProperty: "startOffset"}, "startOffset outside the disk"
	}
	var base []digest
	if req.ChangeId != "*" {
		st := c.disks[diskID(vm, req.DeviceKey)]
		if st == nil || !strings.HasPrefix(req.ChangeId, st.epoch+"/") || st.baselines[req.ChangeId] == nil {
			return fileFault(sd.fileName, "invalid or stale changeId "+req.ChangeId)
		}
		base = st.baselines[req.ChangeId]
	}
	length := sd.capacity - req.StartOffset
	if length > c.page {
		length = c.page
	}
	end := req.StartOffset + length
	info := &types.DiskChangeInfo{StartOffset: req.StartOffset, Length: length}
	for i := req.StartOffset / c.block; i*c.block < end && i < int64(len(sd.hashes)); i++ {
		var changed bool
		if base == nil || i >= int64(len(base)) { // "*", or a region added by a resize: non-zero = in use
			changed = sd.hashes[i] != c.zero
		} else {
			changed = sd.hashes[i] != base[i]
		}
		if !changed {
			continue
		}
		s, e := i*c.block, (i+1)*c.block
		if s < req.StartOffset {
			s = req.StartOffset
		}
		if e > end {
			e = end
		}
		n := len(info.ChangedArea)
		if n > 0 && info.ChangedArea[n-1].Start+info.ChangedArea[n-1].Length == s {
			info.ChangedArea[n-1].Length += e - s
		} else {
			info.ChangedArea = append(info.ChangedArea, types.DiskChangeExtent{Start: s, Length: e - s})
		}
	}
	return info, nil, ""
}

// CbtVM receives QueryChangedDiskAreas calls whose _this the HTTP wrapper rewrote from
// VirtualMachine:vm-N to CbtVirtualMachine:vm-N. simulator.VirtualMachine cannot be
// wrapped (snapshot code asserts Map.Get(vm).(*VirtualMachine)); going through vcsim's
// dispatcher keeps its session checks and fault encoding.
type CbtVM struct {
	Self types.ManagedObjectReference
	vm   types.ManagedObjectReference
	c    *cbt
}

func (v *CbtVM) Reference() types.ManagedObjectReference { return v.Self }

func (v *CbtVM) QueryChangedDiskAreas(ctx *simulator.Context, req *types.QueryChangedDiskAreas) soap.HasFault {
	body := &methods.QueryChangedDiskAreasBody{}
	info, fault, msg := v.c.query(v.vm, req)
	if fault != nil {
		body.Fault_ = simulator.Fault(msg, fault)
		return body
	}
	body.Res = &types.QueryChangedDiskAreasResponse{Returnval: *info}
	return body
}

func cbtRef(vm types.ManagedObjectReference) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "CbtVirtualMachine", Value: vm.Value}
}

func registerCbtVM(c *cbt, vm types.ManagedObjectReference) {
	simulator.Map.Put(&CbtVM{Self: cbtRef(vm), vm: vm, c: c})
}
