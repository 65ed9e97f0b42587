package users

import (
	"fmt"
	"sync"
	"time"
)

// Default throttle settings: 10 failed sign-ins within 1 minute lock the
// account for 15 minutes. Ten is generous for a person mistyping and far
// too few for guessing a 12-byte password; the lockout is short enough
// that a navigator locked out by someone else is back within a coffee.
const (
	DefaultMaxFailures = 10
	DefaultWindow      = time.Minute
	DefaultLockout     = 15 * time.Minute
)

// Throttle counts failed sign-ins per name and locks a name out after too
// many. It is safe for concurrent use. It keeps state only for names with a
// failure inside the window or a lock not yet expired, pruning the rest on
// every call, so memory is bounded by the recent rate of failures rather
// than by how many names have ever been tried.
type Throttle struct {
	max     int
	window  time.Duration
	lockout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	names map[string]*record
}

type record struct {
	failures []time.Time // inside the window, oldest first; at most max
	until    time.Time   // locked until; zero if not locked
}

// NewThrottle returns a Throttle that locks a name for lockout once it has
// max failures within window. now is the clock (time.Now if nil); tests
// pass a fake one. NewThrottle(DefaultMaxFailures, DefaultWindow,
// DefaultLockout, time.Now) is the documented policy. It panics if max,
// window or lockout is not positive: that is a programming error, and a
// throttle that never locks must not start quietly.
func NewThrottle(max int, window, lockout time.Duration, now func() time.Time) *Throttle {
	if max < 1 || window <= 0 || lockout <= 0 {
		panic(fmt.Sprintf("users: NewThrottle(%d, %v, %v): all must be positive", max, window, lockout))
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{max: max, window: window, lockout: lockout, now: now, names: make(map[string]*record)}
}

// prune drops failures older than the window and locks that have expired,
// and forgets names left with neither. The caller holds t.mu.
func (t *Throttle) prune(now time.Time) {
	cutoff := now.Add(-t.window)
	for name, r := range t.names {
		i := 0
		for i < len(r.failures) && !r.failures[i].After(cutoff) {
			i++
		}
		r.failures = r.failures[i:]
		if !now.Before(r.until) {
			r.until = time.Time{}
		}
		if len(r.failures) == 0 && r.until.IsZero() {
			delete(t.names, name)
		}
	}
}

// Locked reports whether name is locked out, and until when.
func (t *Throttle) Locked(name string) (until time.Time, locked bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(t.now())
	r, ok := t.names[name]
	if !ok || r.until.IsZero() {
		return time.Time{}, false
	}
	return r.until, true
}

// Failure counts a failed sign-in for name; the max-th within the window
// locks it for the lockout. Failures while locked are not counted, so a
// lock runs its lockout and no longer.
func (t *Throttle) Failure(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.prune(now)
	r, ok := t.names[name]
	if !ok {
		r = &record{}
		t.names[name] = r
	}
	if !r.until.IsZero() {
		return
	}
	r.failures = append(r.failures, now)
	if len(r.failures) >= t.max {
		r.until = now.Add(t.lockout)
		// Counting starts afresh when the lock expires.
		r.failures = nil
	}
}

// Success clears name's failures after a good sign-in. It leaves a lock in
// place: a caller that checks Locked first never signs a locked name in.
func (t *Throttle) Success(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(t.now())
	r, ok := t.names[name]
	if !ok {
		return
	}
	r.failures = nil
	if r.until.IsZero() {
		delete(t.names, name)
	}
}
