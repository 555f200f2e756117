package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

func TestStreamSettingsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"interval zero", []string{"--poll-interval", "0s"}, nil, "poll-interval 0s"},
		{"interval from the environment", nil, map[string]string{"POLL_INTERVAL": "50ms"}, "poll-interval 50ms"},
		{"interval not a duration", nil, map[string]string{"POLL_INTERVAL": "often"}, "POLL_INTERVAL"},
		{"overlap negative", []string{"--poll-overlap", "-1s"}, nil, "poll-overlap -1s"},
		{"sweep every zero", []string{"--sweep-every", "0"}, nil, "sweep-every 0"},
		{"relist every below -1", []string{"--relist-every", "-2"}, nil, "relist-every -2"},
		{"no site", nil, nil, "confluence-base-url is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CONFLUENCE_BASE_URL", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, _, err := runCommand(t, append([]string{"stream"}, tt.args...)...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("stream %v = %v, want a usage error naming %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestStreamPublishesAnEditAndStopsCleanly(t *testing.T) {
	site, url := simulatedSite(t)
	seeds, _ := kafkatest.Brokers(t)
	prefix := kafkatest.TopicName(t, "stream") + "."
	t.Setenv("CONFLUENCE_API_TOKEN", distinctiveToken)
	args := []string{"stream", "--confluence-base-url", url, "--confluence-email", "crawler@example.com",
		"--kafka-brokers", strings.Join(seeds, ","), "--topic-prefix", prefix, "--topic-partitions", "2",
		"--poll-interval", "100ms", "--log-format", "json"}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()

	topics := schema.NewTopics(prefix)
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	siteID := strings.TrimPrefix(url, "http://")
	waitPolls(t, opts, topics.State, siteID, 1, done)
	id := site.PageIDs(site.SpaceIDs()[0])[0]
	v, err := site.EditPage(id)
	if err != nil {
		t.Fatal(err)
	}
	// Read after the edit, polled is at least the polls committed before it,
	// so the poll running then is polled+1 at most, and polls polled+2 and
	// polled+3 hold a pages poll that began after the edit.
	polled := waitPolls(t, opts, topics.State, siteID, 1, done)
	waitPolls(t, opts, topics.State, siteID, polled+3, done)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("stream = %v, want nil after a shutdown\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "stream stopped") {
		t.Errorf("stdout = %q, want it to report the stop", stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), distinctiveToken) {
		t.Errorf("output contains the API token")
	}
	if got := lastVersion(t, opts, topics.Pages, siteID+"/"+id); got != v {
		t.Errorf("last event of page %s has version %d, want %d", id, got, v)
	}
}

// waitPolls waits until the stream of site has committed at least n polls,
// and returns how many it has.
func waitPolls(t *testing.T, opts []kgo.Opt, stateTopic, site string, n int64, done <-chan error) int64 {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for {
		// The topics may not exist yet: the stream creates them.
		c, err := producer.LoadCheckpoint(t.Context(), opts, stateTopic, site)
		if err == nil && c != nil && c.Stream != nil && c.Stream.Polls >= n {
			return c.Stream.Polls
		}
		select {
		case err := <-done:
			t.Fatalf("stream ended early: %v", err)
		case <-deadline:
			t.Fatalf("stream did not reach poll %d in 60s (last error %v)", n, err)
		case <-tick.C:
		}
	}
}

// lastVersion returns the page version of the last event of key in topic.
func lastVersion(t *testing.T, opts []kgo.Opt, topic, key string) int {
	t.Helper()
	var last schema.Event
	err := broker.ReadCommitted(t.Context(), opts, topic, func(r *kgo.Record) error {
		if string(r.Key) == key {
			ev, err := schema.ParseRecord(r)
			last = ev
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := schema.Decode[schema.Page](last)
	if err != nil {
		t.Fatal(err)
	}
	return p.Version.Number
}
