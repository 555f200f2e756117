package producer_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// poller crawls f's site with cfg's settings and returns a poller of the
// stream that follows. Topics and brokers are f's.
func (f *fixture) poller(t *testing.T, src producer.Source, cfg producer.Config) (*producer.Producer, *producer.Poller) {
	t.Helper()
	cfg.Brokers, cfg.Topics = f.seeds, f.topics
	// A real broker serves a new topic's metadata a moment after creating
	// it; franz-go then waits MetadataMinAge (5s) before it asks again.
	cfg.ClientOptions = append(cfg.ClientOptions, kgo.MetadataMinAge(100*time.Millisecond))
	if cfg.TransactionEvents == 0 {
		cfg.TransactionEvents = 300
	}
	p, err := producer.New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	pl, err := p.StartStream(t.Context())
	if err != nil {
		t.Fatalf("StartStream() error = %v", err)
	}
	return p, pl
}

// polls runs n polls and returns their results.
func polls(t *testing.T, pl *producer.Poller, n int) []producer.PollResult {
	t.Helper()
	var out []producer.PollResult
	for range n {
		res, err := pl.Poll(t.Context())
		if err != nil {
			t.Fatalf("Poll() = %+v, error %v", res, err)
		}
		out = append(out, res)
	}
	return out
}

// events returns every committed event of the entity topics, and fails the
// test if one ce_id was published twice.
func (f *fixture) events(t *testing.T) []schema.Event {
	t.Helper()
	var out []schema.Event
	seen := map[string]bool{}
	for _, topic := range f.topics.Entities() {
		err := broker.ReadCommitted(t.Context(), []kgo.Opt{kgo.SeedBrokers(f.seeds...)}, topic, func(r *kgo.Record) error {
			ev, err := schema.ParseRecord(r)
			if err != nil {
				return err
			}
			if seen[ev.ID] {
				t.Errorf("event %s (%s %s) published twice", ev.ID, ev.Type, ev.Subject)
			}
			seen[ev.ID] = true
			out = append(out, ev)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mark returns the ce_ids published so far, for changesSince.
func (f *fixture) mark(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, ev := range f.events(t) {
		ids[ev.ID] = true
	}
	return ids
}

// changesSince describes, sorted, the events published after mark: such as
// "page 1234 upserted v3 current", "page 1234 deleted trashed" or
// "user 7:abc upserted Ann Lee".
func (f *fixture) changesSince(t *testing.T, mark map[string]bool) []string {
	t.Helper()
	var out []string
	for _, ev := range f.events(t) {
		if !mark[ev.ID] {
			out = append(out, describe(t, ev))
		}
	}
	slices.Sort(out)
	return out
}

func describe(t *testing.T, ev schema.Event) string {
	t.Helper()
	entity, state, _ := ev.Entity()
	s := fmt.Sprintf("%s %s %s", entity, ev.Subject, state)
	if ev.IsDeletion() {
		return s + " " + ev.DeleteReason
	}
	var err error
	switch entity {
	case schema.EntityPage:
		var p schema.Page
		p, err = schema.Decode[schema.Page](ev)
		s += fmt.Sprintf(" v%d %s", p.Version.Number, p.Status)
	case schema.EntityUser:
		var u schema.User
		u, err = schema.Decode[schema.User](ev)
		s += fmt.Sprintf(" %s <%s> %s", u.DisplayName, u.Email, u.AccountStatus)
	case schema.EntitySpace:
		var sp schema.Space
		sp, err = schema.Decode[schema.Space](ev)
		s += " " + sp.Name
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}
