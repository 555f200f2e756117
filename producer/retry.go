package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Backoff between two attempts of a crawl that Kafka interrupted.
const (
	kafkaBackoffBase = time.Second
	kafkaBackoffMax  = 10 * time.Second
)

// Crawl runs one full crawl of the site: it resumes the site's last
// checkpoint if that crawl did not complete, and starts a new one otherwise.
// It returns when every space was crawled or skipped and the last transaction
// committed, or with the first error that stops the run, such as
// confluence.ErrUnauthorized. Whatever it committed before an error stays
// committed, and the next Crawl resumes after it.
//
// Kafka being unavailable does not stop the run: when the brokers cannot be
// reached or a transaction cannot commit, Crawl aborts what it had not
// committed, waits (1s, doubling up to 10s, logged at warn level each time)
// and resumes from the committed checkpoint once Kafka answers again, so
// nothing is lost and nothing is published twice. Errors Kafka will keep
// returning (a missing topic, a fenced producer, a denied ACL) stop it.
func (p *Producer) Crawl(ctx context.Context) (Result, error) {
	for attempt := 1; ; attempt++ {
		res, err := p.crawlOnce(ctx)
		if err == nil || ctx.Err() != nil || !kafkaUnavailable(err) {
			return res, err
		}
		wait := min(kafkaBackoffMax, kafkaBackoffBase<<min(attempt-1, 10))
		p.logger.Warn("kafka unavailable, crawl resumes from its checkpoint",
			"attempt", attempt, "wait", wait, "err", err)
		if err := pause(ctx, wait); err != nil {
			return res, err
		}
		// A commit that failed may have left the client's transaction open
		// or its outcome unconfirmed; aborting resets both (by bumping the
		// epoch when needed) before the checkpoint is read again.
		if err := p.cl.AbortBufferedRecords(ctx); err != nil {
			continue // still unavailable: the next attempt fails and waits again
		}
		if err := p.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
			p.logger.Debug("abort before resuming", "err", err)
		}
	}
}

// kafkaError marks an error that came from Kafka rather than Confluence.
type kafkaError struct{ err error }

func (e *kafkaError) Error() string { return e.err.Error() }
func (e *kafkaError) Unwrap() error { return e.err }

// fromKafka marks err, if any, as coming from Kafka.
func fromKafka(err error) error {
	if err == nil {
		return nil
	}
	return &kafkaError{err: err}
}

// kafkaUnavailable reports whether err came from Kafka and is worth waiting
// out: the network, a broker or coordinator that is away or moving, a
// transaction the broker timed out or could not confirm.
func kafkaUnavailable(err error) bool {
	var ke *kafkaError
	if !errors.As(err, &ke) {
		return false
	}
	switch {
	case errors.Is(err, context.Canceled),
		errors.Is(err, kerr.UnknownTopicOrPartition), // missing topic: waiting will not create it
		errors.Is(err, kerr.MessageTooLarge),
		errors.Is(err, kerr.RecordListTooLarge):
		return false
	case errors.Is(err, kerr.OperationNotAttempted),
		errors.Is(err, kerr.TransactionAbortable),
		errors.Is(err, kerr.InvalidProducerIDMapping),
		errors.Is(err, kerr.UnknownProducerID),
		errors.Is(err, kgo.ErrRecordTimeout),
		errors.Is(err, kgo.ErrRecordRetries),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	if kerr.IsRetriable(err) {
		return true
	}
	var ne net.Error
	var op *net.OpError
	return errors.As(err, &ne) || errors.As(err, &op)
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fence makes this producer the site's only one before anything is read:
// the coordinator first finishes the transaction the previous producer may
// have left, committing one whose commit it had begun and aborting any
// other. A checkpoint read before that could miss a commit still being
// completed, and the crawl would publish that batch a second time.
func (p *Producer) fence(ctx context.Context) error {
	if _, _, err := p.cl.ProducerID(ctx); err != nil {
		return fromKafka(fmt.Errorf("init transactional id %s: %w", p.cfg.TransactionalID, err))
	}
	return nil
}
