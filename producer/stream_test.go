package producer_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/producer"
)

var streamSite = confluencesim.Config{Seed: 9, Spaces: 2, Pages: 40, BlogPosts: 4, Users: 12}

// targets are content and accounts of streamSite that tests change.
type targets struct {
	space     string            // the first space
	pages     []string          // current pages of the first space, homepage first
	blogPosts []string          // current blog posts
	users     []confluence.User // active accounts with a visible email
}

func findTargets(t *testing.T, f *fixture) targets {
	t.Helper()
	ctx := t.Context()
	tg := targets{space: f.site.SpaceIDs()[0]}
	err := f.client.ListSpacePages(ctx, tg.space, "", func(batch []confluence.Page, _ string) error {
		for _, pg := range batch {
			if pg.Status == "current" {
				tg.pages = append(tg.pages, pg.ID)
			}
		}
		return nil
	})
	must(t, err)
	err = f.client.ListBlogPostsWithStatus(ctx, "current", func(batch []confluence.Page) error {
		for _, pg := range batch {
			tg.blogPosts = append(tg.blogPosts, pg.ID)
		}
		return nil
	})
	must(t, err)
	users, err := f.client.FetchUsers(ctx, f.site.AccountIDs()[1:]) // account 0 is the crawler's
	must(t, err)
	for _, u := range users {
		if u.AccountStatus == "active" && u.AccountType == "atlassian" && u.Email != "" {
			tg.users = append(tg.users, u)
		}
	}
	if len(tg.pages) < 5 || len(tg.blogPosts) < 2 || len(tg.users) < 3 {
		t.Fatalf("site has too few targets: %+v", tg)
	}
	return tg
}

// version returns the current version of page id.
func version(t *testing.T, f *fixture, id string) int {
	t.Helper()
	pg, err := f.client.FetchPage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pg.Version.Number
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// streamSettings run the relisting and the sweep every second poll, so that
// four polls run each twice: a change must come out once all the same.
var streamSettings = producer.Config{RelistEvery: 2, SweepEvery: 2, TrashEvery: -1}

func TestStreamPublishesEachChangeOnce(t *testing.T) {
	archivedGone := streamSettings
	archivedGone.ArchivedGone = true
	trashListed := producer.Config{RelistEvery: -1, SweepEvery: -1, TrashEvery: 2}
	tests := []struct {
		name   string
		cfg    producer.Config
		change func(t *testing.T, f *fixture, tg targets) []string
	}{
		{"pages and blog posts, deletions found by the sweep", streamSettings, changeContent},
		{"deletions found by the trash listing", trashListed, func(t *testing.T, f *fixture, tg targets) []string {
			must(t, f.site.TrashPage(tg.pages[2]))
			must(t, f.site.TrashPage(tg.blogPosts[1]))
			return []string{"page " + tg.blogPosts[1] + " deleted trashed", "page " + tg.pages[2] + " deleted trashed"}
		}},
		{"archived pages count as gone", archivedGone, func(t *testing.T, f *fixture, tg targets) []string {
			must(t, f.site.ArchivePage(tg.pages[1]))
			return []string{"page " + tg.pages[1] + " deleted archived"}
		}},
		{"spaces and users", streamSettings, changePeople},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, streamSite)
			_, pl := f.poller(t, f.client, tt.cfg)
			tg := findTargets(t, f)
			polls(t, pl, 2) // whatever the crawl left to poll
			mark := f.mark(t)

			want := tt.change(t, f, tg)
			slices.Sort(want)
			polls(t, pl, 4)
			if diff := cmp.Diff(want, f.changesSince(t, mark)); diff != "" {
				t.Errorf("events published after the changes (-want +got):\n%s", diff)
			}
		})
	}
}

// changeContent edits, creates, trashes, purges and archives (archived
// pages kept) pages and blog posts, each change on content of its own.
func changeContent(t *testing.T, f *fixture, tg targets) []string {
	edited, err := f.site.EditPage(tg.pages[1])
	must(t, err)
	blog, err := f.site.EditPage(tg.blogPosts[0])
	must(t, err)
	must(t, f.site.TrashPage(tg.pages[2]))
	must(t, f.site.TrashPage(tg.blogPosts[1]))
	must(t, f.site.DeletePage(tg.pages[3]))
	archived := version(t, f, tg.pages[4]) + 1
	must(t, f.site.ArchivePage(tg.pages[4]))
	return append(createPage(t, f, tg),
		fmt.Sprintf("page %s upserted v%d current", tg.pages[1], edited),
		fmt.Sprintf("page %s upserted v%d current", tg.blogPosts[0], blog),
		"page "+tg.pages[2]+" deleted trashed",
		"page "+tg.blogPosts[1]+" deleted trashed",
		"page "+tg.pages[3]+" deleted purged",
		fmt.Sprintf("page %s upserted v%d archived", tg.pages[4], archived))
}

