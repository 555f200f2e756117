package producer_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/producer"
)

// faultSite is small enough for one listing page per space at the default
// limit; tests that need several pages per listing lower the limit.
var faultSite = confluencesim.Config{Seed: 9, Spaces: 3, Pages: 300, BlogPosts: 15, Users: 30}

const pagesRoute = "GET /wiki/api/v2/spaces/{id}/pages"

func retryAfter(secs string) http.Header {
	return http.Header{"Retry-After": {secs}}
}

// TestRetryAfterPausesTheWholeCrawl injects one 429 or 503 with Retry-After
// into one space's listing while four spaces are crawled at once: every
// request of the site waits at least Retry-After (never capped, whatever
// BackoffMax says), the wait is reported when it begins, the request is
// retried after it, and the topics end up exact.
func TestRetryAfterPausesTheWholeCrawl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		secs   string
		want   time.Duration
	}{
		{"429 short", http.StatusTooManyRequests, "5", 5 * time.Second},
		{"429 very long", http.StatusTooManyRequests, "1847", 1847 * time.Second},
		{"503 with Retry-After", http.StatusServiceUnavailable, "7", 7 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite)
			space := r.site.SpaceIDs()[1]
			r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
				confluencesim.Fault{Status: tc.status, Headers: retryAfter(tc.secs), Count: 1})
			_, _, err := r.crawl(t, func(c *producer.Config) { c.SpaceConcurrency = 4 })
			if err != nil {
				t.Fatalf("Crawl() = %v", err)
			}

			listing := r.rec.to(r.listing(space))
			if len(listing) != 2 || listing[0].Status != tc.status || listing[1].Status != http.StatusOK {
				t.Fatalf("attempts on %s = %v, want %d then 200", r.listing(space), listing, tc.status)
			}
			limited, retried := listing[0].At, listing[1].At
			// The pause adds up to a tenth of Retry-After, at most 5s, of jitter.
			if gap := retried - limited; gap < tc.want || gap > tc.want+min(tc.want/10, 5*time.Second) {
				t.Errorf("retry %v after the %d, want Retry-After %v plus at most its jitter", gap, tc.status, tc.want)
			}
			for _, a := range r.rec.all() {
				if a.At > limited && a.At < limited+tc.want {
					t.Errorf("attempt %v during the site-wide pause [%v, %v)", a, limited, limited+tc.want)
				}
			}
			waits := r.reportedWaits()
			if len(waits) != 1 || waits[0].Reason != confluence.WaitRateLimited || waits[0].D < tc.want || waits[0].At != limited {
				t.Errorf("reported waits %+v, want one %s wait of at least %v at %v", waits, confluence.WaitRateLimited, tc.want, limited)
			}
			if r.countLogs("rate limited", `"status":`) != 1 {
				t.Errorf("no %q warning logged", "rate limited")
			}
			r.checkExact(t)
		})
	}
}

// TestRateLimitWithoutRetryAfterBacksOff: 429s without Retry-After are
// retried after capped, jittered exponential backoff; they slow the site's
// budget and never open the breaker.
func TestRateLimitWithoutRetryAfterBacksOff(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite)
	space := r.site.SpaceIDs()[0]
	r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
		confluencesim.Fault{Status: http.StatusTooManyRequests, Count: 3})
	if _, _, err := r.crawl(t, nil); err != nil {
		t.Fatalf("Crawl() = %v", err)
	}
	listing := r.rec.to(r.listing(space))
	statuses := make([]int, len(listing))
	for i, a := range listing {
		statuses[i] = a.Status
	}
	if want := []int{429, 429, 429, 200}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses on %s = %v, want %v", r.listing(space), statuses, want)
	}
	for i, gap := range attemptGaps(listing) {
		// Backoff after attempt n is at most 100ms·2^(n-1); the slowed budget
		// adds at most a token's wait at the lowest rate, 1000/16 per second.
		if limit := 100*time.Millisecond<<i + 16*time.Millisecond; gap > limit {
			t.Errorf("wait before attempt %d = %v, want at most %v", i+2, gap, limit)
		}
	}
	if n := r.countLogs("budget slowed", `"status":429`); n != 3 {
		t.Errorf("logged %d budget slowdowns, want 3", n)
	}
	if waits := r.reportedWaits(); len(waits) != 0 {
		t.Errorf("reported waits %+v, want none (no Retry-After, no breaker)", waits)
	}
	r.checkExact(t)
}

