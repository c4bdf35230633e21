// The /harness/ control endpoints: guest writes and CBT resets.

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// control serves the test-only endpoints that stand in for "the guest writes to its
// disk" and "vSphere reset CBT" (vMotion/consolidation bugs, a deleted .ctk).
func (h *harness) control(w http.ResponseWriter, r *http.Request) {
	method := http.MethodPost
	if r.URL.Path == "/harness/info" {
		method = http.MethodGet
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	var key int32
	if s := q.Get("key"); s != "" {
		k, err := strconv.ParseInt(s, 10, 32)
		if err != nil || k == 0 {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		key = int32(k)
	}
	switch r.URL.Path {
	case "/harness/info":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h.info())
	case "/harness/write": // POST body = bytes to write at ?offset into the live disk ?key of ?vm
		off, err := strconv.ParseInt(q.Get("offset"), 10, 64)
		if err != nil || key == 0 || q.Get("vm") == "" {
			http.Error(w, "need vm, key and offset", http.StatusBadRequest)
			return
		}
		vm := findVM(q.Get("vm"))
		if vm == nil {
			http.Error(w, "no such VM", http.StatusNotFound)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<30))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status, msg := http.StatusNoContent, ""
		simulator.Map.WithLock(vm, func() { // no snapshot can be taken half-way through a write
			var disk *types.VirtualDisk
			var b *types.VirtualDiskFlatVer2BackingInfo
			for _, d := range vm.Config.Hardware.Device {
				if dk, bk := flatBacking(d); dk != nil && dk.Key == key {
					disk, b = dk, bk
				}
			}
			if disk == nil {
				status, msg = http.StatusNotFound, "no such disk"
				return
			}
			if off < 0 || off+int64(len(data)) > capacity(disk) {
				status, msg = http.StatusRequestedRangeNotSatisfiable, "write outside the disk"
				return
			}
			f, err := os.OpenFile(flatPath(b.FileName), os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteAt(data, off)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				status, msg = http.StatusInternalServerError, err.Error()
			}
		})
		if msg != "" {
			http.Error(w, msg, status)
			return
		}
		w.WriteHeader(status)
	case "/harness/reset-cbt": // ?vm [&key]: forget CBT state; earlier changeIds then fault
		vm := findVM(q.Get("vm"))
		if vm == nil {
			http.Error(w, "no such VM", http.StatusNotFound)
			return
		}
		found := key == 0
		simulator.Map.WithLock(vm, func() {
			for _, d := range vm.Config.Hardware.Device {
				if dk, _ := flatBacking(d); dk != nil && dk.Key == key {
					found = true
				}
			}
		})
		if !found {
			http.Error(w, "no such disk", http.StatusNotFound)
			return
		}
		h.c.resetCbt(vm.Self, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}
