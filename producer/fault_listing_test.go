package producer_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
)

const blogPostsRoute = "GET /wiki/api/v2/spaces/{id}/blogposts"

// limit25 lists 25 results per page, so that a space's listing takes
// several pages.
func limit25(c *confluence.Config) { c.PageLimit = 25 }

// TestEmptyPageWithNextLinkEndsTheListing: the last page of a listing
// carries a next link, which leads to a page without results. The empty page
// ends the listing: nothing is lost, nothing more is asked for, and the
// space's checkpoint marks the listing done.
func TestEmptyPageWithNextLinkEndsTheListing(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite, limit25)
	space := r.site.SpaceIDs()[0]
	r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
		confluencesim.Fault{EmptyPageWithNext: true})
	_, res, err := r.crawl(t, nil)
	if err != nil {
		t.Fatalf("Crawl() = %v", err)
	}
	requests := len(r.rec.to(r.listing(space)))
	pages := r.spacePageCount(t, space, false)
	if got, want := requests, (pages+24)/25+1; got != want {
		t.Errorf("listing requests for %d pages = %d, want %d (pages of 25, then the empty one)", pages, got, want)
	}
	if p := res.Checkpoint.Spaces[space]; p == nil || !p.PagesDone {
		t.Errorf("checkpoint of space %s = %+v, want its pages done", space, p)
	}
	r.checkExact(t)
}

// TestRepeatingNextLinkStopsTheRun: a listing page whose next link is the
// page itself would loop for ever. The run stops with a message naming the
// listing; the space's checkpoint does not move and nothing of it is
// published or deleted.
func TestRepeatingNextLinkStopsTheRun(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite)
	space := r.site.SpaceIDs()[0]
	first := r.listing(space) + "?body-format=storage&limit=250"
	r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
		confluencesim.Fault{Body: r.withNext(t, first, first)})
	p, res, err := r.crawl(t, nil)
	if err == nil || !strings.Contains(err.Error(), "repeats the current page") ||
		!strings.Contains(err.Error(), "list pages of space "+space) {
		t.Fatalf("Crawl() = %v, want an error naming the repeating link of space %s", err, space)
	}
	if n := len(r.rec.to(r.listing(space))); n != 1 {
		t.Errorf("requests for the repeating page = %d, want 1", n)
	}
	// The run may stop before the space list was committed: no progress
	// at all is as good as none for the space.
	if progress := res.Checkpoint.Spaces[space]; progress != nil && (progress.PagesDone || progress.PagesNext != "") {
		t.Errorf("checkpoint of space %s = %+v, want its page listing not started", space, progress)
	}
	if n := p.Stats().Pages.Load() + p.Stats().Deletions.Load(); n != 0 {
		t.Errorf("published %d pages and deletions, want none", n)
	}
}

// withNext returns the site's answer to the listing page path, with its
// next link replaced by next.
func (r *faultRig) withNext(t *testing.T, path, next string) string {
	t.Helper()
	list := r.fetchJSON(t, path)
	list["_links"] = map[string]any{"next": next, "base": r.srv.URL + "/wiki"}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fetchJSON returns the site's answer to path, decoded.
func (r *faultRig) fetchJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("crawler@example.com", "test-token")
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", path, resp.StatusCode, err)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInvalidCursorRestartsTheListingOnce: a 400 INVALID_REQUEST_PARAMETER
// for a cursor restarts that listing from its first page, once. Every page
// ends up published at its version; the pages read again before the
// rejected cursor are published again with the same ce_id, which consumers
// recognise as duplicates (DESIGN.md §3).
func TestInvalidCursorRestartsTheListingOnce(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite, limit25)
	space := r.site.SpaceIDs()[0]
	r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
		confluencesim.Fault{Status: http.StatusBadRequest, After: 1, Count: 1})
	if _, _, err := r.crawl(t, nil); err != nil {
		t.Fatalf("Crawl() = %v", err)
	}
	firstPages := 0
	for _, a := range r.rec.to(r.listing(space)) {
		if !strings.Contains(a.Query, "cursor=") {
			firstPages++
		}
	}
	if firstPages != 2 {
		t.Errorf("first page of the listing asked for %d times, want 2 (once more after the rejected cursor)", firstPages)
	}
	if n := r.countLogs("cursor rejected, listing restarted"); n != 1 {
		t.Errorf("logged %d listing restarts, want 1", n)
	}
	ids, keys := r.eventCounts(t)
	twice := 0
	for id, n := range ids {
		switch {
		case n == 2:
			twice++
		case n > 2:
			t.Errorf("event %s published %d times", id, n)
		}
	}
	if twice != 25 {
		t.Errorf("%d events published twice, want the 25 of the first page", twice)
	}
	r.site.ClearFaults()
	if got, want := keys, r.wantCounts(t); got.pages != want.pages+want.blogPosts || got.users != want.users {
		t.Errorf("published %+v distinct entities, want %+v", got, want)
	}
}

