package producer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

var kafkaFaultSite = confluencesim.Config{Seed: 5, Spaces: 5, Pages: 400, BlogPosts: 25, Users: 40}

// stalling hands over the first after listing pages and then blocks until
// its context ends, like a process that stopped making progress.
type stalling struct {
	producer.Source
	after int
	pages atomic.Int32
}

func (s *stalling) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	return s.Source.ListSpacePages(ctx, spaceID, from, func(b []confluence.Page, next string) error {
		if int(s.pages.Add(1)) > s.after {
			<-ctx.Done()
			return ctx.Err()
		}
		return fn(b, next)
	})
}

// Regression test: a restarted producer read its checkpoint before fencing
// its predecessor, so a commit the coordinator was still completing for the
// predecessor (a real broker answers CONCURRENT_TRANSACTIONS meanwhile) was
// missing from the checkpoint, and the restart published that batch again.
func TestRestartSeesTheCommitItsPredecessorLeftInFlight(t *testing.T) {
	t.Parallel()
	cluster := kafkatest.Fake(t)
	r := newFaultRigOn(t, cluster.ListenAddrs(), kafkaFaultSite)

	const heldCommit = 2 // the zombie's second commit is in flight when it dies
	held, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	cluster.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !req.(*kmsg.EndTxnRequest).Commit || commits.Add(1) != heldCommit {
			return nil, nil, false
		}
		close(held)
		cluster.SleepControl(func() { <-release })
		return nil, nil, false
	})

	zombieCtx, stopZombie := context.WithCancel(t.Context())
	zombie := r.newProducer(t, &stalling{Source: r.client, after: 3}, nil)
	zombieDone := make(chan error, 1)
	go func() {
		_, err := zombie.Crawl(zombieCtx)
		zombieDone <- err
	}()
	<-held

	// Like a real coordinator, answer the successor's InitProducerID with
	// CONCURRENT_TRANSACTIONS until the held commit has completed.
	var releaseOnce sync.Once
	cluster.ControlKey(int16(kmsg.InitProducerID), func(req kmsg.Request) (kmsg.Response, error, bool) {
		releaseOnce.Do(func() { close(release) })
		if zombie.Stats().Transactions.Load() >= heldCommit {
			return nil, nil, false
		}
		cluster.KeepControl()
		resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ErrorCode = kerr.ConcurrentTransactions.Code
		return resp, nil, true
	})

	_, res, err := r.crawl(t, nil)
	stopZombie()
	<-zombieDone
	if err != nil || !res.Resumed {
		t.Fatalf("Crawl() after the zombie = resumed %v, %v; want a resumed crawl", res.Resumed, err)
	}
	r.checkExact(t)
}

// netSwitch dials the brokers and can cut every connection to them, as a
// broker that goes away and comes back: while it is down, dials are refused
// and open connections fail as if the broker had closed them.
type netSwitch struct {
	mu    sync.Mutex
	down  bool
	conns []*switchedConn
	dials atomic.Int32 // dials refused while down
}

func (s *netSwitch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	sc := &switchedConn{Conn: c}
	s.conns = append(s.conns, sc)
	return sc, nil
}

// cut breaks every connection and refuses new ones.
func (s *netSwitch) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
	for _, c := range s.conns {
		c.cut.Store(true)
		_ = c.Conn.Close() // the point is to break it
	}
	s.conns = nil
}

func (s *netSwitch) restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = false
}

// switchedConn reports a cut as the peer closing the connection, not as
// this side closing it.
type switchedConn struct {
	net.Conn
	cut atomic.Bool
}

func (c *switchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.cut.Load() {
		err = io.EOF
	}
	return n, err
}

func (c *switchedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil && c.cut.Load() {
		err = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}
	}
	return n, err
}

// cutting cuts the network when the crawl has read a number of listing
// pages, before the page reaches the publisher.
type cutting struct {
	producer.Source
	after int
	cut   func()
	pages atomic.Int32
}

func (s *cutting) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	return s.Source.ListSpacePages(ctx, spaceID, from, func(b []confluence.Page, next string) error {
		if int(s.pages.Add(1)) == s.after {
			s.cut()
		}
		return fn(b, next)
	})
}

