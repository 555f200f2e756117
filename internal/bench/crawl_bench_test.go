package bench

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// crawlPages is the size of the site in BenchmarkCrawl unless
// BENCH_CRAWL_PAGES says otherwise: big enough that start-up costs vanish,
// small enough for a few iterations in a minute.
const crawlPages = 10_000

func crawlSize(b *testing.B) int {
	raw := os.Getenv("BENCH_CRAWL_PAGES")
	if raw == "" {
		return crawlPages
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		b.Fatalf("BENCH_CRAWL_PAGES=%q: want a positive page count", raw)
	}
	return n
}

// productTxnEvents mirrors producer.Config.TransactionEvents' default, so
// the transactional ceiling commits as often as the product does.
const productTxnEvents = 2000

// BenchmarkCrawl compares, in one run, a full crawl of a simulated site
// (HTTP, decoding, event encoding, transactions with checkpoints) with
// franz-go alone writing the very records that crawl committed, in the
// same topic layout: once in transactions of the product's size, once
// without transactions. The franz-go figures are the ceiling; the ratio of
// pages/s is what the crawl costs on top of Kafka.
//
// Run with KAFKA_BROKERS set to measure against a real broker instead of
// the in-process kfake one, and with BENCH_CRAWL_PAGES=n to crawl n pages
// instead of 10,000.
func BenchmarkCrawl(b *testing.B) {
	env := startSite(b, crawlSize(b))
	seeds, _ := kafkatest.Brokers(b)
	want := env.site.Expected()
	pages := want.Pages + want.BlogPosts

	setup := freshTopics(b, seeds)
	if _, err := crawlOnce(b.Context(), env.client, seeds, setup); err != nil {
		b.Fatalf("setup crawl: %v", err)
	}
	recs, err := capture(b.Context(), seeds, setup)
	if err != nil {
		b.Fatalf("capture: %v", err)
	}
	if recs.pages != pages {
		b.Fatalf("setup crawl committed %d page events, want %d", recs.pages, pages)
	}

	b.Run("producer", func(b *testing.B) { benchProducer(b, env, seeds, recs) })
	b.Run("franzgo_txn", func(b *testing.B) { benchFranzGo(b, seeds, recs, productTxnEvents) })
	b.Run("franzgo_plain", func(b *testing.B) { benchFranzGo(b, seeds, recs, 0) })
}

// benchProducer times full crawls, each into fresh topics, and reports the
// Confluence requests each one made.
func benchProducer(b *testing.B, env *siteEnv, seeds []string, recs *captured) {
	var requests int
	var byRoute map[string]int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		topics := freshTopics(b, seeds)
		env.site.ResetRequests()
		b.StartTimer()

		stats, err := crawlOnce(b.Context(), env.client, seeds, topics)
		if err != nil {
			b.Fatalf("Crawl() = %v", err)
		}

		b.StopTimer()
		if got := int(stats.Pages.Load() + stats.BlogPosts.Load()); got != recs.pages {
			b.Fatalf("crawl %d committed %d page events, want %d", i, got, recs.pages)
		}
		st := env.site.Requests()
		requests += st.Total
		byRoute = st.ByRoute
		b.StartTimer()
	}
	reportRates(b, recs)
	b.ReportMetric(float64(requests)/float64(b.N)/float64(recs.pages)*1000, "requests/1000pages")
	b.Logf("requests of one crawl of %d page events, by route: %s", recs.pages, formatRoutes(byRoute))
}

// benchFranzGo writes the captured records into fresh topics with a plain
// franz-go client configured as the product's producer is (batch size
// limit, partitioner). With txnEvents > 0 it commits a transaction every
// txnEvents records; with 0 it uses no transactions.
func benchFranzGo(b *testing.B, seeds []string, recs *captured, txnEvents int) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		records := recs.retarget(freshTopics(b, seeds))
		cl := newPlainClient(b, seeds, txnEvents > 0)
		b.StartTimer()

		if err := produceAll(b.Context(), cl, records, txnEvents); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		cl.Close()
		b.StartTimer()
	}
	reportRates(b, recs)
}

func newPlainClient(tb testing.TB, seeds []string, transactional bool) *kgo.Client {
	tb.Helper()
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	}
	if transactional {
		opts = append(opts, kgo.TransactionalID(kafkatest.TopicName(tb, "bench-txn")))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return cl
}

// produceAll writes records asynchronously and checks every delivery. With
// txnEvents > 0 it wraps every txnEvents records in a transaction.
func produceAll(ctx context.Context, cl *kgo.Client, records []*kgo.Record, txnEvents int) error {
	step := len(records)
	if txnEvents > 0 {
		step = txnEvents
	}
	for chunk := range slices.Chunk(records, step) {
		if err := produceChunk(ctx, cl, chunk, txnEvents > 0); err != nil {
			return err
		}
	}
	return nil
}

func produceChunk(ctx context.Context, cl *kgo.Client, chunk []*kgo.Record, txn bool) error {
	if txn {
		if err := cl.BeginTransaction(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
	}
	var mu sync.Mutex
	var first error
	for _, r := range chunk {
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if first != nil {
		return first
	}
	if !txn {
		return nil
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// reportRates reports page events and record bytes per second of timed
// work. Page events are pages plus blog posts, the unit of "pages/s" in
// every benchmark here.
func reportRates(b *testing.B, recs *captured) {
	secs := b.Elapsed().Seconds()
	b.SetBytes(recs.bytes)
	b.ReportMetric(float64(recs.pages)*float64(b.N)/secs, "pages/s")
	b.ReportMetric(float64(len(recs.records))*float64(b.N)/secs, "records/s")
}

func formatRoutes(byRoute map[string]int) string {
	var s string
	for _, route := range slices.Sorted(maps.Keys(byRoute)) {
		s += fmt.Sprintf("\n\t%6d %s", byRoute[route], route)
	}
	return s
}