// TestUnreadableSpaceIsSkippedAndReported: 403 or 404 on a space's listing
// skips that space, reports it in the result, the log and the checkpoint,
// and the crawl goes on; nothing is deleted because of it.
func TestUnreadableSpaceIsSkippedAndReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		route     string
		status    int
		reason    string
		pagesKept bool // the page listing was done before the fault
	}{
		{"403 on pages", pagesRoute, http.StatusForbidden, "forbidden", false},
		{"404 on pages", pagesRoute, http.StatusNotFound, "not found", false},
		{"404 on blog posts", blogPostsRoute, http.StatusNotFound, "not found", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite)
			space := r.site.SpaceIDs()[1]
			r.site.InjectFault(confluencesim.Match{Route: tc.route, SpaceID: space}, confluencesim.Fault{Status: tc.status})
			p, res, err := r.crawl(t, nil)
			if err != nil {
				t.Fatalf("Crawl() = %v, want the space skipped and the crawl done", err)
			}
			if len(res.Skipped) != 1 || res.Skipped[0].ID != space || res.Skipped[0].Reason != tc.reason {
				t.Errorf("Crawl() skipped %+v, want space %s for %q", res.Skipped, space, tc.reason)
			}
			if r.countLogs("space skipped", `"space_id":"`+space+`"`, tc.reason) != 1 {
				t.Errorf("no %q warning for space %s", "space skipped", space)
			}
			if cp := res.Checkpoint; cp.CompletedAt.IsZero() || cp.Spaces[space].Skipped != tc.reason {
				t.Errorf("checkpoint = completed %v, space %+v; want completed with the space skipped",
					cp.CompletedAt, cp.Spaces[space])
			}
			if n := p.Stats().Deletions.Load(); n != 0 {
				t.Errorf("Stats().Deletions = %d, want 0: an unreadable space is no proof of deletion", n)
			}
			r.site.ClearFaults()
			want := r.wantCounts(t)
			want.blogPosts -= r.spacePageCount(t, space, true)
			if !tc.pagesKept {
				want.pages -= r.spacePageCount(t, space, false)
			}
			if got := r.count(t); got != want {
				t.Errorf("published %+v, want %+v (all but the skipped listings)", got, want)
			}
		})
	}
}

// TestUnauthorizedMidCrawlStops: a 401 in the middle of the crawl stops the
// run at once, without retrying, with an error that says which settings to
// check. What was committed stays; a crawl with good credentials resumes it
// and ends with every entity once.
func TestUnauthorizedMidCrawlStops(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite)
	r.site.InjectFault(confluencesim.Match{}, confluencesim.Fault{Status: http.StatusUnauthorized, After: 4})
	_, _, err := r.crawl(t, nil)
	if !errors.Is(err, confluence.ErrUnauthorized) || !strings.Contains(err.Error(), "check Email and APIToken") {
		t.Fatalf("Crawl() = %v, want ErrUnauthorized saying which settings to check", err)
	}
	unauthorized := 0
	for _, a := range r.rec.all() {
		if a.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized != 1 {
		t.Errorf("attempts answered 401 = %d, want 1: a 401 is not retried", unauthorized)
	}
	r.site.ClearFaults()
	_, res, err := r.crawl(t, nil)
	if err != nil || !res.Resumed {
		t.Fatalf("Crawl() after the 401 = resumed %v, %v; want a resumed crawl", res.Resumed, err)
	}
	r.checkExact(t)
}

// spacePageCount counts a space's pages (or blog posts) as the site lists
// them.
func (r *faultRig) spacePageCount(t *testing.T, space string, blog bool) int {
	t.Helper()
	list := r.client.ListSpacePages
	if blog {
		list = r.client.ListSpaceBlogPosts
	}
	n := 0
	err := list(t.Context(), space, "", func(b []confluence.Page, _ string) error {
		n += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