// TestBrokerGoneMidCrawlResumesWithoutLoss cuts every connection to the
// brokers, and refuses new ones, for a few seconds in the middle of the
// crawl. The Kafka client gives up within that time (its retry and delivery
// timeouts are shortened), so whether the client's own retries or Crawl's
// resumption from the checkpoint bridge the outage depends on where it hits;
// either way the crawl must finish with every entity once.
func TestBrokerGoneMidCrawlResumesWithoutLoss(t *testing.T) {
	t.Parallel()
	const outage = 4 * time.Second
	r := newFaultRig(t, kafkaFaultSite)
	sw := &netSwitch{}
	var restored sync.WaitGroup
	src := &cutting{Source: r.client, after: 3, cut: func() {
		sw.cut()
		restored.Go(func() {
			timer := time.NewTimer(outage)
			defer timer.Stop()
			<-timer.C
			sw.restore()
		})
	}}
	p, _, err := r.crawlFrom(t, src, func(c *producer.Config) {
		c.ClientOptions = []kgo.Opt{kgo.Dialer(sw.dial),
			kgo.RetryTimeout(time.Second), kgo.RecordDeliveryTimeout(2 * time.Second)}
	})
	restored.Wait()
	if err != nil {
		t.Fatalf("Crawl() with the broker gone for %v = %v, want it to wait and finish", outage, err)
	}
	if sw.dials.Load() == 0 {
		t.Errorf("no dial was refused: the outage did not happen during the crawl")
	}
	r.checkExact(t)
	t.Logf("outage %v: %d dials refused, %d transactions, crawl resumed %d times from its checkpoint",
		outage, sw.dials.Load(), p.Stats().Transactions.Load(), r.countLogs("kafka unavailable, crawl resumes from its checkpoint"))
}

// TestCommitFailureResumesFromCheckpoint makes the coordinator refuse to end
// transactions a few times, more than the Kafka client retries on its own:
// Crawl must abort, wait and resume from the committed checkpoint.
func TestCommitFailureResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	cluster := kafkatest.Fake(t)
	r := newFaultRigOn(t, cluster.ListenAddrs(), kafkaFaultSite)
	const refusals = 2
	cluster.Fault(kfake.Fault{
		Keys:  []kmsg.Key{kmsg.EndTxn},
		Err:   kerr.CoordinatorNotAvailable,
		Count: refusals,
	})
	p, _, err := r.crawl(t, func(c *producer.Config) {
		c.ClientOptions = []kgo.Opt{kgo.RequestRetries(1)}
	})
	if err != nil {
		t.Fatalf("Crawl() with %d refused transaction ends = %v, want it to resume and finish", refusals, err)
	}
	resumes := r.countLogs("kafka unavailable, crawl resumes from its checkpoint")
	if resumes == 0 {
		t.Errorf("Crawl() finished without resuming from its checkpoint; want at least one resume")
	}
	r.checkExact(t)
	t.Logf("%d transactions committed, crawl resumed %d times", p.Stats().Transactions.Load(), resumes)
}

// TestMissingTopicStopsTheCrawlNamingIt: with automatic topic creation off
// (kfake here, and the CI broker), a topic the producer needs and nobody
// created stops the crawl with an error naming it, instead of a retry loop.
// The commands create their topics at start; this is the library used alone.
func TestMissingTopicStopsTheCrawlNamingIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		missing func(*schema.Topics) string
	}{
		{"pages", func(ts *schema.Topics) string { ts.Pages += ".missing"; return ts.Pages }},
		{"state", func(ts *schema.Topics) string { ts.State += ".missing"; return ts.State }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, kafkaFaultSite)
			topics := r.topics
			name := tc.missing(&topics)
			_, _, err := r.crawl(t, func(c *producer.Config) { c.Topics = topics })
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("Crawl() with topic %s missing = %v, want an error naming it", name, err)
			}
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Errorf("Crawl() error = %v, want UNKNOWN_TOPIC_OR_PARTITION in its chain", err)
			}
			if n := r.countLogs("kafka unavailable, crawl resumes from its checkpoint"); n != 0 {
				t.Errorf("Crawl() waited %d times for a missing topic, want it to stop at once", n)
			}
		})
	}
}
