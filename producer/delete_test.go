package producer_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/producer"
)

// smallPages returns a client of f's site that lists 5 results per
// request, so that a space's listing takes several requests, and gives up
// on a failing request after two attempts, without opening its breaker.
func smallPages(t *testing.T, f *fixture) *confluence.Client {
	t.Helper()
	c, err := confluence.New(confluence.Config{
		BaseURL: strings.TrimSuffix(f.client.SiteURL(), "/wiki"), Email: "crawler@example.com", APIToken: "test-token",
		PageLimit: 5, RequestsPerSecond: 1000, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		MaxAttempts: 2, BreakerFailures: 1000,
	}, nil)
	must(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestSweepDeletesNothingUnlessComplete(t *testing.T) {
	tests := []struct {
		name  string
		match func(space, purged string) confluencesim.Match
		fault confluencesim.Fault
	}{
		{"listing fails on its second request",
			func(space, _ string) confluencesim.Match {
				return confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages", SpaceID: space}
			},
			confluencesim.Fault{Status: http.StatusForbidden, After: 1}},
		{"listing answers a login page",
			func(space, _ string) confluencesim.Match {
				return confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages", SpaceID: space}
			},
			confluencesim.Fault{HTML200: true, After: 2}},
		{"confirmation fails",
			func(_, purged string) confluencesim.Match {
				return confluencesim.Match{Route: "GET /wiki/api/v2/pages/{id}", ContentID: purged}
			},
			confluencesim.Fault{Status: http.StatusInternalServerError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, streamSite)
			tg := findTargets(t, f)
			cfg := producer.Config{SweepEvery: 1, RelistEvery: -1, TrashEvery: -1}
			_, pl := f.poller(t, smallPages(t, f), cfg)
			trashed, purged := tg.pages[len(tg.pages)-1], tg.pages[len(tg.pages)-2]
			must(t, f.site.TrashPage(trashed))
			must(t, f.site.DeletePage(purged))
			mark := f.mark(t)

			f.site.InjectFault(tt.match(tg.space, purged), tt.fault)
			res, err := pl.Poll(t.Context())
			if err == nil || res.Swept || !cmp.Equal(res.SweepAborted, []string{tg.space}) {
				t.Fatalf("Poll() with a fault = %+v, %v; want the sweep of space %s aborted with an error",
					res, err, tg.space)
			}
			if got := f.changesSince(t, mark); len(got) != 0 {
				t.Fatalf("an aborted sweep published %v, want nothing", got)
			}

			f.site.ClearFaults()
			res, err = pl.Poll(t.Context())
			if err != nil || !res.Swept {
				t.Fatalf("Poll() without faults = %+v, %v; want a complete sweep", res, err)
			}
			polls(t, pl, 2)
			want := []string{"page " + purged + " deleted purged", "page " + trashed + " deleted trashed"}
			if diff := cmp.Diff(want, f.changesSince(t, mark)); diff != "" {
				t.Errorf("events once the sweep completes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSweepKeepsMovedAndUnreadablePages(t *testing.T) {
	f := newFixture(t, streamSite)
	tg := findTargets(t, f)
	cfg := producer.Config{SweepEvery: 1, RelistEvery: -1, TrashEvery: -1}
	f.poller(t, f.client, cfg) // crawls everything
	hidden, forbidden := tg.pages[1], tg.pages[2]
	mark := f.mark(t)

	// The listing misses both pages; asked by id, one is still there and
	// the other is forbidden.
	f.site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/pages/{id}", ContentID: forbidden},
		confluencesim.Fault{Status: http.StatusForbidden})
	src := &hiding{Client: f.client, ids: map[string]bool{hidden: true, forbidden: true}}
	_, pl := f.poller(t, src, cfg)
	polls(t, pl, 2)
	want := []string{"page " + forbidden + " deleted unreadable"}
	if diff := cmp.Diff(want, f.changesSince(t, mark)); diff != "" {
		t.Errorf("events after a sweep that missed a live and a forbidden page (-want +got):\n%s", diff)
	}
}

// hiding leaves some pages out of space listings, as a listing that raced
// with a move would.
type hiding struct {
	*confluence.Client
	ids map[string]bool
}

func (h *hiding) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	return h.Client.ListSpacePages(ctx, spaceID, from, func(batch []confluence.Page, next string) error {
		kept := batch[:0:0]
		for _, pg := range batch {
			if !h.ids[pg.ID] {
				kept = append(kept, pg)
			}
		}
		return fn(kept, next)
	})
}
