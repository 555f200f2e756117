package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/schema"
)

func TestConfigValidate(t *testing.T) {
	good := consumer.Config{Brokers: []string{"127.0.0.1:9092"}, Group: "g", Topics: []string{"t"}}
	tests := []struct {
		name    string
		edit    func(*consumer.Config)
		wantErr string // "" = valid
	}{
		{"minimal", func(*consumer.Config) {}, ""},
		{"no brokers", func(c *consumer.Config) { c.Brokers = nil }, "Brokers"},
		{"no group", func(c *consumer.Config) { c.Group = "" }, "Group"},
		{"no topics", func(c *consumer.Config) { c.Topics = nil }, "Topics"},
		{"empty topic", func(c *consumer.Config) { c.Topics = []string{""} }, "topic"},
		{"dead letter topic consumed", func(c *consumer.Config) { c.DeadLetterTopic = "t" }, "DeadLetterTopic"},
		{"negative attempts", func(c *consumer.Config) { c.MaxAttempts = -1 }, "MaxAttempts"},
		{"negative backoff", func(c *consumer.Config) { c.BackoffBase = -time.Second }, "BackoffBase"},
		{"max below base", func(c *consumer.Config) { c.BackoffBase, c.BackoffMax = time.Second, time.Millisecond }, "BackoffMax"},
		{"negative batch", func(c *consumer.Config) { c.BatchSize = -5 }, "BatchSize"},
		{"negative shutdown", func(c *consumer.Config) { c.ShutdownTimeout = -time.Second }, "ShutdownTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate(%+v) = %v, want error mentioning %q", cfg, err, tt.wantErr)
			}
			if _, nerr := consumer.New(cfg, nil); (nerr == nil) != (err == nil) {
				t.Errorf("New(%+v) = %v, want the Validate error %v", cfg, nerr, err)
			}
		})
	}
}

func TestRunNeedsOneKindOfHandler(t *testing.T) {
	cfg := consumer.Config{Brokers: []string{"127.0.0.1:1"}, Group: "g", Topics: []string{"t"}}
	tests := []struct {
		name  string
		setup func(*consumer.Consumer)
	}{
		{"none", func(*consumer.Consumer) {}},
		{"both", func(c *consumer.Consumer) {
			c.Handle("*", func(context.Context, schema.Event) error { return nil })
			c.HandleBatch(func(context.Context, []schema.Event) error { return nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsumer(t, cfg)
			tt.setup(c)
			if err := c.Run(t.Context()); err == nil {
				t.Errorf("Run() with %s handlers = nil, want an error", tt.name)
			}
		})
	}
}

// A handler that fails once is retried; one that keeps failing stops Run
// with the offsets before it committed, and a restarted member of the group
// resumes exactly there.
func TestCommitAfterHandler(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)
	for i := range 6 {
		kc.produce(t, pageRecord(t, topic, fmt.Sprint(i), 1))
	}
	cfg := kc.config(t, topic)
	cfg.MaxAttempts = 2

	var first recorder
	failed2 := false
	c := newConsumer(t, cfg)
	c.Handle(schema.TypePageUpserted, func(_ context.Context, ev schema.Event) error {
		first.add(ev)
		switch {
		case ev.Subject == "2" && !failed2:
			failed2 = true
			return errors.New("transient")
		case ev.Subject == "4":
			return errors.New("index is down")
		}
		return nil
	})
	err := c.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "index is down") {
		t.Fatalf("Run() = %v, want the handler's error for event 4", err)
	}
	if got, want := first.seen(), []string{"0", "1", "2", "2", "3", "4", "4"}; !slices.Equal(got, want) {
		t.Errorf("first run handled %v, want %v", got, want)
	}
	if got := kc.committed(t, cfg.Group, topic); got[0] != 4 {
		t.Errorf("committed after failure = %v, want partition 0 at 4", got)
	}

	var second recorder
	c2 := newConsumer(t, cfg)
	c2.Handle(schema.TypePageUpserted, func(_ context.Context, ev schema.Event) error {
		second.add(ev)
		return nil
	})
	if err := c2.Run(t.Context()); err != nil {
		t.Fatalf("second Run() = %v, want nil", err)
	}
	if got, want := second.seen(), []string{"4", "5"}; !slices.Equal(got, want) {
		t.Errorf("restarted member handled %v, want %v", got, want)
	}
	if got := kc.committed(t, cfg.Group, topic); got[0] != 6 {
		t.Errorf("committed at end = %v, want partition 0 at 6", got)
	}
}

