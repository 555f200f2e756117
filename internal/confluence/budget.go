package confluence

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// slowFloor is the lowest fraction of the configured rate the budget
	// slows down to.
	slowFloor = 1.0 / 16
	// speedUpStep is the fraction of the configured rate won back by each
	// healthy response, so 30 of them undo a slowdown to the floor.
	speedUpStep = 1.0 / 32
	// slowEvery keeps a burst of concurrent 429s from halving the rate once
	// per response: one halving per second is enough to react.
	slowEvery = time.Second
	// maxPauseJitter bounds the jitter added to a Retry-After pause.
	maxPauseJitter = 5 * time.Second
)

// budget is the site's token bucket, shared by every request of the site,
// with a site-wide pause for Retry-After. All times come from the Clock.
type budget struct {
	clk   Clock
	base  float64 // configured tokens per second
	burst float64

	mu          sync.Mutex
	rate        float64 // current tokens per second, base*slowFloor..base
	tokens      float64
	last        time.Time
	pausedUntil time.Time
	slowedAt    time.Time
}

func newBudget(clk Clock, rate float64, burst int) *budget {
	return &budget{
		clk:    clk,
		base:   rate,
		burst:  float64(burst),
		rate:   rate,
		tokens: float64(burst),
		last:   clk.Now(),
	}
}

// wait blocks until the budget grants one request.
func (b *budget) wait(ctx context.Context) error {
	for {
		d := b.reserve()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, b.clk, d); err != nil {
			return err
		}
	}
}

// reserve takes a token and returns 0, or returns how long to wait before
// asking again. Waiters ask again rather than hold a reservation, so a pause
// set while they wait still applies to them.
func (b *budget) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()

	now := b.clk.Now()
	if now.Before(b.pausedUntil) {
		return b.pausedUntil.Sub(now)
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return max(time.Nanosecond, time.Duration((1-b.tokens)/b.rate*float64(time.Second)))
}

func (b *budget) refill(now time.Time) {
	if !now.After(b.last) {
		return
	}
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// pause holds every request until until. It reports whether that extended
// the current pause. The bucket restarts empty so that the requests queued
// behind the pause do not all leave at once when it ends.
func (b *budget) pause(until time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	if !until.After(b.pausedUntil) {
		return false
	}
	b.pausedUntil = until
	b.tokens = 0
	b.last = until
	return true
}

// slow halves the rate, at most once per slowEvery, down to the floor.
func (b *budget) slow() {
	b.mu.Lock()
	defer b.mu.Unlock()

	now := b.clk.Now()
	if !b.slowedAt.IsZero() && now.Sub(b.slowedAt) < slowEvery {
		return
	}
	b.refill(now)
	b.slowedAt = now
	b.rate = max(b.base*slowFloor, b.rate/2)
}

// speedUp wins back a step of the configured rate after a healthy response.
func (b *budget) speedUp() {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.rate < b.base {
		b.refill(b.clk.Now())
		b.rate = min(b.base, b.rate+b.base*speedUpStep)
	}
}

// currentRate returns the rate in tokens per second.
func (b *budget) currentRate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// budgetLayer makes every attempt take a token, and adjusts the budget to
// what the site says about its limits.
type budgetLayer struct {
	next   http.RoundTripper
	budget *budget
	clk    Clock
	log    *slog.Logger
	onWait func(reason string, d time.Duration)
	jitter func(limit time.Duration) time.Duration
}

var _ http.RoundTripper = (*budgetLayer)(nil)

func (l *budgetLayer) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := l.budget.wait(req.Context()); err != nil {
		return nil, err
	}
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	l.observe(req, resp)
	return resp, nil
}

// observe applies DESIGN.md §5: Retry-After on a 429 or 503 pauses the whole
// site, uncapped; a 429 without it, or X-RateLimit-NearLimit, slows the
// budget; any other success speeds it back up.
func (l *budgetLayer) observe(req *http.Request, resp *http.Response) {
	now := l.clk.Now()
	if ra, ok := retryAfter(resp, now); ok {
		wait := ra + l.jitter(min(ra/10, maxPauseJitter))
		if l.budget.pause(now.Add(wait)) {
			l.log.Warn("rate limited", "status", resp.StatusCode, "wait", wait,
				"method", req.Method, "path", req.URL.Path,
				"reason", resp.Header.Get("RateLimit-Reason"))
			if l.onWait != nil {
				l.onWait(WaitRateLimited, wait)
			}
		}
		return
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		l.budget.slow() // the retry layer backs off and logs the retry
		l.log.Debug("budget slowed", "status", resp.StatusCode, "rate", l.budget.currentRate())
	case strings.EqualFold(resp.Header.Get("X-RateLimit-NearLimit"), "true"):
		l.budget.slow()
		l.log.Debug("budget slowed", "near_limit", true, "rate", l.budget.currentRate())
	case resp.StatusCode < 300:
		l.budget.speedUp()
	}
}

// fullJitter returns a uniformly random duration in [0, limit].
func fullJitter(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	return rand.N(limit + 1)
}
