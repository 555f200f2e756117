package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
)

// Site observes one Confluence site for the metrics. It implements
// confluence.Observer; pass OnWait as confluence.Config.OnWait and wrap the
// client's base transport with Transport.
type Site struct {
	m    *Metrics
	name string
}

var _ confluence.Observer = (*Site)(nil)

// Site returns the observer of the site labelled name, and sets its breaker
// gauge to closed.
func (m *Metrics) Site(name string) *Site {
	m.breaker.WithLabelValues(name).Set(0)
	return &Site{m: m, name: name}
}

// Retried counts a retry of the request.
func (s *Site) Retried(_, path string, _, _ int, _ time.Duration) {
	s.m.retries.WithLabelValues(s.name, Endpoint(path)).Inc()
}

// BreakerChanged sets the breaker gauge.
func (s *Site) BreakerChanged(state string) {
	v := map[string]float64{"closed": 0, "half-open": 1, "open": 2}[state]
	s.m.breaker.WithLabelValues(s.name).Set(v)
}

// OnWait counts a site-wide wait and its length; it has the signature of
// confluence.Config.OnWait.
func (s *Site) OnWait(reason string, d time.Duration) {
	s.m.waits.WithLabelValues(s.name, reason).Inc()
	s.m.waitSecs.WithLabelValues(s.name, reason).Add(d.Seconds())
}

// Transport returns base counting every attempt by endpoint and status and
// reading the rate-limit headers of each response. A nil base means a clone
// of http.DefaultTransport.
func (s *Site) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return countingTransport{next: base, site: s}
}

type countingTransport struct {
	next http.RoundTripper
	site *Site
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
		t.site.rateHeaders(resp.Header)
	}
	t.site.m.requests.WithLabelValues(t.site.name, Endpoint(req.URL.Path), status).Inc()
	return resp, err
}

// rateHeaders records X-RateLimit-Remaining and X-RateLimit-NearLimit.
func (s *Site) rateHeaders(h http.Header) {
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Remaining"), 64); err == nil {
		s.m.remaining.WithLabelValues(s.name).Set(v)
	}
	switch near := h.Get("X-RateLimit-NearLimit"); {
	case strings.EqualFold(near, "true"):
		s.m.near.WithLabelValues(s.name).Set(1)
		s.m.nearTotal.WithLabelValues(s.name).Inc()
	case near != "":
		s.m.near.WithLabelValues(s.name).Set(0)
	}
}

// Endpoint reduces a Confluence URL path to a bounded label: the part from
// /wiki on (so gateway paths match site paths), with every segment that
// holds a digit replaced by {id}. A path outside /wiki is "other".
func Endpoint(path string) string {
	i := strings.Index(path, "/wiki/")
	if i < 0 {
		return "other"
	}
	segs := strings.Split(path[i:], "/")
	for j, s := range segs {
		if strings.ContainsAny(s, "0123456789") && s != "v2" {
			segs[j] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}
