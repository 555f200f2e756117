package confluence

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
)

const maxRedirects = 5

// newTransport builds the Client's one RoundTripper. The layers, outermost
// first, and why they sit in this order:
//
//  1. authLayer: User-Agent, Accept and credentials, once per request, and
//     only for the configured host (redirects elsewhere get no token).
//  2. retryLayer: repeats transient failures with capped, jittered backoff.
//     It sits above the breaker and the budget so every attempt passes
//     both.
//  3. breakerLayer: holds attempts while the site is failing. It sits above
//     the budget so requests held by an open breaker have not taken tokens
//     and cannot leave in one burst when it closes.
//  4. budgetLayer: the site's token bucket and Retry-After pause; it reads
//     each response's rate-limit headers.
//  5. attemptLayer: the per-attempt timeout, body buffering, the size limit
//     and the JSON check, so that each of those failures is one failed
//     attempt the layers above can count and retry.
//  6. base: the Config's Transport.
func newTransport(base http.RoundTripper, s site, cfg Config, log *slog.Logger) (http.RoundTripper, *breakerLayer, *budget) {
	var rt http.RoundTripper = &attemptLayer{next: base, timeout: cfg.RequestTimeout, maxBytes: cfg.MaxResponseBytes}

	b := newBudget(cfg.Clock, cfg.RequestsPerSecond, cfg.Burst)
	rt = &budgetLayer{next: rt, budget: b, clk: cfg.Clock, log: log, onWait: cfg.OnWait, jitter: fullJitter}

	br := newBreakerLayer(rt, s.id, cfg, log)
	rt = &retryLayer{
		next: br, clk: cfg.Clock, maxAttempts: cfg.MaxAttempts,
		backoffBase: cfg.BackoffBase, backoffMax: cfg.BackoffMax, jitter: fullJitter, log: log,
		observer: cfg.Observer,
	}
	rt = &authLayer{next: rt, origin: s.origin(), authorization: authorization(cfg), userAgent: cfg.UserAgent}
	return rt, br, b
}

func newHTTPClient(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// secret is a string that prints as [redacted] however it is formatted.
type secret string

func (secret) String() string                 { return "[redacted]" }
func (secret) GoString() string               { return "[redacted]" }
func (secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func authorization(cfg Config) secret {
	switch {
	case cfg.BearerToken != "":
		return secret("Bearer " + cfg.BearerToken)
	case cfg.Email != "":
		return secret("Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+":"+cfg.APIToken)))
	}
	return ""
}

// authLayer sets the headers every request needs.
type authLayer struct {
	next          http.RoundTripper
	origin        string // scheme://host[:port]
	authorization secret
	userAgent     string
}

var _ http.RoundTripper = (*authLayer)(nil)

func (l *authLayer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", l.userAgent)
	r.Header.Set("Accept", "application/json")
	r.Header.Del("Authorization")
	if l.authorization != "" && r.URL.Scheme+"://"+r.URL.Host == l.origin {
		r.Header.Set("Authorization", string(l.authorization))
	}
	return l.next.RoundTrip(r)
}
