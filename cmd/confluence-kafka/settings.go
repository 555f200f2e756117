package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// confluenceFlags are the settings of the Confluence site to crawl.
type confluenceFlags struct {
	baseURL           string
	email             string
	apiToken          string
	bearerToken       string
	allowInsecureHTTP bool
	requestsPerSecond float64
	requestTimeout    time.Duration
	maxAttempts       int
}

func (c *confluenceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.baseURL, "confluence-base-url", "", "site URL, such as https://your-company.atlassian.net (empty: the built-in simulated site)")
	fs.StringVar(&c.email, "confluence-email", "", "Atlassian account email for HTTP Basic authentication")
	fs.StringVar(&c.apiToken, "confluence-api-token", "", "Atlassian API token (prefer the environment variable)")
	fs.StringVar(&c.bearerToken, "confluence-bearer-token", "", "bearer token instead of email and API token (scoped tokens, OAuth)")
	fs.BoolVar(&c.allowInsecureHTTP, "confluence-allow-insecure-http", false, "allow http:// to hosts other than loopback")
	fs.Float64Var(&c.requestsPerSecond, "confluence-requests-per-second", confluence.DefaultRequestsPerSecond, "request budget for the site")
	fs.DurationVar(&c.requestTimeout, "confluence-request-timeout", confluence.DefaultRequestTimeout, "timeout of one request attempt")
	fs.IntVar(&c.maxAttempts, "confluence-max-attempts", confluence.DefaultMaxAttempts, "attempts per request before giving up")
}

func (c *confluenceFlags) config() confluence.Config {
	return confluence.Config{
		BaseURL:           c.baseURL,
		Email:             c.email,
		APIToken:          c.apiToken,
		BearerToken:       c.bearerToken,
		AllowInsecureHTTP: c.allowInsecureHTTP,
		RequestsPerSecond: c.requestsPerSecond,
		RequestTimeout:    c.requestTimeout,
		MaxAttempts:       c.maxAttempts,
	}
}

// kafkaFlags are the settings of the Kafka cluster and topics.
type kafkaFlags struct {
	brokers         string
	topicPrefix     string
	partitions      int
	replication     int
	maxMessageBytes int
	embeddedDataDir string
	connectTimeout  time.Duration
	security        securityFlags
	file            configFileFlag
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "kafka-brokers", "", "comma-separated seed brokers (empty: start the embedded broker)")
	fs.StringVar(&k.topicPrefix, "topic-prefix", schema.DefaultTopicPrefix, "prefix of every topic name")
	fs.IntVar(&k.partitions, "topic-partitions", 6, "partitions of topics created at start")
	fs.IntVar(&k.replication, "topic-replication-factor", 1, "replication factor of topics created at start")
	fs.IntVar(&k.maxMessageBytes, "topic-max-message-bytes", 1<<20, "max.message.bytes of topics created at start; larger pages lose their body")
	fs.StringVar(&k.embeddedDataDir, "embedded-broker-dir", "", "directory that keeps the embedded broker's data across runs (empty: memory only)")
	fs.DurationVar(&k.connectTimeout, "kafka-connect-timeout", 30*time.Second, "how long to wait for the brokers to answer at start")
	k.security.register(fs)
	k.file.register(fs)
}

func (k *kafkaFlags) topics() schema.Topics {
	return schema.NewTopics(k.topicPrefix)
}

func (k *kafkaFlags) topicConfig() broker.TopicConfig {
	return broker.TopicConfig{
		Partitions:        int32(k.partitions),
		ReplicationFactor: int16(k.replication),
		MaxMessageBytes:   k.maxMessageBytes,
	}
}

func (k *kafkaFlags) validate() error {
	// Ranges are checked on the ints as given: converting first let 40000
	// wrap to a negative replication factor in the message.
	switch {
	case k.partitions < 1 || k.partitions > 10000:
		return fmt.Errorf("%w: topic-partitions %d: want 1..10000", errUsage, k.partitions)
	case k.replication < 1 || k.replication > 16:
		return fmt.Errorf("%w: topic-replication-factor %d: want 1..16", errUsage, k.replication)
	case k.maxMessageBytes < 64<<10 || k.maxMessageBytes > 64<<20:
		return fmt.Errorf("%w: topic-max-message-bytes %d: want 65536..67108864", errUsage, k.maxMessageBytes)
	}
	if err := validTopicPrefix(k.topicPrefix); err != nil {
		return err
	}
	if err := validSeeds(k.brokers); err != nil {
		return err
	}
	return durationInRange("kafka-connect-timeout", k.connectTimeout, time.Second, time.Hour)
}

