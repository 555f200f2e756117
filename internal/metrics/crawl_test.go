package metrics_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/internal/metrics"
	"github.com/parable/confluence-kafka/internal/status"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// cluster returns seeds and fresh topics created on them.
func cluster(t *testing.T, extra ...string) ([]string, schema.Topics) {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	topics := schema.NewTopics(kafkatest.TopicName(t, "metrics") + ".")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	all := append(append(topics.Entities(), topics.State), extra...)
	if err := broker.EnsureTopics(t.Context(), kadm.NewClient(cl), broker.TopicConfig{Partitions: 2}, all...); err != nil {
		t.Fatal(err)
	}
	return seeds, topics
}

func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// sum adds the samples of family that carry every "name=value" label.
func sum(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	var total float64
	for _, m := range families[family].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			match = match && have[k] == v
		}
		if match {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}

// TestScrapeAfterCrawlMatchesWhatHappened crawls a simulated site that
// answers two 503s and one 429 with Retry-After, indexes the topics, then
// scrapes /metrics and checks each figure against the site's own request
// counts, the crawl's result and the index.
func TestScrapeAfterCrawlMatchesWhatHappened(t *testing.T) {
	const rateLimit = 100000
	site, err := confluencesim.New(confluencesim.Config{Seed: 5, Spaces: 3, Pages: 400, BlogPosts: 20, Users: 25, RateLimit: rateLimit})
	if err != nil {
		t.Fatal(err)
	}
	site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/spaces"}, confluencesim.Fault{Status: http.StatusServiceUnavailable, Count: 2})
	site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages"},
		confluencesim.Fault{Status: http.StatusTooManyRequests, Headers: http.Header{"Retry-After": {"1"}}, Count: 1})
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	seeds, topics := cluster(t)

	m := metrics.New()
	board := status.NewBoard(nil)
	tracker := board.Add("sim", "")
	obs := m.Site("sim")
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	client, err := confluence.New(confluence.Config{
		BaseURL: srv.URL, Email: "crawler@example.com", APIToken: "t", RequestsPerSecond: 1000, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		Transport: obs.Transport(base), Observer: obs,
		OnWait: func(reason string, d time.Duration) { obs.OnWait(reason, d); tracker.OnWait(reason, d) },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(producer.Config{
		Brokers: seeds, Topics: topics, ClientOptions: []kgo.Opt{m.KafkaHooks("producer", "sim")},
	}, status.Track(client, tracker), nil)
	if err != nil {
		t.Fatal(err)
	}
	tracker.Start(p.Stats(), nil)
	_, err = p.Crawl(t.Context())
	tracker.Finish(err, false)
	t.Cleanup(p.Close) // kprom drops a client's metrics when it closes
	if err != nil {
		t.Fatalf("Crawl() = %v", err)
	}

	path := filepath.Join(t.TempDir(), "index.db")
	group := kafkatest.TopicName(t, "group")
	if _, err := indexer.Run(t.Context(), indexer.Config{
		Brokers: seeds, Group: group, Topics: topics, Path: path, StopAtEnd: true,
		ClientOptions: []kgo.Opt{m.KafkaHooks("indexer", "")},
	}, nil); err != nil {
		t.Fatalf("indexer.Run() = %v", err)
	}
	store, err := index.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	admClient, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admClient.Close)
	m.WatchBoard(board, topics)
	m.WatchIndex(store.Counts, nil)
	m.WatchLag(metrics.Lag(kadm.NewClient(admClient), group), nil)

	got := scrape(t, m.Handler(metrics.Health{}, nil))
	requests, want := site.Requests(), site.Expected()
	stats := p.Stats()
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"confluence_requests_total (all)", sum(got, "confluence_requests_total", "site=sim"), float64(requests.Total)},
		{"confluence_requests_total{status=503}", sum(got, "confluence_requests_total", "site=sim", "endpoint=/wiki/api/v2/spaces", "status=503"), 2},
		{"confluence_requests_total{status=429}", sum(got, "confluence_requests_total", "site=sim", "endpoint=/wiki/api/v2/spaces/{id}/pages", "status=429"), 1},
		{"confluence_retries_total", sum(got, "confluence_retries_total", "site=sim"), 3},
		{"confluence_waits_total{rate_limited}", sum(got, "confluence_waits_total", "site=sim", "reason=rate_limited"), 1},
		{"confluence_breaker_state", sum(got, "confluence_breaker_state", "site=sim"), 0},
		{"producer_events_published_total{pages}", sum(got, "producer_events_published_total", "site=sim", "topic="+topics.Pages), float64(want.Pages + want.BlogPosts)},
		{"producer_events_published_total{spaces}", sum(got, "producer_events_published_total", "site=sim", "topic="+topics.Spaces), float64(want.Spaces)},
		{"producer_events_published_total{users}", sum(got, "producer_events_published_total", "site=sim", "topic="+topics.Users), float64(stats.Users.Load())},
		{"producer_transactions_total", sum(got, "producer_transactions_total", "site=sim"), float64(stats.Transactions.Load())},
		{"producer_degraded_records_total", sum(got, "producer_degraded_records_total", "site=sim"), 0},
		{"crawl_spaces_done", sum(got, "crawl_spaces_done", "site=sim"), float64(want.Spaces)},
		{"crawl_state{completed}", sum(got, "crawl_state", "site=sim", "state=completed"), 1},
		{"index_rows{pages}", sum(got, "index_rows", "kind=pages"), float64(want.Pages)},
		{"index_rows{blog_posts}", sum(got, "index_rows", "kind=blog_posts"), float64(want.BlogPosts)},
		{"consumer_lag (all partitions)", sum(got, "consumer_lag", "group="+group), 0},
		{"consumer_handler_failures_total", sum(got, "consumer_handler_failures_total"), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := len(got["consumer_lag"].GetMetric()); n != 2*len(topics.Entities()) {
		t.Errorf("consumer_lag has %d series, want one per partition of the entity topics (%d)", n, 2*len(topics.Entities()))
	}
	if w := sum(got, "confluence_wait_seconds_total", "site=sim", "reason=rate_limited"); w < 1 {
		t.Errorf("confluence_wait_seconds_total{rate_limited} = %v, want at least the 1s Retry-After", w)
	}
	if r := sum(got, "confluence_rate_limit_remaining", "site=sim"); r < float64(rateLimit-requests.Total) || r >= rateLimit {
		t.Errorf("confluence_rate_limit_remaining = %v, want in [%d, %d)", r, rateLimit-requests.Total, rateLimit)
	}
	if n := sum(got, "kafka_produce_records_total", "client=producer", "site=sim"); n < float64(stats.Transactions.Load()) {
		t.Errorf("kafka_produce_records_total{client=producer} = %v, want franz-go's count of at least every checkpoint", n)
	}
}

