// vcsimcbt: the vCenter simulator Vaultflow's tests run against.
//
// It is govmomi's vcsim (Debian golang-github-vmware-govmomi-dev 0.24) plus what a
// CBT backup needs and vcsim lacks:
//   - snapshots freeze every disk: the snapshot's config gets its own copy of each
//     VirtualDisk whose backing points at a frozen "<disk>-snapshot-N-flat.vmdk";
//   - QueryChangedDiskAreas, computed from content (64 KiB sha256 blocks) against the
//     snapshot that issued the changeId, paged to at most -page bytes per reply, with
//     FileFault for unknown, stale or reset changeIds;
//   - disk identity: every disk gets a backing.uuid, and a replaced disk, a CBT
//     toggle or /harness/reset-cbt invalidates earlier changeIds;
//   - snapshot removal that deletes the snapshot's own files and no others (vcsim's
//     deletes by a layout key that earlier removals renumbered);
//   - Login checks -username/-password, and /folder needs a session (or basic auth);
//   - /harness/ control endpoints for tests (see README.md).
//
// Build: infra/vcsim/build.sh (GO111MODULE=off, GOPATH=infra/vcsim:/usr/share/gocode).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/google/uuid"
	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
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

func dsDir(name string) string {
	for _, e := range simulator.Map.All("Datastore") {
		if ds := e.(*simulator.Datastore); ds.Name == name {
			return ds.Info.GetDatastoreInfo().Url
		}
	}
	return ""
}

// flatName maps "[ds] dir/x.vmdk" to "[ds] dir/x-flat.vmdk".
func flatName(fileName string) string {
	return strings.TrimSuffix(fileName, ".vmdk") + "-flat.vmdk"
}

// localPath maps "[ds] dir/x" to "<datastore dir>/dir/x"; "" when the datastore is unknown.
func localPath(fileName string) string {
	var p object.DatastorePath
	if !p.FromString(fileName) {
		return ""
	}
	dir := dsDir(p.Datastore)
	if dir == "" {
		return ""
	}
	return path.Join(dir, p.Path)
}

func flatPath(fileName string) string { return localPath(flatName(fileName)) }

func capacity(d *types.VirtualDisk) int64 {
	if d.CapacityInBytes != 0 {
		return d.CapacityInBytes
	}
	return d.CapacityInKB * 1024
}

func flatBacking(d types.BaseVirtualDevice) (*types.VirtualDisk, *types.VirtualDiskFlatVer2BackingInfo) {
	disk, ok := d.(*types.VirtualDisk)
	if !ok {
		return nil, nil
	}
	b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	if !ok {
		return nil, nil
	}
	return disk, b
}

func trackingEnabled(vm *simulator.VirtualMachine) bool {
	return vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
}

func (c *cbt) hashFile(p string, capBytes int64) ([]digest, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := (capBytes + c.block - 1) / c.block
	out := make([]digest, n)
	buf := make([]byte, c.block)
	for i := int64(0); i < n; i++ {
		for j := range buf {
			buf[j] = 0
		}
		want := buf
		if rest := capBytes - i*c.block; rest < c.block {
			want = buf[:rest] // bytes past the capacity hash as zeros
		}
		if _, err := f.ReadAt(want, i*c.block); err != nil && err != io.EOF {
			return nil, err
		}
		out[i] = sha256.Sum256(buf)
	}
	return out, nil
}

// freezeFile copies src to dst, sized to exactly capBytes (a short source reads as zeros).
func freezeFile(src, dst string, capBytes int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = io.Copy(out, io.LimitReader(in, capBytes)); err == nil {
		err = out.Truncate(capBytes)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
	}
	return err
}

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

