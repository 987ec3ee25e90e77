package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the CPU profile o asks for and returns stop, which
// ends it and writes the allocation profile, as the command ends. Both
// files are created before anything runs, so a path that cannot be written
// is refused before a long sweep, not after it.
func startProfiles(o options) (stop func() error, err error) {
	var cpu, mem *os.File
	closeAll := func() {
		for _, f := range []*os.File{cpu, mem} {
			if f != nil {
				f.Close()
			}
		}
	}
	if o.cpuProfilePath != "" {
		if cpu, err = os.Create(o.cpuProfilePath); err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	if o.memProfilePath != "" {
		if mem, err = os.Create(o.memProfilePath); err != nil {
			closeAll()
			return nil, fmt.Errorf("-memprofile: %w", err)
		}
	}
	if cpu != nil {
		if err := pprof.StartCPUProfile(cpu); err != nil {
			closeAll()
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				errs = append(errs, fmt.Errorf("-cpuprofile: %w", err))
			}
		}
		if mem != nil {
			runtime.GC() // the profile's in-use figures as of the last collection
			err := pprof.Lookup("allocs").WriteTo(mem, 0)
			if cerr := mem.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("-memprofile: %w", err))
			}
		}
		return errors.Join(errs...)
	}, nil
}
