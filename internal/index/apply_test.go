package index

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parable/confluence-kafka/schema"
)

func TestApplyHighestVersionWins(t *testing.T) {
	orders := map[string][]int{
		"ascending":          {1, 2, 3},
		"descending":         {3, 2, 1},
		"newest in middle":   {2, 3, 1},
		"duplicate newest":   {3, 3},
		"duplicates each":    {1, 1, 2, 2},
		"replay after":       {1, 2, 3, 1, 2, 3},
		"single old version": {1},
	}
	for name, order := range orders {
		for _, oneCall := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/one_call=%t", name, oneCall), func(t *testing.T) {
				s := openTest(t)
				var evs []schema.Event
				for _, v := range order {
					evs = append(evs, pageEvent(t, "98305", v))
				}
				if oneCall {
					if err := s.Apply(t.Context(), evs); err != nil {
						t.Fatalf("Apply(%v) = %v, want no error", order, err)
					}
				} else {
					applyEach(t, s, evs...)
				}

				newest := slices.Max(order)
				for _, v := range order {
					q := fmt.Sprintf("ver%dword", v)
					want := []string{}
					if v == newest {
						want = []string{"98305"}
					}
					if got := searchIDs(t, s, q); !slices.Equal(got, want) {
						t.Errorf("after %v: Search(%q) = %v, want %v", order, q, got, want)
					}
				}
				if got, want := counts(t, s), (Counts{Pages: 1}); got != want {
					t.Errorf("after %v: Counts() = %+v, want %+v", order, got, want)
				}
			})
		}
	}
}

// step is one event of a tombstone scenario: an upsert at version up, or a
// tombstone published for version del ("" = unknown) when up is zero.
type step struct {
	up  int
	del string
}

func TestApplyTombstone(t *testing.T) {
	tests := []struct {
		name     string
		steps    []step
		live     int // version found by search afterwards; 0 = none
		wantDead int // Counts().Deleted
	}{
		{"delete removes", []step{{up: 5}, {del: "5"}}, 0, 1},
		{"stale upsert after delete", []step{{up: 5}, {del: "5"}, {up: 4}}, 0, 1},
		{"equal upsert after delete", []step{{up: 5}, {del: "5"}, {up: 5}}, 0, 1},
		{"newer upsert restores", []step{{up: 5}, {del: "5"}, {up: 6}}, 6, 0},
		{"duplicate tombstone", []step{{up: 5}, {del: "5"}, {del: "5"}}, 0, 1},
		{"tombstone of unseen page then stale upsert", []step{{del: "7"}, {up: 6}, {up: 7}}, 0, 1},
		{"tombstone of unseen page then newer upsert", []step{{del: "7"}, {up: 8}}, 8, 0},
		{"tombstone without version then upsert", []step{{del: ""}, {up: 1}}, 1, 0},
		{"stale tombstone replayed after newer upsert", []step{{up: 5}, {up: 6}, {del: "5"}}, 6, 0},
		{"tombstone for a version not seen yet", []step{{up: 5}, {del: "9"}, {up: 8}}, 0, 1},
		{"full replay of the topic", []step{{up: 5}, {del: "5"}, {up: 6}, {up: 5}, {del: "5"}, {up: 6}}, 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			for _, st := range tt.steps {
				if st.up > 0 {
					applyEach(t, s, pageEvent(t, "98305", st.up))
				} else {
					applyEach(t, s, deleteEvent(t, "98305", st.del))
				}
			}

			got := searchIDs(t, s, "Runbook")
			want := []string{}
			if tt.live > 0 {
				want = []string{"98305"}
				if v := searchIDs(t, s, "ver"+strconv.Itoa(tt.live)+"word"); len(v) != 1 {
					t.Errorf("Search(ver%dword) = %v, want the page at version %d", tt.live, v, tt.live)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("after %+v: Search(Runbook) = %v, want %v", tt.steps, got, want)
			}
			if c := counts(t, s); c.Deleted != tt.wantDead || c.Pages != len(want) {
				t.Errorf("after %+v: Counts() = %+v, want Deleted %d and Pages %d", tt.steps, c, tt.wantDead, len(want))
			}
		})
	}
}