// TestNearLimitSlowsTheBudget: with X-RateLimit-NearLimit on every answer,
// the budget halves its rate (once a second, down to a sixteenth) before any
// 429 comes, so the attemptGaps between requests grow; without it they do not.
func TestNearLimitSlowsTheBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		near    bool
		wantMax time.Duration // bound on the largest gap: a floor with the header, a ceiling without
	}{
		{"near limit", true, 800 * time.Millisecond},
		{"plenty left", false, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite, func(c *confluence.Config) { c.RequestsPerSecond, c.Burst = 10, 1 })
			if tc.near {
				r.site.InjectFault(confluencesim.Match{},
					confluencesim.Fault{Headers: http.Header{"X-RateLimit-NearLimit": {"true"}}})
			}
			if _, _, err := r.crawl(t, nil); err != nil {
				t.Fatalf("Crawl() = %v", err)
			}
			largest := slices.Max(attemptGaps(r.rec.all()))
			if tc.near && largest < tc.wantMax || !tc.near && largest > tc.wantMax {
				t.Errorf("largest gap between requests = %v, want %s %v (attemptGaps %v)",
					largest, map[bool]string{true: "at least", false: "at most"}[tc.near], tc.wantMax, attemptGaps(r.rec.all()))
			}
			r.checkExact(t)
		})
	}
}

// TestServerErrorsAreRetried: bursts of 5xx are retried after backoff;
// five consecutive failures open the breaker, which holds every request for
// its open period and lets one probe through; a listing page that keeps
// failing is asked for again with half the limit.
func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		count       int
		wantBreaker bool // five consecutive failures open it
		wantShrink  bool // five failed attempts make the pager halve the limit
	}{
		{"500 burst", http.StatusInternalServerError, 3, false, false},
		{"502 burst", http.StatusBadGateway, 3, false, false},
		{"504 burst", http.StatusGatewayTimeout, 4, false, false},
		{"503 without Retry-After, long burst", http.StatusServiceUnavailable, 6, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite)
			space := r.site.SpaceIDs()[2]
			r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
				confluencesim.Fault{Status: tc.status, Count: tc.count})
			if _, _, err := r.crawl(t, nil); err != nil {
				t.Fatalf("Crawl() = %v", err)
			}
			listing := r.rec.to(r.listing(space))
			if !failThenSucceed(listing, tc.status, tc.count) {
				t.Fatalf("attempts on %s = %v, want %d answers %d, then only 200s", r.listing(space), listing, tc.count, tc.status)
			}
			var opened []reportedWait
			for _, w := range r.reportedWaits() {
				if w.Reason == confluence.WaitBreakerOpen {
					opened = append(opened, w)
				}
			}
			if got := len(opened) > 0; got != tc.wantBreaker {
				t.Errorf("breaker opened = %v (%+v), want %v", got, opened, tc.wantBreaker)
			}
			for _, w := range opened {
				if !probedAfter(listing, w.At+w.D) {
					t.Errorf("no attempt at or after the open period's end %v: %v", w.At+w.D, listing)
				}
			}
			shrunk := strings.Contains(listing[len(listing)-1].Query, "limit=125")
			if shrunk != tc.wantShrink {
				t.Errorf("last attempt %v: limit halved = %v, want %v", listing[len(listing)-1], shrunk, tc.wantShrink)
			}
			if !tc.wantBreaker {
				for i, gap := range attemptGaps(listing[:tc.count+1]) {
					if limit := 100 * time.Millisecond << i; gap > limit {
						t.Errorf("backoff before attempt %d = %v, want at most %v", i+2, gap, limit)
					}
				}
			}
			r.checkExact(t)
		})
	}
}

