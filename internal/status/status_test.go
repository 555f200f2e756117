package status

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/producer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func TestSnapshotFollowsTheCrawl(t *testing.T) {
	clk := newClock()
	b := NewBoard(clk.Now)
	s := b.Add("acme", "acme.atlassian.net")
	if got := s.Snapshot(); got.State != StateStarting || got.Breaker != "closed" {
		t.Fatalf("Snapshot() before Start = %+v, want starting with a closed breaker", got)
	}
	var stats producer.Stats
	s.Start(&stats, nil)
	s.SpacesListed([]string{"1", "2", "3"})
	s.ListingDone("1", false)
	s.ListingDone("1", true)
	s.ListingDone("2", false)
	s.Snapshot() // first rate sample: 0 pages

	clk.Add(4 * time.Second)
	stats.Pages.Add(300)
	stats.BlogPosts.Add(100)
	stats.Transactions.Add(2)
	got := s.Snapshot()
	want := SiteStatus{
		Name: "acme", Identity: "acme.atlassian.net", State: StateCrawling, SpacesDone: 1, SpacesTotal: 3,
		Pages: 400, PagesPerSecond: 100, Breaker: "closed", LastCheckpoint: clk.Now(), Started: clk.Now().Add(-4 * time.Second),
	}
	if got != want {
		t.Errorf("Snapshot() = %+v\nwant %+v", got, want)
	}

	s.OnWait(confluence.WaitRateLimited, 30*time.Minute)
	s.BreakerChanged("open")
	clk.Add(48 * time.Second)
	got = s.Snapshot()
	if got.State != StateWaiting || got.Wait != "rate limited by Confluence, resuming in 29m12s" || got.Breaker != "open" {
		t.Errorf("Snapshot() while rate limited = state %q, wait %q, breaker %q; want waiting, resuming in 29m12s, open",
			got.State, got.Wait, got.Breaker)
	}
	if blocked := b.Blocked(10 * time.Minute); len(blocked) != 1 || !strings.Contains(blocked[0], "acme: rate limited") {
		t.Errorf("Blocked(10m) = %q, want acme rate limited", blocked)
	}
	if blocked := b.Blocked(time.Hour); len(blocked) != 0 {
		t.Errorf("Blocked(1h) = %q, want none: the wait ends sooner", blocked)
	}

	s.Finish(errors.New("confluence: unauthorized"), false)
	got = s.Snapshot()
	if got.State != StateFailed || got.Wait != "" || got.Error != "confluence: unauthorized" {
		t.Errorf("Snapshot() after a failure = state %q wait %q error %q, want failed with the error and no wait",
			got.State, got.Wait, got.Error)
	}
	if blocked := b.Blocked(time.Hour); len(blocked) != 1 || !strings.Contains(blocked[0], "acme: failed") {
		t.Errorf("Blocked(1h) after a failure = %q, want acme failed", blocked)
	}
}

func TestStartFromCheckpointCountsFinishedSpaces(t *testing.T) {
	s := NewBoard(newClock().Now).Add("acme", "acme.atlassian.net")
	cp := &producer.Checkpoint{SpacesDone: true, Spaces: map[string]*producer.SpaceProgress{
		"1": {PagesDone: true, BlogPostsDone: true},
		"2": {Skipped: "forbidden"},
		"3": {PagesDone: true},
		"4": {},
	}}
	s.Start(&producer.Stats{}, cp)
	got := s.Snapshot()
	if got.SpacesDone != 2 || got.SpacesTotal != 4 || !got.Resumed {
		t.Errorf("Snapshot() after Start(checkpoint) = spaces %d/%d resumed %v, want 2/4 resumed",
			got.SpacesDone, got.SpacesTotal, got.Resumed)
	}
}

