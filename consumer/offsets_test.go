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

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/schema"
)

// While a member is in the group, a reset is refused with an error naming
// the group and the member; once the member left, the reset is committed and
// the next member replays from the new offsets.
func TestResetOffsetsRefusesActiveGroup(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)
	for i := range 3 {
		kc.produce(t, pageRecord(t, topic, fmt.Sprint(i), 1))
	}
	cfg := kc.config(t, topic)
	cfg.StopAtEnd = false

	handled := make(chan string, 3)
	c := newConsumer(t, cfg)
	c.Handle("*", func(_ context.Context, ev schema.Event) error {
		handled <- ev.Subject
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for range 3 {
		<-handled // the member owns the partition once it handled a record
	}

	_, err := consumer.ResetOffsets(t.Context(), kc.adm, cfg.Group, []string{topic}, time.Time{})
	var active *consumer.ActiveGroupError
	if !errors.As(err, &active) || active.Group != cfg.Group || len(active.Members) != 1 {
		t.Fatalf("ResetOffsets(%s) with a running member = %v, want an *ActiveGroupError naming the group and 1 member", cfg.Group, err)
	}
	if msg := err.Error(); !strings.Contains(msg, cfg.Group) || !strings.Contains(msg, active.Members[0].ID) {
		t.Errorf("ResetOffsets() error = %q, want the group %s and the member %s named", msg, cfg.Group, active.Members[0].ID)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v, want nil after shutdown", err)
	}
	changes, err := consumer.ResetOffsets(t.Context(), kc.adm, cfg.Group, []string{topic}, time.Time{})
	want := []consumer.OffsetChange{{Topic: topic, Partition: 0, From: 3, To: 0}}
	if err != nil || !slices.Equal(changes, want) {
		t.Fatalf("ResetOffsets() after the member left = %+v, %v; want %+v, nil", changes, err, want)
	}

	var replayed recorder
	cfg.StopAtEnd = true
	c2 := newConsumer(t, cfg)
	c2.Handle("*", func(_ context.Context, ev schema.Event) error {
		replayed.add(ev)
		return nil
	})
	if err := c2.Run(t.Context()); err != nil {
		t.Fatalf("Run() after reset = %v, want nil", err)
	}
	if got := replayed.seen(); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("after reset to earliest the group handled %v, want [0 1 2] again", got)
	}
}

func TestPlanReset(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 1)
	// Record timestamps an hour apart, in the past: Kafka rejects record
	// timestamps too far in the future.
	base := time.Now().Add(-10 * time.Hour).Truncate(time.Millisecond)
	for i := range 5 {
		rec := pageRecord(t, topic, fmt.Sprint(i), 1)
		rec.Timestamp = base.Add(time.Duration(i) * time.Hour)
		kc.produce(t, rec)
	}
	cfg := kc.config(t, topic)
	c := newConsumer(t, cfg)
	c.Handle("*", func(context.Context, schema.Event) error { return nil })
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}

	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"earliest", time.Time{}, 0},
		{"exact timestamp", base.Add(2 * time.Hour), 2},
		{"between records", base.Add(2*time.Hour + time.Minute), 3},
		{"before the first", base.Add(-time.Hour), 0},
		{"after the last", base.Add(5 * time.Hour), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := consumer.PlanReset(t.Context(), kc.adm, cfg.Group, []string{topic}, tt.at)
			want := []consumer.OffsetChange{{Topic: topic, Partition: 0, From: 5, To: tt.want}}
			if err != nil || !cmp.Equal(got, want) {
				t.Errorf("PlanReset(%s) = %+v, %v; want %+v, nil", tt.at, got, err, want)
			}
		})
	}
	// Planning changes nothing.
	if got := kc.committed(t, cfg.Group, topic); got[0] != 5 {
		t.Errorf("committed after PlanReset = %v, want partition 0 still at 5", got)
	}
}

func TestPlanResetErrors(t *testing.T) {
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 2)
	missing := topic + ".missing"

	_, err := consumer.PlanReset(t.Context(), kc.adm, "g", []string{topic, missing}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("PlanReset(missing topic) = %v, want an error naming %s", err, missing)
	}

	// A group that never committed has no From offsets.
	got, err := consumer.PlanReset(t.Context(), kc.adm, "never-committed."+topic, []string{topic}, time.Time{})
	want := []consumer.OffsetChange{{Topic: topic, Partition: 0, From: -1}, {Topic: topic, Partition: 1, From: -1}}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("PlanReset(new group) = %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestActiveGroupErrorMessage(t *testing.T) {
	err := &consumer.ActiveGroupError{Group: "indexer", State: "Stable", Members: []consumer.GroupMember{
		{ID: "m-1", ClientID: "kgo", Host: "/127.0.0.1"},
	}}
	want := "consumer group indexer has 1 active members (state Stable): m-1 (client kgo at /127.0.0.1); stop them first"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
