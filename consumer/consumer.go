// Package consumer reads events from Kafka topics for Parable services: the
// Confluence user, space and page events of the schema package, and events
// of any other service that uses the same CloudEvents envelope.
//
// A Consumer is a member of a consumer group. It reads with read_committed
// isolation, so records of aborted transactions are never delivered. Events
// reach handlers in offset order per partition, hence in order per key. An
// offset is committed only after the handler returned nil for its record and
// for every record before it on the partition. A failing handler is retried
// with jittered exponential backoff; after Config.MaxAttempts the record goes
// to Config.DeadLetterTopic, or Run stops with the error when there is none.
//
//	c, err := consumer.New(consumer.Config{
//		Brokers: []string{"localhost:9092"},
//		Group:   "search-indexer",
//		Topics:  []string{"confluence.pages"},
//	}, logger)
//	if err != nil { ... }
//	c.Handle(schema.TypePageUpserted, consumer.Typed(func(ctx context.Context, ev schema.Event, p schema.Page) error {
//		return index(ctx, p)
//	}))
//	err = c.Run(ctx)
//
// To rebuild a consumer's state from the topics, stop the group's members
// and move its offsets back with [ResetOffsets], to the earliest offsets or
// to a point in time; the next Run replays from there.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
)

// Config configures a Consumer. Brokers, Group and Topics are required.
type Config struct {
	// Brokers are the seed addresses, host:port.
	Brokers []string
	// Group is the consumer group. Members of one group share the
	// partitions and the committed offsets.
	Group string
	// Topics are the topics to consume.
	Topics []string
	// ClientOptions are extra franz-go options, such as TLS, SASL or a
	// different logger. They are applied after the consumer's own, so they
	// can override them; overriding isolation, commit or rebalance options
	// voids the guarantees of this package.
	ClientOptions []kgo.Opt

	// MaxAttempts is how many times a handler is called for one event before
	// the event is dead-lettered (or Run fails). Zero means 5.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait between attempts: full
	// jitter over an exponential ceiling that starts at BackoffBase and is
	// capped at BackoffMax. Zero means 200ms and 10s.
	BackoffBase, BackoffMax time.Duration
	// DeadLetterTopic receives the events that failed MaxAttempts times and
	// the records that are not CloudEvents, with dlq_* headers saying why
	// and where they came from. Empty means no dead-lettering: Run returns
	// the error instead.
	DeadLetterTopic string

	// StopAtEnd makes Run return nil once this member has consumed every
	// partition of Topics up to the end offsets (last stable offsets) it
	// listed when it started: a batch mode for reindexing and tests. It
	// assumes this member is the group's only one.
	StopAtEnd bool
	// BatchSize is the most records one poll returns, hence the most events
	// one HandleBatch call gets. Zero means 500.
	BatchSize int
	// ShutdownTimeout bounds how long the in-flight handler and the final
	// commit may run after Run's context ends; their context is canceled
	// after it. Zero means 30s.
	ShutdownTimeout time.Duration
}

// Config defaults.
const (
	DefaultMaxAttempts     = 5
	DefaultBackoffBase     = 200 * time.Millisecond
	DefaultBackoffMax      = 10 * time.Second
	DefaultBatchSize       = 500
	DefaultShutdownTimeout = 30 * time.Second
)

// Validate reports the first invalid field of c. Zero values that have a
// default are valid.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("consumer config: Brokers is empty, want at least one host:port")
	case c.Group == "":
		return errors.New("consumer config: Group is empty")
	case len(c.Topics) == 0:
		return errors.New("consumer config: Topics is empty, want at least one topic")
	case c.MaxAttempts < 0:
		return fmt.Errorf("consumer config: MaxAttempts %d, want 0 (default) or more", c.MaxAttempts)
	case c.BackoffBase < 0 || c.BackoffMax < 0:
		return fmt.Errorf("consumer config: BackoffBase %s and BackoffMax %s, want >= 0", c.BackoffBase, c.BackoffMax)
	case c.BackoffBase > 0 && c.BackoffMax > 0 && c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("consumer config: BackoffMax %s below BackoffBase %s", c.BackoffMax, c.BackoffBase)
	case c.BatchSize < 0:
		return fmt.Errorf("consumer config: BatchSize %d, want 0 (default) or more", c.BatchSize)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("consumer config: ShutdownTimeout %s, want >= 0", c.ShutdownTimeout)
	}
	for _, t := range c.Topics {
		if t == "" || t == c.DeadLetterTopic {
			return fmt.Errorf("consumer config: topic %q in Topics is empty or the DeadLetterTopic", t)
		}
	}
	return nil
}

