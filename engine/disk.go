package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Disk is where an instance keeps the files of its state directory (its
// checkpoint): the operating system's file system by default, or memory
// (MemoryDisk), which a simulator gives its instances: a checkpoint there
// outlives the incarnation that wrote it, as on a disk, and costs no
// system call (on the real disk, a clean stop's checkpoint was about 2% of a
// sweep's CPU, and far more under keep_dirty_state, which writes one per
// unit).
type Disk interface {
	// ReadFile returns the file's content; a missing file's error wraps
	// fs.ErrNotExist.
	ReadFile(path string) ([]byte, error)
	// WriteFile replaces the file's content whole (a reader finds the old
	// content or the new, never a part), making its directory as needed.
	WriteFile(path string, data []byte) error
	// Remove removes the file.
	Remove(path string) error
}

// osDisk is the operating system's file system.
type osDisk struct{}

func (osDisk) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

func (osDisk) WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	// Written aside and renamed: a crash mid-write leaves the old file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (osDisk) Remove(path string) error { return os.Remove(path) }

// MemoryDisk is a Disk in memory, safe for concurrent use. Its zero value
// is empty and ready.
type MemoryDisk struct {
	mu    sync.Mutex
	files map[string][]byte
}

// ReadFile implements Disk.
func (d *MemoryDisk) ReadFile(path string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.files[filepath.Clean(path)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), b...), nil
}

// WriteFile implements Disk.
func (d *MemoryDisk) WriteFile(path string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files == nil {
		d.files = make(map[string][]byte)
	}
	d.files[filepath.Clean(path)] = append([]byte(nil), data...)
	return nil
}

// Remove implements Disk.
func (d *MemoryDisk) Remove(path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.files[filepath.Clean(path)]; !ok {
		return &fs.PathError{Op: "remove", Path: path, Err: fs.ErrNotExist}
	}
	delete(d.files, filepath.Clean(path))
	return nil
}
