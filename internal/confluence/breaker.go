package confluence

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

var (
	// errCounted marks an attempt the breaker counts as a failure.
	errCounted = errors.New("breaker: failure")
	// errNotCounted marks an attempt the breaker ignores: 4xx, rate limits,
	// our own cancellation, oversized bodies, and released probe slots.
	errNotCounted = errors.New("breaker: not counted")
)

// breakerLayer is the site's circuit breaker. gobreaker keeps the state and
// the counts; this layer times the open period on the Clock, because
// gobreaker reads time.Now itself and tests must drive the open period with
// a fake clock. gobreaker's own Timeout is therefore set to its minimum, and
// while our open period runs no request reaches gobreaker at all.
//
// While the breaker is open, requests wait for the open period to pass; in
// half-open, one probe goes out and the others wait for its outcome. No
// request fails because the breaker is open.
type breakerLayer struct {
	next     http.RoundTripper
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	clk      Clock
	openFor  time.Duration
	log      *slog.Logger
	onWait   func(reason string, d time.Duration)
	observer Observer // nil: none

	openUntil atomic.Int64 // Clock time in Unix nanoseconds
	settled   notifier     // signalled when any admitted attempt ends

	// onProbeWait, when set by tests, runs each time a request starts
	// waiting for a half-open probe.
	onProbeWait func()
}

var _ http.RoundTripper = (*breakerLayer)(nil)

func newBreakerLayer(next http.RoundTripper, name string, cfg Config, log *slog.Logger) *breakerLayer {
	l := &breakerLayer{
		next: next, clk: cfg.Clock, openFor: cfg.BreakerOpenFor,
		log: log, onWait: cfg.OnWait, observer: cfg.Observer,
	}
	failures := cfg.BreakerFailures
	l.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:          name,
		MaxRequests:   1,
		Timeout:       time.Nanosecond, // the open period is timed in admit, on the Clock
		ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: l.stateChanged,
		IsExcluded:    func(err error) bool { return errors.Is(err, errNotCounted) },
	})
	return l
}

func (l *breakerLayer) RoundTrip(req *http.Request) (*http.Response, error) {
	done, err := l.admit(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := l.next.RoundTrip(req)
	done(breakerVerdict(req.Context(), resp, err))
	l.settled.signal()
	return resp, err
}

// admit waits until the breaker lets the request through and returns the
// callback that records its outcome.
func (l *breakerLayer) admit(ctx context.Context) (func(error), error) {
	for {
		if d := l.openRemaining(); d > 0 {
			if err := sleep(ctx, l.clk, d); err != nil {
				return nil, err
			}
			continue
		}

		settled := l.settled.wait() // before Allow, so a probe ending in between still wakes us
		done, err := l.cb.Allow()
		switch {
		case err == nil && l.openRemaining() > 0:
			// The breaker opened between our check and Allow, and gobreaker
			// (with its minimal Timeout) already went half-open: hand the
			// probe slot back and wait out the open period.
			done(errNotCounted)
			l.settled.signal()
		case err == nil:
			return done, nil
		case errors.Is(err, gobreaker.ErrTooManyRequests):
			if err := l.waitProbe(ctx, settled); err != nil {
				return nil, err
			}
		case errors.Is(err, gobreaker.ErrOpenState):
			// Our period is over but gobreaker's nanosecond has not passed
			// on its own clock yet.
			runtime.Gosched()
		default:
			return nil, err
		}
	}
}

func (l *breakerLayer) waitProbe(ctx context.Context, settled <-chan struct{}) error {
	if l.onProbeWait != nil {
		l.onProbeWait()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-settled:
		return nil
	}
}

func (l *breakerLayer) openRemaining() time.Duration {
	return time.Duration(l.openUntil.Load() - l.clk.Now().UnixNano())
}

// stateChanged runs inside gobreaker's lock: it must not call the breaker.
func (l *breakerLayer) stateChanged(name string, from, to gobreaker.State) {
	if to == gobreaker.StateOpen {
		l.openUntil.Store(l.clk.Now().Add(l.openFor).UnixNano())
	}
	l.log.Warn("breaker state changed", "from", from.String(), "to", to.String())
	if to == gobreaker.StateOpen && l.onWait != nil {
		l.onWait(WaitBreakerOpen, l.openFor)
	}
	if l.observer != nil {
		l.observer.BreakerChanged(to.String())
	}
}

// breakerVerdict maps an attempt's outcome to what the breaker records: 5xx,
// timeouts, resets and bad bodies are failures; 4xx, rate limits (429, or
// 503 with Retry-After), oversized bodies and our own cancellation are not
// counted at all.
func breakerVerdict(ctx context.Context, resp *http.Response, err error) error {
	switch {
	case ctx.Err() != nil:
		return errNotCounted
	case err != nil && errors.Is(err, ErrResponseTooLarge):
		return errNotCounted
	case err != nil:
		return errCounted
	}
	if _, limited := retryAfter(resp, time.Time{}); limited {
		return errNotCounted
	}
	switch {
	case resp.StatusCode >= 500:
		return errCounted
	case resp.StatusCode >= 400:
		return errNotCounted
	}
	return nil
}

// notifier wakes every goroutine waiting on the channel from wait when
// signal is called.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) signal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