// withDefaults returns c with every zero field that has a default set.
func (c Config) withDefaults() Config {
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	setDefault(&c.BackoffBase, DefaultBackoffBase)
	setDefault(&c.BackoffMax, DefaultBackoffMax)
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	c.BackoffMax = max(c.BackoffMax, c.BackoffBase)
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Handler handles one event. It returns nil once the event is fully
// processed; an error makes the consumer retry it (see [Permanent]).
// Handlers of one Consumer are never called concurrently.
type Handler func(ctx context.Context, ev schema.Event) error

// BatchHandler handles the events of one poll from one partition, in offset
// order. It returns nil once all of them are processed; on error the whole
// batch is retried, so it must be idempotent (a database transaction per
// call suits it).
type BatchHandler func(ctx context.Context, evs []schema.Event) error

// Consumer consumes events from a consumer group. Register handlers with
// Handle or HandleBatch before Run; they must not be changed while Run is
// running.
type Consumer struct {
	cfg Config
	log *slog.Logger

	handlers map[string]Handler
	batch    BatchHandler

	mu      sync.Mutex // guards running
	running bool
}

// New returns a Consumer for cfg, with defaults applied. It does not connect:
// Run does. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Consumer{
		cfg:      cfg.withDefaults(),
		log:      logger.With("group", cfg.Group),
		handlers: make(map[string]Handler),
	}, nil
}

// Handle registers h for the events whose ce_type is exactly ceType. The
// type "*" matches every event that no other handler matches; events that
// match nothing are skipped and committed. Registering a type again replaces
// its handler.
func (c *Consumer) Handle(ceType string, h Handler) {
	c.handlers[ceType] = h
}

// HandleBatch registers h to receive all events in batches instead of one by
// one. A Consumer uses either HandleBatch or Handle, not both.
//
// When a batch still fails after MaxAttempts and a DeadLetterTopic is set,
// its events are handled again one per call, each with MaxAttempts, so that
// only the events that fail alone are dead-lettered.
func (c *Consumer) HandleBatch(h BatchHandler) {
	c.batch = h
}

// Typed returns a Handler that decodes the event value into a T with
// schema.Decode and passes it to fn. A tombstone reaches fn with the zero T;
// check ev.IsDeletion. A value that does not decode is a [Permanent] error:
// the event is dead-lettered without retries.
func Typed[T any](fn func(ctx context.Context, ev schema.Event, v T) error) Handler {
	return func(ctx context.Context, ev schema.Event) error {
		var v T
		if ev.IsDeletion() {
			return fn(ctx, ev, v)
		}
		v, err := schema.Decode[T](ev)
		if err != nil {
			return Permanent(err)
		}
		return fn(ctx, ev, v)
	}
}

// Permanent marks err as not worth retrying: the consumer dead-letters the
// event at once (or stops, without a DeadLetterTopic). errors.Is and
// errors.As see through it. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// start marks c as running; it fails when no handler is registered, when
// both kinds are, or when Run is already running.
func (c *Consumer) start() error {
	switch {
	case c.batch == nil && len(c.handlers) == 0:
		return errors.New("consumer run: no handler registered")
	case c.batch != nil && len(c.handlers) > 0:
		return errors.New("consumer run: both Handle and HandleBatch used, want one")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return errors.New("consumer run: already running")
	}
	c.running = true
	return nil
}

func (c *Consumer) stop() {
	c.mu.Lock()
	c.running = false
	c.mu.Unlock()
}
