package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

var replaySite = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}

// replayCluster is a cluster with fresh entity topics of one partition.
type replayCluster struct {
	seeds  string
	prefix string
	topics schema.Topics
	cl     *kgo.Client
	adm    *kadm.Client
}

func newReplayCluster(t *testing.T) *replayCluster {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	rc := &replayCluster{seeds: strings.Join(seeds, ","), prefix: kafkatest.TopicName(t, "replay") + ".",
		cl: cl, adm: kadm.NewClient(cl)}
	rc.topics = schema.NewTopics(rc.prefix)
	for _, topic := range append(rc.topics.Entities(), rc.topics.State) {
		resp, err := rc.adm.CreateTopic(t.Context(), 1, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return rc
}

// publishPages publishes pages 0..n-1 of the replay site at version 1,
// with record timestamps an hour apart from base.
func (rc *replayCluster) publishPages(t *testing.T, base time.Time, ids ...string) {
	t.Helper()
	for i, id := range ids {
		m, err := replaySite.PageUpserted(schema.Page{
			ID: id, Kind: schema.KindPage, SpaceID: "1", Status: "current", Title: "Runbook " + id,
			Body: "<p>zebra " + id + "</p>", Version: schema.PageVersion{Number: 1, CreatedAt: base},
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := m.Record(rc.topics.Pages)
		rec.Timestamp = base.Add(time.Duration(i) * time.Hour)
		if err := rc.cl.ProduceSync(t.Context(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func (rc *replayCluster) committed(t *testing.T, group string) int64 {
	t.Helper()
	resp, err := rc.adm.FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := resp.Lookup(rc.topics.Pages, 0)
	return o.At
}

func (rc *replayCluster) args(sub string, extra ...string) []string {
	return append([]string{sub, "--kafka-brokers", rc.seeds, "--topic-prefix", rc.prefix, "--topic-partitions", "1"}, extra...)
}

// replay refuses while the group has a member, naming the group and the
// member; once the member left, it resets to the earliest offsets or to a
// time, and a dry run commits nothing.
func TestReplay(t *testing.T) {
	rc := newReplayCluster(t)
	base := time.Now().Add(-10 * time.Hour).Truncate(time.Second)
	rc.publishPages(t, base, "1", "2", "3", "4")
	group := kafkatest.TopicName(t, "group")

	stop := runMember(t, rc, group, 4)
	_, _, err := runCommand(t, rc.args("replay", "--consumer-group", group, "--to-earliest")...)
	var active *consumer.ActiveGroupError
	if !errors.As(err, &active) || !strings.Contains(err.Error(), group) || !strings.Contains(err.Error(), active.Members[0].ID) {
		t.Fatalf("replay with a running member = %v, want an error naming group %s and its member", err, group)
	}
	if got := exitCode(err, io.Discard); got != 1 {
		t.Errorf("exit code of the refused replay = %d, want 1", got)
	}
	stop()

	// The cases run in order, each from the offsets the previous one left.
	tests := []struct {
		name   string
		flags  []string
		wantTo int64 // the new offset printed for the pages partition
		want   int64 // its committed offset afterwards
	}{
		{"dry run", []string{"--to-earliest", "--dry-run"}, 0, 4},
		{"to earliest", []string{"--to-earliest"}, 0, 0},
		{"to time", []string{"--to-time", base.Add(2 * time.Hour).Format(time.RFC3339)}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runCommand(t, rc.args("replay", append([]string{"--consumer-group", group}, tt.flags...)...)...)
			if err != nil {
				t.Fatalf("replay %v = %v, want nil", tt.flags, err)
			}
			if got := rc.committed(t, group); got != tt.want {
				t.Errorf("replay %v: committed offset = %d, want %d", tt.flags, got, tt.want)
			}
			if row := lineStarting(stdout, rc.topics.Pages); !strings.HasSuffix(row, " "+fmt.Sprint(tt.wantTo)) {
				t.Errorf("replay %v printed row %q for %s, want it to end with %d:\n%s", tt.flags, row, rc.topics.Pages, tt.wantTo, stdout)
			}
		})
	}
}

func TestReplayBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"replay", "--kafka-brokers", "127.0.0.1:1"}, "to-earliest or to-time"},
		{"both targets", []string{"replay", "--kafka-brokers", "127.0.0.1:1", "--to-earliest", "--to-time", "2026-12-01T00:00:00Z"}, "only one"},
		{"bad time", []string{"replay", "--kafka-brokers", "127.0.0.1:1", "--to-time", "yesterday"}, "to-time"},
		{"no brokers", []string{"replay", "--to-earliest"}, "kafka-brokers"},
		{"reindex without brokers", []string{"reindex"}, "kafka-brokers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KAFKA_BROKERS", "") // the real broker's seeds must not fill in a missing flag
			os.Unsetenv("KAFKA_BROKERS")
			_, _, err := runCommand(t, tt.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want a usage error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}

// reindex rebuilds the index into a new file and points the index path at
// it; the old regular file is replaced, and the new events are searchable.
func TestReindexSwitchesFile(t *testing.T) {
	rc := newReplayCluster(t)
	rc.publishPages(t, time.Now().Add(-time.Hour), "1", "2")
	path := filepath.Join(t.TempDir(), "index.db")
	group := kafkatest.TopicName(t, "group")
	if _, stderr, err := runCommand(t, rc.args("index", "--index-path", path, "--consumer-group", group)...); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	rc.publishPages(t, time.Now().Add(-time.Hour), "3")

	stdout, stderr, err := runCommand(t, rc.args("reindex", "--index-path", path, "--consumer-group", group)...)
	if err != nil || !strings.Contains(stdout, "index rebuilt and switched") {
		t.Fatalf("reindex = %v, stdout %q; want the switch reported\n%s", err, stdout, stderr)
	}
	gen, err := index.Resolve(path)
	if err != nil || gen == path {
		t.Fatalf("Resolve(%s) = %q, %v; want a new generation", path, gen, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s%s of the replaced index file is left behind", path, suffix)
		}
	}
	stdout, _, err = runCommand(t, "search", "--index-path", path, "zebra")
	if err != nil || !strings.HasPrefix(stdout, "3 hits") {
		t.Errorf("search zebra after reindex = %v, %q; want 3 hits", err, stdout)
	}
	if got := rc.committed(t, group); got != 3 {
		t.Errorf("committed offset of %s after reindex = %d, want 3 (where the rebuild stopped)", group, got)
	}
}

// reindex --listen --follow serves searches from the old index, switches
// to the rebuilt one, and keeps following: an event published after the
// switch becomes searchable.
func TestReindexServesAndFollows(t *testing.T) {
	rc := newReplayCluster(t)
	rc.publishPages(t, time.Now().Add(-time.Hour), "1", "2")
	path := filepath.Join(t.TempDir(), "index.db")
	group := kafkatest.TopicName(t, "group")
	if _, stderr, err := runCommand(t, rc.args("index", "--index-path", path, "--consumer-group", group)...); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}

	ctx, cancel := context.WithCancel(t.Context())
	lines, done := startCommand(ctx, rc.args("reindex", "--index-path", path, "--consumer-group", group,
		"--listen", "127.0.0.1:0", "--follow")...)
	url := strings.TrimSuffix(strings.TrimPrefix(<-lines, "search at "), "/search?q=")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line of reindex = %q, want the search address", url)
	}
	if line := <-lines; !strings.HasPrefix(line, "index rebuilt and switched") {
		t.Fatalf("second line of reindex = %q, want the switch", line)
	}

	rc.publishPages(t, time.Now().Add(-time.Hour), "3")
	waitHits(t, url+"/search?q=zebra", 3)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("reindex --follow after shutdown = %v, want nil", err)
	}
}

// runMember runs a consumer in group until it handled n events; the
// returned function stops it.
func runMember(t *testing.T, rc *replayCluster, group string, n int) (stop func()) {
	t.Helper()
	c, err := consumer.New(consumer.Config{Brokers: strings.Split(rc.seeds, ","), Group: group, Topics: rc.topics.Entities()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan struct{}, n)
	c.Handle("*", func(context.Context, schema.Event) error {
		handled <- struct{}{}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for range n {
		<-handled
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("member Run() = %v, want nil", err)
		}
	}
}

// startCommand runs the command in the background; its stdout comes line
// by line, and its error once it returned.
func startCommand(ctx context.Context, args ...string) (<-chan string, <-chan error) {
	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, done
}

// waitHits polls a search URL until it answers want hits.
func waitHits(t *testing.T, url string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	got := -1
	for {
		if n, err := hitCount(url); err == nil {
			got = n
			if got == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s answered %d hits for 30s, want %d", url, got, want)
		case <-tick.C:
		}
	}
}

func hitCount(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Hits []index.Hit `json:"hits"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	return len(body.Hits), nil
}
