package crashtest_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// The binary is built once per test process, into binDir.
var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir) // a leftover temporary binary harms no one
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	email = "crawler@example.com"
	token = "ATATT3x-crashtest-token"

	// maxResponses is the most site responses one killed run may get. A run
	// is killed after 0..maxResponses of them, so N kills let the crawl make
	// at most N*maxResponses requests before the final run.
	maxResponses = 3
	// maxKillDelay bounds the random delay between the last response a run
	// gets and its kill: long enough to land in decoding, producing,
	// committing or the next request.
	maxKillDelay = 60 * time.Millisecond
	// maxStartDelay bounds the delay of kills that allow no response, which
	// land in start-up: connecting, creating topics, loading the checkpoint
	// and fencing the previous process.
	maxStartDelay = 600 * time.Millisecond
	// finishGuard bounds each wait for a run: its first responses, or the
	// end of the final run. It turns a hang into a failure and asserts
	// nothing about speed.
	finishGuard = 3 * time.Minute
)

// siteConfig is a site whose full crawl needs at least 2*40+3 = 83
// requests (the user search, the space list, one page and one blog post
// listing per space, the users-bulk call), more than 20 kills of at most
// maxResponses responses each allow, so no killed run can finish it.
var siteConfig = confluencesim.Config{
	Seed: 21, Spaces: 40, Pages: 4000, BlogPosts: 200, Users: 120,
	Email: email, APIToken: token,
}

// harness runs the crawl subcommand as a child process against a simulated
// site served by the test and the test's Kafka cluster.
type harness struct {
	bin    string
	site   *confluencesim.Site
	gate   *gate
	url    string
	seeds  []string
	prefix string // of the topic names
	topics schema.Topics
	logDir string
	rng    *rand.Rand
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	site, err := confluencesim.New(siteConfig)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{next: site.Handler(), allowed: -1}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	seeds, real := kafkatest.Brokers(t)
	seed := crashSeed(t)
	prefix := kafkatest.TopicName(t, "crash") + "."
	t.Logf("kill schedule seed %d (set CRASHTEST_SEED=%d to replay it); real broker: %v", seed, seed, real)
	return &harness{
		bin:    buildBinary(t),
		site:   site,
		gate:   g,
		url:    srv.URL,
		seeds:  seeds,
		prefix: prefix,
		topics: schema.NewTopics(prefix),
		logDir: t.TempDir(),
		rng:    rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>1|1)),
	}
}

// crashSeed is CRASHTEST_SEED, or the clock.
func crashSeed(t *testing.T) int64 {
	t.Helper()
	if v := os.Getenv("CRASHTEST_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("CRASHTEST_SEED=%q: %v", v, err)
		}
		return n
	}
	return time.Now().UnixNano()
}

// buildBinary builds the command, once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is needed to build the binary: %w", err)
			return
		}
		binPath = filepath.Join(binDir, "confluence-kafka")
		cmd := exec.Command(goTool, "build", "-o", binPath, "github.com/parable/confluence-kafka/cmd/confluence-kafka")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// run is one child process of the crawl subcommand.
type run struct {
	cmd    *exec.Cmd
	done   chan error
	stderr string // path of its log
	start  time.Time
}

func (h *harness) start(t *testing.T, n int) *run {
	t.Helper()
	stderr := filepath.Join(h.logDir, fmt.Sprintf("run-%02d.log", n))
	f, err := os.Create(stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(h.bin, "crawl",
		"--confluence-base-url", h.url,
		"--kafka-brokers", strings.Join(h.seeds, ","),
		"--topic-prefix", h.prefix,
		"--topic-partitions", "3",
		"--log-format", "json", "--log-level", "debug",
		"--kafka-connect-timeout", "30s")
	cmd.Env = append(os.Environ(), "CONFLUENCE_EMAIL="+email, "CONFLUENCE_API_TOKEN="+token)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crawl: %v", err)
	}
	r := &run{cmd: cmd, done: make(chan error, 1), stderr: stderr, start: time.Now()}
	go func() { r.done <- cmd.Wait() }()
	return r
}