// failThenSucceed reports whether the first n attempts got status and the
// others, at least one, got 200.
func failThenSucceed(as []sentAttempt, status, n int) bool {
	if len(as) <= n {
		return false
	}
	for i, a := range as {
		if i < n && a.Status != status || i >= n && a.Status != http.StatusOK {
			return false
		}
	}
	return true
}

// probedAfter reports whether an attempt left at or after at.
func probedAfter(as []sentAttempt, at time.Duration) bool {
	for _, a := range as {
		if a.At >= at {
			return true
		}
	}
	return false
}

// TestBrokenResponsesAreRetried: responses slower than the request timeout,
// reset connections, truncated JSON and HTML answered with 200 are failed
// attempts, retried like 5xx; none is ever read as an empty listing.
func TestBrokenResponsesAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   confluencesim.Fault
		wantLog string // in the retry warning
	}{
		{"slower than the timeout", confluencesim.Fault{Delay: 5 * time.Second, Count: 2}, "attempt timed out"},
		{"connection reset", confluencesim.Fault{Reset: true, Count: 2}, "EOF"},
		{"truncated JSON", confluencesim.Fault{Truncate: 300, Count: 2}, "read body"},
		{"HTML with 200", confluencesim.Fault{HTML200: true, Count: 2}, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite, func(c *confluence.Config) { c.RequestTimeout = 300 * time.Millisecond })
			space := r.site.SpaceIDs()[0]
			r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space}, tc.fault)
			if _, _, err := r.crawl(t, nil); err != nil {
				t.Fatalf("Crawl() = %v", err)
			}
			// The site counts every attempt, including the one net/http
			// repeats by itself when a reused connection is reset.
			if n, want := r.site.Requests().ByRoute[pagesRoute], len(r.site.SpaceIDs())+2; n != want {
				t.Errorf("site served %d page listings, want %d: one per space and the 2 faulted", n, want)
			}
			if retries := r.countLogs("request retry", tc.wantLog); retries == 0 {
				t.Errorf("no retry logged mentioning %q:\n%s", tc.wantLog, r.logs)
			}
			r.checkExact(t)
		})
	}
}

// TestPersistentHTMLStopsTheRunWithoutAdvancing: a listing that keeps
// answering HTML with 200 fails the run after the retries and limit halvings,
// naming the listing; that space's checkpoint does not move, none of its
// pages is published and nothing is deleted.
func TestPersistentHTMLStopsTheRunWithoutAdvancing(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite)
	space := r.site.SpaceIDs()[1]
	r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space}, confluencesim.Fault{HTML200: true})
	p, res, err := r.crawl(t, nil)
	if err == nil || !strings.Contains(err.Error(), "list pages of space "+space) ||
		!strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("Crawl() = %v, want an error naming the pages of space %s and the invalid body", err, space)
	}
	// The run may stop before the space list was committed: no progress
	// at all is as good as none for the space.
	progress := res.Checkpoint.Spaces[space]
	if progress != nil && (progress.PagesDone || progress.PagesNext != "" || progress.Skipped != "") {
		t.Errorf("checkpoint of space %s = %+v, want its page listing not started", space, progress)
	}
	if n := p.Stats().Deletions.Load(); n != 0 {
		t.Errorf("Stats().Deletions = %d, want 0", n)
	}
	r.site.ClearFaults()
	for key, ev := range r.published(t) {
		if ev.IsDeletion() || strings.Contains(key, "pages|") && pageSpace(t, ev) == space {
			t.Errorf("published %s (%s), want no deletion and no page of space %s", key, ev.Type, space)
		}
	}
}
