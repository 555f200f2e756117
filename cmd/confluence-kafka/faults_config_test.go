package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

// clearSettingsEnv removes the environment variables of the settings these
// tests pass as flags, so that neither the developer's nor CI's environment
// (KAFKA_BROKERS on the real-broker run) changes what is checked.
func clearSettingsEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"KAFKA_BROKERS", "CONFLUENCE_BASE_URL", "CONFLUENCE_EMAIL",
		"CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN", "CONFIG_FILE"} {
		unsetEnv(t, name)
	}
}

// listener is a loopback TCP listener that counts the connections it
// accepts and answers nothing: a broker that never replies.
type listener struct {
	ln       net.Listener
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func newListener(t *testing.T) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{ln: ln}
	var conns []net.Conn
	var mu sync.Mutex
	l.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close() // ends the accept loop
		l.wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close() // a test's own loopback connections
		}
	})
	return l
}

func (l *listener) addr() string { return l.ln.Addr().String() }

// countingSite is a simulated site that counts the requests it receives.
func countingSite(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	site, err := confluencesim.New(confluencesim.Config{Spaces: 1, Pages: 10, Users: 3,
		Email: "crawler@example.com", APIToken: distinctiveToken})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		site.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestBadSettingsRefusedBeforeAnyWork runs crawl and run with one bad
// setting each: the command must fail with a usage error naming the
// setting, before it connects to Kafka or sends a request to Confluence.
func TestBadSettingsRefusedBeforeAnyWork(t *testing.T) {
	clearSettingsEnv(t)
	site, requests := countingSite(t)
	good := map[string]string{
		"--confluence-base-url": site, "--confluence-email": "crawler@example.com",
		"--confluence-api-token": distinctiveToken,
	}
	tests := []struct {
		name string
		set  map[string]string // flags changed from good; "" removes one
		want string            // the setting the error must name
	}{
		{"base URL not a URL", map[string]string{"--confluence-base-url": "acme atlassian net"}, "confluence-base-url"},
		{"base URL with a path", map[string]string{"--confluence-base-url": "https://acme.atlassian.net/jira"}, "confluence-base-url"},
		{"base URL ftp", map[string]string{"--confluence-base-url": "ftp://acme.atlassian.net"}, "confluence-base-url"},
		{"http to a remote host", map[string]string{"--confluence-base-url": "http://acme.atlassian.net"}, "confluence-base-url"},
		{"email without token", map[string]string{"--confluence-base-url": "https://acme.atlassian.net",
			"--confluence-api-token": ""}, "confluence-api-token"},
		{"token without email", map[string]string{"--confluence-base-url": "https://acme.atlassian.net",
			"--confluence-email": ""}, "confluence-email"},
		{"no credentials for a remote site", map[string]string{"--confluence-base-url": "https://acme.atlassian.net",
			"--confluence-email": "", "--confluence-api-token": ""}, "confluence-api-token"},
		{"negative request rate", map[string]string{"--confluence-requests-per-second": "-1"}, "confluence-requests-per-second"},
		{"request rate too high", map[string]string{"--confluence-requests-per-second": "20000"}, "confluence-requests-per-second"},
		{"negative request timeout", map[string]string{"--confluence-request-timeout": "-1s"}, "confluence-request-timeout"},
		{"request timeout too long", map[string]string{"--confluence-request-timeout": "48h"}, "confluence-request-timeout"},
		{"too many attempts", map[string]string{"--confluence-max-attempts": "101"}, "confluence-max-attempts"},
		{"no partitions", map[string]string{"--topic-partitions": "0"}, "topic-partitions"},
		{"no replicas", map[string]string{"--topic-replication-factor": "0"}, "topic-replication-factor"},
		{"tiny records", map[string]string{"--topic-max-message-bytes": "1000"}, "topic-max-message-bytes"},
		{"connect timeout too short", map[string]string{"--kafka-connect-timeout": "0s"}, "kafka-connect-timeout"},
		{"connect timeout too long", map[string]string{"--kafka-connect-timeout": "2h"}, "kafka-connect-timeout"},
		{"unknown flag", map[string]string{"--confluence-page-size": "10"}, "confluence-page-size"},
		{"malformed duration", map[string]string{"--confluence-request-timeout": "soon"}, "confluence-request-timeout"},
	}
	// Without a base URL, run crawls its built-in simulated site; crawl
	// must be told which site.
	crawlOnly := []struct {
		name string
		set  map[string]string
		want string
	}{{"missing base URL", map[string]string{"--confluence-base-url": ""}, "confluence-base-url"}}
	for _, sub := range []string{"crawl", "run"} {
		cases := tests
		if sub == "crawl" {
			cases = append(cases, crawlOnly...)
		}
		for _, tc := range cases {
			t.Run(sub+"/"+tc.name, func(t *testing.T) {
				broker := newListener(t)
				args := []string{sub, "--kafka-brokers", broker.addr(), "--kafka-connect-timeout", "5s"}
				if sub == "run" {
					args = append(args, "--index-path", filepath.Join(t.TempDir(), "index.db"))
				}
				args = append(args, flagArgs(good, tc.set)...)
				before := requests.Load()
				_, stderr, err := runCommand(t, args...)
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s error = %v, want a usage error naming %s", sub, err, tc.want)
				}
				if err != nil && strings.Contains(err.Error()+stderr, distinctiveToken) {
					t.Errorf("%s error or log shows the API token", sub)
				}
				if n := broker.accepted.Load(); n != 0 {
					t.Errorf("%s connected %d times to Kafka before refusing the setting", sub, n)
				}
				if n := requests.Load() - before; n != 0 {
					t.Errorf("%s sent %d requests to Confluence before refusing the setting", sub, n)
				}
			})
		}
	}
}

