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

// Default throttle settings per client address: 30 failed sign-ins within a
// minute, over any names, refuse the address for 5 minutes. It catches one
// machine guessing across many names, which the per-name limit does not.
// The limit is higher and the lock shorter than per name because a
// council office may reach the site from one address.
const (
	DefaultAddrMaxFailures = 30
	DefaultAddrWindow      = time.Minute
	DefaultAddrLockout     = 5 * time.Minute
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
	pending  int         // attempts reserved and not yet settled
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
		if len(r.failures) == 0 && r.until.IsZero() && r.pending == 0 {
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
	t.count(t.recordOf(name), now)
}

// recordOf returns name's record, made if it has none. The caller holds
// t.mu.
func (t *Throttle) recordOf(name string) *record {
	r, ok := t.names[name]
	if !ok {
		r = &record{}
		t.names[name] = r
	}
	return r
}

// count adds a failure at now to r, locking it at the max-th. Failures
// while locked are not counted, so a lock runs its lockout and no longer.
// The caller holds t.mu.
func (t *Throttle) count(r *record, now time.Time) {
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
// place: a caller that reserves first never signs a locked name in.
func (t *Throttle) Success(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(t.now())
	r, ok := t.names[name]
	if !ok {
		return
	}
	r.failures = nil
	if r.until.IsZero() && r.pending == 0 {
		delete(t.names, name)
	}
}

// Reserve claims one sign-in attempt for name before its password is
// compared. It refuses (ok false) while name is locked, and while the
// failures counted plus the attempts already in flight reach the limit:
// checking and claiming in one critical section is what stops many
// simultaneous guesses all passing the check before any is counted. On ok
// the caller must settle the reservation exactly once, with Fail or
// Release; until then it counts towards the limit.
func (t *Throttle) Reserve(name string) (*Reservation, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.prune(now)
	rec := t.recordOf(name)
	if !rec.until.IsZero() || len(rec.failures)+rec.pending >= t.max {
		// Locked, or enough guesses in flight to lock it if they fail:
		// refuse rather than compare one more.
		return nil, false
	}
	rec.pending++
	return &Reservation{t: t, name: name}, true
}

// Reservation is one claimed sign-in attempt; see Throttle.Reserve.
type Reservation struct {
	t       *Throttle
	name    string
	settled bool
}

// Fail settles the attempt as a failure: counted as Failure counts one.
func (r *Reservation) Fail() { r.settle(true) }

// Release settles the attempt without counting it: the password was right
// (call Throttle.Success too, to clear the name's failures) or it was
// never judged.
func (r *Reservation) Release() { r.settle(false) }

func (r *Reservation) settle(failed bool) {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.settled {
		return
	}
	r.settled = true
	now := t.now()
	rec, ok := t.names[r.name]
	if !ok { // pruning keeps a record with attempts pending
		rec = &record{}
		t.names[r.name] = rec
	}
	rec.pending--
	if failed {
		t.count(rec, now)
	}
	t.prune(now)
}
