package users

import (
	"sync"
	"testing"
	"time"
)

// clock is a fake time source the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestThrottle() (*Throttle, *clock) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return NewThrottle(DefaultMaxFailures, DefaultWindow, DefaultLockout, c.now), c
}

func TestThrottle(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, th *Throttle, c *clock)
	}{
		{"9 failures do not lock", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 9; i++ {
				th.Failure("alice")
				c.advance(time.Second)
			}
			if _, locked := th.Locked("alice"); locked {
				t.Error("locked after 9 failures")
			}
		}},
		{"10th failure locks for the lockout", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 10; i++ {
				th.Failure("alice")
				c.advance(time.Second)
			}
			until, locked := th.Locked("alice")
			if !locked {
				t.Fatal("not locked after 10 failures")
			}
			// The 10th failure was at 9s.
			if want := time.Date(2026, 3, 2, 9, 0, 9, 0, time.UTC).Add(DefaultLockout); !until.Equal(want) {
				t.Errorf("locked until %v, want %v", until, want)
			}
			if _, locked := th.Locked("bob"); locked {
				t.Error("another name is locked too")
			}
			c.advance(DefaultLockout - 2*time.Second)
			if _, locked := th.Locked("alice"); !locked {
				t.Error("lock expired early")
			}
			// Failures while locked neither count nor extend the lock.
			th.Failure("alice")
			c.advance(time.Second)
			if _, locked := th.Locked("alice"); locked {
				t.Error("lock outlasted the lockout")
			}
			th.Failure("alice")
			if _, locked := th.Locked("alice"); locked {
				t.Error("one failure after the lock expired locked again")
			}
		}},
		{"failures outside the window are forgotten", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 9; i++ {
				th.Failure("alice")
			}
			c.advance(DefaultWindow + time.Second)
			th.Failure("alice")
			if _, locked := th.Locked("alice"); locked {
				t.Error("failures older than the window counted")
			}
		}},
		{"success clears failures", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 9; i++ {
				th.Failure("alice")
			}
			th.Success("alice")
			for i := 0; i < 9; i++ {
				th.Failure("alice")
			}
			if _, locked := th.Locked("alice"); locked {
				t.Error("failures before a success counted")
			}
		}},
		{"success does not lift a lock", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 10; i++ {
				th.Failure("alice")
			}
			th.Success("alice")
			if _, locked := th.Locked("alice"); !locked {
				t.Error("Success lifted a lock")
			}
		}},
		{"memory is pruned", func(t *testing.T, th *Throttle, c *clock) {
			for i := 0; i < 1000; i++ {
				th.Failure(string(rune('a'+i%26)) + string(rune('a'+i/26)))
			}
			for i := 0; i < 10; i++ {
				th.Failure("alice")
			}
			c.advance(DefaultLockout + time.Second)
			th.Locked("anyone")
			th.mu.Lock()
			n := len(th.names)
			th.mu.Unlock()
			if n != 0 {
				t.Errorf("%d names kept after every window and lock expired", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, c := newTestThrottle()
			tt.run(t, th, c)
		})
	}
}

func TestNewThrottleValidates(t *testing.T) {
	tests := []struct {
		name            string
		max             int
		window, lockout time.Duration
	}{
		{"zero max", 0, time.Minute, time.Minute},
		{"zero window", 10, 0, time.Minute},
		{"negative lockout", 10, time.Minute, -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewThrottle did not panic")
				}
			}()
			NewThrottle(tt.max, tt.window, tt.lockout, nil)
		})
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(DefaultMaxFailures, DefaultWindow, DefaultLockout, nil)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 100; i++ {
				th.Failure("alice")
				th.Locked("alice")
				th.Success("bob")
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	if _, locked := th.Locked("alice"); !locked {
		t.Error("800 failures did not lock")
	}
}

// TestReserve: attempts in flight count towards the limit, so no more than
// max passwords are ever compared for a name before it locks.
func TestReserve(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, th *Throttle, c *clock)
	}{
		{"ten in flight refuse the eleventh", func(t *testing.T, th *Throttle, c *clock) {
			var held []*Reservation
			for i := range DefaultMaxFailures {
				r, ok := th.Reserve("alice")
				if !ok {
					t.Fatalf("attempt %d refused", i+1)
				}
				held = append(held, r)
			}
			if _, ok := th.Reserve("alice"); ok {
				t.Error("eleventh attempt reserved while ten are in flight")
			}
			if _, ok := th.Reserve("bob"); !ok {
				t.Error("another name refused")
			}
			for _, r := range held {
				r.Fail()
			}
			if _, locked := th.Locked("alice"); !locked {
				t.Error("ten failed reservations did not lock")
			}
			if _, ok := th.Reserve("alice"); ok {
				t.Error("reserved while locked")
			}
			c.advance(DefaultLockout)
			if _, ok := th.Reserve("alice"); !ok {
				t.Error("refused after the lockout")
			}
		}},
		{"released attempts do not count", func(t *testing.T, th *Throttle, c *clock) {
			for i := range 3 * DefaultMaxFailures {
				r, ok := th.Reserve("alice")
				if !ok {
					t.Fatalf("attempt %d refused", i+1)
				}
				r.Release()
			}
		}},
		{"settling twice counts once", func(t *testing.T, th *Throttle, c *clock) {
			r, _ := th.Reserve("alice")
			r.Fail()
			r.Fail()
			r.Release()
			for i := range DefaultMaxFailures - 2 {
				r, ok := th.Reserve("alice")
				if !ok {
					t.Fatalf("attempt %d refused", i+2)
				}
				r.Fail()
			}
			if _, locked := th.Locked("alice"); locked {
				t.Error("locked after 9 failures")
			}
		}},
		{"a failure in flight survives pruning", func(t *testing.T, th *Throttle, c *clock) {
			r, _ := th.Reserve("alice")
			c.advance(2 * DefaultWindow)
			th.Locked("bob") // prunes
			r.Fail()
			for range DefaultMaxFailures - 1 {
				r, _ := th.Reserve("alice")
				r.Fail()
			}
			if _, locked := th.Locked("alice"); !locked {
				t.Error("not locked after 10 failures")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, c := newTestThrottle()
			tt.run(t, th, c)
		})
	}
}

// TestReserveConcurrent: of many simultaneous attempts, at most max get a
// reservation, however they interleave.
func TestReserveConcurrent(t *testing.T) {
	th := NewThrottle(DefaultMaxFailures, DefaultWindow, DefaultLockout, nil)
	var mu sync.Mutex
	var got []*Reservation
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, ok := th.Reserve("alice"); ok {
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != DefaultMaxFailures {
		t.Errorf("%d of 200 simultaneous attempts reserved; want %d", len(got), DefaultMaxFailures)
	}
}
