package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/status"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// collectTimeout bounds the Kafka and index queries of one scrape.
const collectTimeout = 5 * time.Second

// WatchBoard exports the producer figures of every site on board: events
// published per topic and type, degraded records, transactions, checkpoint
// age, spaces and state. topics names the topics the producers publish to.
func (m *Metrics) WatchBoard(board *status.Board, topics schema.Topics) {
	m.reg.MustRegister(&boardCollector{board: board, topics: topics})
}

var (
	descEvents = prometheus.NewDesc("producer_events_published_total",
		"Events committed to Kafka, by topic and CloudEvents type.", []string{"site", "topic", "type"}, nil)
	descDegraded = prometheus.NewDesc("producer_degraded_records_total",
		"Page events published without their body because they exceeded the topic's limit.", []string{"site"}, nil)
	descTombstones = prometheus.NewDesc("producer_tombstones_published_total",
		"Deletion tombstones committed to Kafka, of any entity.", []string{"site"}, nil)
	descTxns = prometheus.NewDesc("producer_transactions_total",
		"Kafka transactions committed, each with a checkpoint.", []string{"site"}, nil)
	descCheckpointAge = prometheus.NewDesc("producer_checkpoint_age_seconds",
		"Seconds since the last checkpoint was committed (absent before the first).", []string{"site"}, nil)
	descSpacesDone  = prometheus.NewDesc("crawl_spaces_done", "Spaces whose crawl finished.", []string{"site"}, nil)
	descSpacesTotal = prometheus.NewDesc("crawl_spaces_total", "Spaces of the site (0 until listed).", []string{"site"}, nil)
	descRate        = prometheus.NewDesc("crawl_pages_per_second", "Pages committed per second, recently.", []string{"site"}, nil)
	descState       = prometheus.NewDesc("crawl_state", "1 for the crawl's current state.", []string{"site", "state"}, nil)
)

type boardCollector struct {
	board  *status.Board
	topics schema.Topics
}

func (c *boardCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descTombstones, descDegraded, descTxns, descCheckpointAge,
		descSpacesDone, descSpacesTotal, descRate, descState} {
		ch <- d
	}
}

func (c *boardCollector) Collect(ch chan<- prometheus.Metric) {
	for _, site := range c.board.Sites() {
		s := site.Snapshot()
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{s.Name}, labels...)...)
		}
		gauge(descState, 1, string(s.State))
		gauge(descSpacesDone, float64(s.SpacesDone))
		gauge(descSpacesTotal, float64(s.SpacesTotal))
		gauge(descRate, s.PagesPerSecond)
		if !s.LastCheckpoint.IsZero() {
			gauge(descCheckpointAge, time.Since(s.LastCheckpoint).Seconds())
		}
		if stats := site.Stats(); stats != nil {
			c.counters(ch, s.Name, stats)
		}
	}
}

func (c *boardCollector) counters(ch chan<- prometheus.Metric, site string, st *producer.Stats) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{site}, labels...)...)
	}
	counter(descEvents, st.Users.Load(), c.topics.Users, schema.TypeUserUpserted)
	counter(descEvents, st.Spaces.Load(), c.topics.Spaces, schema.TypeSpaceUpserted)
	counter(descEvents, st.Pages.Load()+st.BlogPosts.Load(), c.topics.Pages, schema.TypePageUpserted)
	counter(descTombstones, st.Deletions.Load())
	counter(descDegraded, st.Degraded.Load())
	counter(descTxns, st.Transactions.Load())
}

// WatchIndex exports the rows of the index: counts reads them at each
// scrape. Errors leave the figures out of that scrape and are logged at
// debug level.
func (m *Metrics) WatchIndex(counts func(ctx context.Context) (index.Counts, error), logger *slog.Logger) {
	m.reg.MustRegister(&indexCollector{counts: counts, logger: logger})
}

var descRows = prometheus.NewDesc("index_rows", "Live rows of the search index, by kind.", []string{"kind"}, nil)

type indexCollector struct {
	counts func(ctx context.Context) (index.Counts, error)
	logger *slog.Logger
}

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRows }

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	n, err := c.counts(ctx)
	if err != nil {
		logDebug(c.logger, "index rows unavailable", err)
		return
	}
	for kind, v := range map[string]int{"users": n.Users, "spaces": n.Spaces, "pages": n.Pages, "blog_posts": n.BlogPosts} {
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(v), kind)
	}
}

// WatchLag exports the consumer lag lag reports, per partition, at each
// scrape.
func (m *Metrics) WatchLag(lag status.LagFunc, logger *slog.Logger) {
	m.reg.MustRegister(&lagCollector{lag: lag, logger: logger})
}

var descLag = prometheus.NewDesc("consumer_lag", "Records of the partition the consumer group has not committed yet.",
	[]string{"group", "topic", "partition"}, nil)

type lagCollector struct {
	lag    status.LagFunc
	logger *slog.Logger
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descLag }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	lags, err := c.lag(ctx)
	if err != nil {
		logDebug(c.logger, "consumer lag unavailable", err)
		return
	}
	for _, l := range lags {
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(l.Lag),
			l.Group, l.Topic, strconv.Itoa(int(l.Partition)))
	}
}

func logDebug(logger *slog.Logger, msg string, err error) {
	if logger != nil {
		logger.Debug(msg, "err", err)
	}
}
