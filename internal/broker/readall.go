package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadCommitted calls fn with every committed record of topic, from the start
// of each partition to its last stable offset at the time of the call, in
// offset order per partition. It returns once all of them were seen.
//
// The end is found by keeping control records: a transaction's commit marker
// takes the last offset before the stable end, so counting only data records
// would wait forever after an aborted or committed transaction.
func ReadCommitted(ctx context.Context, opts []kgo.Opt, topic string, fn func(*kgo.Record) error) error {
	ends, err := committedEnds(ctx, opts, topic)
	if err != nil {
		return err
	}
	if len(ends) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: startOffsets(ends)}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	for len(ends) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		for _, r := range fetches.Records() {
			if r.Offset >= ends[r.Partition]-1 {
				delete(ends, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// committedEnds returns the last stable offset of each non-empty partition.
func committedEnds(ctx context.Context, opts []kgo.Opt, topic string) (map[int32]int64, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = lso.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list stable offsets of %s: %w", topic, err)
	}
	ends := map[int32]int64{}
	lso.Each(func(o kadm.ListedOffset) {
		start, _ := starts.Lookup(topic, o.Partition)
		if o.Offset > start.Offset {
			ends[o.Partition] = o.Offset
		}
	})
	return ends, nil
}

func startOffsets(ends map[int32]int64) map[int32]kgo.Offset {
	m := make(map[int32]kgo.Offset, len(ends))
	for p := range ends {
		m[p] = kgo.NewOffset().AtStart()
	}
	return m
}
