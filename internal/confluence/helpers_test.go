package confluence

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testEmail = "crawler@example.com"
	testToken = "ATATT3xTESTtoken-s3cr3t-do-not-log"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a Clock that moves only when a test moves it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	added  chan struct{} // gets a token whenever a timer is created
}

type fakeTimer struct {
	clk  *fakeClock
	when time.Time
	d    time.Duration
	ch   chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: epoch, added: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, when: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
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

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
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

// pending returns the durations of the timers not yet fired.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, len(c.timers))
	for i, t := range c.timers {
		out[i] = t.d
	}
	return out
}

// Advance moves time forward by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireLocked()
}

// advanceNext moves time to the earliest pending deadline and fires the
// timers due then. It reports whether there was one.
func (c *fakeClock) advanceNext() bool {
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
	if next.After(c.now) {
		c.now = next
	}
	c.fireLocked()
	return true
}

func (c *fakeClock) fireLocked() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.when.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
}

// hangGuard bounds how long a test waits for the client to reach a wait
// it must reach. It turns a would-be hang into a failure; it asserts
// nothing about speed.
const hangGuard = 10 * time.Second

// waitTimers blocks until at least n timers are pending.
func (c *fakeClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for len(c.pending()) < n {
		select {
		case <-c.added:
		case <-guard.C:
			t.Fatalf("client never started wait number %d (pending %v)", n, c.pending())
		}
	}
}

// autoAdvance makes every wait end at once in real time while fake time
// moves by exactly the waited amount, until the test ends.
func (c *fakeClock) autoAdvance(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			for c.advanceNext() {
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
}

// logBuffer collects slog output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// seen is one request as the fake site received it.
type seen struct {
	Method string
	Path   string
	Query  string
	Auth   string
	At     time.Time // on the fake clock
	Body   string
}

// fakeSite is an httptest server that records requests and answers with
// a per-test handler. n is the 1-based number of the request.
type fakeSite struct {
	srv *httptest.Server
	clk Clock

	mu   sync.Mutex
	reqs []seen
}

func newFakeSite(t testing.TB, clk Clock, h func(w http.ResponseWriter, r *http.Request, n int)) *fakeSite {
	t.Helper()
	s := &fakeSite{clk: clk}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body) // a test server reading a loopback body
		r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), At: clk.Now(), Body: body.String(),
		})
		n := len(s.reqs)
		s.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fakeSite) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// testClient builds a Client on url with test credentials, the given clock
// and a captured log. edit may change the Config before New.
func testClient(t *testing.T, url string, clk Clock, edit func(*Config)) (*Client, *logBuffer) {
	t.Helper()
	cfg := Config{
		BaseURL:        url,
		Email:          testEmail,
		APIToken:       testToken,
		Clock:          clk,
		RequestTimeout: time.Hour, // real time; tests that need a timeout set one
	}
	if edit != nil {
		edit(&cfg)
	}
	logs := &logBuffer{}
	c, err := New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New(%v) = %v", cfg, err)
	}
	t.Cleanup(c.Close)
	return c, logs
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the client may have gone; the test checks what it saw
}
