package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
)

// batch is a unit of crawl output: the events read from one listing page and
// the change to the checkpoint that covers them. The publisher commits both in
// the same transaction, or neither.
type batch struct {
	events []outgoing
	update func(*Checkpoint)
}

type outgoing struct {
	topic    string
	msg      schema.Message
	blogPost bool // a page event of kind blogpost
	degraded bool // a page event published without its body
}

// publisher owns the transactional client and the checkpoint being committed.
// It is the only goroutine that produces, so transactions never overlap.
type publisher struct {
	cl         *kgo.Client
	stateTopic string
	maxEvents  int
	checkpoint *Checkpoint
	stats      *Stats
	logger     *slog.Logger
}

// run commits batches from in until in is closed, grouping batches that are
// already waiting into one transaction of at most maxEvents events.
func (p *publisher) run(ctx context.Context, in <-chan batch) error {
	for {
		var first batch
		var ok bool
		select {
		case first, ok = <-in:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := p.commit(ctx, p.gather(first, in)); err != nil {
			return fromKafka(err)
		}
	}
}

// gather takes first and every batch already waiting, up to maxEvents events.
func (p *publisher) gather(first batch, in <-chan batch) []batch {
	group := []batch{first}
	n := len(first.events)
	for n < p.maxEvents {
		select {
		case b, ok := <-in:
			if !ok {
				return group
			}
			group = append(group, b)
			n += len(b.events)
		default:
			return group
		}
	}
	return group
}

// commit publishes the events of group and the checkpoint after them in one
// transaction. On any error the transaction is aborted and the checkpoint
// stays as it was committed last.
func (p *publisher) commit(ctx context.Context, group []batch) error {
	next := p.checkpoint.clone()
	for _, b := range group {
		if b.update != nil {
			b.update(next)
		}
	}
	state, err := next.record(p.stateTopic)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// Once begun, a transaction runs to its end on its own deadline: a
	// cancellation in the middle of Flush or EndTransaction left the outcome
	// of the commit unknown to this producer, and a resumed crawl then
	// published a committed batch a second time (seen in
	// TestCrawlResumesAfterInterruptionWithoutDuplicates under -race).
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	deliveryErr := p.produceAll(txCtx, group, state)
	flushErr := p.cl.Flush(txCtx)
	if err := errors.Join(flushErr, deliveryErr()); err != nil {
		p.abort()
		return fmt.Errorf("publish %d batches: %w", len(group), err)
	}
	if err := p.cl.EndTransaction(txCtx, kgo.TryCommit); err != nil {
		p.abort()
		return fmt.Errorf("commit transaction: %w", err)
	}
	p.checkpoint = next
	p.count(group)
	return nil
}

// produceAll produces every record of group and the state record, and returns
// a function that reports the first delivery error once all were flushed.
func (p *publisher) produceAll(ctx context.Context, group []batch, state *kgo.Record) func() error {
	var mu sync.Mutex
	var first error
	done := func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = fmt.Errorf("produce to %s key %s: %w", r.Topic, r.Key, err)
		}
	}
	for _, b := range group {
		for _, e := range b.events {
			p.cl.Produce(ctx, e.msg.Record(e.topic), done)
		}
	}
	p.cl.Produce(ctx, state, done)
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
}

// abort ends the open transaction without committing. It runs on its own
// deadline: the crawl's context may be what was cancelled.
func (p *publisher) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.AbortBufferedRecords(ctx); err != nil {
		p.logger.Warn("abort buffered records", "err", err)
	}
	if err := p.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		p.logger.Warn("abort transaction", "err", err)
	}
}

func (p *publisher) count(group []batch) {
	p.stats.Transactions.Add(1)
	for _, b := range group {
		for _, e := range b.events {
			p.stats.add(e)
		}
	}
}
