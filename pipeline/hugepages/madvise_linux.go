package hugepages

import "syscall"

// madviseHuge sets MADV_HUGEPAGE on the span, which the kernel applies to
// memory faulted in from then on.
func madviseHuge(s Span) error {
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, s.Start, s.End-s.Start, syscall.MADV_HUGEPAGE)
	if e != 0 {
		return e
	}
	return nil
}

// addressSpaceUnlimited says whether RLIMIT_AS is unlimited.
func addressSpaceUnlimited() bool {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil {
		return false
	}
	return r.Cur == ^uint64(0)
}
