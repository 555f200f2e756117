package metrics

import (
	"context"
	"log/slog"
)

// Messages the consumer package logs when a handler attempt fails and when
// it dead-letters an event. TestConsumerLogsAreCounted pins them against the
// real consumer, so a rename fails a test instead of silently zeroing the
// metrics.
const (
	msgHandlerRetry = "handler failed, retrying"
	msgBatchFailed  = "batch failed, handling its events one by one"
	msgDeadLettered = "event dead-lettered"
)

// ConsumerLogs wraps h, the handler of the logger given to the consumer (or
// the indexer), to count failed handler attempts and dead-lettered events
// from the consumer's own log records, labelled with their group attribute.
// Every record still reaches h.
//
// TODO(#6): a hook in consumer.Config would be sturdier than reading log
// messages; the consumer package has none yet, and the test above keeps
// the coupling honest meanwhile.
func (m *Metrics) ConsumerLogs(h slog.Handler) slog.Handler {
	return consumerLogs{next: h, m: m}
}

type consumerLogs struct {
	next  slog.Handler
	m     *Metrics
	group string
}

var _ slog.Handler = consumerLogs{}

// Enabled is true for warnings and above whatever h's level, so that the
// counts do not depend on the log level.
func (c consumerLogs) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || c.next.Enabled(ctx, l)
}

func (c consumerLogs) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case msgHandlerRetry, msgBatchFailed:
		c.m.failures.WithLabelValues(c.group).Inc()
	case msgDeadLettered:
		// The attempt that led here failed too, without a log record of its own.
		c.m.failures.WithLabelValues(c.group).Inc()
		c.m.deadLetter.WithLabelValues(c.group).Inc()
	}
	if !c.next.Enabled(ctx, r.Level) {
		return nil
	}
	return c.next.Handle(ctx, r)
}

func (c consumerLogs) WithAttrs(attrs []slog.Attr) slog.Handler {
	for _, a := range attrs {
		if a.Key == "group" {
			c.group = a.Value.String()
		}
	}
	c.next = c.next.WithAttrs(attrs)
	return c
}

func (c consumerLogs) WithGroup(name string) slog.Handler {
	c.next = c.next.WithGroup(name)
	return c
}