func TestDeadLetter(t *testing.T) {
	pageErr := errors.New("cannot index page")
	tests := []struct {
		name      string
		bad       func(t *testing.T, topic string) *kgo.Record
		handler   func(calls *int) consumer.Handler
		batch     bool
		attempts  int    // handler calls for the bad record
		wantCause string // in dlq_error
	}{
		{
			name: "handler keeps failing",
			bad:  func(t *testing.T, topic string) *kgo.Record { return pageRecord(t, topic, "bad", 1) },
			handler: func(calls *int) consumer.Handler {
				return func(context.Context, schema.Event) error {
					*calls++
					return pageErr
				}
			},
			attempts: 3, wantCause: pageErr.Error(),
		},
		{
			name: "permanent error",
			bad:  func(t *testing.T, topic string) *kgo.Record { return pageRecord(t, topic, "bad", 1) },
			handler: func(calls *int) consumer.Handler {
				return func(context.Context, schema.Event) error {
					*calls++
					return consumer.Permanent(pageErr)
				}
			},
			attempts: 1, wantCause: pageErr.Error(),
		},
		{
			name: "not a cloudevent",
			bad: func(_ *testing.T, topic string) *kgo.Record {
				return &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("raw bytes"),
					Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}}}
			},
			handler: func(calls *int) consumer.Handler {
				return func(context.Context, schema.Event) error { *calls++; return nil }
			},
			attempts: 0, wantCause: schema.ErrNotCloudEvent.Error(),
		},
		{
			name: "typed value does not decode",
			bad: func(t *testing.T, topic string) *kgo.Record {
				r := pageRecord(t, topic, "bad", 1)
				r.Value = []byte(`{"version": "seven"`)
				return r
			},
			handler: func(calls *int) consumer.Handler {
				return consumer.Typed(func(context.Context, schema.Event, schema.Page) error { *calls++; return nil })
			},
			attempts: 0, wantCause: "decode",
		},
		{
			name:  "batch handler isolates the bad event",
			bad:   func(t *testing.T, topic string) *kgo.Record { return pageRecord(t, topic, "bad", 1) },
			batch: true,
			// 3 attempts of the whole batch, then 3 of the bad event alone.
			attempts: 6, wantCause: pageErr.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := newCluster(t)
			topic := kc.topic(t, "pages", 1)
			dlq := kc.topic(t, "dlq", 1)
			bad := tt.bad(t, topic)
			kc.produce(t, pageRecord(t, topic, "0", 1), bad, pageRecord(t, topic, "2", 1))

			cfg := kc.config(t, topic)
			cfg.MaxAttempts, cfg.DeadLetterTopic = 3, dlq
			c := newConsumer(t, cfg)
			calls := 0
			var good recorder
			if tt.batch {
				c.HandleBatch(func(_ context.Context, evs []schema.Event) error {
					for _, ev := range evs {
						if ev.Subject == "bad" {
							calls++
							return pageErr
						}
					}
					for _, ev := range evs {
						good.add(ev)
					}
					return nil
				})
			} else {
				h := tt.handler(&calls)
				c.Handle("*", func(ctx context.Context, ev schema.Event) error {
					if ev.Subject != "bad" {
						good.add(ev)
						return nil
					}
					return h(ctx, ev)
				})
			}
			if err := c.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}

			if calls != tt.attempts {
				t.Errorf("handler called %d times for the bad record, want %d", calls, tt.attempts)
			}
			if got, want := good.seen(), []string{"0", "2"}; !slices.Equal(got, want) {
				t.Errorf("good events handled = %v, want %v", got, want)
			}
			if got := kc.committed(t, cfg.Group, topic); got[0] != 3 {
				t.Errorf("committed = %v, want partition 0 at 3", got)
			}
			checkDeadLetter(t, kc.readAll(t, dlq), bad, topic, tt.wantCause)
		})
	}
}

func checkDeadLetter(t *testing.T, got []*kgo.Record, bad *kgo.Record, topic, cause string) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want 1", len(got))
	}
	d := got[0]
	if string(d.Key) != string(bad.Key) || string(d.Value) != string(bad.Value) {
		t.Errorf("dead letter key/value = %q/%q, want %q/%q", d.Key, d.Value, bad.Key, bad.Value)
	}
	n := len(bad.Headers)
	if len(d.Headers) != n+4 {
		t.Fatalf("dead letter has %d headers, want the %d original ones and 4 dlq_ ones", len(d.Headers), n)
	}
	if diff := cmp.Diff(bad.Headers, d.Headers[:n]); diff != "" {
		t.Errorf("dead letter original headers (-want +got):\n%s", diff)
	}
	extra := map[string]string{}
	for _, h := range d.Headers[n:] {
		extra[h.Key] = string(h.Value)
	}
	if !strings.Contains(extra[consumer.HeaderDLQError], cause) {
		t.Errorf("dlq_error = %q, want it to contain %q", extra[consumer.HeaderDLQError], cause)
	}
	want := map[string]string{consumer.HeaderDLQTopic: topic, consumer.HeaderDLQPartition: "0", consumer.HeaderDLQOffset: "1"}
	for k, v := range want {
		if extra[k] != v {
			t.Errorf("header %s = %q, want %q", k, extra[k], v)
		}
	}
}

// Without a dead-letter topic a record that is not a CloudEvent stops Run,
// with everything before it committed.
func TestNotCloudEventWithoutDeadLetter(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)
	kc.produce(t, pageRecord(t, topic, "0", 1), &kgo.Record{Topic: topic, Value: []byte("x")})
	cfg := kc.config(t, topic)

	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%t", batch), func(t *testing.T) {
			cfg.Group = cfg.Group + fmt.Sprint(batch)
			c := newConsumer(t, cfg)
			if batch {
				c.HandleBatch(func(context.Context, []schema.Event) error { return nil })
			} else {
				c.Handle("*", func(context.Context, schema.Event) error { return nil })
			}
			err := c.Run(t.Context())
			if !errors.Is(err, schema.ErrNotCloudEvent) {
				t.Fatalf("Run() = %v, want ErrNotCloudEvent", err)
			}
			if got := kc.committed(t, cfg.Group, topic); got[0] != 1 {
				t.Errorf("committed = %v, want partition 0 at 1", got)
			}
		})
	}
}
