//go:build unix

package main

import "syscall"

// syncDisks writes every dirty page the system holds to disk (sync(2)).
func syncDisks() { syscall.Sync() }