func TestApplyUsersAndSpacesLastWriteWins(t *testing.T) {
	s := openTest(t)
	applyEach(t, s,
		userEvent(t, "u-1", "Mia Krystof"),
		spaceEvent(t, "65538", "OPS", "Operations"),
		pageEvent(t, "98305", 1),
		userEvent(t, "u-1", "Mia Novak"),
		spaceEvent(t, "65538", "OPS", "Ops & SRE"),
	)
	hit := onlyHit(t, s, "Runbook")
	if hit.AuthorName != "Mia Novak" || hit.SpaceName != "Ops & SRE" || hit.SpaceKey != "OPS" {
		t.Errorf("Search(Runbook) = %+v, want author Mia Novak in OPS / Ops & SRE", hit)
	}

	applyEach(t, s,
		event(t, testSite.Deleted(schema.EntityUser, "u-1", "", schema.ReasonMissing, testTime), nil),
		event(t, testSite.Deleted(schema.EntitySpace, "65538", "", schema.ReasonUnreadable, testTime), nil),
	)
	hit = onlyHit(t, s, "Runbook")
	if hit.AuthorName != "" || hit.SpaceKey != "" || hit.SpaceName != "" {
		t.Errorf("after deleting user and space: Search(Runbook) = %+v, want no author and no space", hit)
	}
	if got, want := counts(t, s), (Counts{Pages: 1, Deleted: 2}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}

	applyEach(t, s, userEvent(t, "u-1", "Mia Back"))
	if got := onlyHit(t, s, "Runbook").AuthorName; got != "Mia Back" {
		t.Errorf("after re-adding the user: AuthorName = %q, want %q", got, "Mia Back")
	}
}

func TestApplyIsAtomic(t *testing.T) {
	s := openTest(t)
	bad := pageEvent(t, "2", 1)
	bad.Value = []byte(`{"id": "2", "version": {"number": "seven"}}`)

	err := s.Apply(t.Context(), []schema.Event{pageEvent(t, "1", 1), bad})
	if err == nil || !strings.Contains(err.Error(), bad.ID) {
		t.Fatalf("Apply(good, undecodable) = %v, want an error naming ce_id %s", err, bad.ID)
	}
	if got := counts(t, s); got != (Counts{}) {
		t.Errorf("after a failed Apply: Counts() = %+v, want nothing applied", got)
	}
}

func TestApplySkipsOtherEvents(t *testing.T) {
	s := openTest(t)
	foreign := schema.Event{
		Envelope: schema.Envelope{ID: "inv-1", Source: "billing", Type: "com.example.invoice.paid"},
		Key:      []byte("invoice-1"), Value: []byte(`{"amount": 3}`),
	}
	unknownState := pageEvent(t, "1", 1)
	unknownState.Type = schema.TypePrefix + "page.archived"

	if err := s.Apply(t.Context(), []schema.Event{foreign, unknownState}); err != nil {
		t.Fatalf("Apply(foreign, unknown state) = %v, want no error", err)
	}
	if got := counts(t, s); got != (Counts{}) {
		t.Errorf("Counts() = %+v, want nothing applied", got)
	}
}

func TestApplyRejectsKeyWithoutSite(t *testing.T) {
	s := openTest(t)
	ev := pageEvent(t, "1", 1)
	ev.Key = []byte("no-site")
	if err := s.Apply(t.Context(), []schema.Event{ev}); err == nil {
		t.Errorf("Apply(key %q) = nil, want an error", ev.Key)
	}
}

func TestDeletionVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string // published in the tombstone
		stored  int
		want    int
	}{
		{"same as stored", "7", 7, 7},
		{"newer than stored", "9", 7, 9},
		{"older than stored", "3", 7, 3},
		{"unseen page", "12", 0, 12},
		{"unknown version", "", 7, 7},
		{"beyond the search", strconv.Itoa(7 + versionSearch + 1), 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := schema.EventID(testSite.ID, schema.EntityPage, "1", tt.version, schema.StateDeleted)
			if got := deletionVersion(testSite.ID, "1", id, tt.stored); got != tt.want {
				t.Errorf("deletionVersion(v%q, stored %d) = %d, want %d", tt.version, tt.stored, got, tt.want)
			}
		})
	}
}

func onlyHit(t *testing.T, s *Store, q string) Hit {
	t.Helper()
	hits, err := s.Search(t.Context(), q, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v, want no error", q, err)
	}
	if len(hits) != 1 {
		t.Fatalf("Search(%q) = %s, want one hit", q, cmp.Diff(nil, hits))
	}
	return hits[0]
}
