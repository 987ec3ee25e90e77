package engine

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onDisks runs f once per Disk the checkpoint lives on: the operating
// system's, and memory, as the simulator gives its instances.
func onDisks(t *testing.T, f func(t *testing.T, disk Disk)) {
	t.Run("os", func(t *testing.T) { f(t, osDisk{}) })
	t.Run("memory", func(t *testing.T) { f(t, &MemoryDisk{}) })
}

// exists reports whether path is on disk.
func exists(t *testing.T, disk Disk, path string) bool {
	t.Helper()
	_, err := disk.ReadFile(path)
	if err != nil {
		require.ErrorIs(t, err, fs.ErrNotExist)
		return false
	}
	return true
}

func partition(next int64, kv ...string) *storePartition {
	sp := newStorePartition()
	sp.next = next
	for i := 0; i+1 < len(kv); i += 2 {
		sp.data[kv[i]] = kv[i+1]
	}
	return sp
}

func TestCheckpointRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		stores map[string]map[int32]*storePartition
	}{
		{name: "no stores", stores: map[string]map[int32]*storePartition{}},
		{
			name: "several stores and partitions",
			stores: map[string]map[int32]*storePartition{
				"counts": {0: partition(7, "a", "1", "b", "2"), 3: partition(1, "z", "26")},
				"seen":   {1: partition(42, "k", "v")},
			},
		},
		{
			name:   "empty partition keeps its offset",
			stores: map[string]map[int32]*storePartition{"counts": {2: partition(9)}},
		},
		{
			name:   "store without partitions",
			stores: map[string]map[int32]*storePartition{"counts": {}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			onDisks(t, func(t *testing.T, disk Disk) {
				dir := t.TempDir()
				require.NoError(t, writeCheckpoint(disk, dir, tc.stores))
				assert.True(t, exists(t, disk, filepath.Join(dir, checkpointFile)))
				assert.False(t, exists(t, disk, filepath.Join(dir, checkpointFile+".tmp")))

				got, err := takeCheckpoint(disk, dir)
				require.NoError(t, err)
				assert.Equal(t, tc.stores, got)
			})
		})
	}
}

func TestTakeCheckpointRemovesFile(t *testing.T) {
	onDisks(t, func(t *testing.T, disk Disk) {
		dir := t.TempDir()
		stores := map[string]map[int32]*storePartition{"counts": {0: partition(3, "a", "1")}}
		require.NoError(t, writeCheckpoint(disk, dir, stores))

		first, err := takeCheckpoint(disk, dir)
		require.NoError(t, err)
		assert.Equal(t, stores, first)
		assert.False(t, exists(t, disk, filepath.Join(dir, checkpointFile)))

		second, err := takeCheckpoint(disk, dir)
		require.NoError(t, err)
		assert.Empty(t, second, "a second take must not see the first one's state")
	})
}

func TestWriteCheckpointCreatesDirAndOverwrites(t *testing.T) {
	onDisks(t, func(t *testing.T, disk Disk) {
		dir := filepath.Join(t.TempDir(), "nested", "state")
		require.NoError(t, writeCheckpoint(disk, dir, map[string]map[int32]*storePartition{"s": {0: partition(1, "old", "1")}}))
		newer := map[string]map[int32]*storePartition{"s": {0: partition(2, "new", "2")}}
		require.NoError(t, writeCheckpoint(disk, dir, newer))

		got, err := takeCheckpoint(disk, dir)
		require.NoError(t, err)
		assert.Equal(t, newer, got)
	})
}

// TestMemoryDiskKeepsWhatWasWrittenApart: a MemoryDisk's files are copies
// (changing what was written, or what was read, changes nothing on it),
// paths name one file however they are spelt, and removing a missing file
// is an error wrapping fs.ErrNotExist, as on the operating system's.
func TestMemoryDiskKeepsWhatWasWrittenApart(t *testing.T) {
	var d MemoryDisk
	data := []byte("abc")
	require.NoError(t, d.WriteFile("/s/a/checkpoint.json", data))
	data[0] = 'x'
	got, err := d.ReadFile("/s/a/../a/checkpoint.json")
	require.NoError(t, err)
	assert.Equal(t, "abc", string(got))
	got[1] = 'y'
	again, err := d.ReadFile("/s/a/checkpoint.json")
	require.NoError(t, err)
	assert.Equal(t, "abc", string(again))
	require.NoError(t, d.Remove("/s/a/checkpoint.json"))
	require.ErrorIs(t, d.Remove("/s/a/checkpoint.json"), fs.ErrNotExist)
	_, err = d.ReadFile("/s/a/checkpoint.json")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestTakeCheckpointWithoutCheckpoint(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{name: "empty dir string means no local state", dir: func(*testing.T) string { return "" }},
		{name: "missing directory", dir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent") }},
		{name: "directory without checkpoint file", dir: func(t *testing.T) string { return t.TempDir() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := takeCheckpoint(osDisk{}, tc.dir(t))
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Empty(t, got)
		})
	}
}

func TestWriteCheckpointEmptyDirIsNoop(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	require.NoError(t, writeCheckpoint(osDisk{}, "", map[string]map[int32]*storePartition{"s": {0: partition(1, "a", "1")}}))
	entries, err := os.ReadDir(wd)
	require.NoError(t, err)
	assert.Empty(t, entries, "no file may be written when there is no state directory")
}

func TestTakeCheckpointInvalid(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantPart string
	}{
		{name: "not JSON", content: "{not json", wantPart: "parsing checkpoint"},
		{name: "wrong shape", content: `{"stores": {"s": [1, 2]}}`, wantPart: "parsing checkpoint"},
		{name: "non-numeric partition", content: `{"stores": {"s": {"p0": {"next": 1, "data": {}}}}}`, wantPart: `partition "p0"`},
		{name: "partition out of int32 range", content: `{"stores": {"s": {"4294967296": {"next": 1}}}}`, wantPart: `partition "4294967296"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			onDisks(t, func(t *testing.T, disk Disk) {
				dir := t.TempDir()
				path := filepath.Join(dir, checkpointFile)
				require.NoError(t, disk.WriteFile(path, []byte(tc.content)))

				got, err := takeCheckpoint(disk, dir)
				require.ErrorIs(t, err, ErrCorruptCheckpoint)
				assert.Empty(t, got, "a corrupt checkpoint must leave empty stores to restore")
				assert.Contains(t, err.Error(), path)
				assert.Contains(t, err.Error(), tc.wantPart)
				assert.False(t, exists(t, disk, path), "a corrupt checkpoint must not fail every later start")
			})
		})
	}
}
