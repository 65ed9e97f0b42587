//go:build !linux

package hugepages

import "errors"

// Mode reports no mode outside Linux, so Prepare stops before these.

func madviseHuge(Span) error { return errors.New("huge pages: Linux only") }

func addressSpaceUnlimited() bool { return false }
