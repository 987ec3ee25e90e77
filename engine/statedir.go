package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
)

// checkpointFile is the name of the state directory's checkpoint: the stores'
// content and the changelog offset each partition reflects. It is written
// only by a clean close and removed as soon as an instance starts, so an
// instance that dies leaves none behind and its successor restores from the
// changelog, as Kafka Streams does under exactly-once.
const checkpointFile = "checkpoint.json"

type checkpoint struct {
	// Stores maps store → partition → state.
	Stores map[string]map[string]checkpointPartition `json:"stores"`
}

type checkpointPartition struct {
	Next int64             `json:"next"`
	Data map[string]string `json:"data"`
}

// ErrCorruptCheckpoint is wrapped by takeCheckpoint's error for a checkpoint
// that cannot be read back. The file is removed all the same: the instance
// starts with empty stores and restores them from the changelog, as after an
// unclean stop, instead of failing every start after it.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

// takeCheckpoint reads and removes the checkpoint of dir; no checkpoint (an
// unclean stop, or a first start) gives empty stores, and so does a corrupt
// one, with an error wrapping ErrCorruptCheckpoint.
func takeCheckpoint(disk Disk, dir string) (map[string]map[int32]*storePartition, error) {
	stores := make(map[string]map[int32]*storePartition)
	if dir == "" {
		return stores, nil
	}
	path := filepath.Join(dir, checkpointFile)
	b, err := disk.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return stores, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := disk.Remove(path); err != nil {
		return nil, fmt.Errorf("removing checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return map[string]map[int32]*storePartition{}, fmt.Errorf("%w: parsing checkpoint %s: %w", ErrCorruptCheckpoint, path, err)
	}
	for store, parts := range cp.Stores {
		stores[store] = make(map[int32]*storePartition)
		for ps, st := range parts {
			p, err := strconv.ParseInt(ps, 10, 32)
			if err != nil {
				return map[string]map[int32]*storePartition{}, fmt.Errorf("%w: checkpoint %s: partition %q: %w", ErrCorruptCheckpoint, path, ps, err)
			}
			sp := newStorePartition()
			sp.next = st.Next
			for k, v := range st.Data {
				sp.data[k] = v
			}
			stores[store][int32(p)] = sp
		}
	}
	return stores, nil
}

// writeCheckpoint saves the stores to dir.
func writeCheckpoint(disk Disk, dir string, stores map[string]map[int32]*storePartition) error {
	if dir == "" {
		return nil
	}
	cp := checkpoint{Stores: make(map[string]map[string]checkpointPartition)}
	for store, parts := range stores {
		cp.Stores[store] = make(map[string]checkpointPartition)
		for p, sp := range parts {
			cp.Stores[store][strconv.Itoa(int(p))] = checkpointPartition{Next: sp.next, Data: sp.data}
		}
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	if err := disk.WriteFile(filepath.Join(dir, checkpointFile), b); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}
