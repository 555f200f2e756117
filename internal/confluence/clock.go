package confluence

import (
	"context"
	"time"
)

// Clock is the time source of every policy wait of a Client: the rate
// budget, backoff, Retry-After pauses and the breaker's open period. Tests
// inject a fake to check those waits without waiting. Implementations must
// be safe for concurrent use. RequestTimeout bounds real network time and
// does not use the Clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that delivers on its channel once d has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C returns the channel on which the timer delivers once.
	C() <-chan time.Time
	// Stop prevents a pending timer from firing and reports whether it did.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }

func (t realTimer) Stop() bool { return t.t.Stop() }

// sleep waits d on clk, or returns ctx.Err() as soon as ctx ends.
func sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
