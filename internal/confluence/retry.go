package confluence

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxPacedAttempts bounds the attempts of one request, Retry-After answers
// included, so a site that answers nothing else cannot keep a request alive
// for ever; at the documented 30 s to 30 min per answer it is days.
const maxPacedAttempts = 1000

// maxRetryAfter only keeps a hostile header from overflowing time
// arithmetic; it is not a practical cap (Retry-After is never capped).
const maxRetryAfter = 100 * 365 * 24 * time.Hour

// retryLayer repeats an attempt while the failure is transient, waiting a
// capped, fully jittered exponential backoff between attempts. After a 429
// or 503 with Retry-After it does not wait itself: the budget layer has
// paused the whole site and the next attempt queues there.
type retryLayer struct {
	next        http.RoundTripper
	clk         Clock
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	jitter      func(limit time.Duration) time.Duration
	log         *slog.Logger
	observer    Observer // nil: none
}

var _ http.RoundTripper = (*retryLayer)(nil)

func (l *retryLayer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// failures counts the attempts that count against maxAttempts. An answer
	// with Retry-After is the site pacing us, not a failure: DESIGN.md §5 says
	// to wait it out however often it comes, so it does not use up attempts
	// (eight of them in a row used to stop the whole run).
	failures := 0
	for attempt := 1; ; attempt++ {
		r, err := rewind(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := l.next.RoundTrip(r)
		wait, retry := l.policy(ctx, resp, err, failures+1)
		if _, paced := retryAfter(resp, time.Time{}); !paced || err != nil {
			failures++
		}
		if !retry || failures >= l.maxAttempts || attempt >= maxPacedAttempts || !replayable(req) {
			return resp, attemptsError(err, attempt)
		}
		l.report(req, resp, err, attempt, wait)
		discard(resp)
		if err := sleep(ctx, l.clk, wait); err != nil {
			return nil, err
		}
	}
}

// report logs a retry and tells the Observer.
func (l *retryLayer) report(req *http.Request, resp *http.Response, err error, attempt int, wait time.Duration) {
	attrs := []any{"method", req.Method, "path", req.URL.Path, "attempt", attempt, "wait", wait}
	if resp != nil {
		attrs = append(attrs, "status", resp.StatusCode)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	l.log.Warn("request retry", attrs...)
	if l.observer != nil {
		l.observer.Retried(req.Method, req.URL.Path, attempt, statusOf(resp), wait)
	}
}

// policy decides whether an attempt's outcome is worth another attempt and
// how long to back off first.
func (l *retryLayer) policy(ctx context.Context, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	if err != nil {
		return l.backoff(attempt), transient(err)
	}
	if _, ok := retryAfter(resp, time.Time{}); ok {
		return 0, true
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return l.backoff(attempt), true
	case code >= 500 && code != http.StatusNotImplemented:
		return l.backoff(attempt), true
	}
	return 0, false
}

func (l *retryLayer) backoff(attempt int) time.Duration {
	return l.jitter(backoffLimit(attempt, l.backoffBase, l.backoffMax))
}

// backoffLimit is the upper bound of the full-jitter backoff after the
// given failed attempt: base·2^(attempt-1), capped.
func backoffLimit(attempt int, base, limit time.Duration) time.Duration {
	exp := math.Pow(2, float64(max(0, attempt-1)))
	if d := float64(base) * exp; d < float64(limit) {
		return time.Duration(d)
	}
	return limit
}

// transient reports whether a transport error is worth another attempt:
// timeouts, resets, truncated or non-JSON bodies are; a body over the
// limit, a bad certificate or a cancelled context are not.
func transient(err error) bool {
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, ErrResponseTooLarge):
		return false
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return false
	}
	return true
}

// retryAfter returns the wait a 429 or 503 asks for, from Retry-After in
// seconds or as an HTTP date, or from Beta-Retry-After. A zero now skips
// date arithmetic when only presence matters.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests &&
		resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		v = strings.TrimSpace(resp.Header.Get("Beta-Retry-After"))
	}
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if now.IsZero() {
		return 0, true
	}
	return min(maxRetryAfter, max(0, at.Sub(now))), true
}

// rewind returns the request for an attempt: the original first, then a
// clone with a fresh body.
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("replay request body: %w", err)
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func attemptsError(err error, attempts int) error {
	if err == nil || attempts == 1 {
		return err
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// discard closes a response that will not be returned. Bodies are already
// buffered by the attempt layer, so this costs nothing on the network.
func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body) // buffered in memory; cannot fail
	_ = resp.Body.Close()                 // a bytes reader; cannot fail
}
