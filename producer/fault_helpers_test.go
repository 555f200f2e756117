package producer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// The fault tests drive the real client and producer against the simulated
// site's faults. Policy waits run on a fake clock that jumps to the next
// deadline as soon as one is pending, so a half-hour Retry-After costs no
// real time, and each attempt is recorded with the fake time it left at.

// faultEpoch is where the fake clock starts.
var faultEpoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// faultClock is a confluence.Clock whose time moves only when a pending
// timer is due: autoAdvance jumps to the earliest deadline.
type faultClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*faultTimer
	added  chan struct{}
}

type faultTimer struct {
	clk  *faultClock
	when time.Time
	ch   chan time.Time
}

func newFaultClock() *faultClock {
	return &faultClock{now: faultEpoch, added: make(chan struct{}, 1)}
}

func (c *faultClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *faultClock) NewTimer(d time.Duration) confluence.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &faultTimer{clk: c, when: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	select {
	case c.added <- struct{}{}:
	default:
	}
	return t
}

func (t *faultTimer) C() <-chan time.Time { return t.ch }

func (t *faultTimer) Stop() bool {
	c := t.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	return true
}

// fireNext moves to the earliest deadline and fires the timers due; it
// reports whether one was pending.
func (c *faultClock) fireNext() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	next := c.timers[0].when
	for _, t := range c.timers[1:] {
		if t.when.Before(next) {
			next = t.when
		}
	}
	c.now = next
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.when.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
	return true
}

// autoAdvance ends every wait at once in real time while fake time moves
// by the waited amount, until the test ends.
func (c *faultClock) autoAdvance(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			for c.fireNext() {
			}
			select {
			case <-stop:
				return
			case <-c.added:
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// sentAttempt is one HTTP attempt as the client's base transport sent it.
type sentAttempt struct {
	At     time.Duration // fake time since faultEpoch
	Method string
	Path   string
	Query  string
	Status int // 0 when the attempt got no response
	Err    string
}

func (a sentAttempt) String() string {
	return fmt.Sprintf("%v %s %s?%s -> %d %s", a.At, a.Method, a.Path, a.Query, a.Status, a.Err)
}

// attemptRecorder is the client's base transport: it records every attempt.
type attemptRecorder struct {
	next http.RoundTripper
	clk  *faultClock

	mu       sync.Mutex
	attempts []sentAttempt
}

func (r *attemptRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	a := sentAttempt{At: r.clk.Now().Sub(faultEpoch), Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		a.Err = err.Error()
	} else {
		a.Status = resp.StatusCode
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	return resp, err
}

// all returns the attempts so far.
func (r *attemptRecorder) all() []sentAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.attempts)
}

// to returns the attempts whose path ends with suffix.
func (r *attemptRecorder) to(suffix string) []sentAttempt {
	var out []sentAttempt
	for _, a := range r.all() {
		if strings.HasSuffix(a.Path, suffix) {
			out = append(out, a)
		}
	}
	return out
}

// reportedWait is one site-wide wait the client reported through Config.OnWait.
type reportedWait struct {
	Reason string
	At, D  time.Duration
}

// faultRig is a simulated site, a client of it on a fake clock, and fresh
// topics: the fixture of the crawl tests, plus what the fault tests observe.
type faultRig struct {
	*fixture
	clk  *faultClock
	rec  *attemptRecorder
	logs *logSink
	srv  *httptest.Server

	mu    sync.Mutex
	waits []reportedWait
}

// clientTweak changes the client's Config before New.
type clientTweak func(*confluence.Config)

func newFaultRig(t *testing.T, site confluencesim.Config, tweaks ...clientTweak) *faultRig {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	return newFaultRigOn(t, seeds, site, tweaks...)
}

// newFaultRigOn is newFaultRig on the cluster of seeds.
func newFaultRigOn(t *testing.T, seeds []string, site confluencesim.Config, tweaks ...clientTweak) *faultRig {
	t.Helper()
	site.Email, site.APIToken = "crawler@example.com", "test-token"
	s, err := confluencesim.New(site)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	clk := newFaultClock()
	clk.autoAdvance(t)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	r := &faultRig{clk: clk, rec: &attemptRecorder{next: base, clk: clk}, logs: &logSink{}, srv: srv}
	cfg := confluence.Config{
		BaseURL: srv.URL, Email: site.Email, APIToken: site.APIToken,
		RequestsPerSecond: 1000, BackoffBase: 100 * time.Millisecond, BackoffMax: 5 * time.Second,
		MaxAttempts: 5, BreakerFailures: 5, BreakerOpenFor: 30 * time.Second,
		RequestTimeout: 10 * time.Second,
		Transport:      r.rec, Clock: clk, OnWait: r.onWait,
	}
	for _, tw := range tweaks {
		tw(&cfg)
	}
	logger := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := confluence.New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	r.fixture = &fixture{site: s, client: client, seeds: seeds,
		topics: schema.NewTopics(kafkatest.TopicName(t, "fault") + ".")}
	r.ensureTopics(t, 1<<20)
	return r
}

func (r *faultRig) onWait(reason string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, reportedWait{Reason: reason, At: r.clk.Now().Sub(faultEpoch), D: d})
}

