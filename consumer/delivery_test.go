package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

// Records of an aborted transaction are never delivered, and the transaction
// markers do not keep StopAtEnd from finishing.
func TestReadCommitted(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)

	txn, err := kgo.NewClient(kgo.SeedBrokers(kc.seeds...), kgo.TransactionalID(kafkatest.TopicName(t, "txn")))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	write := func(commit kgo.TransactionEndTry, ids ...string) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := txn.ProduceSync(t.Context(), pageRecord(t, topic, id, 1)).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(t.Context(), commit); err != nil {
			t.Fatal(err)
		}
	}
	write(kgo.TryCommit, "a0", "a1")
	write(kgo.TryAbort, "aborted0", "aborted1")
	write(kgo.TryCommit, "c0")
	write(kgo.TryAbort, "aborted2")

	cfg := kc.config(t, topic)
	var got recorder
	c := newConsumer(t, cfg)
	c.Handle("*", func(_ context.Context, ev schema.Event) error { got.add(ev); return nil })
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if want := []string{"a0", "a1", "c0"}; !slices.Equal(got.seen(), want) {
		t.Errorf("handled %v, want only committed %v", got.seen(), want)
	}
	// 6 data records and 4 markers: the commit covers the last marker.
	if got := kc.committed(t, cfg.Group, topic); got[0] != 10 {
		t.Errorf("committed = %v, want partition 0 at 10", got)
	}
}

// Events of one key arrive in the order they were written, whichever
// partition the key lands on, one by one or in batches of one partition.
func TestOrderPerKey(t *testing.T) {
	const keys, versions = 8, 25
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%t", batch), func(t *testing.T) {
			kc := newCluster(t)
			topic := kc.topic(t, "pages", 3)
			var recs []*kgo.Record
			for v := 1; v <= versions; v++ {
				for k := range keys {
					recs = append(recs, pageRecord(t, topic, fmt.Sprint("k", k), v))
				}
			}
			kc.produce(t, recs...)
			partitionOf := map[string]int32{}
			for _, r := range recs {
				partitionOf[string(r.Key)] = r.Partition
			}

			cfg := kc.config(t, topic)
			cfg.BatchSize = 7
			c := newConsumer(t, cfg)
			var mu sync.Mutex
			seen := map[string][]int{}
			handle := func(evs []schema.Event) error {
				mu.Lock()
				defer mu.Unlock()
				for _, ev := range evs {
					p, err := schema.Decode[schema.Page](ev)
					if err != nil {
						return err
					}
					seen[p.ID] = append(seen[p.ID], p.Version.Number)
					if partitionOf[string(ev.Key)] != partitionOf[string(evs[0].Key)] {
						t.Errorf("one batch mixes partitions: %q and %q", ev.Key, evs[0].Key)
					}
				}
				if len(evs) > cfg.BatchSize {
					t.Errorf("batch of %d events, want at most %d", len(evs), cfg.BatchSize)
				}
				return nil
			}
			if batch {
				c.HandleBatch(func(_ context.Context, evs []schema.Event) error { return handle(evs) })
			} else {
				c.Handle(schema.TypePageUpserted, func(_ context.Context, ev schema.Event) error {
					return handle([]schema.Event{ev})
				})
			}
			if err := c.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}

			want := make([]int, versions)
			for i := range want {
				want[i] = i + 1
			}
			for k := range keys {
				id := fmt.Sprint("k", k)
				if !slices.Equal(seen[id], want) {
					t.Errorf("versions of %s in arrival order = %v, want %v", id, seen[id], want)
				}
			}
		})
	}
}