// changePeople renames a space, renames a user, hides another's email and
// closes a third account.
func changePeople(t *testing.T, f *fixture, tg targets) []string {
	renamed, hidden, closed := tg.users[0], tg.users[1], tg.users[2]
	must(t, f.site.RenameSpace(tg.space, "Renamed Space"))
	must(t, f.site.ChangeUser(renamed.AccountID, confluencesim.UserChange{DisplayName: "Renamed Person"}))
	must(t, f.site.ChangeUser(hidden.AccountID, confluencesim.UserChange{HideEmail: true}))
	must(t, f.site.ChangeUser(closed.AccountID, confluencesim.UserChange{AccountStatus: "closed"}))
	return []string{
		"space " + tg.space + " upserted Renamed Space",
		fmt.Sprintf("user %s upserted Renamed Person <%s> active", renamed.AccountID, renamed.Email),
		fmt.Sprintf("user %s upserted %s <> active", hidden.AccountID, hidden.DisplayName),
		fmt.Sprintf("user %s upserted %s <%s> closed", closed.AccountID, closed.DisplayName, closed.Email),
	}
}

// createPage creates a page, and expects its author too when the topics do
// not hold that account yet.
func createPage(t *testing.T, f *fixture, tg targets) []string {
	id, err := f.site.CreatePage(tg.space)
	must(t, err)
	want := []string{"page " + id + " upserted v1 current"}
	pg, err := f.client.FetchPage(t.Context(), id)
	must(t, err)
	for _, ev := range f.events(t) {
		if ev.Subject == pg.AuthorID {
			return want
		}
	}
	users, err := f.client.FetchUsers(t.Context(), []string{pg.AuthorID})
	must(t, err)
	u := users[0]
	return append(want, fmt.Sprintf("user %s upserted %s <%s> %s", u.AccountID, u.DisplayName, u.Email, u.AccountStatus))
}

func TestStreamPollCosts(t *testing.T) {
	f := newFixture(t, streamSite)
	_, pl := f.poller(t, f.client, producer.Config{RelistEvery: 3, SweepEvery: 4, TrashEvery: -1})
	spaces := len(f.site.SpaceIDs())
	tests := []struct {
		poll   int
		routes map[string]int
	}{
		{1, map[string]int{"GET /wiki/api/v2/pages": 1}},
		{2, map[string]int{"GET /wiki/api/v2/blogposts": 1}},
		{3, map[string]int{"GET /wiki/api/v2/pages": 1, "GET /wiki/api/v2/spaces": 1,
			"GET /wiki/rest/api/search/user": 1, "POST /wiki/api/v2/users-bulk": 1}},
		{4, map[string]int{"GET /wiki/api/v2/blogposts": 1, "GET /wiki/api/v2/spaces/{id}/pages": spaces,
			"GET /wiki/api/v2/spaces/{id}/blogposts": spaces}},
		{5, map[string]int{"GET /wiki/api/v2/pages": 1}},
	}
	mark := f.mark(t)
	for _, tt := range tests {
		t.Run(fmt.Sprint("poll ", tt.poll), func(t *testing.T) {
			f.site.ResetRequests()
			res, err := pl.Poll(t.Context())
			if err != nil || res.Poll != int64(tt.poll) {
				t.Fatalf("Poll() = %+v, %v, want poll %d", res, err, tt.poll)
			}
			if diff := cmp.Diff(tt.routes, f.site.Requests().ByRoute); diff != "" {
				t.Errorf("requests of poll %d by route (-want +got):\n%s", tt.poll, diff)
			}
		})
	}
	if got := f.changesSince(t, mark); len(got) != 0 {
		t.Errorf("idle polls published %v, want nothing", got)
	}
}

func TestStreamIdlePollIsOneRequestWithChangesInOverlap(t *testing.T) {
	f := newFixture(t, streamSite)
	_, pl := f.poller(t, f.client, producer.Config{RelistEvery: -1, SweepEvery: -1, TrashEvery: -1})
	tg := findTargets(t, f)
	for _, id := range tg.pages[:3] {
		_, err := f.site.EditPage(id)
		must(t, err)
	}
	polls(t, pl, 2) // publishes the edits; they stay inside the overlap
	mark := f.mark(t)
	for range 4 {
		f.site.ResetRequests()
		res, err := pl.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := f.site.Requests().Total; got != 1 {
			t.Errorf("idle poll %d (%s feed) made %d requests, want 1", res.Poll, res.Feed, got)
		}
	}
	if got := f.changesSince(t, mark); len(got) != 0 {
		t.Errorf("idle polls published %v, want nothing: the overlap shows the edits again", got)
	}
}