// kill sends SIGKILL to the run's process, by its pid, and waits for it.
func (r *run) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill pid %d: %v", r.cmd.Process.Pid, err)
	}
	<-r.done
}

// tail returns the end of the run's log, for failure messages.
func (r *run) tail() string {
	b, err := os.ReadFile(r.stderr)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-4000):])
}

// crashOnce starts run n, lets it get a random number of responses, waits a
// random delay and kills it. It fails the test if the process ends first.
func (h *harness) crashOnce(t *testing.T, n int) {
	t.Helper()
	responses := h.rng.IntN(maxResponses + 1)
	delay := time.Duration(h.rng.Int64N(int64(maxKillDelay)))
	if responses == 0 {
		delay = time.Duration(h.rng.Int64N(int64(maxStartDelay)))
	}
	spent := h.gate.allow(responses)
	r := h.start(t, n)
	guard := time.NewTimer(finishGuard)
	defer guard.Stop()
	select {
	case <-spent:
	case err := <-r.done:
		t.Fatalf("run %d ended by itself (%v) before its %d responses:\n%s", n, err, responses, r.tail())
	case <-guard.C:
		r.kill(t)
		t.Fatalf("run %d got fewer than %d responses in %v:\n%s", n, responses, finishGuard, r.tail())
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case err := <-r.done:
		t.Fatalf("run %d ended by itself (%v) before its kill:\n%s", n, err, r.tail())
	}
	r.kill(t)
	t.Logf("kill %2d: after %d responses + %v (%v after start)", n, responses,
		delay.Round(time.Millisecond), time.Since(r.start).Round(time.Millisecond))
}

// finish runs the crawl to its end with the gate open.
func (h *harness) finish(t *testing.T, n int) {
	t.Helper()
	h.gate.open()
	r := h.start(t, n)
	guard := time.NewTimer(finishGuard)
	defer guard.Stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("final run: %v\n%s", err, r.tail())
		}
	case <-guard.C:
		r.kill(t)
		t.Fatalf("final run still going after %v:\n%s", finishGuard, r.tail())
	}
	t.Logf("final run completed the crawl in %v", time.Since(r.start).Round(time.Millisecond))
}

// gate passes a bounded number of requests to the site and holds the ones
// after them until their client goes away, so that a killed run's progress
// is bounded whatever the speed of the machine.
type gate struct {
	next http.Handler

	mu       sync.Mutex
	allowed  int // requests of the current allowance; -1 means no limit
	left     int // of them, still to let through
	answered int
	spent    chan struct{} // closed once the allowed requests were answered
}

// allow lets n more requests through and returns a channel closed once they
// were answered.
func (g *gate) allow(n int) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.allowed, g.left, g.answered, g.spent = n, n, 0, make(chan struct{})
	if n == 0 {
		close(g.spent)
	}
	return g.spent
}

// open lets every request through.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.allowed, g.spent = -1, nil
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	if g.allowed >= 0 && g.left == 0 {
		g.mu.Unlock()
		// The server notices a closed connection only once the body was
		// read, so read it (a users-bulk POST has one) before holding the
		// request until the killed client's connection closes.
		_, _ = io.Copy(io.Discard, r.Body) // a loopback body; its errors end the wait too
		<-r.Context().Done()
		return
	}
	g.left--
	spent := g.spent
	g.mu.Unlock()

	g.next.ServeHTTP(w, r)

	g.mu.Lock()
	defer g.mu.Unlock()
	// A request of an earlier allowance (or of the open gate) does not count.
	if spent != nil && spent == g.spent {
		if g.answered++; g.answered == g.allowed {
			close(g.spent)
		}
	}
}

