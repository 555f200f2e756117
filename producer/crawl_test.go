package producer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is a simulated site, a client of it and a cluster with fresh topics.
type fixture struct {
	site   *confluencesim.Site
	client *confluence.Client
	seeds  []string
	topics schema.Topics
}

func newFixture(t *testing.T, cfg confluencesim.Config) *fixture {
	t.Helper()
	cfg.Email, cfg.APIToken = "crawler@example.com", "test-token"
	site, err := confluencesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	client, err := confluence.New(confluence.Config{
		BaseURL: srv.URL, Email: cfg.Email, APIToken: cfg.APIToken,
		RequestsPerSecond: 1000, BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond,
		PageLimit: 50, // several listing pages per space, so interruptions land mid-space
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	seeds, _ := kafkatest.Brokers(t)
	f := &fixture{site: site, client: client, seeds: seeds, topics: schema.NewTopics(kafkatest.TopicName(t, "confluence") + ".")}
	f.ensureTopics(t, 1<<20)
	return f
}

func (f *fixture) ensureTopics(t *testing.T, maxMessageBytes int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := broker.TopicConfig{Partitions: 3, MaxMessageBytes: maxMessageBytes}
	topics := append(f.topics.Entities(), f.topics.State)
	if err := broker.EnsureTopics(t.Context(), kadm.NewClient(cl), cfg, topics...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) producer(t *testing.T, src producer.Source, maxRecordBytes int) *producer.Producer {
	t.Helper()
	p, err := producer.New(producer.Config{
		Brokers: f.seeds, Topics: f.topics, MaxRecordBytes: maxRecordBytes, TransactionEvents: 300,
	}, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// published reads every committed event of the entity topics and fails the
// test if one (entity, version) was published twice.
func (f *fixture) published(t *testing.T) map[string]schema.Event {
	t.Helper()
	byKey := map[string]schema.Event{}
	seen := map[string]bool{}
	for _, topic := range f.topics.Entities() {
		err := broker.ReadCommitted(t.Context(), []kgo.Opt{kgo.SeedBrokers(f.seeds...)}, topic, func(r *kgo.Record) error {
			ev, err := schema.ParseRecord(r)
			if err != nil {
				return err
			}
			if seen[ev.ID] {
				t.Errorf("event %s (%s %s) published twice", ev.ID, ev.Type, ev.Subject)
			}
			seen[ev.ID] = true
			byKey[topic+"|"+string(r.Key)] = ev
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return byKey
}

type counts struct{ users, spaces, pages, blogPosts, degraded int }

func (f *fixture) count(t *testing.T) counts {
	t.Helper()
	var c counts
	for key, ev := range f.published(t) {
		switch {
		case strings.HasPrefix(key, f.topics.Users+"|"):
			c.users++
		case strings.HasPrefix(key, f.topics.Spaces+"|"):
			c.spaces++
		default:
			p, err := schema.Decode[schema.Page](ev)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind == schema.KindBlogPost {
				c.blogPosts++
			} else {
				c.pages++
			}
			if p.BodyOmitted {
				c.degraded++
			}
		}
	}
	return c
}

// wantCounts is what a complete crawl of the site publishes: every listed
// space, page and blog post, and every account that the user search lists or
// that content references.
func (f *fixture) wantCounts(t *testing.T) counts {
	t.Helper()
	accounts := map[string]bool{}
	for _, id := range f.site.ReferencedAccountIDs() {
		accounts[id] = true
	}
	err := f.client.SearchUsers(t.Context(), func(users []confluence.User) error {
		for _, u := range users {
			accounts[u.AccountID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := f.site.Expected()
	return counts{users: len(accounts), spaces: e.Spaces, pages: e.Pages, blogPosts: e.BlogPosts}
}

var smallSite = confluencesim.Config{Seed: 7, Spaces: 4, Pages: 700, BlogPosts: 40, Users: 60}

func TestCrawlPublishesEverySiteEntityOnce(t *testing.T) {
	f := newFixture(t, smallSite)
	p := f.producer(t, f.client, 0)
	res, err := p.Crawl(t.Context())
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	if res.Resumed || len(res.Skipped) != 0 || res.Checkpoint.CompletedAt.IsZero() {
		t.Errorf("Crawl() = resumed %v, skipped %v, completed %v; want a fresh complete crawl",
			res.Resumed, res.Skipped, res.Checkpoint.CompletedAt)
	}
	if got, want := f.count(t), f.wantCounts(t); got != want {
		t.Errorf("published %+v, want %+v", got, want)
	}
	if got := p.Stats().Pages.Load(); got != int64(f.site.Expected().Pages) {
		t.Errorf("Stats().Pages = %d, want %d", got, f.site.Expected().Pages)
	}
}

// interrupting is a Source that cancels the crawl after a number of listing
// pages, as a killed process would stop it: between two reads.
type interrupting struct {
	producer.Source
	cancel func()
	after  int
	pages  atomic.Int64 // listing pages read; spaces are crawled concurrently
}

func (s *interrupting) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	return s.Source.ListSpacePages(ctx, spaceID, from, func(b []confluence.Page, next string) error {
		if s.pages.Add(1) > int64(s.after) {
			s.cancel()
			return context.Canceled
		}
		return fn(b, next)
	})
}

func TestCrawlResumesAfterInterruptionWithoutDuplicates(t *testing.T) {
	f := newFixture(t, smallSite)
	// Each attempt is cut after its first listing page, until one finishes
	// by itself: a crawl with one listing page left completes before the cut.
	interrupted := 0
	for ; interrupted < 3; interrupted++ {
		ctx, cancel := context.WithCancel(t.Context())
		src := &interrupting{Source: f.client, cancel: cancel, after: 1}
		_, err := f.producer(t, src, 0).Crawl(ctx)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Crawl() error = %v, want context.Canceled", err)
		}
	}
	if interrupted == 0 {
		t.Fatal("no Crawl() was interrupted: the site has too few listing pages for this test")
	}
	if interrupted == 3 {
		res, err := f.producer(t, f.client, 0).Crawl(t.Context())
		if err != nil {
			t.Fatalf("resumed Crawl() error = %v", err)
		}
		if !res.Resumed {
			t.Errorf("Crawl() after interruptions: Resumed = false, want true")
		}
	}
	if got, want := f.count(t), f.wantCounts(t); got != want {
		t.Errorf("published after resume %+v, want %+v", got, want)
	}
}

func TestCrawlSkipsForbiddenSpaceOnly(t *testing.T) {
	f := newFixture(t, smallSite)
	spaces := f.site.SpaceIDs()
	forbidden := spaces[1]
	f.site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages", SpaceID: forbidden},
		confluencesim.Fault{Status: http.StatusForbidden})
	res, err := f.producer(t, f.client, 0).Crawl(t.Context())
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].ID != forbidden || res.Skipped[0].Reason != "forbidden" {
		t.Fatalf("Crawl() skipped %+v, want only space %s as forbidden", res.Skipped, forbidden)
	}
	f.site.ClearFaults()
	skippedPages := 0
	err = f.client.ListSpacePages(t.Context(), forbidden, "", func(b []confluence.Page, _ string) error {
		skippedPages += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, want := f.count(t), f.wantCounts(t)
	if got.pages != want.pages-skippedPages || got.spaces != want.spaces {
		t.Errorf("published %d pages and %d spaces, want %d pages (all but the %d of space %s) and %d spaces",
			got.pages, got.spaces, want.pages-skippedPages, skippedPages, forbidden, want.spaces)
	}
}

func TestCrawlStopsOnUnauthorized(t *testing.T) {
	f := newFixture(t, smallSite)
	f.site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages"},
		confluencesim.Fault{Status: http.StatusUnauthorized})
	_, err := f.producer(t, f.client, 0).Crawl(t.Context())
	if !errors.Is(err, confluence.ErrUnauthorized) {
		t.Fatalf("Crawl() error = %v, want ErrUnauthorized", err)
	}
}

// inflating makes one page larger than any topic limit.
type inflating struct {
	producer.Source
	bodyBytes int
}

func (s *inflating) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	return s.Source.ListSpacePages(ctx, spaceID, from, func(b []confluence.Page, next string) error {
		if len(b) > 0 && b[0].Kind == schema.KindPage {
			b[0].Body = "<p>" + strings.Repeat("gigantic ", s.bodyBytes/9) + "</p>"
		}
		return fn(b, next)
	})
}

func TestOversizedPagePublishedWithoutBody(t *testing.T) {
	f := newFixture(t, smallSite)
	const limit = 256 << 10
	f.ensureTopics(t, limit)
	p := f.producer(t, &inflating{Source: f.client, bodyBytes: 2 * limit}, limit)
	if _, err := p.Crawl(t.Context()); err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	got := f.count(t)
	want := f.wantCounts(t)
	if got.pages != want.pages || got.degraded == 0 {
		t.Errorf("published %d pages with %d degraded, want %d pages with some degraded", got.pages, got.degraded, want.pages)
	}
	if d := p.Stats().Degraded.Load(); d != int64(got.degraded) {
		t.Errorf("Stats().Degraded = %d, want %d", d, got.degraded)
	}
}

func TestCrawlAfterCompletedCrawlStartsAgain(t *testing.T) {
	f := newFixture(t, confluencesim.Config{Seed: 3, Spaces: 2, Pages: 50, BlogPosts: 5, Users: 10})
	first, err := f.producer(t, f.client, 0).Crawl(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.producer(t, f.client, 0).Crawl(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if second.Resumed || !second.Checkpoint.CrawlStartedAt.After(first.Checkpoint.CrawlStartedAt) {
		t.Errorf("second Crawl() resumed=%v started %v, want a new crawl after %v",
			second.Resumed, second.Checkpoint.CrawlStartedAt, first.Checkpoint.CrawlStartedAt)
	}
}
