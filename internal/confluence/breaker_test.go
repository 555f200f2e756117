package confluence

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func TestBreakerOpensAndRecoversThroughHalfOpen(t *testing.T) {
	tests := []struct {
		name      string
		failing   int // requests answered 500 before the site recovers
		wantOpens int
		// wantGaps lists, per request index, the minimum wait before it.
		wantGaps map[int]time.Duration
	}{
		{"probe succeeds", 3, 1, map[int]time.Duration{3: 30 * time.Second}},
		{"probe fails and the breaker reopens", 4, 2, map[int]time.Duration{3: 30 * time.Second, 4: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			clk.autoAdvance(t)
			site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n <= tt.failing {
					writeJSON(w, 500, `{"errors":[{"status":500,"code":"INTERNAL_SERVER_ERROR","title":"boom"}]}`)
					return
				}
				writeJSON(w, 200, onePage)
			})
			waits := &waitRecorder{}
			obs := &observerRecorder{}
			c, logs := testClient(t, site.srv.URL, clk, func(c *Config) {
				c.Observer = obs
				c.BreakerFailures = 3
				c.BreakerOpenFor = 30 * time.Second
				c.MaxAttempts = 10
				c.BackoffBase, c.BackoffMax = time.Second, 2*time.Second
				c.OnWait = waits.record
			})

			if _, err := c.FetchPage(t.Context(), "42"); err != nil {
				t.Fatalf("FetchPage() = %v, want success once the site recovers", err)
			}
			reqs := site.requests()
			if len(reqs) != tt.failing+1 {
				t.Fatalf("site saw %d requests, want %d", len(reqs), tt.failing+1)
			}
			for i, least := range tt.wantGaps {
				if gap := reqs[i].At.Sub(reqs[i-1].At); gap < least {
					t.Errorf("request %d came %s after the previous one, want at least %s (breaker open)", i+1, gap, least)
				}
			}
			if got := c.breaker.cb.State(); got != gobreaker.StateClosed {
				t.Errorf("breaker state = %s, want closed", got)
			}
			reasons, durs := waits.get()
			if len(reasons) != tt.wantOpens || reasons[0] != WaitBreakerOpen || durs[0] != 30*time.Second {
				t.Errorf("OnWait calls = %v %v, want %d × %q 30s", reasons, durs, tt.wantOpens, WaitBreakerOpen)
			}
			states, retries := obs.get()
			if states[0] != "open" || states[len(states)-1] != "closed" || len(retries) != tt.failing {
				t.Errorf("Observer saw states %v and %d retries, want open ... closed and %d retries",
					states, len(retries), tt.failing)
			}
			for i, r := range retries {
				if r != fmt.Sprintf("GET /wiki/api/v2/pages/42 attempt %d status 500", i+1) {
					t.Errorf("Observer retry %d = %q", i+1, r)
				}
			}
			l := logs.String()
			for _, change := range []string{`"from":"closed","to":"open"`, `"from":"open","to":"half-open"`, `"from":"half-open","to":"closed"`} {
				if !strings.Contains(l, `"level":"WARN","msg":"breaker state changed"`) || !strings.Contains(l, change) {
					t.Errorf("log = %s, want a WARN breaker state change %s", l, change)
				}
			}
		})
	}
}