// soapMethod returns the local name of the first element inside the SOAP Body.
func soapMethod(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

var thisRe = regexp.MustCompile(`(<(?:[\w.-]+:)?_this\b[^>]*\stype\s*=\s*)(["'])VirtualMachine(["'])`)

const currentTimeEnvelope = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`

type harness struct {
	c          *cbt
	next       http.Handler // vcsim's mux
	user, pass string
	folderAuth bool
	datacenter string
	url        string
}

func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/harness/"):
		h.control(w, r)
	case strings.HasPrefix(r.URL.Path, "/folder/") && h.folderAuth && !h.authorized(r):
		w.Header().Set("WWW-Authenticate", `Basic realm="VMware HTTP server"`)
		http.Error(w, "a vmware_soap_session cookie or basic auth is required", http.StatusUnauthorized)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/sdk"):
		h.sdk(w, r)
	default:
		h.next.ServeHTTP(w, r)
	}
}

// sdk passes a SOAP call to vcsim. QueryChangedDiskAreas is redirected to the CbtVM of
// the VM. The response is held back until the harness has observed the call's effects
// (CBT toggles, disk edits), so the next call a client makes always sees them.
func (h *harness) sdk(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	qcda := soapMethod(body) == "QueryChangedDiskAreas"
	if qcda {
		body = thisRe.ReplaceAll(body, []byte("${1}${2}CbtVirtualMachine${3}"))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	h.c.observeAll()
	out := rec.Body.Bytes()
	if qcda { // keep the internal type name out of faults
		out = bytes.ReplaceAll(out, []byte("CbtVirtualMachine"), []byte("VirtualMachine"))
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// authorized: a valid session cookie (checked by asking vcsim for CurrentTime with it,
// which also counts as session activity), or basic auth with the configured credentials.
func (h *harness) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return u == h.user && p == h.pass
	}
	ck, err := r.Cookie(soap.SessionCookieName)
	if err != nil || ck.Value == "" {
		return false
	}
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(currentTimeEnvelope))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.AddCookie(&http.Cookie{Name: soap.SessionCookieName, Value: ck.Value})
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

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

func main() {
	log.SetPrefix("vcsimcbt: ")
	listen := flag.String("listen", "127.0.0.1:18990", "address for SOAP (/sdk), /folder and /harness/ (port 0 picks a free port)")
	vms := flag.Int("vms", 2, "VMs on the one standalone host")
	disks := flag.Int("disks", 2, "disks per VM (at least 1)")
	diskMB := flag.Int64("disk-mb", 8, "capacity of every disk, MiB")
	block := flag.Int64("block", 64*1024, "change-tracking granularity, bytes")
	page := flag.Int64("page", 4<<20, "most bytes one QueryChangedDiskAreas reply covers")
	user := flag.String("username", "user", "the only user name Login accepts")
	pass := flag.String("password", "pass", "the only password Login accepts")
	folderAuth := flag.Bool("folder-auth", true, "require a session cookie or basic auth on /folder")
	watchStdin := flag.Bool("watch-stdin", false, "shut down (and clean up) when stdin reaches EOF, e.g. when the parent dies")
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		log.Fatalf("unexpected arguments %q", flag.Args())
	case *vms < 1 || *disks < 1 || *diskMB < 1:
		log.Fatal("-vms, -disks and -disk-mb must be at least 1")
	case *block < 512 || *page < 1:
		log.Fatal("-block must be at least 512 and -page at least 1")
	case *user == "" || *pass == "":
		log.Fatal("-username and -password must not be empty")
	}

	// Listen first, so a busy port fails before any temp dirs exist.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}

	m := simulator.VPX()
	m.Datacenter, m.Host, m.Cluster, m.Machine = 1, 1, 0, *vms
	if err := m.Create(); err != nil {
		log.Fatal(err)
	}
	fail := func(err error) {
		m.Remove()
		log.Fatal(err)
	}
	c := newCbt(*block, *page)

	// vcsim's own server (random loopback port) is only used to add disks through the API,
	// then closed: everything is served by the wrapper on ln.
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(*user, *pass)}
	s := m.Service.NewServer()
	if err := addDisks(context.Background(), s.URL, *disks, *diskMB); err != nil {
		s.Close()
		fail(err)
	}
	s.Close()

	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		for _, d := range vm.Config.Hardware.Device {
			if disk, _ := flatBacking(d); disk != nil {
				disk.CapacityInKB = *diskMB * 1024
				disk.CapacityInBytes = *diskMB << 20
			}
		}
		registerCbtVM(c, vm.Self)
	}
	c.observeAll() // uuids and sparse flat files of the full capacity
	simulator.Map.AddHandler(&hook{self: types.ManagedObjectReference{Type: "CbtHook", Value: "cbt"}, c: c})

	base := "http://" + ln.Addr().String()
	simulator.Map.SessionManager().ServiceHostName = ln.Addr().String()
	dc := ""
	if e := simulator.Map.Any("Datacenter"); e != nil {
		dc = e.(*simulator.Datacenter).Name
	}
	h := &harness{c: c, next: m.Service.ServeMux, user: *user, pass: *pass, folderAuth: *folderAuth, datacenter: dc, url: base}
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	ready, _ := json.Marshal(map[string]interface{}{
		"url": base, "sdk": base + "/sdk", "user": *user, "password": *pass, "datacenter": dc,
		"pid": os.Getpid(), "blockBytes": *block, "pageBytes": *page,
	})
	fmt.Println(string(ready))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			sig <- syscall.SIGTERM
		}()
	}
	code := 0
	select {
	case <-sig:
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Printf("serve: %v", err)
			code = 1
		}
	}
	_ = srv.Close()
	m.Remove() // deletes the temporary datastore dirs, frozen snapshot files included
	os.Exit(code)
}
