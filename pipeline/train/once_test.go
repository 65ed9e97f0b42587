package train

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestOnceWaitsWithoutATurn: while one lane builds a shared piece of work
// in a turn, a second lane waiting for it holds no turn, so a third lane's
// work runs on the other worker. Had the waiter held the second of the two
// turns, the build, which here finishes only once the third lane's work
// has run, would never finish.
func TestOnceWaitsWithoutATurn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	turn := turns(ctx, 2)
	var o once
	building, thirdRan := make(chan struct{}), make(chan struct{})
	errBuild := errors.New("the build's own error")
	runs := 0
	first := make(chan error, 1)
	go func() {
		first <- o.do(ctx, turn, func() error {
			runs++
			close(building)
			select {
			case <-thirdRan:
				return errBuild
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	<-building
	second := make(chan error, 1)
	go func() {
		second <- o.do(ctx, turn, func() error { runs++; return nil })
	}()
	// The second lane is waiting (or about to); the third takes a turn.
	time.Sleep(50 * time.Millisecond)
	if err := turn(func() error { close(thirdRan); return nil }); err != nil {
		t.Fatalf("the third lane got no turn while one lane built and another waited: %v", err)
	}
	for i, ch := range []chan error{first, second} {
		if err := <-ch; !errors.Is(err, errBuild) {
			t.Errorf("lane %d: got %v, want the build's error", i+1, err)
		}
	}
	if runs != 1 {
		t.Errorf("the work ran %d times, want once", runs)
	}
}
