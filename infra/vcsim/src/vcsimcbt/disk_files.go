// Disk files on the simulator's datastores: paths, capacities, hashing and freezing.

package main

import (
	"crypto/sha256"
	"io"
	"os"
	"path"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

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
