// Package metrics exposes the pipeline's Prometheus metrics, its health and
// readiness endpoints and the status page on one HTTP port.
//
// Metric families, all labelled by site where one applies:
//
//   - confluence_requests_total{site,endpoint,status}: every HTTP attempt to
//     Confluence, retries included; endpoint is the path with ids replaced
//     by {id}, status the HTTP code or "error".
//   - confluence_retries_total{site,endpoint}, confluence_waits_total and
//     confluence_wait_seconds_total{site,reason}: the resilience policy at
//     work; reason is rate_limited (Retry-After) or breaker_open.
//   - confluence_breaker_state{site}: 0 closed, 1 half-open, 2 open.
//   - confluence_rate_limit_remaining{site}, confluence_rate_limit_near{site}
//     and confluence_rate_limit_near_total{site}: what the site's
//     X-RateLimit-Remaining and X-RateLimit-NearLimit headers said.
//   - producer_events_published_total{site,topic,type},
//     producer_degraded_records_total, producer_transactions_total,
//     producer_checkpoint_age_seconds, crawl_spaces_done, crawl_spaces_total,
//     crawl_pages_per_second and crawl_state{site,state}.
//   - consumer_lag{group,topic,partition}, index_rows{kind},
//     consumer_handler_failures_total{group} and
//     consumer_dead_lettered_total{group}.
//   - kafka_*: franz-go's own client metrics (kprom), per client role and
//     site.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the process's metric registry. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests   *prometheus.CounterVec
	retries    *prometheus.CounterVec
	waits      *prometheus.CounterVec
	waitSecs   *prometheus.CounterVec
	breaker    *prometheus.GaugeVec
	remaining  *prometheus.GaugeVec
	near       *prometheus.GaugeVec
	nearTotal  *prometheus.CounterVec
	failures   *prometheus.CounterVec
	deadLetter *prometheus.CounterVec
}

// New returns a registry with the pipeline's metrics and the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.requests = counter("confluence_requests_total", "HTTP attempts to Confluence, retries included.", "site", "endpoint", "status")
	m.retries = counter("confluence_retries_total", "Confluence requests attempted again after a failure.", "site", "endpoint")
	m.waits = counter("confluence_waits_total", "Site-wide waits begun, by reason.", "site", "reason")
	m.waitSecs = counter("confluence_wait_seconds_total", "Seconds of site-wide waits begun, by reason (rate_limited is Retry-After).", "site", "reason")
	m.breaker = gauge("confluence_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", "site")
	m.remaining = gauge("confluence_rate_limit_remaining", "Last X-RateLimit-Remaining the site sent.", "site")
	m.near = gauge("confluence_rate_limit_near", "1 when the last response with rate-limit headers said X-RateLimit-NearLimit: true.", "site")
	m.nearTotal = counter("confluence_rate_limit_near_total", "Responses that said X-RateLimit-NearLimit: true.", "site")
	m.failures = counter("consumer_handler_failures_total", "Failed handler attempts of the consumer.", "group")
	m.deadLetter = counter("consumer_dead_lettered_total", "Events written to the dead-letter topic.", "group")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.reg
}
