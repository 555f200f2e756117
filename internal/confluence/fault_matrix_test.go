package confluence_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
)

// TestFaultMatrix drives the client against each fault of the simulated
// site, five times in a row on the space listing, and records what the
// policy did with it (DESIGN.md §5): how many attempts the site saw, how
// the call ended, whether the breaker opened or the site paused, and how
// much time passed on the client's clock. A fake clock makes the waits cost
// nothing.
func TestFaultMatrix(t *testing.T) {
	const spaces = "GET /wiki/api/v2/spaces"
	ra := func(secs string) http.Header { return http.Header{"Retry-After": {secs}} }
	tests := []struct {
		name         string
		fault        confluencesim.Fault
		wantAttempts int   // requests the site served
		wantErr      error // nil: the listing succeeds once the faults are spent
		wantBreaker  bool
		wantPause    bool
		minWait      time.Duration // least time the client waited in all
		maxWait      time.Duration // most; zero means no bound
	}{
		{name: "500", fault: confluencesim.Fault{Status: 500}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "502", fault: confluencesim.Fault{Status: 502}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "504", fault: confluencesim.Fault{Status: 504}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "503 without Retry-After", fault: confluencesim.Fault{Status: 503}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "timeout", fault: confluencesim.Fault{Delay: 5 * time.Second}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "connection reset", fault: confluencesim.Fault{Reset: true}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "truncated JSON", fault: confluencesim.Fault{Truncate: 40}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "HTML with 200", fault: confluencesim.Fault{HTML200: true}, wantAttempts: 6, wantBreaker: true, minWait: 30 * time.Second},
		{name: "429 with Retry-After", fault: confluencesim.Fault{Status: 429, Headers: ra("10")}, wantAttempts: 6,
			wantPause: true, minWait: 50 * time.Second, maxWait: 55 * time.Second},
		{name: "503 with Retry-After", fault: confluencesim.Fault{Status: 503, Headers: ra("10")}, wantAttempts: 6,
			wantPause: true, minWait: 50 * time.Second, maxWait: 55 * time.Second},
		{name: "429 without Retry-After", fault: confluencesim.Fault{Status: 429}, wantAttempts: 6,
			maxWait: 2500*time.Millisecond + 100*time.Millisecond}, // backoff caps 0.1+0.2+0.4+0.8+1s, plus budget
		{name: "401", fault: confluencesim.Fault{Status: 401}, wantAttempts: 1, wantErr: confluence.ErrUnauthorized, maxWait: time.Nanosecond},
		{name: "403", fault: confluencesim.Fault{Status: 403}, wantAttempts: 1, wantErr: confluence.ErrForbidden, maxWait: time.Nanosecond},
		{name: "404", fault: confluencesim.Fault{Status: 404}, wantAttempts: 1, wantErr: confluence.ErrNotFound, maxWait: time.Nanosecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			site, err := confluencesim.New(confluencesim.Config{Spaces: 3, Pages: 30, Users: 5,
				Email: "crawler@example.com", APIToken: "t"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(site.Handler())
			t.Cleanup(srv.Close)
			tc.fault.Count = 5
			site.InjectFault(confluencesim.Match{Route: spaces}, tc.fault)

			clk := newSimClock(t)
			var mu sync.Mutex
			var waits []string
			c, err := confluence.New(confluence.Config{
				BaseURL: srv.URL, Email: "crawler@example.com", APIToken: "t",
				MaxAttempts: 6, BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second,
				BreakerFailures: 5, BreakerOpenFor: 30 * time.Second, RequestTimeout: 200 * time.Millisecond,
				RequestsPerSecond: 1000, Clock: clk,
				OnWait: func(reason string, _ time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					waits = append(waits, reason)
				},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)

			start := clk.Now()
			err = c.ListSpaces(t.Context(), func([]confluence.Space) error { return nil })
			waited := clk.Now().Sub(start)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("ListSpaces() = %v, want %v", err, tc.wantErr)
			}
			if n := site.Requests().ByRoute[spaces]; n != tc.wantAttempts {
				t.Errorf("site served %d requests, want %d", n, tc.wantAttempts)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := slices.Contains(waits, confluence.WaitBreakerOpen); got != tc.wantBreaker {
				t.Errorf("breaker opened = %v (waits %v), want %v", got, waits, tc.wantBreaker)
			}
			if got := slices.Contains(waits, confluence.WaitRateLimited); got != tc.wantPause {
				t.Errorf("site paused = %v (waits %v), want %v", got, waits, tc.wantPause)
			}
			if waited < tc.minWait || tc.maxWait > 0 && waited > tc.maxWait {
				t.Errorf("client waited %v on its clock, want %v..%v", waited, tc.minWait, tc.maxWait)
			}
		})
	}
}

// simClock is a confluence.Clock that jumps to the next deadline as soon as
// a timer is pending, so every policy wait ends at once in real time.
type simClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*simTimer
	added  chan struct{}
}

type simTimer struct {
	clk  *simClock
	when time.Time
	ch   chan time.Time
}

func newSimClock(t *testing.T) *simClock {
	t.Helper()
	c := &simClock{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC), added: make(chan struct{}, 1)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			for c.fireNext() {
			}
			select {
			case <-stop:
				return
			case <-c.added:
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	return c
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) NewTimer(d time.Duration) confluence.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &simTimer{clk: c, when: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	select {
	case c.added <- struct{}{}:
	default:
	}
	return t
}

func (t *simTimer) C() <-chan time.Time { return t.ch }

func (t *simTimer) Stop() bool {
	c := t.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	return true
}

// fireNext moves to the earliest deadline and fires the timers due then.
func (c *simClock) fireNext() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	next := c.timers[0].when
	for _, t := range c.timers[1:] {
		if t.when.Before(next) {
			next = t.when
		}
	}
	c.now = next
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.when.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
	return true
}
