package producer_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// freshnessSite is the site the freshness benchmark changes while it streams.
var freshnessSite = confluencesim.Config{Seed: 5, Spaces: 4, Pages: 2000, BlogPosts: 100, Users: 60,
	Email: "crawler@example.com", APIToken: "test-token"}

// freshnessStream are the stream settings of the benchmark: a 1 s poll, the
// trash listed every 2 polls and a sweep every 4.
var freshnessStream = producer.Config{TrashEvery: 2, SweepEvery: 4, RelistEvery: -1}

const (
	freshnessInterval = time.Second
	changeEvery       = 150 * time.Millisecond // between two changes
	checkEvery        = 10 * time.Millisecond  // between two looks at the index
)

// change is one change made to the site and how to see it in the index.
type change struct {
	kind    string // "edit", "create", "trash" or "purge"
	id      string
	version int // the version an edit must reach
	at      time.Time
}

// BenchmarkFreshness streams the simulated site at a 1 s poll interval into
// Kafka, indexes the topics as they fill, and makes 60 changes (24 edits, 12
// creates, 12 trashes, 12 purges), one every 150 ms. It reports how long
// each change took to show in the index: searchable with its new version,
// searchable when created, no longer searchable when deleted. It also
// reports the requests of an idle poll. Run it with -benchtime 1x.
func BenchmarkFreshness(b *testing.B) {
	var all []time.Duration
	byKind := map[string][]time.Duration{}
	var idle float64
	for b.Loop() {
		env := startFreshness(b)
		for _, c := range env.run(b) {
			all = append(all, c.took)
			byKind[c.kind] = append(byKind[c.kind], c.took)
		}
		idle = env.idlePollRequests(b)
		env.stop(b)
	}
	b.ReportMetric(ms(quantile(all, 0.5)), "median-ms")
	b.ReportMetric(ms(quantile(all, 1)), "worst-ms")
	for _, k := range []string{"edit", "create", "trash", "purge"} {
		b.ReportMetric(ms(quantile(byKind[k], 0.5)), k+"-median-ms")
		b.ReportMetric(ms(quantile(byKind[k], 1)), k+"-worst-ms")
	}
	b.ReportMetric(idle, "requests/idle-poll")
	b.ReportMetric(float64(len(all)/max(1, b.N)), "changes")
}

// freshness is a running stream of the site into an index.
type freshness struct {
	site    *confluencesim.Site
	client  *confluence.Client
	seeds   []string
	topics  schema.Topics
	path    string
	store   *index.Store
	db      *sql.DB // reads index rows
	cancel  context.CancelFunc
	done    sync.WaitGroup
	errs    chan error
	targets []string // current pages to change, in order
}

type measured struct {
	kind string
	took time.Duration
}

func startFreshness(b *testing.B) *freshness {
	b.Helper()
	site, err := confluencesim.New(freshnessSite)
	must(b, err)
	srv := httptest.NewServer(site.Handler())
	b.Cleanup(srv.Close)
	client, err := confluence.New(confluence.Config{BaseURL: srv.URL, Email: freshnessSite.Email,
		APIToken: freshnessSite.APIToken, RequestsPerSecond: 1000}, nil)
	must(b, err)
	b.Cleanup(client.Close)
	seeds, _ := kafkatest.Brokers(b)
	env := &freshness{site: site, client: client, seeds: seeds, errs: make(chan error, 2),
		topics: schema.NewTopics(kafkatest.TopicName(b, "fresh") + "."),
		path:   filepath.Join(b.TempDir(), "index.db")}
	env.createTopics(b)
	env.pickTargets(b)

	ctx, cancel := context.WithCancel(context.Background())
	env.cancel = cancel
	cfg := freshnessStream
	cfg.Brokers, cfg.Topics = seeds, env.topics
	p, err := producer.New(cfg, client, nil)
	must(b, err)
	b.Cleanup(p.Close)
	ix, err := indexer.New(indexer.Config{Brokers: seeds, Group: kafkatest.TopicName(b, "indexer"),
		Topics: env.topics, Path: env.path}, nil)
	must(b, err)
	env.store = ix.Store()
	env.goRun(func() error { return p.Stream(ctx, freshnessInterval) })
	env.goRun(func() error {
		defer ix.Close()
		return ix.Run(ctx)
	})
	env.db, err = sql.Open("sqlite", "file:"+env.path+"?mode=ro")
	must(b, err)
	env.waitCrawled(b)
	return env
}

func (env *freshness) goRun(fn func() error) {
	env.done.Add(1)
	go func() {
		defer env.done.Done()
		if err := fn(); err != nil {
			env.errs <- err
		}
	}()
}

func (env *freshness) createTopics(b *testing.B) {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.seeds...))
	must(b, err)
	defer cl.Close()
	topics := append(env.topics.Entities(), env.topics.State)
	must(b, broker.EnsureTopics(context.Background(), kadm.NewClient(cl), broker.TopicConfig{Partitions: 3}, topics...))
}

