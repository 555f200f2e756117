// Package config reads the deployment's configuration file: the Kafka
// cluster, the index, the metrics port, logging, and the list of Confluence
// sites to crawl, each with its own credentials, rate budget, breaker,
// checkpoints and transactional id.
//
// The file is YAML. Unknown keys are errors, and so is a token written into
// it: a site's token comes from an environment variable or a file that the
// configuration names. Every error names the file, the line, the field, its
// value and what is allowed.
//
// The global settings have the names of the command's flags (see
// [File.Settings]); the command gives them the precedence flags >
// environment > file > defaults. Sites exist only in the file.
package config

import (
	"fmt"
	"os"
	"time"
)

// File is the parsed configuration file. The zero value is an empty file.
type File struct {
	Kafka   Kafka   `yaml:"kafka"`
	Index   Index   `yaml:"index"`
	Metrics Metrics `yaml:"metrics"`
	Log     Log     `yaml:"log"`
	// Sites are the Confluence sites to crawl, each by its own producer.
	Sites []Site `yaml:"sites"`

	// Path is where the file was read from, for error messages.
	Path string `yaml:"-"`
	// lines maps a field path such as "sites[1].base_url" to its line.
	lines map[string]int
}

// Kafka is the cluster and the topics.
type Kafka struct {
	// Brokers are the seed brokers, host:port (kafka-brokers).
	Brokers []string `yaml:"brokers"`
	// ConnectTimeout bounds the wait for the brokers at start
	// (kafka-connect-timeout).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// TopicPrefix starts every topic name (topic-prefix).
	TopicPrefix string `yaml:"topic_prefix"`
	// TopicPartitions, TopicReplicationFactor and TopicMaxMessageBytes shape
	// topics created at start (topic-partitions, topic-replication-factor,
	// topic-max-message-bytes).
	TopicPartitions        int `yaml:"topic_partitions"`
	TopicReplicationFactor int `yaml:"topic_replication_factor"`
	TopicMaxMessageBytes   int `yaml:"topic_max_message_bytes"`
	// TLS and SASL secure the connection.
	TLS  TLS  `yaml:"tls"`
	SASL SASL `yaml:"sasl"`
}

// TLS is the kafka.tls section.
type TLS struct {
	Enabled    bool   `yaml:"enabled"`     // kafka-tls
	CAFile     string `yaml:"ca_file"`     // kafka-tls-ca-file
	CertFile   string `yaml:"cert_file"`   // kafka-tls-cert-file
	KeyFile    string `yaml:"key_file"`    // kafka-tls-key-file
	ServerName string `yaml:"server_name"` // kafka-tls-server-name
}

// SASL is the kafka.sasl section. The password is never written in the
// file: PasswordEnv names the environment variable that holds it, or
// PasswordFile the file.
type SASL struct {
	Mechanism    string `yaml:"mechanism"`     // kafka-sasl-mechanism
	Username     string `yaml:"username"`      // kafka-sasl-username
	PasswordEnv  string `yaml:"password_env"`  // read into kafka-sasl-password
	PasswordFile string `yaml:"password_file"` // kafka-sasl-password-file
}

// Index is the search index.
type Index struct {
	Path          string `yaml:"path"`           // index-path
	ConsumerGroup string `yaml:"consumer_group"` // consumer-group
}

// Metrics is the HTTP port of metrics, health and the status page.
type Metrics struct {
	// Listen is the address, such as 127.0.0.1:9464 (metrics-listen).
	Listen string `yaml:"listen"`
	// BlockedAfter is how long a site may wait (rate limit, open breaker)
	// before /readyz reports it blocked (ready-blocked-after).
	BlockedAfter Duration `yaml:"blocked_after"`
}

// Log is the process logger.
type Log struct {
	Format string `yaml:"format"` // log-format: auto, text or json
	Level  string `yaml:"level"`  // log-level: debug, info, warn or error
}

// Site is one Confluence site. Zero numbers and durations mean the defaults
// of the Confluence client and of the producer.
type Site struct {
	// Name labels the site in logs, metrics and the status page. Empty means
	// the site's identity, its host.
	Name string `yaml:"name"`
	// BaseURL is the site, such as https://acme.atlassian.net. Required.
	BaseURL string `yaml:"base_url"`
	// Email is the Atlassian account for HTTP Basic with an API token.
	Email string `yaml:"email"`
	// APITokenEnv or APITokenFile give the API token that goes with Email:
	// the name of an environment variable, or a file whose content (trailing
	// newline removed) is the token.
	APITokenEnv  string `yaml:"api_token_env"`
	APITokenFile string `yaml:"api_token_file"`
	// BearerTokenEnv or BearerTokenFile give a bearer token instead of Email
	// and an API token.
	BearerTokenEnv  string `yaml:"bearer_token_env"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	// AllowInsecureHTTP permits http:// for hosts other than loopback.
	AllowInsecureHTTP bool `yaml:"allow_insecure_http"`

	// RequestsPerSecond and Burst are the site's own rate budget.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
	// MaxAttempts and RequestTimeout shape retries of one request.
	MaxAttempts    int      `yaml:"max_attempts"`
	RequestTimeout Duration `yaml:"request_timeout"`
	// Breaker is the site's own circuit breaker.
	Breaker Breaker `yaml:"breaker"`

	// Checkpoint says how often the crawl commits its progress.
	Checkpoint Checkpoint `yaml:"checkpoint"`
	// SpaceConcurrency is how many spaces are crawled at once.
	SpaceConcurrency int `yaml:"space_concurrency"`
	// TransactionalID is the producer's Kafka transactional id. Empty means
	// one derived from the site's identity, stable across restarts.
	TransactionalID string `yaml:"transactional_id"`
}

// Breaker is a site's circuit breaker.
type Breaker struct {
	// Failures is how many consecutive failures open it.
	Failures int `yaml:"failures"`
	// OpenFor is how long it stays open before a probe.
	OpenFor Duration `yaml:"open_for"`
}

// Checkpoint is how a site's crawl commits progress: every transaction
// commits at most Events events together with the checkpoint covering them.
type Checkpoint struct {
	Events int `yaml:"events"`
}

// Duration is a time.Duration written as in Go, such as 30s or 1m30s.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// Load reads and validates the configuration file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a configuration file's content; path is used in
// error messages only.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, lines: map[string]int{}}
	if err := decode(data, f); err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// at prefixes a message about the field at path with the file and line.
func (f *File) at(path string) string {
	if line, ok := f.lines[path]; ok {
		return fmt.Sprintf("%s:%d: %s", f.Path, line, path)
	}
	return fmt.Sprintf("%s: %s", f.Path, path)
}
