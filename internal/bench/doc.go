// Package bench holds the pipeline's end-to-end benchmarks; it has no code
// of its own for other packages to import.
//
// The benchmarks drive the real parts over loopback: the simulated site
// (confluencesim) behind an httptest server, the real Confluence client, the
// real transactional producer and a Kafka cluster from kafkatest (the
// in-process kfake broker, or the real broker named by KAFKA_BROKERS). Each
// figure comes from `go test -bench`; nothing here asserts a speed.
//
//   - BenchmarkCrawl: pages per second of a full crawl, side by side with the
//     same records written by franz-go alone (the ceiling), and the
//     Confluence requests per 1,000 pages.
//   - BenchmarkCrawlMemory: the peak heap and RSS of a producer process
//     crawling 10,000 and 100,000 pages; the crawl runs in a child process
//     so that neither the simulated site nor the broker is counted.
//
// docs/benchmarks.md lists the figures with the commands that produced them.
package bench