// verify checks the committed topics against the site: every page, blog
// post, space and crawlable user exactly once, at the site's version.
func (h *harness) verify(t *testing.T) {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(h.seeds...)}
	got := readEntities(t, opts, h.prefix)
	want := h.siteEntities(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("committed entities differ from the site (-site +topics):\n%s", diff)
	}
	cp, err := producer.LoadCheckpoint(t.Context(), opts, h.topics.State, hostOf(h.url))
	if err != nil || cp == nil || cp.CompletedAt.IsZero() {
		t.Errorf("LoadCheckpoint() = %+v, %v; want a completed crawl", cp, err)
	}
}

// entities maps topic, then key, to the entity version ("" for users and
// spaces).
type entities map[string]map[string]string

// readEntities reads every committed event and fails the test on an event
// id or a key seen twice.
func readEntities(t *testing.T, opts []kgo.Opt, prefix string) entities {
	t.Helper()
	out := entities{}
	ids := map[string]string{} // event id to where it was first seen
	for _, topic := range schema.NewTopics(prefix).Entities() {
		keys := map[string]string{}
		err := broker.ReadCommitted(t.Context(), opts, topic, func(r *kgo.Record) error {
			ev, err := schema.ParseRecord(r)
			if err != nil {
				return err
			}
			at := fmt.Sprintf("%s/%d@%d by producer %d epoch %d", r.Topic, r.Partition, r.Offset,
				r.ProducerID, r.ProducerEpoch)
			if first, dup := ids[ev.ID]; dup {
				t.Errorf("event %s (%s %s) committed twice: %s and %s", ev.ID, ev.Type, ev.Subject, first, at)
			}
			if _, dup := keys[string(r.Key)]; dup {
				t.Errorf("key %s committed twice in %s", r.Key, topic)
			}
			ids[ev.ID] = at
			keys[string(r.Key)] = ""
			if topic == schema.NewTopics(prefix).Pages {
				keys[string(r.Key)] = ev.EntityVersion
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		out[strings.TrimPrefix(topic, prefix)] = keys
	}
	return out
}

// siteEntities lists what a complete crawl must have published, read
// straight from the site.
func (h *harness) siteEntities(t *testing.T) entities {
	t.Helper()
	c, err := confluence.New(confluence.Config{BaseURL: h.url, Email: email, APIToken: token,
		RequestsPerSecond: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	site := hostOf(h.url)
	key := func(id string) string { return site + "/" + id }
	out := entities{"users": {}, "spaces": {}, "pages": {}}
	for _, id := range h.site.ReferencedAccountIDs() {
		out["users"][key(id)] = ""
	}
	ctx := t.Context()
	err = c.SearchUsers(ctx, func(users []confluence.User) error {
		for _, u := range users {
			out["users"][key(u.AccountID)] = ""
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range h.site.SpaceIDs() {
		out["spaces"][key(id)] = ""
		pages := func(batch []confluence.Page, _ string) error {
			for _, p := range batch {
				out["pages"][key(p.ID)] = strconv.Itoa(p.Version.Number)
			}
			return nil
		}
		if err := c.ListSpacePages(ctx, id, "", pages); err != nil {
			t.Fatal(err)
		}
		if err := c.ListSpaceBlogPosts(ctx, id, "", pages); err != nil {
			t.Fatal(err)
		}
	}
	if e := h.site.Expected(); len(out["pages"]) != e.Pages+e.BlogPosts || len(out["users"]) != e.CrawlableUsers {
		t.Fatalf("site listing has %d pages and %d users, Expected() = %+v", len(out["pages"]), len(out["users"]), e)
	}
	return out
}

// hostOf is the site identity of a loopback URL: its host and port.
func hostOf(url string) string {
	return strings.TrimPrefix(url, "http://")
}

// runCrawlWithKills is the whole harness: kills crashes, then a final run,
// then the check.
func runCrawlWithKills(t *testing.T, kills int) {
	h := newHarness(t)
	started := time.Now()
	for n := 1; n <= kills; n++ {
		h.crashOnce(t, n)
	}
	h.finish(t, kills+1)
	h.verify(t)
	t.Logf("%d kills and the final run took %v", kills, time.Since(started).Round(time.Millisecond))
}
