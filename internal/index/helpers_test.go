package index

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parable/confluence-kafka/schema"
)

var (
	testSite = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}
	testTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// openTest opens a fresh index in the test's temporary directory.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "index.db"), nil)
	if err != nil {
		t.Fatalf("Open() = %v, want no error", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v, want no error", err)
		}
	})
	return s
}

// event turns a message into the event a consumer would hand over, through
// the same record parsing.
func event(t testing.TB, m schema.Message, err error) schema.Event {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := schema.ParseRecord(m.Record("confluence.test"))
	if err != nil {
		t.Fatalf("ParseRecord() = %v, want no error", err)
	}
	return ev
}

// page returns a page event at version v whose title carries the word
// "ver<v>word", so a search tells which version is indexed.
func pageEvent(t testing.TB, id string, v int) schema.Event {
	t.Helper()
	p := schema.Page{
		ID: id, Kind: schema.KindPage, SpaceID: "65538", Status: "current",
		Title:   fmt.Sprintf("Runbook ver%dword", v),
		Body:    "<p>steps for version " + strconv.Itoa(v) + "</p>",
		Version: schema.PageVersion{Number: v, CreatedAt: testTime.Add(time.Duration(v) * time.Minute)},
		WebURL:  "https://acme.atlassian.net/wiki/pages/" + id, AuthorID: "u-1",
	}
	m, err := testSite.PageUpserted(p)
	return event(t, m, err)
}

// deleteEvent returns the tombstone of a page deleted at version v ("" when
// the producer did not know it).
func deleteEvent(t testing.TB, id, v string) schema.Event {
	t.Helper()
	return event(t, testSite.Deleted(schema.EntityPage, id, v, schema.ReasonTrashed, testTime), nil)
}

func userEvent(t testing.TB, id, name string) schema.Event {
	t.Helper()
	u := schema.User{AccountID: id, AccountType: "atlassian", AccountStatus: "active", DisplayName: name}
	m, err := testSite.UserUpserted(u, testTime)
	return event(t, m, err)
}

func spaceEvent(t testing.TB, id, key, name string) schema.Event {
	t.Helper()
	sp := schema.Space{ID: id, Key: key, Name: name, Type: "global", Status: "current", CreatedAt: testTime}
	m, err := testSite.SpaceUpserted(sp, testTime)
	return event(t, m, err)
}

// applyEach applies evs one Apply call per event.
func applyEach(t testing.TB, s *Store, evs ...schema.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := s.Apply(t.Context(), []schema.Event{ev}); err != nil {
			t.Fatalf("Apply(%s) = %v, want no error", ev.Type, err)
		}
	}
}

// searchIDs returns the page ids found by a search.
func searchIDs(t testing.TB, s *Store, q string) []string {
	t.Helper()
	hits, err := s.Search(t.Context(), q, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v, want no error", q, err)
	}
	ids := []string{}
	for _, h := range hits {
		ids = append(ids, h.PageID)
	}
	return ids
}

func counts(t testing.TB, s *Store) Counts {
	t.Helper()
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts() = %v, want no error", err)
	}
	return c
}
