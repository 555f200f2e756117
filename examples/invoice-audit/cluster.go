package invoiceaudit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
)

// Cluster is the Kafka cluster the example programs talk to.
type Cluster struct {
	Seeds []string
	// Embedded is set when no KAFKA_BROKERS was given and the program
	// started its own broker.
	Embedded bool

	broker *broker.Embedded
}

// Connect returns the cluster in KAFKA_BROKERS or, when that is unset, an
// embedded broker that keeps its data in EMBEDDED_BROKER_DIR (default:
// parable-invoice-audit in the temporary directory). Close it when done.
func Connect() (*Cluster, error) {
	if seeds := os.Getenv("KAFKA_BROKERS"); seeds != "" {
		return &Cluster{Seeds: strings.Split(seeds, ",")}, nil
	}
	dir := os.Getenv("EMBEDDED_BROKER_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "parable-invoice-audit")
	}
	b, err := broker.StartEmbedded(dir)
	if err != nil {
		return nil, err
	}
	return &Cluster{Seeds: b.Addrs(), Embedded: true, broker: b}, nil
}

// Close stops the embedded broker, if one was started.
func (c *Cluster) Close() {
	if c.broker != nil {
		c.broker.Close()
	}
}

// EnsureTopic creates topic with the given partitions and the brokers'
// default replication unless it exists.
func EnsureTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int32) error {
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}