// validTopicPrefix checks that every topic name built from prefix is one
// Kafka accepts: at most 249 characters of letters, digits, '.', '_', '-'.
func validTopicPrefix(prefix string) error {
	const longestSuffix = len("spaces")
	if len(prefix)+longestSuffix > 249 {
		return fmt.Errorf("%w: topic-prefix %q: want at most %d characters", errUsage, prefix, 249-longestSuffix)
	}
	for _, r := range prefix {
		if !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%w: topic-prefix %q: want only letters, digits, '.', '_' and '-'", errUsage, prefix)
		}
	}
	return nil
}

// validSeeds checks a comma-separated list of host:port seeds; empty means
// the embedded broker.
func validSeeds(list string) error {
	if list == "" {
		return nil
	}
	for _, seed := range strings.Split(list, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(seed))
		if err != nil || host == "" || port == "" {
			return fmt.Errorf("%w: kafka-brokers %q: want host:port[,host:port...], such as 127.0.0.1:9092", errUsage, list)
		}
	}
	return nil
}

// cluster is a connection to Kafka: the configured brokers, or the embedded
// broker started for this process.
type cluster struct {
	seeds    []string
	embedded *broker.Embedded
	// opts are the options every client shares besides the seeds.
	opts []kgo.Opt
}

// clientOptions returns the seeds and the shared options.
func (c *cluster) clientOptions() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(c.seeds...)}, c.opts...)
}

// connect starts the embedded broker when no brokers are configured, waits
// until the cluster answers, and creates the topics when missing.
func (k *kafkaFlags) connect(ctx context.Context, logger *slog.Logger) (*cluster, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	secure, err := k.securityOptions()
	if err != nil {
		return nil, err
	}
	c := &cluster{}
	if k.brokers == "" {
		e, err := broker.StartEmbedded(k.embeddedDataDir)
		if err != nil {
			return nil, err
		}
		c.embedded, c.seeds = e, e.Addrs()
		logger.Info("embedded broker started", "brokers", strings.Join(c.seeds, ","))
	} else {
		for _, seed := range strings.Split(k.brokers, ",") {
			c.seeds = append(c.seeds, strings.TrimSpace(seed))
		}
	}
	c.opts = append(broker.LogOptions(logger), secure...)
	if err := c.setUp(ctx, k); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *cluster) setUp(ctx context.Context, k *kafkaFlags) error {
	cl, err := kgo.NewClient(c.clientOptions()...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if err := broker.Ping(ctx, cl, k.connectTimeout); err != nil {
		return err
	}
	topics := k.topics()
	return broker.EnsureTopics(ctx, kadm.NewClient(cl), k.topicConfig(), append(topics.Entities(), topics.State)...)
}

func (c *cluster) close() {
	if c.embedded != nil {
		c.embedded.Close()
	}
}

// checkSites validates the settings of every site, so that a bad one is
// refused, naming it, before any work: no Kafka connection, no request.
func checkSites(specs []siteSpec) error {
	for _, s := range specs {
		if s.err != nil {
			return s.err
		}
		if err := s.cfg.Validate(); err != nil {
			return fmt.Errorf("%w: site %s (%s): %s", errUsage, orDerived(s.name), s.origin, settingNames(err, s.origin))
		}
	}
	return nil
}

// confluenceFlags names, for each field of confluence.Config that a flag sets,
// that flag. The client's errors name its fields; a person knows the flags.
var confluenceFieldFlags = map[string]string{
	"BaseURL":           "confluence-base-url",
	"Email":             "confluence-email",
	"APIToken":          "confluence-api-token",
	"BearerToken":       "confluence-bearer-token",
	"AllowInsecureHTTP": "confluence-allow-insecure-http",
	"RequestsPerSecond": "confluence-requests-per-second",
	"RequestTimeout":    "confluence-request-timeout",
	"MaxAttempts":       "confluence-max-attempts",
}

var goFieldName = regexp.MustCompile(`\b[A-Z][A-Za-z]+\b`)

// settingNames rewrites the Go field names in a confluence.Config error as
// the flags and environment variables that set them, for settings that came
// from flags; errors about a config file keep the client's names.
func settingNames(err error, origin string) string {
	if origin != "flags" {
		return err.Error()
	}
	return goFieldName.ReplaceAllStringFunc(err.Error(), func(word string) string {
		if f, ok := confluenceFieldFlags[word]; ok {
			return f + " (" + envName(f) + ")"
		}
		return word
	})
}