func TestBreakerHalfOpenLetsOneProbeThrough(t *testing.T) {
	clk := newFakeClock()
	release := make(chan struct{})
	var probeDone atomic.Bool
	var overlapped atomic.Bool
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
		switch {
		case n == 1:
			writeJSON(w, 500, "")
		case n == 2:
			<-release
			probeDone.Store(true)
			writeJSON(w, 200, onePage)
		default:
			overlapped.Store(overlapped.Load() || !probeDone.Load())
			writeJSON(w, 200, onePage)
		}
	})
	c, _ := testClient(t, site.srv.URL, clk, func(c *Config) {
		c.BreakerFailures = 1
		c.MaxAttempts = 1
	})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // a failing test must not leave the probe handler blocked
	probeWaits := make(chan struct{}, 4)
	c.breaker.onProbeWait = func() { probeWaits <- struct{}{} }

	if _, err := c.FetchPage(t.Context(), "42"); err == nil {
		t.Fatal("FetchPage() = nil error, want the 500 that opens the breaker")
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.FetchPage(t.Context(), "42")
			errs <- err
		}()
	}
	clk.waitTimers(t, 2) // both wait for the open period
	clk.Advance(DefaultBreakerOpenFor)

	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	select {
	case <-probeWaits: // one request waits for the other's probe
	case <-guard.C:
		t.Fatal("no request waited for the half-open probe")
	}
	unblock()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("FetchPage() after recovery = %v", err)
		}
	}
	if got := len(site.requests()); got != 3 {
		t.Errorf("site saw %d requests, want 3", got)
	}
	if overlapped.Load() {
		t.Error("a request reached the site while the half-open probe was in flight")
	}
}

func TestBreakerWaitEndsWithContext(t *testing.T) {
	clk := newFakeClock()
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 502, "")
	})
	c, _ := testClient(t, site.srv.URL, clk, func(c *Config) {
		c.BreakerFailures = 1
		c.MaxAttempts = 1
	})
	if _, err := c.FetchPage(t.Context(), "42"); err == nil {
		t.Fatal("FetchPage() = nil error, want the 502 that opens the breaker")
	}

	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 1)
	go func() {
		_, err := c.FetchPage(ctx, "42")
		errs <- err
	}()
	clk.waitTimers(t, 1)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("FetchPage() while open, cancelled = %v, want context.Canceled", err)
	}
	if got := len(site.requests()); got != 1 {
		t.Errorf("site saw %d requests, want 1", got)
	}
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"404", 404},
		{"403", 403},
		{"400", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, tt.status, "")
			})
			c, _ := testClient(t, site.srv.URL, clk, func(c *Config) { c.BreakerFailures = 2 })

			for range 5 {
				if _, err := c.FetchPage(t.Context(), "42"); err == nil {
					t.Fatalf("FetchPage() = nil error, want %d", tt.status)
				}
			}
			if got := c.breaker.cb.State(); got != gobreaker.StateClosed {
				t.Errorf("breaker after 5 × %d = %s, want closed", tt.status, got)
			}
			if counts := c.breaker.cb.Counts(); counts.TotalFailures != 0 {
				t.Errorf("breaker counted %d failures for %d responses, want 0", counts.TotalFailures, tt.status)
			}
		})
	}
}

func TestBreakerVerdict(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	resp := func(status int, h http.Header) *http.Response { return &http.Response{StatusCode: status, Header: h} }
	tests := []struct {
		name string
		ctx  context.Context
		resp *http.Response
		err  error
		want error
	}{
		{"200", context.Background(), resp(200, nil), nil, nil},
		{"500", context.Background(), resp(500, nil), nil, errCounted},
		{"503 with Retry-After is rate limiting", context.Background(), resp(503, http.Header{"Retry-After": {"5"}}), nil, errNotCounted},
		{"429", context.Background(), resp(429, nil), nil, errNotCounted},
		{"404", context.Background(), resp(404, nil), nil, errNotCounted},
		{"reset", context.Background(), nil, errors.New("connection reset by peer"), errCounted},
		{"timeout", context.Background(), nil, errAttemptTimeout, errCounted},
		{"too large", context.Background(), nil, ErrResponseTooLarge, errNotCounted},
		{"our cancellation", cancelled, nil, context.Canceled, errNotCounted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := breakerVerdict(tt.ctx, tt.resp, tt.err); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("breakerVerdict(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// observerRecorder is an Observer that keeps what it was told.
type observerRecorder struct {
	mu      sync.Mutex
	states  []string
	retries []string
}

func (o *observerRecorder) Retried(method, path string, attempt, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, fmt.Sprintf("%s %s attempt %d status %d", method, path, attempt, status))
}

func (o *observerRecorder) BreakerChanged(state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, state)
}

func (o *observerRecorder) get() (states, retries []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.states...), append([]string(nil), o.retries...)
}