func TestTyped(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)
	page := schema.Page{
		Site: site.ID, ID: "98305", Kind: schema.KindPage, SpaceID: "65538", Status: "current",
		Title: "Runbook: 東京 failover ✅", Body: "<p>hi</p>", BodyFormat: "storage", BodyBytes: 9,
		Version: schema.PageVersion{Number: 7, CreatedAt: time.Date(2026, 11, 2, 17, 5, 0, 0, time.UTC)},
	}
	m, err := site.PageUpserted(page)
	if err != nil {
		t.Fatal(err)
	}
	tomb := site.Deleted(schema.EntityPage, "98305", "7", schema.ReasonTrashed, time.Now())
	kc.produce(t, m.Record(topic), tomb.Record(topic))

	c := newConsumer(t, kc.config(t, topic))
	var got []schema.Page
	var deletions []bool
	typed := consumer.Typed(func(_ context.Context, ev schema.Event, p schema.Page) error {
		got = append(got, p)
		deletions = append(deletions, ev.IsDeletion())
		return nil
	})
	c.Handle(schema.TypePageUpserted, typed)
	c.Handle(schema.TypePageDeleted, typed)
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if diff := cmp.Diff([]schema.Page{page, {}}, got); diff != "" {
		t.Errorf("Typed handler values (-want +got):\n%s", diff)
	}
	if want := []bool{false, true}; !slices.Equal(deletions, want) {
		t.Errorf("IsDeletion = %v, want %v", deletions, want)
	}
}

// Events of other services reach the "*" handler as they were written;
// types with their own handler do not; with no "*" the rest is skipped.
func TestWildcard(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "mixed", 1)
	invoice := schema.Envelope{
		ID: "inv-1", Source: "https://billing.parable.example", Type: "com.parable.billing.invoice.paid",
		Subject: "inv-1", Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), ContentType: "application/json",
	}
	foreign := &kgo.Record{Topic: topic, Key: []byte("inv-1"), Value: []byte(`{"amount":3}`), Headers: invoice.Headers()}
	user, err := site.UserUpserted(schema.User{AccountID: "u-1", DisplayName: "Mia"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kc.produce(t, pageRecord(t, topic, "p1", 1), foreign, user.Record(topic))

	tests := []struct {
		name         string
		wildcard     bool
		wantPages    []string
		wantWildcard []string
	}{
		{"with wildcard", true, []string{"p1"}, []string{"inv-1", "u-1"}},
		{"without wildcard", false, []string{"p1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := kc.config(t, topic)
			c := newConsumer(t, cfg)
			var pages, rest recorder
			var raw []schema.Event
			c.Handle(schema.TypePageUpserted, func(_ context.Context, ev schema.Event) error { pages.add(ev); return nil })
			if tt.wildcard {
				c.Handle("*", func(_ context.Context, ev schema.Event) error {
					rest.add(ev)
					raw = append(raw, ev)
					return nil
				})
			}
			if err := c.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}
			if !slices.Equal(pages.seen(), tt.wantPages) || !slices.Equal(rest.seen(), tt.wantWildcard) {
				t.Errorf("page handler got %v and * got %v, want %v and %v", pages.seen(), rest.seen(), tt.wantPages, tt.wantWildcard)
			}
			if got := kc.committed(t, cfg.Group, topic); got[0] != 3 {
				t.Errorf("committed = %v, want partition 0 at 3", got)
			}
			if !tt.wildcard {
				return
			}
			want := schema.Event{Envelope: invoice, Key: foreign.Key, Value: foreign.Value}
			if diff := cmp.Diff(want, raw[0]); diff != "" {
				t.Errorf("raw foreign event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopAtEndOnEmptyTopic(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "empty", 2)
	c := newConsumer(t, kc.config(t, topic))
	calls := 0
	c.Handle("*", func(context.Context, schema.Event) error { calls++; return nil })
	if err := c.Run(t.Context()); err != nil || calls != 0 {
		t.Errorf("Run() on an empty topic = %v after %d events, want nil after 0", err, calls)
	}
}

func TestStopAtEndMissingTopic(t *testing.T) {
	kc := newCluster(t)
	c := newConsumer(t, kc.config(t, kafkatest.TopicName(t, "missing")))
	c.Handle("*", func(context.Context, schema.Event) error { return nil })
	if err := c.Run(t.Context()); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("Run() on a missing topic with StopAtEnd = %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}
