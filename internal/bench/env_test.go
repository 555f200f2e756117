package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// Credentials of every simulated site in this package. They are not secret:
// the site only listens on loopback for the length of one benchmark.
const (
	simEmail = "bench@example.com"
	simToken = "bench-token"
)

// benchRate is the client's rate budget in the benchmarks. The default (10
// requests per second) is right for a real site but would make the budget,
// not the pipeline, the thing measured: a 10,000-page crawl needs about 100
// requests.
const benchRate = 10_000

// siteEnv is a simulated site served over loopback and a client of it.
type siteEnv struct {
	site   *confluencesim.Site
	url    string
	client *confluence.Client
}

// startSite serves a simulated site of the given number of pages, with the
// simulator's defaults for everything else (20 spaces, a blog post per 20
// pages, 200 users), until the benchmark ends.
func startSite(tb testing.TB, pages int) *siteEnv {
	tb.Helper()
	site, err := confluencesim.New(confluencesim.Config{
		Seed: 1, Pages: pages, Email: simEmail, APIToken: simToken,
	})
	if err != nil {
		tb.Fatalf("confluencesim.New(%d pages) = %v", pages, err)
	}
	srv := httptest.NewServer(site.Handler())
	tb.Cleanup(srv.Close)
	client, err := newClient(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.Close)
	return &siteEnv{site: site, url: srv.URL, client: client}
}

// newClient is the product's Confluence client for a simulated site, with
// the benchmark's rate budget.
func newClient(url string) (*confluence.Client, error) {
	return confluence.New(confluence.Config{
		BaseURL: url, Email: simEmail, APIToken: simToken,
		RequestsPerSecond: benchRate, BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond,
	}, nil)
}

// freshTopics creates the pipeline's topics under a new prefix, as the
// product creates them (compacted, 6 partitions, 1 MiB records).
func freshTopics(tb testing.TB, seeds []string) schema.Topics {
	tb.Helper()
	topics := schema.NewTopics(kafkatest.TopicName(tb, "bench") + ".")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	all := append(topics.Entities(), topics.State)
	adm := kadm.NewClient(cl)
	if err := broker.EnsureTopics(context.Background(), adm, broker.TopicConfig{}, all...); err != nil {
		tb.Fatalf("EnsureTopics(%v) = %v", all, err)
	}
	tb.Cleanup(func() { deleteTopics(tb, seeds, all) })
	if err := waitLeaders(context.Background(), adm, all...); err != nil {
		tb.Fatal(err)
	}
	return topics
}

// deleteTopics deletes topics, so that benchmarks and tests against a real
// broker do not fill its disk.
func deleteTopics(tb testing.TB, seeds []string, topics []string) {
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		tb.Errorf("delete topics %v: %v", topics, err)
		return
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.DeleteTopics(ctx, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		tb.Errorf("delete topics %v: %v", topics, err)
	}
}

// leaderWait bounds the wait for new partitions' leaders; a broker that
// never elects them fails the benchmark instead of hanging it.
const leaderWait = time.Minute

// waitLeaders returns once every partition of topics answers a list-offsets
// request. A real broker takes a moment to start leading new partitions;
// producing before that meets NOT_LEADER_FOR_PARTITION, and franz-go then
// waits for its next metadata refresh (5s by default), which would put
// topic creation, not the pipeline, in the figures.
func waitLeaders(ctx context.Context, adm *kadm.Client, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, leaderWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		offsets, err := adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = offsets.Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("wait for leaders of %v: %w", topics, err)
		}
	}
}

// crawlOnce runs one full crawl of src into topics with the product's
// default producer settings and returns the producer's counters.
func crawlOnce(ctx context.Context, src producer.Source, seeds []string, topics schema.Topics) (*producer.Stats, error) {
	p, err := producer.New(producer.Config{Brokers: seeds, Topics: topics}, src, nil)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if _, err := p.Crawl(ctx); err != nil {
		return nil, err
	}
	return p.Stats(), nil
}

// captured is every committed record of a crawl, with the topic replaced by
// its role, so the same records can be written again into other topics.
type captured struct {
	records []*kgo.Record
	pages   int   // page events, pages and blog posts
	bytes   int64 // keys, values and header keys and values
}

type role int

const (
	roleUsers role = iota
	roleSpaces
	rolePages
	roleState
)

// capture reads back every committed record of topics.
func capture(ctx context.Context, seeds []string, topics schema.Topics) (*captured, error) {
	var c captured
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	names := []string{topics.Users, topics.Spaces, topics.Pages, topics.State}
	for i, name := range names {
		err := broker.ReadCommitted(ctx, opts, name, func(r *kgo.Record) error {
			c.add(r, role(i))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return &c, nil
}

func (c *captured) add(r *kgo.Record, ro role) {
	rec := &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers, Topic: roleName(ro)}
	c.records = append(c.records, rec)
	c.bytes += recordBytes(rec)
	if ro == rolePages {
		c.pages++
	}
}

// retarget returns copies of the records pointed at topics.
func (c *captured) retarget(topics schema.Topics) []*kgo.Record {
	byRole := map[string]string{
		roleName(roleUsers): topics.Users, roleName(roleSpaces): topics.Spaces,
		roleName(rolePages): topics.Pages, roleName(roleState): topics.State,
	}
	out := make([]*kgo.Record, len(c.records))
	for i, r := range c.records {
		out[i] = &kgo.Record{Topic: byRole[r.Topic], Key: r.Key, Value: r.Value, Headers: r.Headers}
	}
	return out
}

func roleName(r role) string {
	return [...]string{"users", "spaces", "pages", "state"}[r]
}

// recordBytes is what a record carries: key, value, header keys and values.
func recordBytes(r *kgo.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}
