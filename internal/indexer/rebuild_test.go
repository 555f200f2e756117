package indexer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// An index built live (a crawl of a simulated site, then newer versions,
// stale versions, renames and tombstones while the indexer follows) and an
// index rebuilt from the topics afterwards hold exactly the same rows. The
// switch then makes the rebuilt file the index and hands its offsets to
// the live group.
func TestRebuildMatchesLiveIndex(t *testing.T) {
	seeds, topics := crawledTopics(t)
	adm := newAdmin(t, seeds)
	cfg := indexer.Config{
		Brokers: seeds, Group: kafkatest.TopicName(t, "live"), Topics: topics,
		Path: filepath.Join(t.TempDir(), "index.db"),
	}

	stop := follow(t, cfg)
	changed := publishChanges(t, seeds, topics)
	waitCaughtUp(t, adm, cfg.Group, topics.Entities())
	stop()

	rb, err := indexer.NewRebuild(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Build(t.Context()); err != nil {
		t.Fatalf("Build() = %v, want nil", err)
	}
	live, rebuilt := dump(t, cfg.Path), dump(t, rb.Path())
	if diff := cmp.Diff(live, rebuilt); diff != "" {
		t.Fatalf("rebuilt index differs from the live one (-live +rebuilt):\n%s", diff)
	}
	checkChangesApplied(t, live, changed)

	if err := rb.Switch(t.Context(), nil); err != nil {
		t.Fatalf("Switch() = %v, want nil", err)
	}
	if got, err := index.Resolve(cfg.Path); err != nil || got != rb.Path() {
		t.Errorf("Resolve(%s) after Switch = %q, %v; want %q", cfg.Path, got, err, rb.Path())
	}
	got, want := committedOffsets(t, adm, cfg.Group, topics.Entities()), endOffsets(t, adm, topics.Entities())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("offsets of the live group after Switch (-end offsets +committed):\n%s", diff)
	}
	if left := committedOffsets(t, adm, rb.Group(), topics.Entities()); len(left) > 0 {
		t.Errorf("rebuild group %s still has offsets %v after Switch, want it deleted", rb.Group(), left)
	}
}

