package consumer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var site = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}

// cluster is a Kafka cluster for one test and the topics it created.
type cluster struct {
	seeds []string
	adm   *kadm.Client
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &cluster{seeds: seeds, adm: kadm.NewClient(cl)}
}

// topic creates a topic with n partitions and returns its name.
func (c *cluster) topic(t *testing.T, base string, n int32) string {
	t.Helper()
	name := kafkatest.TopicName(t, base)
	resp, err := c.adm.CreateTopic(t.Context(), n, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("CreateTopic(%s) = %v, want no error", name, err)
	}
	return name
}

// produce writes recs in order and returns them with their partitions and
// offsets set.
func (c *cluster) produce(t *testing.T, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync() = %v, want no error", err)
	}
	return recs
}

// committed returns the group's committed offset per partition of topic.
func (c *cluster) committed(t *testing.T, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := c.adm.FetchOffsets(t.Context(), group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("FetchOffsets(%s) = %v, want no error", group, err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// readAll returns every committed record of topic, outside any group.
func (c *cluster) readAll(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ends, err := c.adm.ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	ends.Each(func(o kadm.ListedOffset) { want += int(o.Offset) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading %s: %v after %d of %d records", topic, err, len(recs), want)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// config returns a consumer config for one test: its own group, fast
// retries, StopAtEnd.
func (c *cluster) config(t *testing.T, topics ...string) consumer.Config {
	t.Helper()
	return consumer.Config{
		Brokers:     c.seeds,
		Group:       kafkatest.TopicName(t, "group"),
		Topics:      topics,
		BackoffBase: time.Millisecond,
		BackoffMax:  5 * time.Millisecond,
		StopAtEnd:   true,
	}
}

func newConsumer(t *testing.T, cfg consumer.Config) *consumer.Consumer {
	t.Helper()
	c, err := consumer.New(cfg, nil)
	if err != nil {
		t.Fatalf("New(%+v) = %v, want no error", cfg, err)
	}
	return c
}

// pageRecord returns the upsert record of page id at version v.
func pageRecord(t *testing.T, topic, id string, v int) *kgo.Record {
	t.Helper()
	m, err := site.PageUpserted(schema.Page{
		ID: id, Kind: schema.KindPage, SpaceID: "1", Status: "current", Title: fmt.Sprintf("page %s v%d", id, v),
		Version: schema.PageVersion{Number: v, CreatedAt: time.Date(2026, 1, 1, 0, v, 0, 0, time.UTC)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Record(topic)
}

// recorder collects what handlers saw; it is safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	subs []string
}

func (r *recorder) add(ev schema.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, ev.Subject)
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.subs...)
}
