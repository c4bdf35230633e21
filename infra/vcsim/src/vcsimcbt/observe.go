// Reconciling the harness with each VM's configuration after every SOAP call.

package main

import (
	"log"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
)

// observeLocked reconciles the harness with the VM's current configuration. The caller
// holds the VM's registry lock. It gives new disks a backing.uuid (vcsim leaves it empty)
// and keeps it across edits that omit it, grows capacityInBytes/KB to whichever is larger,
// extends the live flat file to the capacity, and invalidates changeIds when CBT is off or
// a disk under a device key was replaced or removed (device keys are reused).
func (c *cbt) observeLocked(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	enabled := trackingEnabled(vm)
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, d := range vm.Config.Hardware.Device {
		disk, b := flatBacking(d)
		if disk == nil {
			continue
		}
		id := diskID(vm.Self, disk.Key)
		seen[id] = true
		prev, had := c.known[id]
		if b.Uuid == "" {
			if had && prev.fileName == b.FileName {
				b.Uuid = prev.uuid
			} else {
				b.Uuid = uuid.New().String()
			}
		}
		if had && (prev.fileName != b.FileName || prev.uuid != b.Uuid) {
			delete(c.disks, id)
		}
		c.known[id] = diskIdentity{fileName: b.FileName, uuid: b.Uuid}

		if kb := disk.CapacityInKB * 1024; kb > disk.CapacityInBytes {
			disk.CapacityInBytes = kb
		} else if disk.CapacityInBytes > kb {
			disk.CapacityInKB = (disk.CapacityInBytes + 1023) / 1024
		}
		if p := flatPath(b.FileName); p != "" {
			if st, err := os.Stat(p); err == nil && st.Size() < disk.CapacityInBytes {
				if err := os.Truncate(p, disk.CapacityInBytes); err != nil {
					log.Printf("vcsimcbt: extend %s: %v", p, err)
				}
			}
		}
	}
	prefix := vm.Self.Value + "/"
	for id := range c.known {
		if strings.HasPrefix(id, prefix) && !seen[id] {
			delete(c.known, id)
			delete(c.disks, id)
		}
	}
	if !enabled { // disabling CBT deletes the .ctk files: every earlier changeId dies
		for id := range c.disks {
			if strings.HasPrefix(id, prefix) {
				delete(c.disks, id)
			}
		}
	}

	// vcsim deletes a removed snapshot's files by their layoutEx key, but its
	// RefreshStorageInfo (run by every snapshot removal) renumbers layoutEx.file, so with two
	// or more snapshots a later removal deletes whatever file now has that key: a live flat
	// file, another snapshot's frozen copy, or nothing (the .vmsn then leaks). So the harness
	// records each snapshot's .vmsn by name (layout.snapshot keeps names), deletes it itself in
	// onSnapshotRemoved, and points every dataKey at no file (-1, like memoryKey).
	if vm.Layout != nil {
		for _, ls := range vm.Layout.Snapshot {
			if si := c.snaps[ls.Key.Value]; si != nil && si.vmsn == "" {
				for _, f := range ls.SnapshotFile {
					if strings.HasSuffix(f, ".vmsn") {
						si.vmsn = f
					}
				}
			}
		}
	}
	if vm.LayoutEx != nil {
		for i := range vm.LayoutEx.Snapshot {
			vm.LayoutEx.Snapshot[i].DataKey = -1
		}
	}
}

// observeAll runs observeLocked for every VM, taking each VM's lock.
func (c *cbt) observeAll() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		simulator.Map.WithLock(vm, func() { c.observeLocked(vm) })
	}
}