// clock is a settable time source shared by the simulated site and the
// producer; server goroutines read it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// editDuringPoll edits a page once, right after the first listing of
// modified pages answered: the edit is newer than the poll's start but
// missing from what the poll read. Then the poll takes a second longer.
type editDuringPoll struct {
	*confluence.Client
	site  *confluencesim.Site
	clock *clock
	id    string
	done  bool
	got   int // the new version
}

func (s *editDuringPoll) ListPagesModifiedSince(ctx context.Context, since time.Time, fn func([]confluence.Page) error) error {
	err := s.Client.ListPagesModifiedSince(ctx, since, fn)
	if !s.done {
		s.done = true
		s.clock.advance(10 * time.Millisecond)
		s.got, err = s.site.EditPage(s.id)
		s.clock.advance(time.Second)
	}
	return err
}

func TestStreamChangeDuringPollIsNotMissed(t *testing.T) {
	clk := &clock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	cfg := streamSite
	cfg.Now = clk.Now
	f := newFixture(t, cfg)
	id := f.site.PageIDs(f.site.SpaceIDs()[0])[0]
	src := &editDuringPoll{Client: f.client, site: f.site, clock: clk, id: id}
	p, err := producer.New(producer.Config{Brokers: f.seeds, Topics: f.topics, PollOverlap: time.Millisecond,
		ClientOptions: []kgo.Opt{kgo.MetadataMinAge(100 * time.Millisecond)},
		RelistEvery:   -1, SweepEvery: -1, TrashEvery: -1}, src, nil)
	must(t, err)
	t.Cleanup(p.Close)
	producer.SetClock(p, clk.Now)
	pl, err := p.StartStream(t.Context())
	must(t, err)
	mark := f.mark(t)

	clk.advance(time.Second)
	first := polls(t, pl, 1)[0] // the edit happens during this poll
	if first.Pages != 0 {
		t.Fatalf("first poll published %d pages, want 0: the edit came after its listing", first.Pages)
	}
	for range 3 {
		clk.advance(time.Second)
		polls(t, pl, 1)
	}
	want := []string{fmt.Sprintf("page %s upserted v%d current", id, src.got)}
	if diff := cmp.Diff(want, f.changesSince(t, mark)); diff != "" {
		t.Errorf("events after an edit made during a poll (-want +got):\n%s", diff)
	}
}

func TestStreamResumesFromCheckpoint(t *testing.T) {
	f := newFixture(t, streamSite)
	tg := findTargets(t, f)
	_, first := f.poller(t, f.client, streamSettings)
	v, err := f.site.EditPage(tg.pages[1])
	must(t, err)
	polls(t, first, 3)
	mark := f.mark(t)

	// A second producer takes over, as after a restart: it fences the first.
	_, second := f.poller(t, f.client, streamSettings)
	if got := second.Checkpoint().Stream.Polls; got != 3 {
		t.Errorf("resumed stream starts after poll %d, want 3", got)
	}
	must(t, f.site.TrashPage(tg.pages[2]))
	polls(t, second, 3)
	want := []string{"page " + tg.pages[2] + " deleted trashed"}
	if diff := cmp.Diff(want, f.changesSince(t, mark)); diff != "" {
		t.Errorf("events after the restart (-want +got):\n%s", diff)
	}
	if !slices.Contains(f.changesSince(t, map[string]bool{}), fmt.Sprintf("page %s upserted v%d current", tg.pages[1], v)) {
		t.Errorf("the edit before the restart is missing from the topics")
	}
}

func TestStreamRepublishesNothingTheCrawlPublished(t *testing.T) {
	f := newFixture(t, streamSite)
	tg := findTargets(t, f)
	// Edited just before the crawl, inside the overlap the first polls
	// list again.
	for _, id := range []string{tg.pages[1], tg.pages[2], tg.blogPosts[0]} {
		_, err := f.site.EditPage(id)
		must(t, err)
	}
	_, pl := f.poller(t, f.client, streamSettings)
	mark := f.mark(t)
	polls(t, pl, 4)
	if got := f.changesSince(t, mark); len(got) != 0 {
		t.Errorf("polls after the crawl published %v, want nothing", got)
	}
}
