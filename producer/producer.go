package producer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
)

// Producer crawls one Confluence site into Kafka. Its methods must not be
// called concurrently.
type Producer struct {
	cfg    Config
	src    Source
	site   schema.Site
	cl     *kgo.Client
	stats  Stats
	now    func() time.Time
	logger *slog.Logger
}

// New returns a producer of the site src reads. It connects lazily; Close
// releases the connection. A nil logger discards logs.
func New(cfg Config, src Source, logger *slog.Logger) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults(src.Site())
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.ProducerBatchMaxBytes(int32(cfg.MaxRecordBytes)),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		// A transaction that waits on a slow listing page must not be timed out
		// by the broker: events are only produced once the page is read, so this
		// bounds the time between BeginTransaction and EndTransaction only.
		kgo.TransactionTimeout(time.Minute),
	}, cfg.ClientOptions...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Producer{
		cfg:    cfg,
		src:    src,
		site:   schema.Site{ID: src.Site(), URL: src.SiteURL()},
		cl:     cl,
		now:    time.Now,
		logger: logger.With("site", src.Site()),
	}, nil
}

// Stats returns the producer's counters, which a crawl updates as it commits.
func (p *Producer) Stats() *Stats {
	return &p.stats
}

// Close releases the Kafka connection. It does not abort an open transaction:
// Crawl never returns with one open.
func (p *Producer) Close() {
	p.cl.Close()
}