// While a rebuild runs, the old index answers every search; after the
// switch, the new one does. Every request succeeds, and none is answered
// by the new index before the switch or by the old one after it.
func TestSearchDuringRebuild(t *testing.T) {
	seeds, topics, cl := fixture(t)
	publishSite(t, cl, topics)
	cfg := indexer.Config{
		Brokers: seeds, Group: kafkatest.TopicName(t, "live"), Topics: topics,
		Path: filepath.Join(t.TempDir(), "index.db"), StopAtEnd: true,
	}
	oldCounts, err := indexer.Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		produce(t, cl, topics.Pages, page(t, fmt.Sprint("q", i), schema.KindPage, 1, "Quokka census "+fmt.Sprint(i)))
	}
	newCounts := oldCounts
	newCounts.Pages += 3

	old, err := index.Open(cfg.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := index.NewLive(old, nil)
	srv := httptest.NewServer(live.Handler())
	defer srv.Close()

	h := startHammer(t, srv.URL)
	rb, err := indexer.NewRebuild(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Build(t.Context()); err != nil {
		t.Fatalf("Build() = %v, want nil", err)
	}
	h.phase.Store(phaseSwitching)
	if err := rb.Switch(t.Context(), live); err != nil {
		t.Fatalf("Switch() = %v, want nil", err)
	}
	h.phase.Store(phaseSwitched)
	results := h.stop(t)

	h.check(t, results, oldCounts, newCounts)
	if got := len(searchLive(t, live, "quokka")); got != 3 {
		t.Errorf("Search(quokka) after the switch = %d hits, want the 3 pages only the new index has", got)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
}

// Switch refuses while the live group has a member, and changes nothing.
func TestSwitchRefusesActiveLiveGroup(t *testing.T) {
	seeds, topics, cl := fixture(t)
	publishSite(t, cl, topics)
	cfg := indexer.Config{
		Brokers: seeds, Group: kafkatest.TopicName(t, "live"), Topics: topics,
		Path: filepath.Join(t.TempDir(), "index.db"),
	}
	stop := follow(t, cfg)
	defer stop()
	waitCaughtUp(t, newAdmin(t, seeds), cfg.Group, topics.Entities())

	rb, err := indexer.NewRebuild(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Build(t.Context()); err != nil {
		t.Fatal(err)
	}
	err = rb.Switch(t.Context(), nil)
	var active *consumer.ActiveGroupError
	if !errors.As(err, &active) || active.Group != cfg.Group {
		t.Errorf("Switch() with the live indexer running = %v, want an *ActiveGroupError for %s", err, cfg.Group)
	}
	if got, _ := index.Resolve(cfg.Path); got != cfg.Path {
		t.Errorf("Resolve(%s) after a refused Switch = %q, want the old file", cfg.Path, got)
	}
	if err := rb.Discard(t.Context()); err != nil {
		t.Errorf("Discard() = %v, want nil", err)
	}
	if _, err := os.Stat(rb.Path()); err == nil {
		t.Errorf("%s exists after Discard", rb.Path())
	}
}

// A rebuild stopped before it reached the end offsets fails, so that it is
// never switched to: the consumer itself returns nil after a shutdown.
func TestBuildInterrupted(t *testing.T) {
	seeds, topics, cl := fixture(t)
	publishSite(t, cl, topics)
	cfg := indexer.Config{Brokers: seeds, Topics: topics, Path: filepath.Join(t.TempDir(), "index.db")}

	// Stop the build as soon as its consumer started, before it polled.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logger := slog.New(onMessage{"consumer started", cancel})
	rb, err := indexer.NewRebuild(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Build(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Build() stopped before the end = %v, want context.Canceled", err)
	}
	if err := rb.Discard(t.Context()); err != nil {
		t.Errorf("Discard() = %v, want nil", err)
	}
}

// onMessage is a slog handler that calls fn when a record with the message
// msg is logged, and drops every record.
type onMessage struct {
	msg string
	fn  func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h onMessage) WithGroup(string) slog.Handler            { return h }

func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}

// crawledTopics crawls a small simulated site into fresh topics of 3
// partitions each.
func crawledTopics(t *testing.T) ([]string, schema.Topics) {
	t.Helper()
	sc := confluencesim.Config{Seed: 7, Spaces: 3, Pages: 90, BlogPosts: 6, Users: 12,
		Email: "crawler@example.com", APIToken: "test-token"}
	site, err := confluencesim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	client, err := confluence.New(confluence.Config{
		BaseURL: srv.URL, Email: sc.Email, APIToken: sc.APIToken, RequestsPerSecond: 1000,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)

	seeds, _ := kafkatest.Brokers(t)
	topics := schema.NewTopics(kafkatest.TopicName(t, "confluence") + ".")
	err = broker.EnsureTopics(t.Context(), newAdmin(t, seeds), broker.TopicConfig{Partitions: 3},
		append(topics.Entities(), topics.State)...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(producer.Config{Brokers: seeds, Topics: topics}, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Crawl(t.Context()); err != nil {
		t.Fatalf("Crawl() = %v, want nil", err)
	}
	return seeds, topics
}

// follow runs an indexer with cfg in the background; the returned function
// stops it and fails the test if it did not stop cleanly.
func follow(t *testing.T, cfg indexer.Config) (stop func()) {
	t.Helper()
	cfg.StopAtEnd = false
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := indexer.Run(ctx, cfg, nil)
		done <- err
	}()
	var stopped bool
	return func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("following indexer: Run() = %v, want nil", err)
		}
	}
}

// changes are what publishChanges did, to check in the index.
type changes struct {
	revised, deleted, restored, stale []string // page ids
	renamedUser, deletedUser          string
	renamedSpace                      string
}

// publishChanges publishes, with schema.Site and a plain client, changes
// to crawled entities: newer versions, stale versions, tombstones, a page
// deleted and restored, a renamed and a deleted user, a renamed space.
func publishChanges(t *testing.T, seeds []string, topics schema.Topics) changes {
	t.Helper()
	pages := latest[schema.Page](t, seeds, topics.Pages)
	users := latest[schema.User](t, seeds, topics.Users)
	spaces := latest[schema.Space](t, seeds, topics.Spaces)
	if len(pages) < 10 || len(users) < 2 || len(spaces) < 1 {
		t.Fatalf("crawl published %d pages, %d users, %d spaces; want at least 10, 2, 1", len(pages), len(users), len(spaces))
	}
	cl := newProducerClient(t, seeds)
	site := schema.Site{ID: pages[0].v.Site, URL: pages[0].ev.Source}
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var ch changes

	for _, p := range pages[:4] {
		produce(t, cl, topics.Pages, revise(t, site, p.v, "revised quokka"))
		ch.revised = append(ch.revised, p.v.ID)
	}
	for _, p := range pages[4:6] {
		produce(t, cl, topics.Pages, site.Deleted(schema.EntityPage, p.v.ID, fmt.Sprint(p.v.Version.Number), schema.ReasonTrashed, at))
		ch.deleted = append(ch.deleted, p.v.ID)
	}
	restored := pages[6].v
	produce(t, cl, topics.Pages,
		site.Deleted(schema.EntityPage, restored.ID, fmt.Sprint(restored.Version.Number), schema.ReasonTrashed, at),
		revise(t, site, restored, "restored"))
	ch.restored = []string{restored.ID}
	stale := pages[7].v
	produce(t, cl, topics.Pages, revise(t, site, stale, "newest"), stalePage(t, site, stale))
	ch.stale = []string{stale.ID}

	u := users[0].v
	u.DisplayName += " Renamed"
	produce(t, cl, topics.Users, must(t)(site.UserUpserted(u, at)),
		site.Deleted(schema.EntityUser, users[1].v.AccountID, "", schema.ReasonMissing, at))
	ch.renamedUser, ch.deletedUser = u.AccountID, users[1].v.AccountID
	sp := spaces[0].v
	sp.Name += " Renamed"
	produce(t, cl, topics.Spaces, must(t)(site.SpaceUpserted(sp, at)))
	ch.renamedSpace = sp.ID
	return ch
}

// revise returns p at its next version with suffix added to its title.
func revise(t *testing.T, site schema.Site, p schema.Page, suffix string) schema.Message {
	t.Helper()
	p.Version.Number++
	p.Version.CreatedAt = p.Version.CreatedAt.Add(time.Hour)
	p.Title += " " + suffix
	p.Body += "<p>" + suffix + "</p>"
	return must(t)(site.PageUpserted(p))
}

// stalePage returns p at a version below the one revise published, with a
// title that must never be indexed.
func stalePage(t *testing.T, site schema.Site, p schema.Page) schema.Message {
	t.Helper()
	p.Title = "stale wombat"
	return must(t)(site.PageUpserted(p))
}

// checkChangesApplied checks the dump of the live index for each change,
// so that the comparison with the rebuild covers them.
func checkChangesApplied(t *testing.T, lines []string, ch changes) {
	t.Helper()
	has := func(prefix, part string) bool {
		return slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, prefix) && strings.Contains(l, part)
		})
	}
	for _, id := range ch.revised {
		if !has("pages_fts|", "|"+id+"|") || !has("pages|", "revised quokka") {
			t.Errorf("live index lacks the revised page %s", id)
		}
	}
	for _, id := range ch.deleted {
		if has("pages_fts|", "|"+id+"|") {
			t.Errorf("live index still searches the deleted page %s", id)
		}
	}
	if !has("pages|", "restored") || has("pages|", "stale wombat") {
		t.Errorf("live index: restored page missing or stale version indexed")
	}
	if !has("users|", ch.renamedUser+"|") || !has("users|", "Renamed") || !has("spaces|", "Renamed") {
		t.Errorf("live index lacks the renamed user %s or space %s", ch.renamedUser, ch.renamedSpace)
	}
	if !has("users|", ch.deletedUser+"||1") {
		t.Errorf("live index does not mark user %s deleted", ch.deletedUser)
	}
}

// decoded is the latest event of one key and its decoded value.
type decoded[T any] struct {
	ev schema.Event
	v  T
}

// latest reads topic and returns the latest upsert of each key, by key.
func latest[T any](t *testing.T, seeds []string, topic string) []decoded[T] {
	t.Helper()
	byKey := map[string]decoded[T]{}
	err := broker.ReadCommitted(t.Context(), []kgo.Opt{kgo.SeedBrokers(seeds...)}, topic, func(r *kgo.Record) error {
		ev, err := schema.ParseRecord(r)
		if err != nil || ev.IsDeletion() {
			return err
		}
		v, err := schema.Decode[T](ev)
		byKey[string(r.Key)] = decoded[T]{ev, v}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]decoded[T], len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

func newProducerClient(t *testing.T, seeds []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func searchLive(t *testing.T, l *index.Live, q string) []index.Hit {
	t.Helper()
	hits, err := l.Search(t.Context(), q, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v, want no error", q, err)
	}
	return hits
}
