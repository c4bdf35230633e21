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
//   - /folder DELETE removes a file, as on vSphere (vcsim answers it with the file and keeps it);
//   - /harness/ control endpoints for tests (see README.md).
//
// Files, by concern: main.go (flags, start, shutdown), setup.go (disks added at start),
// state.go (harness state), disk_files.go (datastore paths, hashing, freezing),
// observe.go (reconciling with VM configs), snapshots.go (frozen snapshot disks),
// registry_hook.go (snapshot and VM events), changed_areas.go (QueryChangedDiskAreas),
// sdk.go (the HTTP front: SOAP pass-through, /folder auth and DELETE), info.go and control.go
// (the /harness/ endpoints).
//
// Build: infra/vcsim/build.sh (GO111MODULE=off, GOPATH=infra/vcsim:/usr/share/gocode).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

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
