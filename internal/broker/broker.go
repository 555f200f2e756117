// Package broker connects the pipeline to Kafka: it starts the embedded
// in-process broker when no cluster is configured, builds franz-go client
// options, and creates the pipeline's compacted topics when they are missing.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// TopicConfig is how the pipeline's topics are created when missing.
type TopicConfig struct {
	// Partitions per topic. Zero means 6.
	Partitions int32
	// ReplicationFactor per topic. Zero means 1, for a single-node cluster;
	// production clusters want 3.
	ReplicationFactor int16
	// MaxMessageBytes is the topic's max.message.bytes: the largest record batch
	// the broker accepts. Zero means 1 MiB.
	MaxMessageBytes int
}

// Validate reports the first setting out of range, naming it.
func (c TopicConfig) Validate() error {
	switch {
	case c.Partitions < 0 || c.Partitions > 10000:
		return fmt.Errorf("topic partitions %d: want 1..10000", c.Partitions)
	case c.ReplicationFactor < 0 || c.ReplicationFactor > 16:
		return fmt.Errorf("topic replication factor %d: want 1..16", c.ReplicationFactor)
	case c.MaxMessageBytes < 0 || (c.MaxMessageBytes > 0 && c.MaxMessageBytes < 64<<10):
		return fmt.Errorf("topic max message bytes %d: want at least 65536", c.MaxMessageBytes)
	}
	return nil
}

// WithDefaults returns c with every zero field set to its default.
func (c TopicConfig) WithDefaults() TopicConfig {
	if c.Partitions == 0 {
		c.Partitions = 6
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 1 << 20
	}
	return c
}

// Embedded is an in-process Kafka broker (franz-go's kfake) for running the
// pipeline without a cluster. Its data lives in memory unless a data
// directory is given, and is gone when it is closed.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts an embedded broker listening on a loopback port. With a
// non-empty dataDir, its data persists there across restarts.
func StartEmbedded(dataDir string) (*Embedded, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if dataDir != "" {
		// The embedded broker dies with its process, so a killed crawl is also a
		// crashed broker. Without SyncWrites, kfake may lose batches it had not
		// yet written out while keeping the later checkpoint that covers them
		// (seen once in nine SIGKILLs of a crawl); fsync per batch keeps the
		// data in commit order.
		opts = append(opts, kfake.DataDir(dataDir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	return &Embedded{cluster: c}, nil
}

// Addrs returns the addresses to use as seed brokers.
func (e *Embedded) Addrs() []string {
	return e.cluster.ListenAddrs()
}

// Close stops the broker. Clients still connected see their connections drop.
func (e *Embedded) Close() {
	e.cluster.Close()
}

// LogOptions returns the franz-go options that route a client's own logs
// through logger, at warn level and above: franz-go logs every group
// rebalance and metadata refresh at info, which drowns the pipeline's own
// lifecycle messages. A nil logger gives none.
func LogOptions(logger *slog.Logger) []kgo.Opt {
	if logger == nil {
		return nil
	}
	quiet := slog.New(minLevel{Handler: logger.Handler(), min: slog.LevelWarn})
	return []kgo.Opt{kgo.WithLogger(kslog.New(quiet.With("component", "kafka")))}
}

// minLevel drops records below min before they reach the wrapped handler.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// EnsureTopics creates each missing topic as compacted, with the partitions,
// replication and size limit of cfg. Topics that exist are left as they are.
// It returns once every topic it created answers offset requests.
func EnsureTopics(ctx context.Context, adm *kadm.Client, cfg TopicConfig, topics ...string) error {
	cfg = cfg.WithDefaults()
	configs := map[string]*string{
		"cleanup.policy":    kadm.StringPtr("compact"),
		"max.message.bytes": kadm.StringPtr(strconv.Itoa(cfg.MaxMessageBytes)),
	}
	resp, err := adm.CreateTopics(ctx, cfg.Partitions, cfg.ReplicationFactor, configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var created []string
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Topic, t.Err)
		}
		if t.Err == nil {
			created = append(created, t.Topic)
		}
	}
	return waitListable(ctx, adm, created)
}

// topicReadyTimeout bounds how long a created topic may take to be served.
const topicReadyTimeout = 30 * time.Second

// waitListable waits until the leaders of topics answer offset requests. A
// real broker acknowledges CreateTopics before its partitions are served, so
// a reader that starts at once would get UNKNOWN_TOPIC_OR_PARTITION.
func waitListable(ctx context.Context, adm *kadm.Client, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, topicReadyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		offsets, err := adm.ListStartOffsets(ctx, topics...)
		if err == nil {
			err = offsets.Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for new topics %s: %w", strings.Join(topics, ", "), err)
		case <-tick.C:
		}
	}
}

// Ping waits until the cluster answers a metadata request, or until timeout.
// It turns an unreachable broker, rejected SASL credentials or an untrusted
// certificate into one clear error naming the settings to check, instead of
// endless retries.
//
// A refused connection is tried again until the timeout, since a broker that
// starts beside the pipeline (compose, CI) may not listen yet; any other
// failure, such as rejected credentials, is reported at once.
func Ping(ctx context.Context, cl *kgo.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := cl.Ping(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return explainConnect(cl, timeout, err)
		}
		select {
		case <-ctx.Done():
			return explainConnect(cl, timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
