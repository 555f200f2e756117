package confluence

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const onePage = `{"id":"42","status":"current","title":"T","version":{"number":3}}`

// waitRecorder collects OnWait calls.
type waitRecorder struct {
	mu    sync.Mutex
	waits []string
	durs  []time.Duration
}

func (w *waitRecorder) record(reason string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits = append(w.waits, reason)
	w.durs = append(w.durs, d)
}

func (w *waitRecorder) get() ([]string, []time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.waits...), append([]time.Duration(nil), w.durs...)
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header func(now time.Time) string
		want   time.Duration
	}{
		{"seconds", 429, func(time.Time) string { return "120" }, 120 * time.Second},
		{"HTTP date", 429, func(now time.Time) string { return now.Add(90 * time.Second).Format(http.TimeFormat) }, 90 * time.Second},
		{"long wait is not capped by BackoffMax", 429, func(time.Time) string { return "1847" }, 1847 * time.Second},
		{"503 with Retry-After", 503, func(time.Time) string { return "30" }, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			clk.autoAdvance(t)
			site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", tt.header(clk.Now()))
					w.Header().Set("RateLimit-Reason", "confluence-quota-global-based")
					writeJSON(w, tt.status, "")
					return
				}
				writeJSON(w, 200, onePage)
			})
			waits := &waitRecorder{}
			c, logs := testClient(t, site.srv.URL, clk, func(c *Config) {
				c.OnWait = waits.record
				c.BackoffMax = time.Minute
			})

			if _, err := c.FetchPage(t.Context(), "42"); err != nil {
				t.Fatalf("FetchPage() = %v, want success after the wait", err)
			}
			reqs := site.requests()
			if len(reqs) != 2 {
				t.Fatalf("FetchPage() made %d requests, want 2", len(reqs))
			}
			// The pause adds at most 5s of jitter, and the bucket restarts
			// empty, so one token (0.1s at 10/s) follows it.
			gap := reqs[1].At.Sub(reqs[0].At)
			if gap < tt.want || gap > tt.want+5*time.Second+time.Second {
				t.Errorf("retry came %s after the %d, want %s plus at most 6s", gap, tt.status, tt.want)
			}
			reasons, durs := waits.get()
			if len(reasons) != 1 || reasons[0] != WaitRateLimited || durs[0] < tt.want {
				t.Errorf("OnWait calls = %v %v, want one %q of at least %s", reasons, durs, WaitRateLimited, tt.want)
			}
			if l := logs.String(); !strings.Contains(l, `"level":"WARN","msg":"rate limited"`) || !strings.Contains(l, `"wait":`) {
				t.Errorf("log = %s, want a WARN rate limited line with wait", l)
			}
		})
	}
}

func TestRetryAfterPausesTheWholeSite(t *testing.T) {
	clk := newFakeClock()
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 429, "")
			return
		}
		writeJSON(w, 200, onePage)
	})
	c, _ := testClient(t, site.srv.URL, clk, nil)

	errs := make(chan error, 2)
	fetch := func() {
		_, err := c.FetchPage(t.Context(), "42")
		errs <- err
	}
	go fetch()
	clk.waitTimers(t, 1) // the first request waits out its Retry-After
	go fetch()
	clk.waitTimers(t, 2) // the second waits too, though it never saw a 429

	if got := len(site.requests()); got != 1 {
		t.Fatalf("during the pause the site saw %d requests, want 1", got)
	}
	clk.autoAdvance(t)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("FetchPage() = %v", err)
		}
	}
	for i, r := range site.requests()[1:] {
		if wait := r.At.Sub(epoch); wait < 60*time.Second {
			t.Errorf("request %d went out %s after the 429, want at least 60s", i+2, wait)
		}
	}
}