// TestConsumerLogsAreCounted runs the real consumer with a handler that
// always fails, so that its log records of retries and dead-lettering are
// counted: this pins the messages ConsumerLogs reads.
func TestConsumerLogsAreCounted(t *testing.T) {
	dlq := kafkatest.TopicName(t, "dlq")
	seeds, topics := cluster(t, dlq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	msg, err := schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}.SpaceUpserted(schema.Space{ID: "1", Key: "ENG"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(t.Context(), msg.Record(topics.Spaces)).FirstErr(); err != nil {
		t.Fatal(err)
	}

	m := metrics.New()
	logger := slog.New(m.ConsumerLogs(slog.DiscardHandler))
	group := kafkatest.TopicName(t, "group")
	c, err := consumer.New(consumer.Config{
		Brokers: seeds, Group: group, Topics: []string{topics.Spaces}, DeadLetterTopic: dlq,
		MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, StopAtEnd: true,
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	c.Handle("*", func(context.Context, schema.Event) error { return errors.New("index is read-only") })
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	got := scrape(t, m.Handler(metrics.Health{}, nil))
	if f := sum(got, "consumer_handler_failures_total", "group="+group); f != 3 {
		t.Errorf("consumer_handler_failures_total = %v, want 3: each of the 3 attempts failed", f)
	}
	if d := sum(got, "consumer_dead_lettered_total", "group="+group); d != 1 {
		t.Errorf("consumer_dead_lettered_total = %v, want 1", d)
	}
}

func TestLagOfAGroupWithoutOffsetsIsEmpty(t *testing.T) {
	seeds, _ := cluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	lag, err := metrics.Lag(kadm.NewClient(cl), kafkatest.TopicName(t, "nogroup"))(t.Context())
	if err != nil || len(lag) != 0 {
		t.Errorf("Lag(group without offsets) = %v, %v; want none and no error", lag, err)
	}
}
