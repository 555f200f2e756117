package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/status"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/wiki/api/v2/spaces", "/wiki/api/v2/spaces"},
		{"/wiki/api/v2/spaces/98306/pages", "/wiki/api/v2/spaces/{id}/pages"},
		{"/wiki/api/v2/pages/12345", "/wiki/api/v2/pages/{id}"},
		{"/ex/confluence/0d7a6c2e-5b1f/wiki/api/v2/blogposts/77", "/wiki/api/v2/blogposts/{id}"},
		{"/wiki/rest/api/search/user", "/wiki/rest/api/search/user"},
		{"/wiki/api/v2/users-bulk", "/wiki/api/v2/users-bulk"},
		{"/favicon.ico", "other"},
	}
	for _, tc := range tests {
		if got := Endpoint(tc.in); got != tc.want {
			t.Errorf("Endpoint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// scrape fetches /metrics from h and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d\n%s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value sums the samples of family whose labels include every pair of
// labels ("k=v").
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	var sum float64
	f := families[family]
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, labels []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		if have[k] != v {
			return false
		}
	}
	return true
}

func TestHealthEndpoints(t *testing.T) {
	board := status.NewBoard(nil)
	site := board.Add("acme", "acme.atlassian.net")
	pingErr := error(nil)
	h := New().Handler(Health{
		Ping:  func(context.Context) error { return pingErr },
		Board: board, BlockedAfter: time.Minute,
	}, &status.Page{Board: board})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}

	if code, body := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d %q, want 200", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz with all well = %d %q, want 200", code, body)
	}
	site.OnWait("rate_limited", 30*time.Minute)
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "acme: rate limited by Confluence") {
		t.Errorf("GET /readyz with a site waiting 30m = %d %q, want 503 naming acme", code, body)
	}
	pingErr = context.DeadlineExceeded
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "kafka: context deadline exceeded") {
		t.Errorf("GET /readyz with Kafka down = %d %q, want 503 naming kafka", code, body)
	}
	if code, body := get("/status"); code != http.StatusOK || !strings.Contains(body, `data-site="acme"`) {
		t.Errorf("GET /status = %d, want 200 with site acme:\n%s", code, body)
	}
}

func TestConfluenceSiteObserver(t *testing.T) {
	m := New()
	s := m.Site("acme")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "42")
		w.Header().Set("X-RateLimit-NearLimit", "true")
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	cl := &http.Client{Transport: s.Transport(nil)}
	for range 3 {
		resp, err := cl.Get(srv.URL + "/wiki/api/v2/pages/123")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.Retried("GET", "/wiki/api/v2/pages/123", 1, 503, time.Second)
	s.BreakerChanged("half-open")
	s.OnWait("rate_limited", 90*time.Second)
	cl.CloseIdleConnections()

	got := scrape(t, m.Handler(Health{}, nil))
	checks := []struct {
		family string
		labels []string
		want   float64
	}{
		{"confluence_requests_total", []string{"site=acme", "endpoint=/wiki/api/v2/pages/{id}", "status=418"}, 3},
		{"confluence_rate_limit_remaining", []string{"site=acme"}, 42},
		{"confluence_rate_limit_near", []string{"site=acme"}, 1},
		{"confluence_rate_limit_near_total", []string{"site=acme"}, 3},
		{"confluence_retries_total", []string{"site=acme", "endpoint=/wiki/api/v2/pages/{id}"}, 1},
		{"confluence_breaker_state", []string{"site=acme"}, 1},
		{"confluence_waits_total", []string{"site=acme", "reason=rate_limited"}, 1},
		{"confluence_wait_seconds_total", []string{"site=acme", "reason=rate_limited"}, 90},
	}
	for _, c := range checks {
		if v := value(got, c.family, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, v, c.want)
		}
	}
}

func TestConsumerLogsKeepTheLevelOfTheWrappedHandler(t *testing.T) {
	m := New()
	var out strings.Builder
	logger := slog.New(m.ConsumerLogs(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	logger.With("group", "g1").Warn(msgHandlerRetry, "attempt", 1)
	logger.With("group", "g1").Error(msgDeadLettered)
	if strings.Contains(out.String(), msgHandlerRetry) || !strings.Contains(out.String(), msgDeadLettered) {
		t.Errorf("log output = %q, want only the error record", out.String())
	}
	got := scrape(t, m.Handler(Health{}, nil))
	if f, d := value(got, "consumer_handler_failures_total", "group=g1"), value(got, "consumer_dead_lettered_total", "group=g1"); f != 2 || d != 1 {
		t.Errorf("failures %v, dead-lettered %v; want 2 and 1", f, d)
	}
}
