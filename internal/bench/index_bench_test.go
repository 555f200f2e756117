package bench

import (
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// BenchmarkIndexer compares, in one run, the reference consumer indexing a
// crawled 10,000-page site from Kafka into a new SQLite index (consumer
// group, read_committed, batches, FTS5, offset commits) with reading the
// same records alone, the ceiling of the read side. The write side's
// ceiling, plain INSERT loops, is index.BenchmarkApply.
func BenchmarkIndexer(b *testing.B) {
	env := startSite(b, crawlPages)
	seeds, _ := kafkatest.Brokers(b)
	topics := freshTopics(b, seeds)
	if _, err := crawlOnce(b.Context(), env.client, seeds, topics); err != nil {
		b.Fatalf("setup crawl: %v", err)
	}
	recs, err := capture(b.Context(), seeds, topics)
	if err != nil {
		b.Fatalf("capture: %v", err)
	}
	events := len(recs.records) - countRole(recs, roleState)

	b.Run("indexer", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			cfg := indexer.Config{
				Brokers: seeds, Group: kafkatest.TopicName(b, "bench-indexer"), Topics: topics,
				Path: filepath.Join(b.TempDir(), "index.db"), StopAtEnd: true,
			}
			b.StartTimer()

			counts, err := indexer.Run(b.Context(), cfg, nil)
			if err != nil {
				b.Fatalf("indexer.Run() = %v", err)
			}
			if got := counts.Pages + counts.BlogPosts; got != recs.pages {
				b.Fatalf("indexer.Run() indexed %d pages and blog posts, want %d", got, recs.pages)
			}
		}
		reportEvents(b, events, recs.pages)
	})
	b.Run("read_only", func(b *testing.B) {
		opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
		for i := 0; i < b.N; i++ {
			n := 0
			for _, topic := range topics.Entities() {
				err := broker.ReadCommitted(b.Context(), opts, topic, func(*kgo.Record) error {
					n++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != events {
				b.Fatalf("read %d records, want %d", n, events)
			}
		}
		reportEvents(b, events, recs.pages)
	})
}

func countRole(recs *captured, ro role) int {
	n := 0
	for _, r := range recs.records {
		if r.Topic == roleName(ro) {
			n++
		}
	}
	return n
}

// reportEvents reports entity events (users, spaces, pages) and page events
// per second of timed work.
func reportEvents(b *testing.B, events, pages int) {
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)*float64(b.N)/secs, "events/s")
	b.ReportMetric(float64(pages)*float64(b.N)/secs, "pages/s")
}
