// Harness state: per-disk CBT state, disk identities and frozen snapshots.

package main

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/vmware/govmomi/vim25/types"
)

type digest [32]byte

// diskState is the change-tracking state of one live disk (one ".ctk" file on ESXi).
type diskState struct {
	epoch     string              // the uuid part of every changeId issued since CBT (re)started
	seq       int                 // the last sequence number issued
	baselines map[string][]digest // changeId -> block digests of the snapshot that issued it
}

// diskIdentity is what makes a disk "the same disk" across reconfigurations.
type diskIdentity struct {
	fileName string
	uuid     string
}

// snapDisk is the frozen content of one disk in one snapshot.
type snapDisk struct {
	key      int32
	fileName string // datastore path of the frozen descriptor, as in the snapshot's config
	flatPath string // local path of the frozen flat file
	changeId string // "" when CBT was off at snapshot time
	capacity int64
	hashes   []digest
	err      string // set when freezing failed; QCDA then faults
}

type snapInfo struct {
	vm    types.ManagedObjectReference
	seq   int
	vmsn  string // datastore path of vcsim's .vmsn file, which the harness deletes itself
	disks map[int32]*snapDisk
}

// cbt holds all harness state. Lock order: a VM's registry lock (simulator.Map.WithLock)
// before cbt.mu, never the other way round.
type cbt struct {
	mu      sync.Mutex
	block   int64
	page    int64
	zero    digest
	disks   map[string]*diskState   // "vm-N/deviceKey" -> CBT state
	known   map[string]diskIdentity // "vm-N/deviceKey" -> identity last seen
	snaps   map[string]*snapInfo    // snapshot moref value -> frozen disks
	snapSeq int
}

func newCbt(block, page int64) *cbt {
	return &cbt{
		block: block,
		page:  page,
		zero:  sha256.Sum256(make([]byte, block)),
		disks: map[string]*diskState{},
		known: map[string]diskIdentity{},
		snaps: map[string]*snapInfo{},
	}
}

func diskID(vm types.ManagedObjectReference, key int32) string {
	return fmt.Sprintf("%s/%d", vm.Value, key)
}