// flagArgs returns the flags of good with set applied; an empty value in
// set drops the flag, a flag only in set is added.
func flagArgs(good, set map[string]string) []string {
	merged := map[string]string{}
	for k, v := range good {
		merged[k] = v
	}
	for k, v := range set {
		merged[k] = v
	}
	var args []string
	for k, v := range merged {
		if v != "" {
			args = append(args, k, v)
		}
	}
	return args
}

// TestInsecureHTTPOnlyWhenAllowed: http:// to a host other than loopback is
// refused unless confluence-allow-insecure-http is set. Only the settings
// are checked: no request goes to that host.
func TestInsecureHTTPOnlyWhenAllowed(t *testing.T) {
	clearSettingsEnv(t)
	tests := []struct {
		allow   bool
		wantErr bool
	}{{false, true}, {true, false}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("allow=%v", tc.allow), func(t *testing.T) {
			flags := confluenceFlags{baseURL: "http://wiki.internal.example", email: "crawler@example.com",
				apiToken: distinctiveToken, allowInsecureHTTP: tc.allow}
			specs, err := siteSpecs(&flags, nil)
			if err == nil {
				err = checkSites(specs)
			}
			if got := err != nil; got != tc.wantErr {
				t.Errorf("checkSites(http:// remote, allow %v) = %v, want error %v", tc.allow, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "confluence-allow-insecure-http") {
				t.Errorf("checkSites() = %v, want it to say how to allow http://", err)
			}
		})
	}
}

// TestKafkaUnreachableAtStart: brokers that refuse connections, or accept
// them and never answer, fail the crawl after --kafka-connect-timeout with
// an error that says what to check, before any request to Confluence.
func TestKafkaUnreachableAtStart(t *testing.T) {
	clearSettingsEnv(t)
	site, requests := countingSite(t)
	refusing := newListener(t)
	refusingAddr := refusing.addr()
	_ = refusing.ln.Close() // nothing listens there any more
	tests := []struct {
		name    string
		brokers string
	}{
		{"connection refused", refusingAddr},
		{"never answers", newListener(t).addr()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang guard only
			defer cancel()
			var out, errOut bytes.Buffer
			err := run(ctx, []string{"crawl", "--kafka-brokers", tc.brokers, "--kafka-connect-timeout", "1s",
				"--confluence-base-url", site, "--confluence-email", "crawler@example.com",
				"--confluence-api-token", distinctiveToken}, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), "unreachable after 1s") ||
				!strings.Contains(err.Error(), "KAFKA_BROKERS") || ctx.Err() != nil {
				t.Errorf("crawl with brokers at %s = %v, want \"unreachable after 1s\" naming KAFKA_BROKERS", tc.brokers, err)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("crawl sent %d requests to Confluence, want none before Kafka answers", n)
			}
		})
	}
}

// TestTokenAppearsNowhere crawls with a distinctive token, then fails a
// crawl with it as a wrong token, and searches everything the product
// wrote for it: logs at debug level, outputs, errors, every committed
// record's key, value and headers in every topic, and the index file.
func TestTokenAppearsNowhere(t *testing.T) {
	clearSettingsEnv(t)
	_, url := simulatedSite(t)
	seeds, _ := kafkatest.Brokers(t)
	prefix := kafkatest.TopicName(t, "secret") + "."
	index := filepath.Join(t.TempDir(), "index.db")
	common := func(sub, url string) []string {
		return []string{sub, "--kafka-brokers", strings.Join(seeds, ","), "--topic-prefix", prefix,
			"--log-level", "debug", "--log-format", "json", "--confluence-base-url", url,
			"--confluence-email", "crawler@example.com"}
	}
	t.Setenv("CONFLUENCE_API_TOKEN", distinctiveToken) // the way users are told to pass it

	stdout, stderr, err := runCommand(t, append(common("run", url), "--index-path", index, "--search", "incident")...)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	seen := map[string]string{"run stdout": stdout, "run stderr": stderr}

	wrong, err := confluencesim.New(confluencesim.Config{Spaces: 1, Pages: 5, Users: 2,
		Email: "crawler@example.com", APIToken: "the-right-token"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wrong.Handler())
	t.Cleanup(srv.Close)
	stdout, stderr, err = runCommand(t, common("crawl", srv.URL)...)
	if !errors.Is(err, confluence.ErrUnauthorized) {
		t.Errorf("crawl with a wrong token = %v, want ErrUnauthorized", err)
	}
	seen["401 stdout"], seen["401 stderr"], seen["401 error"] = stdout, stderr, errString(err)

	for topic, data := range topicBytes(t, seeds, prefix) {
		seen["topic "+topic] = data
	}
	db, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	seen["index file"] = string(db)
	for where, text := range seen {
		if strings.Contains(text, distinctiveToken) {
			t.Errorf("%s contains the API token", where)
		}
	}
	if len(seen["topic "+prefix+"pages"]) == 0 {
		t.Errorf("the pages topic is empty: the scan proves nothing")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// topicBytes returns, per topic, every committed record's key, value and
// headers, concatenated.
func topicBytes(t *testing.T, seeds []string, prefix string) map[string]string {
	t.Helper()
	topics := schema.NewTopics(prefix)
	out := map[string]string{}
	for _, topic := range append(topics.Entities(), topics.State) {
		var b strings.Builder
		err := broker.ReadCommitted(t.Context(), []kgo.Opt{kgo.SeedBrokers(seeds...)}, topic, func(r *kgo.Record) error {
			b.Write(r.Key)
			b.Write(r.Value)
			for _, h := range r.Headers {
				b.WriteString(h.Key)
				b.Write(h.Value)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out[topic] = b.String()
	}
	return out
}
