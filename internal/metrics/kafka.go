package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/parable/confluence-kafka/internal/status"
)

// KafkaHooks returns the option that adds franz-go's client metrics (kprom)
// to the clients built with it, labelled client=role and site=site (site is
// empty for the indexer and other clients of no one site). Each call must
// have a different role and site pair.
//
// One kprom instance registers its collectors for one client. The options a
// producer or consumer is given are also used for its short-lived helper
// clients (reading checkpoints, listing offsets), so the instance follows
// the first client only; the helpers' broker traffic still counts, as the
// same role's.
func (m *Metrics) KafkaHooks(role, site string) kgo.Opt {
	// Every instance has the same label names, as the registry requires of
	// metrics sharing a name; site is empty for clients of no one site.
	labels := prometheus.Labels{"client": role, "site": site}
	kp := kprom.NewMetrics("kafka", kprom.Registerer(m.reg), kprom.WithStaticLabel(labels),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records, kprom.UncompressedBytes))
	return kgo.WithHooks(&firstClient{Metrics: kp})
}

// firstClient passes every hook to kprom, but registers and unregisters the
// collectors only for the first client alive.
type firstClient struct {
	*kprom.Metrics

	mu     sync.Mutex
	active *kgo.Client
}

func (h *firstClient) OnNewClient(cl *kgo.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active == nil {
		h.active = cl
		h.Metrics.OnNewClient(cl)
	}
}

func (h *firstClient) OnClientClosed(cl *kgo.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active == cl {
		h.Metrics.OnClientClosed(cl)
		h.active = nil
	}
}

// Lag returns a status.LagFunc that lists the lag of group on every
// partition it has offsets for, through the client of adm.
func Lag(adm *kadm.Client, group string) status.LagFunc {
	return func(ctx context.Context) ([]status.PartitionLag, error) {
		lags, err := adm.Lag(ctx, group)
		if err != nil {
			return nil, fmt.Errorf("consumer lag of %s: %w", group, err)
		}
		l, ok := lags[group]
		if !ok {
			return nil, nil
		}
		if err := l.Error(); errors.Is(err, kerr.GroupIDNotFound) {
			return nil, nil // the consumer has not committed yet
		} else if err != nil {
			return nil, fmt.Errorf("consumer lag of %s: %w", group, err)
		}
		var out []status.PartitionLag
		for _, part := range l.Lag.Sorted() {
			out = append(out, status.PartitionLag{
				Group: group, Topic: part.Topic, Partition: part.Partition,
				Committed: part.Commit.At, End: part.End.Offset, Lag: part.Lag,
			})
		}
		return out, nil
	}
}