func (r *faultRig) reportedWaits() []reportedWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.waits)
}

// crawl runs one Crawl of the site with a producer that crawls one space
// at a time, so that the site sees one request at a time and recorded times
// are ordered.
func (r *faultRig) crawl(t *testing.T, tweak func(*producer.Config)) (*producer.Producer, producer.Result, error) {
	t.Helper()
	return r.crawlFrom(t, r.client, tweak)
}

// crawlFrom is crawl reading through src.
func (r *faultRig) crawlFrom(t *testing.T, src producer.Source, tweak func(*producer.Config)) (*producer.Producer, producer.Result, error) {
	t.Helper()
	p := r.newProducer(t, src, tweak)
	ctx, cancel := context.WithTimeout(t.Context(), crawlGuard)
	defer cancel()
	res, err := p.Crawl(ctx)
	return p, res, err
}

// newProducer returns a producer of src, closed when the test ends.
func (r *faultRig) newProducer(t *testing.T, src producer.Source, tweak func(*producer.Config)) *producer.Producer {
	t.Helper()
	cfg := producer.Config{Brokers: r.seeds, Topics: r.topics, TransactionEvents: 300, SpaceConcurrency: 1}
	if tweak != nil {
		tweak(&cfg)
	}
	logger := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := producer.New(cfg, src, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// crawlGuard bounds a crawl in real time. It turns a hang into a failure and
// asserts nothing about speed.
const crawlGuard = 2 * time.Minute

// checkExact fails the test unless the committed topics hold every entity
// of the site once (published fails on an event committed twice).
func (r *faultRig) checkExact(t *testing.T) {
	t.Helper()
	r.site.ClearFaults()
	if got, want := r.count(t), r.wantCounts(t); got != want {
		t.Errorf("committed %+v, want %+v", got, want)
	}
}

// listing returns the first-page URL of a space's page listing, as the
// client asks for it.
func (r *faultRig) listing(spaceID string) string {
	return "/wiki/api/v2/spaces/" + spaceID + "/pages"
}

// logSink is a log sink safe for concurrent writers.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// attemptGaps returns the fake time between consecutive attempts.
func attemptGaps(as []sentAttempt) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(as); i++ {
		out = append(out, as[i].At-as[i-1].At)
	}
	return out
}

// pageSpace returns the space of a page event.
func pageSpace(t *testing.T, ev schema.Event) string {
	t.Helper()
	p, err := schema.Decode[schema.Page](ev)
	if err != nil {
		t.Fatal(err)
	}
	return p.SpaceID
}

// countLogs counts the log lines with message msg that contain every one
// of parts.
func (r *faultRig) countLogs(msg string, parts ...string) int {
	n := 0
	for _, line := range strings.Split(r.logs.String(), "\n") {
		if !strings.Contains(line, `"msg":"`+msg+`"`) {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// eventCounts reads the committed entity topics and returns how many times
// each event id was published, and how many distinct entities each topic
// holds. Unlike published, it allows duplicates.
func (r *faultRig) eventCounts(t *testing.T) (map[string]int, counts) {
	t.Helper()
	ids := map[string]int{}
	var c counts
	for _, topic := range r.topics.Entities() {
		keys := map[string]bool{}
		err := broker.ReadCommitted(t.Context(), []kgo.Opt{kgo.SeedBrokers(r.seeds...)}, topic, func(rec *kgo.Record) error {
			ev, err := schema.ParseRecord(rec)
			if err != nil {
				return err
			}
			ids[ev.ID]++
			keys[string(rec.Key)] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		switch topic {
		case r.topics.Users:
			c.users = len(keys)
		case r.topics.Spaces:
			c.spaces = len(keys)
		default:
			c.pages = len(keys) // pages and blog posts together
		}
	}
	return ids, c
}
