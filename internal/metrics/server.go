package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parable/confluence-kafka/internal/status"
)

// Health configures the health endpoints.
type Health struct {
	// Ping checks that the Kafka brokers answer; nil skips the check.
	Ping func(ctx context.Context) error
	// Board holds the sites; nil skips the site check.
	Board *status.Board
	// BlockedAfter is how far off the end of a site's wait may be before
	// the site counts as blocked. Zero means 10m.
	BlockedAfter time.Duration
}

// DefaultBlockedAfter is Health.BlockedAfter's default.
const DefaultBlockedAfter = 10 * time.Minute

// Handler serves /metrics, /healthz (alive: always 200), /readyz (200 when
// the brokers answer and no site is blocked or failed, else 503 with the
// reasons) and, when page is not nil, the status page at / and /status.
func (m *Metrics) Handler(health Health, page *status.Page) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", health.serveReady)
	if page != nil {
		mux.Handle("GET /status", page)
		mux.Handle("GET /{$}", page)
	}
	return mux
}

func (h Health) serveReady(w http.ResponseWriter, r *http.Request) {
	problems := h.problems(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) == 0 {
		fmt.Fprintln(w, "ready")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, "not ready:\n"+strings.Join(problems, "\n"))
}

// problems lists why the process is not ready.
func (h Health) problems(ctx context.Context) []string {
	var out []string
	if h.Ping != nil {
		ctx, cancel := context.WithTimeout(ctx, collectTimeout)
		defer cancel()
		if err := h.Ping(ctx); err != nil {
			out = append(out, "kafka: "+err.Error())
		}
	}
	if h.Board != nil {
		after := h.BlockedAfter
		if after == 0 {
			after = DefaultBlockedAfter
		}
		out = append(out, h.Board.Blocked(after)...)
	}
	return out
}
