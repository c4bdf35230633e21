// Frozen snapshot disks: created inside CreateSnapshot_Task, removed with the snapshot.

package main

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// onSnapshot runs synchronously inside CreateSnapshot_Task (a Registry PutObject hook),
// while vcsim holds the VM's lock, so guest writes through /harness/write cannot
// interleave. vcsim's snapshot.Config is a shallow copy of the VM's config; each disk
// gets its own device, backing and frozen file here.
func (c *cbt) onSnapshot(s *simulator.VirtualMachineSnapshot) {
	vm, ok := simulator.Map.Get(s.Vm).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	c.observeLocked(vm)
	enabled := trackingEnabled(vm)
	devs := make([]types.BaseVirtualDevice, len(vm.Config.Hardware.Device))
	copy(devs, vm.Config.Hardware.Device)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapSeq++
	si := &snapInfo{vm: vm.Self, seq: c.snapSeq, disks: map[int32]*snapDisk{}}
	c.snaps[s.Self.Value] = si
	for i, d := range devs {
		disk, b := flatBacking(d)
		if disk == nil {
			continue
		}
		nd := *disk
		nb := *b
		nd.Backing = &nb
		devs[i] = &nd

		capBytes := capacity(disk)
		frozenName := strings.TrimSuffix(b.FileName, ".vmdk") + "-" + s.Self.Value + ".vmdk"
		sd := &snapDisk{key: disk.Key, fileName: frozenName, flatPath: flatPath(frozenName), capacity: capBytes}
		si.disks[disk.Key] = sd
		nb.FileName = frozenName
		nb.ChangeId = ""

		live := flatPath(b.FileName)
		err := freezeFile(live, sd.flatPath, capBytes)
		if err == nil {
			err = os.WriteFile(localPath(frozenName), []byte("# vcsimcbt frozen disk descriptor: the data is in the -flat file beside it\n"), 0o644)
		}
		if err == nil {
			sd.hashes, err = c.hashFile(sd.flatPath, capBytes)
		}
		if err != nil {
			sd.err = fmt.Sprintf("freezing %s failed: %v", b.FileName, err)
			log.Printf("vcsimcbt: %s", sd.err)
			continue
		}
		id := diskID(vm.Self, disk.Key)
		if !enabled {
			continue
		}
		st := c.disks[id]
		if st == nil {
			st = &diskState{epoch: uuid.New().String(), baselines: map[string][]digest{}}
			c.disks[id] = st
		}
		st.seq++
		sd.changeId = fmt.Sprintf("%s/%d", st.epoch, st.seq)
		st.baselines[sd.changeId] = sd.hashes
		nb.ChangeId = sd.changeId
	}
	s.Config.Hardware.Device = devs
}

func removeSnapshotFiles(si *snapInfo) {
	for _, sd := range si.disks {
		_ = os.Remove(sd.flatPath)
		_ = os.Remove(localPath(sd.fileName))
	}
	if si.vmsn != "" {
		_ = os.Remove(localPath(si.vmsn))
	}
}

func (c *cbt) onSnapshotRemoved(ref types.ManagedObjectReference) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if si := c.snaps[ref.Value]; si != nil {
		removeSnapshotFiles(si)
	}
	delete(c.snaps, ref.Value) // the changeIds it issued stay valid, as on ESXi
}

func (c *cbt) onVMRemoved(ref types.ManagedObjectReference) {
	c.mu.Lock()
	prefix := ref.Value + "/"
	for id := range c.known {
		if strings.HasPrefix(id, prefix) {
			delete(c.known, id)
			delete(c.disks, id)
		}
	}
	for id, si := range c.snaps {
		if si.vm == ref {
			removeSnapshotFiles(si)
			delete(c.snaps, id)
		}
	}
	c.mu.Unlock()
	simulator.Map.Remove(cbtRef(ref))
}

// resetCbt forgets the CBT state of one disk (key != 0) or all disks of a VM.
func (c *cbt) resetCbt(vm types.ManagedObjectReference, key int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.disks {
		if strings.HasPrefix(id, vm.Value+"/") && (key == 0 || id == diskID(vm, key)) {
			delete(c.disks, id)
		}
	}
}
