package confluence

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestBudgetReserve(t *testing.T) {
	clk := newFakeClock()
	b := newBudget(clk, 10, 2)

	steps := []struct {
		name    string
		advance time.Duration
		want    time.Duration
	}{
		{"burst token 1", 0, 0},
		{"burst token 2", 0, 0},
		{"empty bucket", 0, 100 * time.Millisecond},
		{"half refilled", 50 * time.Millisecond, 50 * time.Millisecond},
		{"refilled", 50 * time.Millisecond, 0},
		{"long idle refills only up to the burst", time.Hour, 0},
		{"second burst token", 0, 0},
		{"burst spent", 0, 100 * time.Millisecond},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if got := b.reserve(); got != s.want {
			t.Fatalf("%s: reserve() = %s, want %s", s.name, got, s.want)
		}
	}
}

func TestBudgetPause(t *testing.T) {
	clk := newFakeClock()
	b := newBudget(clk, 10, 5)

	if !b.pause(epoch.Add(time.Minute)) {
		t.Fatal("pause(+1m) = false, want true for a new pause")
	}
	if b.pause(epoch.Add(30 * time.Second)) {
		t.Error("pause(+30s) during a 1m pause = true, want false: a shorter pause must not shorten it")
	}
	if got := b.reserve(); got != time.Minute {
		t.Errorf("reserve() during the pause = %s, want 1m", got)
	}
	clk.Advance(time.Minute)
	if got := b.reserve(); got != 100*time.Millisecond {
		t.Errorf("reserve() as the pause ends = %s, want 100ms: the bucket restarts empty", got)
	}
}

func TestBudgetSlowAndSpeedUp(t *testing.T) {
	clk := newFakeClock()
	b := newBudget(clk, 16, 1)

	b.slow()
	b.slow() // within slowEvery of the first: ignored
	if got := b.currentRate(); got != 8 {
		t.Errorf("rate after two quick slow() = %v, want 8", got)
	}
	for range 10 {
		clk.Advance(slowEvery)
		b.slow()
	}
	if got := b.currentRate(); got != 1 {
		t.Errorf("rate after many slow() = %v, want the floor 16/16 = 1", got)
	}
	for range 100 {
		b.speedUp()
	}
	if got := b.currentRate(); got != 16 {
		t.Errorf("rate after many speedUp() = %v, want the configured 16", got)
	}
}

func TestRateSignalsSlowTheBudget(t *testing.T) {
	tests := []struct {
		name     string
		respond  func(w http.ResponseWriter, n int)
		wantRate float64
	}{
		{"X-RateLimit-NearLimit", func(w http.ResponseWriter, _ int) {
			w.Header().Set("X-RateLimit-NearLimit", "true")
			writeJSON(w, 200, onePage)
		}, 5},
		{"429 without Retry-After, then a success", func(w http.ResponseWriter, n int) {
			if n == 1 {
				writeJSON(w, 429, "")
				return
			}
			writeJSON(w, 200, onePage)
		}, 5 + 10.0/32},
		{"healthy", func(w http.ResponseWriter, _ int) { writeJSON(w, 200, onePage) }, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			clk.autoAdvance(t)
			site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) { tt.respond(w, n) })
			c, _ := testClient(t, site.srv.URL, clk, nil)

			if _, err := c.FetchPage(t.Context(), "42"); err != nil {
				t.Fatalf("FetchPage() = %v", err)
			}
			if got := c.budget.currentRate(); got != tt.wantRate {
				t.Errorf("budget rate = %v, want %v", got, tt.wantRate)
			}
		})
	}
}

func TestBudgetIsSharedByConcurrentRequests(t *testing.T) {
	clk := newFakeClock()
	clk.autoAdvance(t)
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, onePage)
	})
	c, _ := testClient(t, site.srv.URL, clk, func(c *Config) {
		c.RequestsPerSecond = 2
		c.Burst = 1
	})

	const n = 6
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.FetchPage(t.Context(), "42")
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("FetchPage() = %v", err)
		}
	}
	times := make([]time.Time, 0, n)
	for _, r := range site.requests() {
		times = append(times, r.At)
	}
	// The site records a request at or after the moment the budget granted
	// it, so by time T at most 1 + 2·(T-epoch) requests can have arrived:
	// the k-th arrival (from 0) is at least k·500ms after the start.
	slices.SortFunc(times, time.Time.Compare)
	for k, at := range times {
		if since := at.Sub(epoch); since < time.Duration(k)*500*time.Millisecond {
			t.Errorf("request %d arrived %s after the start, want at least %s at 2 requests/s",
				k+1, since, time.Duration(k)*500*time.Millisecond)
		}
	}
}
