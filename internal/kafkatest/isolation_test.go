package kafkatest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// checkIsolation commits a record, aborts one and commits another, then
// reads the topic from the start at both isolation levels. read_committed
// must skip the aborted record; read_uncommitted must return it in its
// place, which shows the aborted record did reach the log and that
// read_committed, not the producer, is what hides it.
func checkIsolation(t *testing.T, seeds []string) {
	t.Helper()

	topic := TopicName(t, "isolation")
	createTopic(t, newAdmin(t, seeds), topic, nil)
	produceInTxn(t, seeds, topic, []txnStep{
		{value: "first", commit: true},
		{value: "aborted", commit: false},
		{value: "last", commit: true},
	})

	tests := []struct {
		name  string
		level kgo.IsolationLevel
		want  []string
	}{
		{name: "read_committed", level: kgo.ReadCommitted(), want: []string{"first", "last"}},
		{name: "read_uncommitted", level: kgo.ReadUncommitted(), want: []string{"first", "aborted", "last"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := consumeIsolated(t, seeds, topic, tt.level, "last")
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s values = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// consumeIsolated reads topic from the start at the given isolation level
// and returns every value up to and including last.
func consumeIsolated(t *testing.T, seeds []string, topic string, level kgo.IsolationLevel, last string) []string {
	t.Helper()

	ctx := checkContext(t)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(level),
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

func TestIsolationFake(t *testing.T) {
	checkIsolation(t, Fake(t).ListenAddrs())
}
