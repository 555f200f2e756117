package producer

import (
	"cmp"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
)

// Config configures a [Producer].
type Config struct {
	// Brokers are the Kafka seed brokers. Required.
	Brokers []string
	// ClientOptions are extra franz-go options, such as TLS, SASL or a logger,
	// applied after the producer's own.
	ClientOptions []kgo.Opt
	// Topics names the topics to publish to. Zero means schema.NewTopics with
	// schema.DefaultTopicPrefix.
	Topics schema.Topics

	// TransactionalID identifies the producer to Kafka. It must be stable for a
	// site, so that a restarted producer fences its predecessor. Empty means
	// "confluence-producer.", the state topic, a dot and the site identity.
	TransactionalID string
	// MaxRecordBytes is the largest record the pages topic accepts (the topic's
	// max.message.bytes). A page event larger than this is published without
	// its body. Zero means 1 MiB.
	MaxRecordBytes int
	// SpaceConcurrency is how many spaces are crawled at once. Zero means 4.
	SpaceConcurrency int
	// TransactionEvents is the most events committed in one transaction. Zero
	// means 2000.
	TransactionEvents int

	// ArchivedGone makes archived pages count as gone: a crawl leaves them
	// out and a stream publishes a tombstone with reason "archived" for a
	// page that gets archived. False keeps them as pages whose status is
	// "archived".
	ArchivedGone bool
	// PollOverlap is how far before a poll's start the next poll lists
	// changes again. It absorbs the clock difference between this host and
	// Confluence, and changes saved while a poll ran. Zero means 2 minutes.
	PollOverlap time.Duration
	// RelistEvery is how many polls a stream makes between two listings of
	// every space and user, which publish those that changed. Zero means 20;
	// a negative value never relists.
	RelistEvery int
	// SweepEvery is how many polls a stream makes between two sweeps, which
	// list every space completely and delete what the topics hold but the
	// listings no longer show. Zero means 120; a negative value never sweeps.
	SweepEvery int
	// TrashEvery is how many polls a stream makes between two listings of
	// the site's trashed content, for sources that implement StatusSource.
	// Zero means 10; a negative value never lists the trash.
	TrashEvery int
}

// recordOverhead is what a record adds to its key and value inside a batch:
// headers, varints and the batch header. It keeps the size check conservative.
const recordOverhead = 1024

// Validate reports the first setting out of range, naming it.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("brokers: at least one seed broker is required")
	case c.MaxRecordBytes < 0 || (c.MaxRecordBytes > 0 && c.MaxRecordBytes < 64<<10):
		return fmt.Errorf("max record bytes %d: want at least 65536", c.MaxRecordBytes)
	case c.SpaceConcurrency < 0 || c.SpaceConcurrency > 64:
		return fmt.Errorf("space concurrency %d: want 1..64", c.SpaceConcurrency)
	case c.TransactionEvents < 0 || c.TransactionEvents > 100000:
		return fmt.Errorf("transaction events %d: want 1..100000", c.TransactionEvents)
	case c.PollOverlap < 0 || c.PollOverlap > 24*time.Hour:
		return fmt.Errorf("poll overlap %s: want 0s..24h", c.PollOverlap)
	}
	every := []struct {
		name string
		n    int
	}{{"relist every", c.RelistEvery}, {"sweep every", c.SweepEvery}, {"trash every", c.TrashEvery}}
	for _, e := range every {
		if e.n > maxEvery {
			return fmt.Errorf("%s %d polls: want at most %d, or negative for never", e.name, e.n, maxEvery)
		}
	}
	return nil
}

// maxEvery bounds the poll counts of the periodic tasks.
const maxEvery = 1_000_000

func (c Config) withDefaults(site string) Config {
	if c.Topics == (schema.Topics{}) {
		c.Topics = schema.NewTopics(schema.DefaultTopicPrefix)
	}
	if c.TransactionalID == "" {
		// The state topic names the deployment: two deployments crawling the
		// same site into different topics must not fence each other.
		c.TransactionalID = "confluence-producer." + c.Topics.State + "." + site
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = 1 << 20
	}
	if c.SpaceConcurrency == 0 {
		c.SpaceConcurrency = 4
	}
	if c.TransactionEvents == 0 {
		c.TransactionEvents = 2000
	}
	if c.PollOverlap == 0 {
		c.PollOverlap = 2 * time.Minute
	}
	c.RelistEvery = cmp.Or(c.RelistEvery, 20)
	c.SweepEvery = cmp.Or(c.SweepEvery, 120)
	c.TrashEvery = cmp.Or(c.TrashEvery, 10)
	return c
}
