//go:build integration

package kafkatest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
)

func TestIsolationBroker(t *testing.T) {
	checkIsolation(t, realBrokers(t))
}

// Compaction settings that make the log cleaner act within seconds on a
// test topic. Kafka 4 rejects segment.bytes below 1 MiB, so segments roll
// on time instead: segment.ms rolls the active segment on the first append
// after it, and the max lag makes the rolled data cleanable at once.
var fastCompaction = map[string]string{
	"segment.ms":                "100",
	"min.cleanable.dirty.ratio": "0.01",
	"max.compaction.lag.ms":     "100",
}

const (
	compactionKeys     = 20
	compactionVersions = 5
	// compactionWait bounds the wait for the cleaner: a broken cleaner
	// fails the test instead of hanging it. It is not a speed assertion.
	compactionWait = 2 * time.Minute
	// rollEvery is how often the test appends to roll the active segment.
	rollEvery = 500 * time.Millisecond
	rollKey   = "roll"
)

// TestCompactionBroker writes several versions of every key into a topic
// created the way the product creates its topics, forces segment rolls, and
// waits until the log cleaner leaves exactly one record per key: the latest.
// Only a real broker runs a log cleaner, so there is no kfake variant.
func TestCompactionBroker(t *testing.T) {
	seeds := realBrokers(t)
	ctx, cancel := context.WithTimeout(t.Context(), compactionWait)
	defer cancel()
	topic := productTopic(t, seeds)

	cl := newProducer(t, seeds)
	var records []*kgo.Record
	for v := range compactionVersions {
		for k := range compactionKeys {
			records = append(records, &kgo.Record{Topic: topic, Key: keyOf(k), Value: valueOf(k, v)})
		}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync(%d records) = %v, want no error", len(records), err)
	}

	last := waitCompacted(ctx, t, cl, seeds, topic)
	for k := range compactionKeys {
		key := string(keyOf(k))
		if got, want := last[key], []string{string(valueOf(k, compactionVersions-1))}; !slices.Equal(got, want) {
			t.Errorf("after compaction key %s = %q, want %q", key, got, want)
		}
	}
}

// productTopic creates a topic with broker.EnsureTopics, as the product
// does, then lowers its segment and cleaner settings.
func productTopic(t *testing.T, seeds []string) string {
	t.Helper()

	adm := newAdmin(t, seeds)
	topic := TopicName(t, "compaction")
	if err := broker.EnsureTopics(checkContext(t), adm, broker.TopicConfig{Partitions: 1}, topic); err != nil {
		t.Fatalf("EnsureTopics(%s) = %v, want no error", topic, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := adm.DeleteTopic(ctx, topic); err != nil {
			t.Errorf("DeleteTopic(%q) = %v, want no error", topic, err)
		}
	})

	var alter []kadm.AlterConfig
	for _, name := range slices.Sorted(maps.Keys(fastCompaction)) {
		alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: name, Value: kadm.StringPtr(fastCompaction[name])})
	}
	resp, err := adm.AlterTopicConfigs(checkContext(t), alter, topic)
	if err == nil {
		_, err = resp.On(topic, nil)
	}
	if err != nil {
		t.Fatalf("AlterTopicConfigs(%s, %v) = %v, want no error", topic, fastCompaction, err)
	}
	return topic
}

func newProducer(t *testing.T, seeds []string) *kgo.Client {
	t.Helper()

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatalf("kgo.NewClient() = %v, want no error", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitCompacted appends a record under rollKey every rollEvery, which rolls
// the active segment, until reading the topic shows one record per data
// key. It returns the values per key of the last read. The roll key itself
// may keep two records: one in the cleaned segments and one in the active
// segment, which the cleaner never touches.
func waitCompacted(ctx context.Context, t *testing.T, cl *kgo.Client, seeds []string, topic string) map[string][]string {
	t.Helper()

	tick := time.NewTicker(rollEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		roll := &kgo.Record{Topic: topic, Key: []byte(rollKey), Value: fmt.Appendf(nil, "%d", i)}
		if err := cl.ProduceSync(ctx, roll).FirstErr(); err != nil {
			t.Fatalf("produce roll record %d: %v", i, err)
		}
		byKey := readByKey(ctx, t, seeds, topic)
		if compacted(byKey) {
			t.Logf("compacted after %d roll records", i+1)
			return byKey
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("topic %s not compacted within %s: %d records in the log for %d keys",
				topic, compactionWait, countValues(byKey), len(byKey))
		}
	}
}

// readByKey returns every value in topic, grouped by key, in log order.
func readByKey(ctx context.Context, t *testing.T, seeds []string, topic string) map[string][]string {
	t.Helper()

	byKey := map[string][]string{}
	err := broker.ReadCommitted(ctx, []kgo.Opt{kgo.SeedBrokers(seeds...)}, topic, func(r *kgo.Record) error {
		byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Value))
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", topic, err)
	}
	return byKey
}

func compacted(byKey map[string][]string) bool {
	for k := range compactionKeys {
		if len(byKey[string(keyOf(k))]) != 1 {
			return false
		}
	}
	return true
}

func countValues(byKey map[string][]string) int {
	n := 0
	for _, vs := range byKey {
		n += len(vs)
	}
	return n
}

// keyOf is a key shaped like the product's: site, slash, entity id.
func keyOf(k int) []byte {
	return fmt.Appendf(nil, "acme.atlassian.net/%d", 1000+k)
}

func valueOf(k, v int) []byte {
	return fmt.Appendf(nil, `{"id":"%d","version":%d}`, 1000+k, v+1)
}