// pickTargets lists the current pages of the site, which the changes use.
func (env *freshness) pickTargets(b *testing.B) {
	b.Helper()
	err := env.client.ListPagesWithStatus(context.Background(), "current", func(batch []confluence.Page) error {
		for _, pg := range batch {
			env.targets = append(env.targets, pg.ID)
		}
		return nil
	})
	must(b, err)
}

// waitCrawled waits until the whole site is searchable.
func (env *freshness) waitCrawled(b *testing.B) {
	b.Helper()
	want := env.site.Expected()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := env.store.Counts(context.Background())
		if err == nil && c.Pages == want.Pages && c.BlogPosts == want.BlogPosts {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("index holds %+v after 5 minutes, want %d pages", c, want.Pages)
		}
		env.wait(b, 50*time.Millisecond)
	}
}

// run makes the changes and returns how long each took to show.
func (env *freshness) run(b *testing.B) []measured {
	b.Helper()
	plan := slices.Repeat([]string{"edit", "create", "edit", "trash", "purge"}, 12)
	var pending []change
	var out []measured
	next := time.Now()
	for len(plan) > 0 || len(pending) > 0 {
		if len(plan) > 0 && !time.Now().Before(next) {
			pending = append(pending, env.make(b, plan[0], len(plan)))
			plan, next = plan[1:], next.Add(changeEvery)
		}
		kept := pending[:0]
		for _, c := range pending {
			if env.visible(b, c) {
				out = append(out, measured{kind: c.kind, took: time.Since(c.at)})
				continue
			}
			if time.Since(c.at) > 2*time.Minute {
				b.Fatalf("%s of page %s not in the index after 2 minutes", c.kind, c.id)
			}
			kept = append(kept, c)
		}
		pending = kept
		env.wait(b, checkEvery)
	}
	return out
}

// make makes one change of kind; n picks its page.
func (env *freshness) make(b *testing.B, kind string, n int) change {
	b.Helper()
	third := len(env.targets) / 3 // edits, trashes and purges each take pages of their own
	c := change{kind: kind, at: time.Now()}
	var err error
	switch kind {
	case "edit":
		c.id = env.targets[n*7%third]
		c.version, err = env.site.EditPage(c.id)
	case "create":
		c.id, err = env.site.CreatePage(env.site.SpaceIDs()[n%len(env.site.SpaceIDs())])
	case "trash":
		c.id = env.targets[third+n]
		err = env.site.TrashPage(c.id)
	case "purge":
		c.id = env.targets[2*third+n]
		err = env.site.DeletePage(c.id)
	}
	must(b, err)
	return c
}

// visible reports whether the index shows change c.
func (env *freshness) visible(b *testing.B, c change) bool {
	b.Helper()
	ctx := context.Background()
	var version int
	var deleted bool
	err := env.db.QueryRowContext(ctx, "SELECT version, deleted FROM pages WHERE id = ?", c.id).Scan(&version, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return false
	}
	must(b, err)
	switch c.kind {
	case "edit":
		return version >= c.version && !deleted
	case "trash", "purge":
		return deleted
	}
	hits, err := env.store.Search(ctx, env.site.UniquePhrase(c.id), 1)
	must(b, err)
	return len(hits) == 1 && hits[0].PageID == c.id
}

// idlePollRequests polls the site with a second poller, after the stream
// stopped, and returns the requests of one idle poll.
func (env *freshness) idlePollRequests(b *testing.B) float64 {
	b.Helper()
	env.stopStream(b)
	p, err := producer.New(producer.Config{Brokers: env.seeds, Topics: env.topics,
		RelistEvery: -1, SweepEvery: -1, TrashEvery: -1}, env.client, nil)
	must(b, err)
	defer p.Close()
	pl, err := p.StartStream(context.Background())
	must(b, err)
	for range 2 { // whatever the stream left
		_, err := pl.Poll(context.Background())
		must(b, err)
	}
	env.site.ResetRequests()
	_, err = pl.Poll(context.Background())
	must(b, err)
	return float64(env.site.Requests().Total)
}

func (env *freshness) stopStream(b *testing.B) {
	b.Helper()
	if env.cancel == nil {
		return
	}
	env.cancel()
	env.cancel = nil
	env.done.Wait()
	close(env.errs)
	for err := range env.errs {
		b.Errorf("stream or indexer: %v", err)
	}
}

func (env *freshness) stop(b *testing.B) {
	b.Helper()
	env.stopStream(b)
	must(b, env.db.Close())
}

// wait sleeps for d, or fails the benchmark when the stream or the
// indexer stopped early.
func (env *freshness) wait(b *testing.B, d time.Duration) {
	b.Helper()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-env.errs:
		b.Fatalf("stream or indexer stopped: %v", err)
	case <-t.C:
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
