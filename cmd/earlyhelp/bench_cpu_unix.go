//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time the process has used, on all
// its threads; ok is false where the system does not say.
func processCPU() (cpu time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
