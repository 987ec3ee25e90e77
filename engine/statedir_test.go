package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			dir := t.TempDir()
			require.NoError(t, writeCheckpoint(dir, tc.stores))
			assert.FileExists(t, filepath.Join(dir, checkpointFile))
			assert.NoFileExists(t, filepath.Join(dir, checkpointFile+".tmp"))

			got, err := takeCheckpoint(dir)
			require.NoError(t, err)
			assert.Equal(t, tc.stores, got)
		})
	}
}

func TestTakeCheckpointRemovesFile(t *testing.T) {
	dir := t.TempDir()
	stores := map[string]map[int32]*storePartition{"counts": {0: partition(3, "a", "1")}}
	require.NoError(t, writeCheckpoint(dir, stores))

	first, err := takeCheckpoint(dir)
	require.NoError(t, err)
	assert.Equal(t, stores, first)
	assert.NoFileExists(t, filepath.Join(dir, checkpointFile))

	second, err := takeCheckpoint(dir)
	require.NoError(t, err)
	assert.Empty(t, second, "a second take must not see the first one's state")
}

func TestWriteCheckpointCreatesDirAndOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "state")
	require.NoError(t, writeCheckpoint(dir, map[string]map[int32]*storePartition{"s": {0: partition(1, "old", "1")}}))
	newer := map[string]map[int32]*storePartition{"s": {0: partition(2, "new", "2")}}
	require.NoError(t, writeCheckpoint(dir, newer))

	got, err := takeCheckpoint(dir)
	require.NoError(t, err)
	assert.Equal(t, newer, got)
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
			got, err := takeCheckpoint(tc.dir(t))
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Empty(t, got)
		})
	}
}

func TestWriteCheckpointEmptyDirIsNoop(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	require.NoError(t, writeCheckpoint("", map[string]map[int32]*storePartition{"s": {0: partition(1, "a", "1")}}))
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
			dir := t.TempDir()
			path := filepath.Join(dir, checkpointFile)
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))

			got, err := takeCheckpoint(dir)
			require.ErrorIs(t, err, ErrCorruptCheckpoint)
			assert.Empty(t, got, "a corrupt checkpoint must leave empty stores to restore")
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), tc.wantPart)
			assert.NoFileExists(t, path, "a corrupt checkpoint must not fail every later start")
		})
	}
}
