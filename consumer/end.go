package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// endOffsets tracks, for StopAtEnd, how far each partition must be consumed
// and how far it has been. A nil *endOffsets never reaches its end.
type endOffsets struct {
	end  map[topicPartition]int64 // last stable offset listed at start
	next map[topicPartition]int64 // next offset to handle
}

type topicPartition struct {
	topic     string
	partition int32
}

// listEnds lists the last stable offsets of topics and the group's
// committed offsets.
//
// TODO(#2): a partition whose tail records were compacted away (a tombstone
// purged after delete.retention.ms) ends before its listed end offset, and
// Run then waits for new records. Acceptable for now: the producer writes
// transactionally, so a partition ends with a commit marker that compaction
// keeps while the producer's state is retained.
func listEnds(ctx context.Context, cl *kgo.Client, group string, topics []string) (*endOffsets, error) {
	adm := kadm.NewClient(cl)
	for attempt := 1; ; attempt++ {
		e, err := fetchEnds(ctx, adm, group, topics)
		// A new cluster answers COORDINATOR_NOT_AVAILABLE until its offsets
		// topic exists, and a new topic may not have a leader yet. A missing
		// topic is a configuration error: no reason to wait for it.
		retry := kerr.IsRetriable(err) && !errors.Is(err, kerr.UnknownTopicOrPartition)
		if err == nil || !retry || attempt == listAttempts {
			return e, err
		}
		if err := sleep(ctx, backoff(listBackoff, 10*listBackoff, attempt)); err != nil {
			return nil, err
		}
	}
}

// How often and how patiently listEnds retries retriable errors.
const (
	listAttempts = 20
	listBackoff  = 100 * time.Millisecond
)

func fetchEnds(ctx context.Context, adm *kadm.Client, group string, topics []string) (*endOffsets, error) {
	listed, err := adm.ListCommittedOffsets(ctx, topics...)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %v: %w", topics, err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	// A group that never committed may not exist yet (kfake says so; Kafka
	// answers with no offsets): either way nothing is consumed.
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}

	e := &endOffsets{end: make(map[topicPartition]int64), next: make(map[topicPartition]int64)}
	listed.Each(func(o kadm.ListedOffset) {
		tp := topicPartition{o.Topic, o.Partition}
		e.end[tp] = o.Offset
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.At > 0 {
			e.next[tp] = c.At
		}
	})
	return e, nil
}

// consumed records that rec was handled.
func (e *endOffsets) consumed(rec *kgo.Record) {
	if e == nil {
		return
	}
	tp := topicPartition{rec.Topic, rec.Partition}
	e.next[tp] = max(e.next[tp], rec.Offset+1)
}

// reached reports whether every partition was consumed to its end.
func (e *endOffsets) reached() bool {
	if e == nil {
		return false
	}
	for tp, end := range e.end {
		if e.next[tp] < end {
			return false
		}
	}
	return true
}
