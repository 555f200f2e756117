package consumer

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	base, ceiling := 200*time.Millisecond, 10*time.Second
	tests := []struct {
		attempt int
		limit   time.Duration
	}{
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{6, 6400 * time.Millisecond},
		{7, ceiling},
		{63, ceiling}, // the shift would overflow
		{1000, ceiling},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			var top time.Duration
			for range 2000 {
				d := backoff(base, ceiling, tt.attempt)
				if d < 0 || d >= tt.limit {
					t.Fatalf("backoff(%s, %s, %d) = %s, want in [0, %s)", base, ceiling, tt.attempt, d, tt.limit)
				}
				top = max(top, d)
			}
			// Full jitter spreads over the whole range: with 2000 draws the
			// largest falls in the top half but for a 2^-2000 chance.
			if top < tt.limit/2 {
				t.Errorf("backoff(%s, %s, %d) never above %s in 2000 draws, want up to %s", base, ceiling, tt.attempt, top, tt.limit)
			}
		})
	}
}

func TestDrainContext(t *testing.T) {
	parent, cancelParent := context.WithCancel(t.Context())
	dctx, cancel := drainContext(parent, time.Millisecond)
	defer cancel()

	cancelParent()
	if err := dctx.Err(); err != nil {
		t.Fatalf("drain context right after its parent ended: %v, want live for the grace period", err)
	}
	<-dctx.Done() // ends once the grace period is over; a hang fails the test by timeout

	// cancel ends it at once, with the parent still live.
	d2, cancel2 := drainContext(t.Context(), time.Hour)
	cancel2()
	if d2.Err() == nil {
		t.Errorf("drain context after cancel: nil error, want canceled")
	}
}
