package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/schema"
)

func TestShutdown(t *testing.T) {
	tests := []struct {
		name string
		// fail makes the handler of event 2 fail after shutdown began.
		fail          bool
		wantCommitted int64
	}{
		// The in-flight handler finishes with a live context and is committed.
		{"in-flight handler finishes", false, 3},
		// A retry is not started after shutdown, and the event is neither
		// committed nor dead-lettered: the next member handles it.
		{"retry abandoned", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := newCluster(t)
			topic := kc.topic(t, "pages", 1)
			for i := range 5 {
				kc.produce(t, pageRecord(t, topic, fmt.Sprint(i), 1))
			}
			cfg := kc.config(t, topic)
			cfg.StopAtEnd = false
			cfg.BackoffBase, cfg.BackoffMax = time.Hour, time.Hour

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var got recorder
			var handlerErr error
			c := newConsumer(t, cfg)
			c.Handle("*", func(hctx context.Context, ev schema.Event) error {
				got.add(ev)
				if ev.Subject != "2" {
					return nil
				}
				cancel()
				handlerErr = hctx.Err()
				if tt.fail {
					return errors.New("index is down")
				}
				return nil
			})
			if err := c.Run(ctx); err != nil {
				t.Fatalf("Run() = %v, want nil after shutdown", err)
			}

			if handlerErr != nil {
				t.Errorf("in-flight handler context = %v after shutdown began, want still live", handlerErr)
			}
			if want := []string{"0", "1", "2"}; !slices.Equal(got.seen(), want) {
				t.Errorf("handled %v, want %v", got.seen(), want)
			}
			if got := kc.committed(t, cfg.Group, topic); got[0] != tt.wantCommitted {
				t.Errorf("committed = %v, want partition 0 at %d", got, tt.wantCommitted)
			}
			groups, err := kc.adm.DescribeGroups(t.Context(), cfg.Group)
			if err != nil {
				t.Fatal(err)
			}
			if g := groups[cfg.Group]; len(g.Members) != 0 {
				t.Errorf("group %s after Run has members %v (state %s), want none", cfg.Group, g.Members, g.State)
			}
		})
	}
}

// A member joining the group takes over partitions at the offsets the first
// member committed: every event is handled exactly once across both.
func TestRebalanceHandsOverCommittedWork(t *testing.T) {
	const perPhase = 40
	kc := newCluster(t)
	topic := kc.topic(t, "pages", 4)
	produce := func(phase int) {
		for i := range perPhase {
			kc.produce(t, pageRecord(t, topic, fmt.Sprintf("p%d-%d", phase, i), 1))
		}
	}
	cfg := kc.config(t, topic)
	cfg.StopAtEnd = false

	var mu sync.Mutex
	handledBy := map[string][]string{}
	handled := make(chan struct{}, 2*perPhase)
	member := func(name string, opts ...kgo.Opt) *consumer.Consumer {
		cfg := cfg
		cfg.ClientOptions = opts
		c := newConsumer(t, cfg)
		c.Handle("*", func(_ context.Context, ev schema.Event) error {
			mu.Lock()
			handledBy[ev.Subject] = append(handledBy[ev.Subject], name)
			mu.Unlock()
			handled <- struct{}{}
			return nil
		})
		return c
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	defer func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Run() = %v, want nil", err)
			}
		}
	}()

	produce(1)
	a := member("a")
	wg.Go(func() { errs <- a.Run(ctx) })
	waitFor(t, handled, perPhase)

	assigned := make(chan struct{}, 1)
	b := member("b", kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		if len(m[topic]) > 0 {
			assigned <- struct{}{}
		}
	}))
	wg.Go(func() { errs <- b.Run(ctx) })
	waitFor(t, assigned, 1)
	produce(2)
	waitFor(t, handled, perPhase)

	mu.Lock()
	defer mu.Unlock()
	byB := 0
	for id, names := range handledBy {
		if len(names) != 1 {
			t.Errorf("event %s handled by %v, want exactly one member", id, names)
		}
		if names[0] == "b" {
			byB++
		}
	}
	if len(handledBy) != 2*perPhase || byB == 0 {
		t.Errorf("%d events handled, %d by the new member; want %d, some by the new member", len(handledBy), byB, 2*perPhase)
	}
}

// waitFor receives n values from ch, failing the test if that takes more
// than a minute (a hang, not a speed check).
func waitFor[T any](t *testing.T, ch <-chan T, n int) {
	t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for i := range n {
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("got %d of %d signals within a minute", i, n)
		}
	}
}
