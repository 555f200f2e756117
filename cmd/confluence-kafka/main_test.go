package main

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// distinctiveToken must never appear in anything the program prints.
const distinctiveToken = "ATATT3xFfGF0-distinctive-T0KEN-6d1f"

// simulatedSite serves a small simulated site that accepts only the
// distinctive token.
func simulatedSite(t *testing.T) (*confluencesim.Site, string) {
	t.Helper()
	site, err := confluencesim.New(confluencesim.Config{
		Seed: 11, Spaces: 3, Pages: 300, BlogPosts: 15, Users: 30,
		Email: "crawler@example.com", APIToken: distinctiveToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return site, srv.URL
}

func runCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(t.Context(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestMainJobAgainstSeparateSiteKeepsTokenSecret(t *testing.T) {
	site, url := simulatedSite(t)
	seeds, _ := kafkatest.Brokers(t)
	t.Setenv("CONFLUENCE_BASE_URL", url)
	t.Setenv("CONFLUENCE_EMAIL", "crawler@example.com")
	t.Setenv("CONFLUENCE_API_TOKEN", distinctiveToken)
	t.Setenv("KAFKA_BROKERS", strings.Join(seeds, ","))
	prefix := kafkatest.TopicName(t, "main") + "."
	id := site.PageIDs(site.SpaceIDs()[0])[0]
	stdout, stderr, err := runCommand(t, "run", "--log-level", "debug", "--log-format", "json",
		"--topic-prefix", prefix, "--index-path", filepath.Join(t.TempDir(), "index.db"),
		"--search", site.UniquePhrase(id))
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if strings.Contains(out, distinctiveToken) {
			t.Errorf("%s contains the API token", name)
		}
	}
	want := site.Expected()
	for _, row := range []struct {
		name string
		n    int
	}{{"pages", want.Pages}, {"spaces", want.Spaces}, {"blog posts", want.BlogPosts}} {
		fields := strings.Fields(lineStarting(stdout, row.name))
		if len(fields) < 2 || fields[len(fields)-1] != fields[len(fields)-2] || fields[len(fields)-1] != strconv.Itoa(row.n) {
			t.Errorf("report row %q = %q, want topics and index both %d", row.name, lineStarting(stdout, row.name), row.n)
		}
	}
	if !strings.Contains(stdout, "1. ") || !strings.Contains(stdout, "/pages/"+id) {
		t.Errorf("search for the unique phrase of page %s: top hit is not that page:\n%s", id, stdout)
	}
}

func TestHelpNeverShowsTheToken(t *testing.T) {
	t.Setenv("CONFLUENCE_API_TOKEN", distinctiveToken)
	for _, sub := range []string{"run", "crawl", "check"} {
		_, stderr, err := runCommand(t, sub, "-h")
		if !errors.Is(err, errHelpShown) {
			t.Errorf("%s -h error = %v, want errHelpShown", sub, err)
		}
		if strings.Contains(stderr, distinctiveToken) {
			t.Errorf("%s -h output contains the API token", sub)
		}
		if !strings.Contains(stderr, "confluence-api-token") {
			t.Errorf("%s -h output does not list the confluence-api-token flag:\n%s", sub, stderr)
		}
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"run", "--no-such-flag"}, nil, "no-such-flag"},
		{"unknown subcommand", []string{"crawlx"}, nil, "crawlx"},
		{"bad log level", []string{"run", "--log-level", "loud"}, nil, "log-level"},
		{"bad duration in env", []string{"run"}, map[string]string{"CONFLUENCE_REQUEST_TIMEOUT": "soon"}, "CONFLUENCE_REQUEST_TIMEOUT"},
		{"zero partitions", []string{"crawl", "--confluence-base-url", "https://x.atlassian.net", "--confluence-email", "a@example.com",
			"--confluence-api-token", "t", "--kafka-brokers", "127.0.0.1:1", "--topic-partitions", "0"}, nil, "topic-partitions"},
		{"plain http to a remote host", []string{"check", "--confluence-base-url", "http://x.atlassian.net"}, nil, "confluence-base-url"},
		{"crawl without a site", []string{"crawl", "--kafka-brokers", "127.0.0.1:1"}, nil, "confluence-base-url"},
		{"search without a query", []string{"search"}, nil, "query"},
		// Regression: 40000 wrapped to -25536 before the range check.
		{"replication factor beyond int16", kafkaArgs("--topic-replication-factor", "40000"), nil, "topic-replication-factor 40000"},
		{"topic prefix with a slash", kafkaArgs("--topic-prefix", "bad prefix/!"), nil, "topic-prefix"},
		{"topic prefix too long", kafkaArgs("--topic-prefix", strings.Repeat("p", 250)), nil, "topic-prefix"},
		{"blank seed broker", []string{"crawl", "--confluence-base-url", "https://x.atlassian.net", "--confluence-email", "a@example.com",
			"--confluence-api-token", "t"}, map[string]string{"KAFKA_BROKERS": " "}, "kafka-brokers"},
		{"seed without a port", kafkaArgs("--kafka-brokers", "127.0.0.1:1,,:"), nil, "kafka-brokers"},
		{"tiny max message bytes", kafkaArgs("--topic-max-message-bytes", "10"), nil, "topic-max-message-bytes"},
		{"simulator on a public address", []string{"simulate", "--listen", "0.0.0.0:0"}, nil, "loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, _, err := runCommand(t, tc.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) error = %v, want a usage error naming %s", tc.args, err, tc.want)
			}
		})
	}
}

func lineStarting(text, prefix string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), prefix) {
			return line
		}
	}
	return ""
}

// kafkaArgs returns a crawl command line with valid site settings, the given
// Kafka flags, and an unreachable broker that no test gets as far as dialling.
func kafkaArgs(flags ...string) []string {
	args := []string{"crawl", "--confluence-base-url", "https://x.atlassian.net", "--confluence-email", "a@example.com",
		"--confluence-api-token", "t", "--kafka-brokers", "127.0.0.1:1"}
	return append(args, flags...)
}

func TestCheckCreatesNoTopic(t *testing.T) {
	_, url := simulatedSite(t)
	seeds, _ := kafkatest.Brokers(t)
	prefix := kafkatest.TopicName(t, "check") + "."
	stdout, stderr, err := runCommand(t, "check", "--confluence-base-url", url, "--confluence-email", "crawler@example.com",
		"--confluence-api-token", distinctiveToken, "--kafka-brokers", strings.Join(seeds, ","), "--topic-prefix", prefix)
	if err != nil {
		t.Fatalf("check: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "topics to be created") {
		t.Errorf("check output does not report the missing topics:\n%s", stdout)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name := range topics {
		if strings.HasPrefix(name, prefix) {
			t.Errorf("check created topic %s", name)
		}
	}
}
