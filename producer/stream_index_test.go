package producer_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// indexed is what the index holds about one page.
type indexed struct {
	Version int
	Deleted bool
	Hits    int // search hits for the page's unique phrase
}

// lookup reads what the index at path holds about page id: its row, read
// with SQL because the index exposes no versions, and a search for the
// page's unique phrase.
func lookup(t *testing.T, store *index.Store, path, id, phrase string) indexed {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	must(t, err)
	defer db.Close()
	var got indexed
	err = db.QueryRowContext(t.Context(), "SELECT version, deleted FROM pages WHERE id = ?", id).
		Scan(&got.Version, &got.Deleted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	hits, err := store.Search(t.Context(), phrase, 5)
	must(t, err)
	got.Hits = len(hits)
	return got
}

func TestStreamChangesReachTheIndexOnce(t *testing.T) {
	f := newFixture(t, streamSite)
	tg := findTargets(t, f)
	_, pl := f.poller(t, f.client, streamSettings)
	author, err := f.client.FetchPage(t.Context(), tg.pages[1])
	must(t, err)

	edited, err := f.site.EditPage(tg.pages[1])
	must(t, err)
	created, err := f.site.CreatePage(tg.space)
	must(t, err)
	archived := version(t, f, tg.pages[3]) + 1
	must(t, f.site.ArchivePage(tg.pages[3]))
	trashed, purged := tg.pages[2], tg.pages[4]
	must(t, f.site.TrashPage(trashed))
	must(t, f.site.DeletePage(purged))
	must(t, f.site.RenameSpace(tg.space, "Renamed Space"))
	must(t, f.site.ChangeUser(author.AuthorID, confluencesim.UserChange{DisplayName: "Renamed Author"}))
	polls(t, pl, 4)

	path := filepath.Join(t.TempDir(), "index.db")
	_, err = indexer.Run(t.Context(), indexer.Config{Brokers: f.seeds, Group: kafkatest.TopicName(t, "indexer"),
		Topics: f.topics, Path: path, StopAtEnd: true}, nil)
	must(t, err)
	store, err := index.Open(path, nil)
	must(t, err)
	defer store.Close()

	want := map[string]indexed{
		tg.pages[1]: {Version: edited, Hits: 1},
		created:     {Version: 1, Hits: 1},
		tg.pages[3]: {Version: archived, Hits: 1},
		trashed:     {Version: version(t, f, trashed), Deleted: true},
		purged:      {Version: 0, Deleted: true},
	}
	got := map[string]indexed{}
	for id := range want {
		got[id] = lookup(t, store, path, id, f.site.UniquePhrase(id))
	}
	// A purge leaves no version to delete at: the tombstone keeps the one
	// the index held.
	got[purged] = indexed{Deleted: got[purged].Deleted, Hits: got[purged].Hits}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index after the changes (-want +got):\n%s", diff)
	}

	hits, err := store.Search(t.Context(), f.site.UniquePhrase(tg.pages[1]), 1)
	must(t, err)
	if len(hits) != 1 || hits[0].SpaceName != "Renamed Space" || hits[0].AuthorName != "Renamed Author" {
		t.Errorf("Search(edited page) = %+v, want space Renamed Space and author Renamed Author", hits)
	}
	counts, err := store.Counts(t.Context())
	must(t, err)
	e := f.site.Expected()
	if counts.Pages != e.Pages || counts.BlogPosts != e.BlogPosts || counts.Deleted != 2 {
		t.Errorf("index counts %+v, want %d pages, %d blog posts, 2 deleted", counts, e.Pages, e.BlogPosts)
	}
}