func TestLine(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		in   SiteStatus
		want string
	}{
		{"crawling", SiteStatus{Name: "acme", State: StateCrawling, SpacesDone: 3, SpacesTotal: 20, Pages: 1234,
			PagesPerSecond: 56.21, Breaker: "closed", LastCheckpoint: now.Add(-2 * time.Second)},
			"acme                 crawling  spaces 3/20  pages 1234  56.2 pages/s  checkpoint 2s ago"},
		{"spaces not listed yet", SiteStatus{Name: "acme", State: StateStarting, Breaker: "closed"},
			"acme                 starting  spaces 0/?  pages 0  0.0 pages/s"},
		{"waiting with an open breaker", SiteStatus{Name: "globex", State: StateWaiting, SpacesDone: 1, SpacesTotal: 2,
			Breaker: "open", Wait: "rate limited by Confluence, resuming in 29m12s"},
			"globex               waiting   spaces 1/2  pages 0  0.0 pages/s  breaker open  rate limited by Confluence, resuming in 29m12s"},
		{"failed", SiteStatus{Name: "initech", State: StateFailed, Error: "confluence: unauthorized"},
			"initech              failed    spaces 0/?  pages 0  0.0 pages/s  confluence: unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in, now); got != tc.want {
				t.Errorf("Line() = %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestProgressRedrawsInPlace(t *testing.T) {
	b := NewBoard(newClock().Now)
	b.Add("acme", "acme.atlassian.net")
	b.Add("globex", "globex.atlassian.net")
	var out bytes.Buffer
	p := &Progress{W: &out, Board: b}
	p.draw()
	first := out.String()
	p.draw()
	second := strings.TrimPrefix(out.String(), first)
	if strings.Count(first, "\n") != 2 || strings.Contains(first, "\x1b[2A") {
		t.Errorf("first draw = %q, want two lines and no cursor movement", first)
	}
	if !strings.HasPrefix(second, "\x1b[2A") || strings.Count(second, clearLine) != 2 {
		t.Errorf("second draw = %q, want the cursor moved up two lines and both lines cleared", second)
	}
}

func TestProgressRunStopsWithItsContext(t *testing.T) {
	b := NewBoard(nil)
	b.Add("acme", "acme.atlassian.net")
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	(&Progress{W: &out, Board: b}).Run(ctx)
	if !strings.Contains(out.String(), "acme") {
		t.Errorf("Run() after cancel drew %q, want the final state of acme", out.String())
	}
}

func TestPageShowsSitesAndLag(t *testing.T) {
	clk := newClock()
	b := NewBoard(clk.Now)
	s := b.Add("acme", "acme.atlassian.net")
	stats := &producer.Stats{}
	s.Start(stats, nil)
	s.SpacesListed([]string{"1", "2"})
	stats.Pages.Add(42)
	s.OnWait(confluence.WaitRateLimited, time.Hour)
	lag := []PartitionLag{{Group: "indexer", Topic: "confluence.pages", Partition: 2, Committed: 10, End: 25, Lag: 15}}
	page := &Page{Board: b, Lag: func(context.Context) ([]PartitionLag, error) { return lag, nil }, Refresh: 3 * time.Second}

	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	html := rec.Body.String()
	for _, want := range []string{
		`<meta http-equiv="refresh" content="3">`,
		`data-site="acme" data-state="waiting"`,
		`<td class="num spaces">0/2</td>`,
		`<td class="num pages">42</td>`,
		"rate limited by Confluence, resuming in 1h0m0s",
		`<td class="num lag">15</td>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("status page lacks %q:\n%s", want, html)
		}
	}

	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/status?format=json", nil))
	var got pageData
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("status JSON does not decode: %v\n%s", err, rec.Body)
	}
	if len(got.Sites) != 1 || got.Sites[0].Pages != 42 || got.Sites[0].WaitSeconds != 3600 || len(got.Lag) != 1 || got.Lag[0].Lag != 15 {
		t.Errorf("status JSON = %+v, want acme with 42 pages, a 3600s wait and lag 15", got)
	}
}

func TestPageSaysWhenLagIsUnavailable(t *testing.T) {
	page := &Page{Board: NewBoard(nil), Lag: func(context.Context) ([]PartitionLag, error) {
		return nil, errors.New("group coordinator not available")
	}}
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	if !strings.Contains(rec.Body.String(), "Lag unavailable: group coordinator not available") {
		t.Errorf("status page does not say why lag is missing:\n%s", rec.Body)
	}
}

// fakeSource lists spaces 1 and 2; space 2's blog posts are forbidden.
type fakeSource struct{ producer.Source }

func (fakeSource) ListSpaces(_ context.Context, fn func([]confluence.Space) error) error {
	return fn([]confluence.Space{{ID: "1"}, {ID: "2"}})
}

func (fakeSource) ListSpacePages(context.Context, string, string, func([]confluence.Page, string) error) error {
	return nil
}

func (fakeSource) ListSpaceBlogPosts(_ context.Context, id, _ string, _ func([]confluence.Page, string) error) error {
	if id == "2" {
		return &confluence.APIError{Status: 403}
	}
	return errors.New("connection reset")
}

func TestTrackCountsListings(t *testing.T) {
	s := NewBoard(nil).Add("acme", "acme.atlassian.net")
	s.Start(&producer.Stats{}, nil)
	src := Track(fakeSource{}, s)
	ctx := t.Context()
	if err := src.ListSpaces(ctx, func([]confluence.Space) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		_ = src.ListSpacePages(ctx, id, "", nil)     // always nil
		_ = src.ListSpaceBlogPosts(ctx, id, "", nil) // failures are the point
	}
	if got := s.Snapshot(); got.SpacesDone != 1 || got.SpacesTotal != 2 {
		t.Errorf("after listing: spaces %d/%d, want 1/2 (space 2 skipped as forbidden, space 1 failed)", got.SpacesDone, got.SpacesTotal)
	}
}
