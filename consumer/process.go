package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
)

// Headers added to a dead-lettered record, after the original ones.
const (
	HeaderDLQError     = "dlq_error"     // the last error
	HeaderDLQTopic     = "dlq_topic"     // the record's topic
	HeaderDLQPartition = "dlq_partition" // its partition, in decimal
	HeaderDLQOffset    = "dlq_offset"    // its offset, in decimal
)

// process handles every partition of one poll, stopping at the first error.
func (r *run) process(fs kgo.Fetches) error {
	var err error
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if err != nil || len(p.Records) == 0 {
			return
		}
		log := r.logger(p.Topic, p.Partition)
		if r.c.batch != nil {
			err = r.batches(log, p.Records)
			return
		}
		for _, rec := range p.Records {
			if err = r.single(log, rec); err != nil {
				return
			}
			r.done(rec)
		}
	})
	return err
}

// done marks rec as handled: committable, and consumed for StopAtEnd.
func (r *run) done(rec *kgo.Record) {
	r.cl.MarkCommitRecords(rec)
	r.end.consumed(rec)
}

// single handles one record with its Handler.
func (r *run) single(log *slog.Logger, rec *kgo.Record) error {
	if rec.Attrs.IsControl() {
		return nil
	}
	ev, err := schema.ParseRecord(rec)
	if err != nil {
		return r.deadLetter(log, rec, err)
	}
	h := r.c.handlerFor(ev.Type)
	if h == nil {
		log.Debug("event skipped", "offset", rec.Offset, "type", ev.Type)
		return nil
	}
	err = r.retry(log, rec.Offset, func(ctx context.Context) error { return h(ctx, ev) })
	if err == nil || errors.Is(err, errStopped) {
		return err
	}
	return r.deadLetter(log, rec, err)
}

// batches handles the records of one partition poll with the BatchHandler:
// the runs of CloudEvents between records that are not one, in order.
func (r *run) batches(log *slog.Logger, recs []*kgo.Record) error {
	var b batch
	for _, rec := range recs {
		if rec.Attrs.IsControl() {
			b.recs = append(b.recs, rec)
			continue
		}
		ev, err := schema.ParseRecord(rec)
		if err == nil {
			b.add(rec, ev)
			continue
		}
		if err := r.batch(log, b); err != nil {
			return err
		}
		b = batch{}
		if err := r.deadLetter(log, rec, err); err != nil {
			return err
		}
		r.done(rec)
	}
	return r.batch(log, b)
}

// batch is a run of records, and the events of those that are not control
// records.
type batch struct {
	recs []*kgo.Record
	evs  []schema.Event
}

func (b *batch) add(rec *kgo.Record, ev schema.Event) {
	b.recs = append(b.recs, rec)
	b.evs = append(b.evs, ev)
}

// batch hands b to the BatchHandler. When it keeps failing and there is a
// dead-letter topic, it hands over the events one by one instead, so that
// only those that fail alone are dead-lettered.
func (r *run) batch(log *slog.Logger, b batch) error {
	if len(b.recs) == 0 {
		return nil
	}
	last := b.recs[len(b.recs)-1]
	if len(b.evs) == 0 {
		r.done(last)
		return nil
	}

	first := b.recs[0].Offset
	err := r.retry(log, first, func(ctx context.Context) error { return r.c.batch(ctx, b.evs) })
	switch {
	case err == nil:
		r.done(last)
		return nil
	case errors.Is(err, errStopped):
		return err
	case r.c.cfg.DeadLetterTopic == "":
		return fmt.Errorf("handle batch %s/%d@%d-%d: %w", last.Topic, last.Partition, first, last.Offset, err)
	}
	log.Warn("batch failed, handling its events one by one", "offset", first, "records", len(b.recs), "err", err)
	return r.isolate(log, b)
}

// isolate hands the events of b to the BatchHandler one per call.
func (r *run) isolate(log *slog.Logger, b batch) error {
	i := 0
	for _, rec := range b.recs {
		if rec.Attrs.IsControl() {
			r.done(rec)
			continue
		}
		evs := b.evs[i : i+1]
		i++
		err := r.retry(log, rec.Offset, func(ctx context.Context) error { return r.c.batch(ctx, evs) })
		if errors.Is(err, errStopped) {
			return err
		}
		if err != nil {
			if err := r.deadLetter(log, rec, err); err != nil {
				return err
			}
		}
		r.done(rec)
	}
	return nil
}

// retry calls fn until it returns nil, a Permanent error or its last
// attempt's error. It returns errStopped when Run's context has ended before
// the first attempt or ends before a retry.
func (r *run) retry(log *slog.Logger, offset int64, fn func(context.Context) error) error {
	cfg := r.c.cfg
	if r.ctx.Err() != nil {
		// Shutdown: the rest of the poll stays unhandled and uncommitted.
		return errStopped
	}
	for attempt := 1; ; attempt++ {
		err := fn(r.hctx)
		switch {
		case err == nil:
			return nil
		case r.ctx.Err() != nil:
			// A failure during shutdown may be the shutdown itself: leave
			// the record for the next member instead of dead-lettering it.
			return errStopped
		case isPermanent(err) || attempt >= cfg.MaxAttempts:
			return err
		}

		wait := backoff(cfg.BackoffBase, cfg.BackoffMax, attempt)
		log.Warn("handler failed, retrying", "offset", offset, "attempt", attempt, "wait", wait, "err", err)
		if sleep(r.ctx, wait) != nil {
			return errStopped
		}
	}
}

// deadLetter writes rec to the dead-letter topic with the reason it failed,
// or returns the failure as fatal when there is no such topic.
func (r *run) deadLetter(log *slog.Logger, rec *kgo.Record, cause error) error {
	topic := r.c.cfg.DeadLetterTopic
	if topic == "" {
		return fmt.Errorf("handle %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, cause)
	}
	if err := r.cl.ProduceSync(r.hctx, deadLetterRecord(topic, rec, cause)).FirstErr(); err != nil {
		return fmt.Errorf("dead-letter %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	// A person has to look at the dead-letter topic: hence Error.
	log.Error("event dead-lettered", "offset", rec.Offset, "dlq_topic", topic, "err", cause)
	return nil
}

// deadLetterRecord copies rec for the dead-letter topic and adds the dlq_*
// headers.
func deadLetterRecord(topic string, rec *kgo.Record, cause error) *kgo.Record {
	headers := make([]kgo.RecordHeader, 0, len(rec.Headers)+4)
	headers = append(headers, rec.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderDLQError, Value: []byte(cause.Error())},
		kgo.RecordHeader{Key: HeaderDLQTopic, Value: []byte(rec.Topic)},
		kgo.RecordHeader{Key: HeaderDLQPartition, Value: strconv.AppendInt(nil, int64(rec.Partition), 10)},
		kgo.RecordHeader{Key: HeaderDLQOffset, Value: strconv.AppendInt(nil, rec.Offset, 10)},
	)
	return &kgo.Record{Topic: topic, Key: rec.Key, Value: rec.Value, Headers: headers}
}

// backoff returns the wait after the given failed attempt (1 for the
// first): uniformly random below min(ceiling, base*2^(attempt-1)).
func backoff(base, ceiling time.Duration, attempt int) time.Duration {
	limit := ceiling
	if shift := attempt - 1; shift < 62 && base<<shift > 0 && base<<shift < ceiling {
		limit = base << shift
	}
	if limit <= 0 {
		return 0
	}
	return rand.N(limit)
}

// sleep waits for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
