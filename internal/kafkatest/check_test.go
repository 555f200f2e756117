package kafkatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkTimeout bounds each check so a broken broker fails the test instead of
// hanging it; it is not a speed assertion.
const checkTimeout = 60 * time.Second

func checkContext(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), checkTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newAdmin(t *testing.T, seeds []string) *kadm.Client {
	t.Helper()

	adm, err := kadm.NewOptClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatalf("kadm.NewOptClient(%v) = %v, want no error", seeds, err)
	}
	t.Cleanup(adm.Close)
	return adm
}

func fetchMetadata(t *testing.T, seeds []string) kadm.Metadata {
	t.Helper()

	md, err := newAdmin(t, seeds).BrokerMetadata(checkContext(t))
	if err != nil {
		t.Fatalf("BrokerMetadata() = %v, want no error", err)
	}
	return md
}

// createTopic creates a one-partition topic and deletes it when the test
// ends, so a shared broker does not fill up with test topics.
func createTopic(t *testing.T, adm *kadm.Client, topic string, configs map[string]*string) {
	t.Helper()

	_, err := adm.CreateTopic(checkContext(t), 1, 1, configs, topic)
	if err != nil {
		t.Fatalf("CreateTopic(%q) = %v, want no error", topic, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := adm.DeleteTopic(ctx, topic); err != nil {
			t.Errorf("DeleteTopic(%q) = %v, want no error", topic, err)
		}
	})
}

// checkCompactedTopic creates a compacted topic with a raised record size
// limit and reads its configuration back: the broker must report both
// values as set on the topic itself.
func checkCompactedTopic(t *testing.T, seeds []string) {
	t.Helper()

	adm := newAdmin(t, seeds)
	topic := TopicName(t, "compacted")
	want := map[string]string{
		"cleanup.policy":    "compact",
		"max.message.bytes": "2097152",
	}
	configs := make(map[string]*string, len(want))
	for k, v := range want {
		configs[k] = kadm.StringPtr(v)
	}
	createTopic(t, adm, topic, configs)

	rcs, err := adm.DescribeTopicConfigs(checkContext(t), topic)
	if err != nil {
		t.Fatalf("DescribeTopicConfigs(%q) = %v, want no error", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("DescribeTopicConfigs(%q) topic = %v, %v, want no error", topic, err, rc.Err)
	}

	got := make(map[string]kadm.Config)
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for key, value := range want {
		t.Run(key, func(t *testing.T) {
			c, ok := got[key]
			if !ok {
				t.Fatalf("config %s missing from DescribeTopicConfigs(%q)", key, topic)
			}
			if c.MaybeValue() != value || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
				t.Errorf("config %s = %q from %v, want %q from %v", key, c.MaybeValue(),
					c.Source, value, kmsg.ConfigSourceDynamicTopicConfig)
			}
		})
	}
}

// checkTransaction commits a record, aborts one, commits another, and reads
// the topic back with read_committed: only the two committed values may
// appear, in order. This needs the broker's transaction state log to work.
func checkTransaction(t *testing.T, seeds []string) {
	t.Helper()

	topic := TopicName(t, "txn")
	createTopic(t, newAdmin(t, seeds), topic, nil)

	produceInTxn(t, seeds, topic, []txnStep{
		{value: "first", commit: true},
		{value: "aborted", commit: false},
		{value: "last", commit: true},
	})

	got := consumeUntil(t, seeds, topic, "last")
	if len(got) != 2 || got[0] != "first" || got[1] != "last" {
		t.Errorf("read_committed values = %q, want [first last]", got)
	}
}

type txnStep struct {
	value  string
	commit bool
}

func produceInTxn(t *testing.T, seeds []string, topic string, steps []txnStep) {
	t.Helper()

	ctx := checkContext(t)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.DefaultProduceTopic(topic),
		kgo.TransactionalID(TopicName(t, "txn-id")),
	)
	if err != nil {
		t.Fatalf("kgo.NewClient() = %v, want no error", err)
	}
	defer cl.Close()

	for _, s := range steps {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatalf("BeginTransaction() = %v, want no error", err)
		}
		if err := cl.ProduceSync(ctx, kgo.StringRecord(s.value)).FirstErr(); err != nil {
			t.Fatalf("ProduceSync(%q) = %v, want no error", s.value, err)
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(s.commit)); err != nil {
			t.Fatalf("EndTransaction(commit=%v) = %v, want no error", s.commit, err)
		}
	}
}

// consumeUntil reads topic from the start with read_committed and returns
// every value up to and including last.
func consumeUntil(t *testing.T, seeds []string, topic, last string) []string {
	t.Helper()

	ctx := checkContext(t)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if err != nil {
		t.Fatalf("kgo.NewClient() = %v, want no error", err)
	}
	defer cl.Close()

	var values []string
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: got %q before %v, want %q", topic, values, err, last)
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.Canceled) {
				t.Fatalf("consume %s: fetch error %v", topic, fe.Err)
			}
		}
		for _, r := range fetches.Records() {
			values = append(values, string(r.Value))
			if string(r.Value) == last {
				return values
			}
		}
	}
}