func TestContextEndsAPause(t *testing.T) {
	clk := newFakeClock()
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "1847")
		writeJSON(w, 429, "")
	})
	c, _ := testClient(t, site.srv.URL, clk, nil)

	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 1)
	go func() {
		_, err := c.FetchPage(ctx, "42")
		errs <- err
	}()
	clk.waitTimers(t, 1)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("FetchPage() during a pause, cancelled = %v, want context.Canceled", err)
	}
	if got := len(site.requests()); got != 1 {
		t.Errorf("site saw %d requests, want 1", got)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name  string
		fail  func(w http.ResponseWriter, r *http.Request)
		extra func(*Config)
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 500, `{"statusCode":500,"message":"boom"}`) }, nil},
		{"502 text", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "bad gateway", 502) }, nil},
		{"503 without Retry-After", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, "") }, nil},
		{"504", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 504, "") }, nil},
		{"429 without Retry-After", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 429, "") }, nil},
		{"HTML 200", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Log in</body></html>"))
		}, nil},
		{"empty 200", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, "") }, nil},
		{"truncated JSON 200", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, onePage[:len(onePage)/2])
		}, nil},
		{"body shorter than Content-Length", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "5000")
			writeJSON(w, 200, onePage)
		}, nil},
		{"connection reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST
			}
			_ = conn.Close()
		}, nil},
		{"attempt timeout", func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // answer only after the client gave up
		}, func(c *Config) { c.RequestTimeout = 100 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			clk.autoAdvance(t)
			site := newFakeSite(t, clk, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					tt.fail(w, r)
					return
				}
				writeJSON(w, 200, onePage)
			})
			c, logs := testClient(t, site.srv.URL, clk, tt.extra)

			p, err := c.FetchPage(t.Context(), "42")
			if err != nil || p.ID != "42" {
				t.Fatalf("FetchPage() = %+v, %v, want page 42 after a retry", p, err)
			}
			if got := len(site.requests()); got != 2 {
				t.Errorf("site saw %d requests, want 2", got)
			}
			if !strings.Contains(logs.String(), `"msg":"request retry"`) {
				t.Errorf("log = %s, want a request retry line", logs)
			}
		})
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr error
	}{
		{"401", 401, `{"statusCode":401,"message":"Client must be authenticated"}`, ErrUnauthorized},
		{"403", 403, `{"errors":[{"status":403,"code":"FORBIDDEN","title":"Forbidden"}]}`, ErrForbidden},
		{"404", 404, `{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}`, ErrNotFound},
		{"400", 400, `{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"bad"}]}`, nil},
		{"409", 409, `{"errors":[{"status":409,"code":"CONFLICT","title":"Version must be incremented"}]}`, nil},
		{"501", 501, ``, nil},
		{"body over MaxResponseBytes", 200, `{"id":"42","title":"` + strings.Repeat("x", 2000) + `"}`, ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			clk.autoAdvance(t)
			site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, tt.status, tt.body)
			})
			c, _ := testClient(t, site.srv.URL, clk, func(c *Config) { c.MaxResponseBytes = 1024 })

			_, err := c.FetchPage(t.Context(), "42")
			if err == nil {
				t.Fatalf("FetchPage() = nil error, want one for %d", tt.status)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("FetchPage() = %v, want errors.Is %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "fetch page 42: ") {
				t.Errorf("FetchPage() = %q, want it to start with \"fetch page 42: \"", err)
			}
			if got := len(site.requests()); got != 1 {
				t.Errorf("site saw %d requests, want 1 (no retry)", got)
			}
		})
	}
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	clk := newFakeClock()
	clk.autoAdvance(t)
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 500, "")
	})
	c, _ := testClient(t, site.srv.URL, clk, func(c *Config) {
		c.MaxAttempts = 4
		c.BreakerFailures = 100
		c.BackoffBase, c.BackoffMax = time.Second, 3*time.Second
	})

	_, err := c.FetchPage(t.Context(), "42")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("FetchPage() = %v, want an *APIError with status 500", err)
	}
	reqs := site.requests()
	if len(reqs) != 4 {
		t.Fatalf("site saw %d requests, want MaxAttempts = 4", len(reqs))
	}
	// Full jitter: the wait after attempt k is in [0, min(3s, 1s·2^(k-1))],
	// plus budget waits that stay far below a second at 10 requests/s.
	for i := 1; i < len(reqs); i++ {
		limit := backoffLimit(i, time.Second, 3*time.Second)
		if gap := reqs[i].At.Sub(reqs[i-1].At); gap > limit+time.Second {
			t.Errorf("wait before attempt %d = %s, want at most %s", i+1, gap, limit)
		}
	}
}

// Regression: a 429 or 503 with Retry-After used up an attempt, so a site
// pacing the crawl eight times in a row stopped the whole run.
func TestRetryAfterDoesNotUseUpAttempts(t *testing.T) {
	clk := newFakeClock()
	clk.autoAdvance(t)
	const paced = 6
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= paced {
			w.Header().Set("Retry-After", "30")
			writeJSON(w, 429, "")
			return
		}
		writeJSON(w, 200, onePage)
	})
	c, _ := testClient(t, site.srv.URL, clk, func(c *Config) { c.MaxAttempts = 2 })

	if _, err := c.FetchPage(t.Context(), "42"); err != nil {
		t.Fatalf("FetchPage() after %d Retry-After answers with MaxAttempts 2: %v, want the page", paced, err)
	}
	if got := len(site.requests()); got != paced+1 {
		t.Errorf("site saw %d requests, want %d", got, paced+1)
	}
}

func TestBackoffLimit(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, 500 * time.Millisecond},
		{2, time.Second},
		{3, 2 * time.Second},
		{7, 32 * time.Second},
		{8, time.Minute},
		{200, time.Minute},
	}
	for _, tt := range tests {
		if got := backoffLimit(tt.attempt, 500*time.Millisecond, time.Minute); got != tt.want {
			t.Errorf("backoffLimit(%d, 500ms, 1m) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
	for range 100 {
		if d := fullJitter(time.Second); d < 0 || d > time.Second {
			t.Fatalf("fullJitter(1s) = %s, want within [0, 1s]", d)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := epoch
	tests := []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
		wantOK bool
	}{
		{"seconds", 429, http.Header{"Retry-After": {"120"}}, 120 * time.Second, true},
		{"zero", 429, http.Header{"Retry-After": {"0"}}, 0, true},
		{"documented long example", 429, http.Header{"Retry-After": {"1847"}}, 1847 * time.Second, true},
		{"future date", 503, http.Header{"Retry-After": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Hour, true},
		{"past date", 429, http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{"beta header", 429, http.Header{"Beta-Retry-After": {"50"}}, 50 * time.Second, true},
		{"huge", 429, http.Header{"Retry-After": {"99999999999999999"}}, maxRetryAfter, true},
		{"negative", 429, http.Header{"Retry-After": {"-5"}}, 0, false},
		{"garbage", 429, http.Header{"Retry-After": {"soon"}}, 0, false},
		{"absent", 429, http.Header{}, 0, false},
		{"not a rate-limit status", 500, http.Header{"Retry-After": {"10"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: tt.header}
			got, ok := retryAfter(resp, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter(%d, %v) = %s, %t, want %s, %t", tt.status, tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
