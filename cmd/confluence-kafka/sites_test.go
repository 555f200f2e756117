package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/config"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/internal/status"
	"github.com/parable/confluence-kafka/schema"
)

// twoSites serves two simulated sites and writes a configuration file that
// lists them as "healthy" and "broken".
func twoSites(t *testing.T) (healthy, broken *confluencesim.Site, file string) {
	t.Helper()
	var urls []string
	var sites []*confluencesim.Site
	for _, seed := range []int64{21, 22} {
		site, err := confluencesim.New(confluencesim.Config{Seed: seed, Spaces: 3, Pages: 240, BlogPosts: 12, Users: 20})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(site.Handler())
		t.Cleanup(srv.Close)
		sites, urls = append(sites, site), append(urls, srv.URL)
	}
	t.Setenv("TEST_SITE_TOKEN", "token-for-the-simulated-sites")
	yaml := fmt.Sprintf(`sites:
  - name: healthy
    base_url: %s
    email: crawler@example.com
    api_token_env: TEST_SITE_TOKEN
    requests_per_second: 500
  - name: broken
    base_url: %s
    email: crawler@example.com
    api_token_env: TEST_SITE_TOKEN
    requests_per_second: 500
`, urls[0], urls[1])
	file = filepath.Join(t.TempDir(), "sites.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return sites[0], sites[1], file
}

// fleetFixture connects to the test cluster with fresh topics and builds the
// fleet of the configuration file.
type fleetFixture struct {
	kafka *cluster
	flags *kafkaFlags
	ob    *observer
	fleet *fleet
}

func newFleetFixture(t *testing.T, file string) *fleetFixture {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	k := &kafkaFlags{
		brokers: strings.Join(seeds, ","), topicPrefix: kafkatest.TopicName(t, "fleet") + ".",
		partitions: 2, replication: 1, maxMessageBytes: 1 << 20, connectTimeout: 30 * time.Second,
		file: configFileFlag{path: file, file: cfg},
	}
	logger := slog.New(slog.DiscardHandler)
	kafka, err := k.connect(t.Context(), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kafka.close)
	ops := opsFlags{progress: "off", blockedAfter: 10 * time.Minute}
	ob, err := ops.start(kafka, k, "fleet-test", io.Discard, io.Discard, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ob.close)
	specs, err := siteSpecs(&confluenceFlags{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := newFleet(specs, ob, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fl.close)
	return &fleetFixture{kafka: kafka, flags: k, ob: ob, fleet: fl}
}

// site returns the snapshot of the named site.
func (f *fleetFixture) site(t *testing.T, name string) status.SiteStatus {
	t.Helper()
	for _, s := range f.ob.board.Snapshot() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no site %q on the board", name)
	return status.SiteStatus{}
}

// published counts the live entities of one site in the topics.
func (f *fleetFixture) published(t *testing.T, identity string) confluencesim.Counts {
	t.Helper()
	var c confluencesim.Counts
	topics := f.flags.topics()
	for _, topic := range []string{topics.Spaces, topics.Pages} {
		latest := map[string]*kgo.Record{}
		err := broker.ReadCommitted(t.Context(), f.kafka.clientOptions(), topic, func(r *kgo.Record) error {
			if strings.HasPrefix(string(r.Key), identity+"/") {
				latest[string(r.Key)] = r
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range latest {
			switch {
			case r.Value == nil:
			case topic == topics.Spaces:
				c.Spaces++
			case strings.Contains(string(r.Value), `"kind":"`+schema.KindBlogPost+`"`):
				c.BlogPosts++
			default:
				c.Pages++
			}
		}
	}
	return c
}

// waitFor polls the board until ok holds or the test's deadline nears.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.NewTimer(2 * time.Minute) // a guard against a hang, not a speed assertion
	defer limit.Stop()
	for !ok() {
		select {
		case <-tick.C:
		case <-limit.C:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func TestOneBrokenSiteNeverStallsTheOther(t *testing.T) {
	tests := []struct {
		name       string
		fault      confluencesim.Fault
		wantState  status.State // of the broken site while the healthy one completes
		wantStatus string       // in the broken site's wait or error
	}{
		{"401 unauthorized", confluencesim.Fault{Status: http.StatusUnauthorized},
			status.StateFailed, "confluence rejected the credentials: check the email and the API token from " +
				"environment variable TEST_SITE_TOKEN of config file sites[1]"},
		{"half-hour Retry-After", confluencesim.Fault{Status: http.StatusTooManyRequests, Headers: http.Header{"Retry-After": {"1800"}}},
			status.StateWaiting, "rate limited by Confluence, resuming in 3"},
		{"open breaker", confluencesim.Fault{Status: http.StatusBadGateway},
			status.StateWaiting, "Confluence failing (breaker open), retrying in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			healthy, broken, file := twoSites(t)
			broken.InjectFault(confluencesim.Match{}, tc.fault)
			f := newFleetFixture(t, file)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- f.fleet.crawl(ctx, f.kafka, f.flags, slog.New(slog.DiscardHandler)) }()

			waitFor(t, "the healthy site to complete and the broken one to be reported", func() bool {
				h, b := f.site(t, "healthy"), f.site(t, "broken")
				if h.State == status.StateFailed {
					t.Fatalf("healthy site failed: %s", h.Error)
				}
				return h.State == status.StateCompleted && b.State == tc.wantState
			})
			got := f.site(t, "broken")
			if report := got.Wait + got.Error; !strings.Contains(report, tc.wantStatus) {
				t.Errorf("broken site reports %q, want %q", report, tc.wantStatus)
			}
			if blocked := f.ob.board.Blocked(time.Second); len(blocked) != 1 || !strings.HasPrefix(blocked[0], "broken: ") {
				t.Errorf("Blocked() = %q, want only the broken site", blocked)
			}
			cancel()
			err := <-done
			if err == nil || !strings.Contains(err.Error(), "site broken: ") || strings.Contains(err.Error(), "site healthy") {
				t.Errorf("crawl() = %v, want an error naming the broken site only", err)
			}
			if tc.wantState == status.StateWaiting && !errors.Is(err, context.Canceled) {
				t.Errorf("crawl() = %v, want the waiting site stopped by the cancellation", err)
			}

			want := healthy.Expected()
			got2 := f.published(t, f.site(t, "healthy").Identity)
			if got2.Spaces != want.Spaces || got2.Pages != want.Pages || got2.BlogPosts != want.BlogPosts {
				t.Errorf("healthy site published spaces %d, pages %d, blog posts %d; want %d, %d, %d",
					got2.Spaces, got2.Pages, got2.BlogPosts, want.Spaces, want.Pages, want.BlogPosts)
			}
			if n := f.published(t, f.site(t, "broken").Identity); n.Pages != 0 {
				t.Errorf("broken site published %d pages, want none", n.Pages)
			}
		})
	}
}
