package producer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// Settings of BenchmarkPublish, from the environment so that
// .ci/kafka/perf.sh can give Kafka's ProducerPerformance the same figures.
const (
	envPublishRecords = "BENCH_PUBLISH_RECORDS"      // page events per crawl
	envPublishBytes   = "BENCH_PUBLISH_RECORD_BYTES" // key + value + headers of each
)

// benchSpaces is how many spaces the in-memory site spreads its pages over:
// as many as the crawl reads at once by default, so every crawler is busy.
const benchSpaces = 4

// BenchmarkPublish measures the product's publish path on its own: a crawl
// with the default producer settings (transactions of up to 2000 events,
// each with its checkpoint) of an in-memory site, so no HTTP is involved.
// Every page event has the same size, key, value and headers included; its
// body is random capital letters, like ProducerPerformance's payload, so
// compression helps neither side. Run it against the real broker with
// KAFKA_BROKERS set; .ci/kafka/perf.sh does, beside ProducerPerformance.
func BenchmarkPublish(b *testing.B) {
	n := publishSetting(b, envPublishRecords, 20_000)
	size := publishSetting(b, envPublishBytes, 4096)
	seeds, _ := kafkatest.Brokers(b)
	src := newMemSite(b, n, size)

	var txns int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		topics := publishTopics(b, seeds)
		p, err := producer.New(producer.Config{Brokers: seeds, Topics: topics}, src, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		_, err = p.Crawl(b.Context())

		b.StopTimer()
		stats := p.Stats()
		p.Close()
		if err != nil {
			b.Fatalf("Crawl() = %v", err)
		}
		if got := stats.Pages.Load(); got != int64(n) {
			b.Fatalf("Crawl() committed %d page events, want %d", got, n)
		}
		txns += stats.Transactions.Load()
		b.StartTimer()
	}
	secs := b.Elapsed().Seconds()
	b.SetBytes(int64(n) * int64(size))
	b.ReportMetric(float64(n)*float64(b.N)/secs, "records/s")
	b.ReportMetric(float64(n)*float64(b.N)/float64(txns), "records/txn")
	b.ReportMetric(secs*1000/float64(txns), "ms/txn")
}

func publishSetting(b *testing.B, name string, def int) int {
	b.Helper()
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, raw)
	}
	return n
}

// publishTopics creates the pipeline's topics under a fresh prefix as the
// product does (compacted, 6 partitions, 1 MiB records).
func publishTopics(b *testing.B, seeds []string) schema.Topics {
	b.Helper()
	topics := schema.NewTopics(kafkatest.TopicName(b, "publish") + ".")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	all := append(topics.Entities(), topics.State)
	adm := kadm.NewClient(cl)
	if err := broker.EnsureTopics(b.Context(), adm, broker.TopicConfig{}, all...); err != nil {
		b.Fatalf("EnsureTopics(%v) = %v", all, err)
	}
	b.Cleanup(func() { deletePublishTopics(b, seeds, all) })
	waitPublishLeaders(b, adm, all)
	return topics
}

// deletePublishTopics deletes topics, so that runs against a real broker do
// not fill its disk.
func deletePublishTopics(b *testing.B, seeds, topics []string) {
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		b.Errorf("delete topics %v: %v", topics, err)
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
		b.Errorf("delete topics %v: %v", topics, err)
	}
}

// waitPublishLeaders returns once every partition of topics answers a
// list-offsets request. A real broker takes a moment to lead new
// partitions; a produce before that meets NOT_LEADER_FOR_PARTITION and
// franz-go waits for its next metadata refresh (5s by default), which
// would put topic creation, not publishing, in the figure.
func waitPublishLeaders(b *testing.B, adm *kadm.Client, topics []string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		offsets, err := adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = offsets.Error()
		}
		if err == nil {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			b.Fatalf("wait for leaders of %v: %v", topics, err)
		}
	}
}

// memSite is a Source that serves pages built in memory, 250 per listing
// page like Confluence, so a crawl of it costs no HTTP. The embedded Source
// is nil: a method the crawl starts to need panics instead of being faked.
type memSite struct {
	producer.Source
	pages map[string][]confluence.Page // by space id
}

const (
	memSiteID     = "bench.atlassian.net"
	memSiteURL    = "https://bench.atlassian.net/wiki"
	memAccount    = "557058:00000000-0000-0000-0000-000000000001"
	memListLimit  = 250
	memFirstID    = 100_000_000 // every id has the same number of digits
	memBodyPrefix = "<p>"
	memBodySuffix = "</p>"
)

var memCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newMemSite builds n pages whose events are exactly size bytes each, key,
// value and headers counted.
func newMemSite(b *testing.B, n, size int) *memSite {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	room := bodyRoom(b, size)
	s := &memSite{pages: map[string][]confluence.Page{}}
	for i := range n {
		p := memPage(i, memBodyPrefix+randomLetters(rng, room)+memBodySuffix)
		s.pages[p.SpaceID] = append(s.pages[p.SpaceID], p)
	}
	return s
}

// bodyRoom returns how many letters a page's body needs for its event to be
// size bytes. The event's size is not linear in the body's (the payload
// holds the body's length too), so it converges in a few steps.
func bodyRoom(b *testing.B, size int) int {
	b.Helper()
	room := 0
	for range 5 {
		body := memBodyPrefix + strings.Repeat("A", room) + memBodySuffix
		got := eventBytes(b, memPage(0, body))
		if got == size {
			return room
		}
		if room += size - got; room < 0 {
			b.Fatalf("%s=%d: a page event needs at least %d bytes", envPublishBytes, size, got)
		}
	}
	b.Fatalf("no body makes a page event %d bytes long", size)
	return 0
}

func memPage(i int, body string) confluence.Page {
	id := strconv.Itoa(memFirstID + i)
	return confluence.Page{
		ID: id, Kind: schema.KindPage, Status: "current", Title: "Benchmark page " + id,
		SpaceID: memSpaceID(i % benchSpaces), AuthorID: memAccount, OwnerID: memAccount,
		CreatedAt: memCreated, Body: body, WebURL: memSiteURL + "/spaces/B/pages/" + id,
		Version: confluence.Version{Number: 1, CreatedAt: memCreated, AuthorID: memAccount},
	}
}

func memSpaceID(i int) string {
	return strconv.Itoa(memFirstID + i)
}

// eventBytes is the size of p's event as the producer builds it: the same
// fields, through the same schema.Site.
func eventBytes(b *testing.B, p confluence.Page) int {
	b.Helper()
	site := schema.Site{ID: memSiteID, URL: memSiteURL}
	msg, err := site.PageUpserted(schema.Page{
		ID: p.ID, Kind: p.Kind, SpaceID: p.SpaceID, Status: p.Status, Title: p.Title,
		AuthorID: p.AuthorID, OwnerID: p.OwnerID, CreatedAt: p.CreatedAt, WebURL: p.WebURL,
		BodyFormat: "storage", Body: p.Body,
		Version: schema.PageVersion{Number: p.Version.Number, CreatedAt: p.Version.CreatedAt, AuthorID: p.Version.AuthorID},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := msg.Record("t")
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

func randomLetters(rng *rand.Rand, n int) string {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte('A' + rng.IntN(26))
	}
	return string(buf)
}

func (s *memSite) Site() string    { return memSiteID }
func (s *memSite) SiteURL() string { return memSiteURL }

func (s *memSite) SearchUsers(_ context.Context, fn func([]confluence.User) error) error {
	return fn([]confluence.User{memUser()})
}

func (s *memSite) FetchUsers(_ context.Context, ids []string) ([]confluence.User, error) {
	users := make([]confluence.User, 0, len(ids))
	for _, id := range ids {
		if id != memAccount {
			return nil, fmt.Errorf("fetch user %s: the in-memory site has only %s", id, memAccount)
		}
		users = append(users, memUser())
	}
	return users, nil
}

func memUser() confluence.User {
	return confluence.User{AccountID: memAccount, AccountType: "atlassian", AccountStatus: "active", DisplayName: "Bench"}
}

func (s *memSite) ListSpaces(_ context.Context, fn func([]confluence.Space) error) error {
	spaces := make([]confluence.Space, benchSpaces)
	for i := range spaces {
		id := memSpaceID(i)
		spaces[i] = confluence.Space{ID: id, Key: "B" + id, Name: "Bench " + id, Type: "global", Status: "current"}
	}
	return fn(spaces)
}

// ListSpacePages serves the space's pages from the index in from (empty
// for the start), with the next index as the next link.
func (s *memSite) ListSpacePages(_ context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	pages := s.pages[spaceID]
	start := 0
	if from != "" {
		var err error
		if start, err = strconv.Atoi(from); err != nil {
			return fmt.Errorf("list pages of space %s from %q: %w", spaceID, from, err)
		}
	}
	for start < len(pages) {
		end := min(start+memListLimit, len(pages))
		next := ""
		if end < len(pages) {
			next = strconv.Itoa(end)
		}
		if err := fn(pages[start:end], next); err != nil {
			return err
		}
		start = end
	}
	return nil
}

func (s *memSite) ListSpaceBlogPosts(context.Context, string, string, func([]confluence.Page, string) error) error {
	return nil
}
