package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// errStopped ends processing because Run's context ended: the current record
// is left uncommitted for the next member to handle.
var errStopped = errors.New("consumer stopped")

// run is the state of one Run call.
type run struct {
	c  *Consumer
	cl *kgo.Client

	// ctx is Run's context: it stops polling and retry waits. hctx outlives
	// it by ShutdownTimeout and is what handlers, dead-lettering and the
	// commits get, so in-flight work can finish after a shutdown request.
	ctx, hctx context.Context

	end *endOffsets // nil unless StopAtEnd
}

// Run joins the group and handles events until ctx ends, StopAtEnd is
// reached or a fatal error happens, then commits what was handled, leaves
// the group and returns. It blocks meanwhile. It returns nil after a
// shutdown through ctx and at StopAtEnd; fatal errors are a handler failure
// without a DeadLetterTopic, a failed dead-letter write and authorization
// failures.
//
// On shutdown Run stops polling, lets the in-flight handler finish (its
// context ends only after ShutdownTimeout), commits, and leaves the group.
// A record whose retries were interrupted stays uncommitted.
//
// Run may be called again after it returned, but not concurrently.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.start(); err != nil {
		return err
	}
	defer c.stop()

	cl, err := kgo.NewClient(c.clientOptions()...)
	if err != nil {
		return fmt.Errorf("consumer run: %w", err)
	}
	hctx, cancel := drainContext(ctx, c.cfg.ShutdownTimeout)
	defer cancel()

	r := &run{c: c, cl: cl, ctx: ctx, hctx: hctx}
	defer r.close()

	if c.cfg.StopAtEnd {
		if r.end, err = listEnds(ctx, cl, c.cfg.Group, c.cfg.Topics); err != nil {
			return err
		}
	}
	c.log.Info("consumer started", "topics", c.cfg.Topics)
	return r.loop()
}

// clientOptions returns the franz-go options: the guarantees first, the
// caller's options last.
func (c *Consumer) clientOptions() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.cfg.Brokers...),
		kgo.WithLogger(kslog.New(c.log)),
		kgo.ConsumerGroup(c.cfg.Group),
		kgo.ConsumeTopics(c.cfg.Topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers come back as control records so that their
		// offsets count as consumed: without them a partition whose last
		// record is a commit marker never looks finished to StopAtEnd, and
		// its committed offset lags one behind the end.
		kgo.KeepControlRecords(),
		// No rebalance while a poll is being handled, so a commit never
		// lands on a partition this member no longer owns.
		kgo.BlockRebalanceOnPoll(),
		// Only offsets marked after a handler succeeded are committed, by
		// the background autocommit, after each poll and on revocation.
		kgo.AutoCommitMarks(),
		kgo.OnPartitionsRevoked(c.onRevoked),
		kgo.OnPartitionsLost(c.onLost),
	}
	return append(opts, c.cfg.ClientOptions...)
}

func (c *Consumer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		c.log.Warn("commit on revoke failed", "err", err)
	}
	c.log.Info("partitions revoked", "partitions", revoked)
}

func (c *Consumer) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	// The group moved on without us: a commit now would be refused, and the
	// new owner re-handles from the last commit.
	c.log.Warn("partitions lost", "partitions", lost)
}

// loop polls and handles until it is time to stop.
func (r *run) loop() error {
	for !r.end.reached() {
		fetches := r.cl.PollRecords(r.ctx, r.c.cfg.BatchSize)
		if r.ctx.Err() != nil {
			// Records polled together with the shutdown stay unhandled and
			// uncommitted.
			r.cl.AllowRebalance()
			return nil
		}

		err := r.fetchError(fetches)
		if err == nil {
			err = r.process(fetches)
		}
		r.commit()
		r.cl.AllowRebalance()
		if errors.Is(err, errStopped) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	r.c.log.Info("end offsets reached")
	return nil
}

// fetchError returns the first fatal error of fs and logs the others.
func (r *run) fetchError(fs kgo.Fetches) error {
	var fatal error
	fs.EachError(func(topic string, partition int32, err error) {
		switch {
		case fatal != nil:
		case errors.Is(err, context.Canceled), errors.Is(err, kgo.ErrClientClosed):
			fatal = errStopped
		case isAuthError(err):
			fatal = fmt.Errorf("fetch %s/%d: %w", topic, partition, err)
		default:
			// Anything else is retried inside the client, or is data loss
			// that the client already recovered from by resetting.
			r.c.log.Warn("fetch failed", "topic", topic, "partition", partition, "err", err)
		}
	})
	return fatal
}

func isAuthError(err error) bool {
	return errors.Is(err, kerr.TopicAuthorizationFailed) ||
		errors.Is(err, kerr.GroupAuthorizationFailed) ||
		errors.Is(err, kerr.ClusterAuthorizationFailed) ||
		errors.Is(err, kerr.SaslAuthenticationFailed)
}

// commit commits the offsets marked so far. A failure is not fatal: the
// marks stay and the next commit, background or explicit, retries them;
// if the partitions moved, their new owner re-handles from the last commit.
func (r *run) commit() {
	if err := r.cl.CommitMarkedOffsets(r.hctx); err != nil {
		r.c.log.Warn("commit failed", "err", err)
	}
}

// close commits, leaves the group and closes the client, bounded by
// ShutdownTimeout.
func (r *run) close() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.c.cfg.ShutdownTimeout)
	defer cancel()

	r.commit()
	r.cl.AllowRebalance()
	if err := r.cl.LeaveGroupContext(ctx); err != nil {
		r.c.log.Warn("leave group failed", "err", err)
	}
	r.cl.Close()
	r.c.log.Info("consumer stopped")
}

// drainContext returns a context that ends grace after ctx ends, or when
// the returned cancel is called.
func drainContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))

	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, cancel)
	})
	return dctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// handlerFor returns the handler of a ce_type, the "*" handler, or nil.
func (c *Consumer) handlerFor(ceType string) Handler {
	if h, ok := c.handlers[ceType]; ok {
		return h
	}
	return c.handlers["*"]
}

// logger returns the logger of one partition.
func (r *run) logger(topic string, partition int32) *slog.Logger {
	return r.c.log.With("topic", topic, "partition", partition)
}
