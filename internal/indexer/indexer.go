// Package indexer is the reference consumer: it reads the Confluence user,
// space and page topics with the consumer package and writes them into the
// search index of the index package, one SQL transaction per poll batch,
// committing offsets after each write.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/schema"
)

// DefaultGroup is the consumer group of the indexer unless configured.
const DefaultGroup = "parable-confluence-indexer"

// Config configures an Indexer. Brokers and Path are required.
type Config struct {
	// Brokers are the Kafka seed addresses, host:port.
	Brokers []string
	// Group is the consumer group; empty means DefaultGroup. A new group
	// replays the topics from the start.
	Group string
	// Topics names the topics to index (the state topic is not read). The
	// zero value means the default names, schema.NewTopics with
	// schema.DefaultTopicPrefix.
	Topics schema.Topics
	// Path is the SQLite file of the index, created when missing.
	Path string
	// StopAtEnd makes Run return once the topics are indexed up to the end
	// offsets seen at start, for batch reindexing.
	StopAtEnd bool
	// DeadLetterTopic receives events the index cannot apply (such as a
	// payload that does not decode); empty means Run stops on them instead.
	DeadLetterTopic string
	// BatchSize is the most events per index transaction; zero means the
	// consumer's default, 500.
	BatchSize int
	// ClientOptions are extra franz-go options (TLS, SASL, ...).
	ClientOptions []kgo.Opt
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("indexer config: Brokers is empty, want at least one host:port")
	case c.Path == "":
		return errors.New("indexer config: Path is empty, want the index file")
	case c.Topics != (schema.Topics{}) && (c.Topics.Users == "" || c.Topics.Spaces == "" || c.Topics.Pages == ""):
		return fmt.Errorf("indexer config: Topics %+v names only some entity topics, want all or none", c.Topics)
	}
	return nil
}

// Indexer consumes the Confluence topics into an index.Store.
type Indexer struct {
	store *index.Store
	cons  *consumer.Consumer
	log   *slog.Logger
}

// New opens the index at cfg.Path and prepares the consumer; it does not
// connect to Kafka until Run. A nil logger discards logs. Close the Indexer
// when done.
func New(cfg Config, logger *slog.Logger) (*Indexer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Topics == (schema.Topics{}) {
		cfg.Topics = schema.NewTopics(schema.DefaultTopicPrefix)
	}

	cons, err := consumer.New(consumer.Config{
		Brokers:         cfg.Brokers,
		Group:           cfg.Group,
		Topics:          cfg.Topics.Entities(),
		ClientOptions:   cfg.ClientOptions,
		DeadLetterTopic: cfg.DeadLetterTopic,
		StopAtEnd:       cfg.StopAtEnd,
		BatchSize:       cfg.BatchSize,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("indexer: %w", err)
	}
	store, err := index.Open(cfg.Path, logger)
	if err != nil {
		return nil, err
	}

	ix := &Indexer{store: store, cons: cons, log: logger}
	cons.HandleBatch(ix.apply)
	return ix, nil
}

// Store returns the index, for searching and counting while Run runs.
func (ix *Indexer) Store() *index.Store {
	return ix.store
}

// Run indexes events until ctx ends, StopAtEnd is reached or a fatal
// error, with the semantics of consumer.Consumer.Run. It logs the index
// totals when it returns.
func (ix *Indexer) Run(ctx context.Context) error {
	err := ix.cons.Run(ctx)

	// The totals are read even after a shutdown: the index is still open.
	c, cerr := ix.store.Counts(context.WithoutCancel(ctx))
	if cerr == nil {
		ix.log.Info("index totals", "users", c.Users, "spaces", c.Spaces, "pages", c.Pages,
			"blog_posts", c.BlogPosts, "deleted", c.Deleted)
	}
	return err
}

// Close closes the index. Call it after Run returned.
func (ix *Indexer) Close() error {
	return ix.store.Close()
}

// apply is the consumer's batch handler.
func (ix *Indexer) apply(ctx context.Context, evs []schema.Event) error {
	if err := ix.store.Apply(ctx, evs); err != nil {
		return err
	}
	ix.log.Debug("batch indexed", "events", len(evs))
	return nil
}

// Run indexes with cfg until ctx ends, StopAtEnd is reached or a fatal
// error, closes the index, and returns its final counts.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (index.Counts, error) {
	ix, err := New(cfg, logger)
	if err != nil {
		return index.Counts{}, err
	}
	runErr := ix.Run(ctx)
	counts, err := ix.store.Counts(context.WithoutCancel(ctx))
	return counts, errors.Join(runErr, err, ix.Close())
}
