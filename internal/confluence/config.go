package confluence

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultRequestsPerSecond = 10.0
	DefaultMaxAttempts       = 8
	DefaultBackoffBase       = 500 * time.Millisecond
	DefaultBackoffMax        = time.Minute
	DefaultRequestTimeout    = 30 * time.Second
	DefaultMaxResponseBytes  = 64 << 20
	DefaultPageLimit         = 250
	DefaultBreakerFailures   = 5
	DefaultBreakerOpenFor    = 30 * time.Second
)

// Reasons passed to Config.OnWait.
const (
	// WaitRateLimited: the site answered 429 (or 503) with Retry-After and
	// every request of the site pauses for the given duration.
	WaitRateLimited = "rate_limited"
	// WaitBreakerOpen: consecutive failures opened the breaker and requests
	// wait for the given duration before one probe is let through.
	WaitBreakerOpen = "breaker_open"
)

// Config configures a Client. The zero value of every field except BaseURL
// and the credentials selects the documented default. A Config holds the
// site's secrets: String, GoString and LogValue print it without them.
type Config struct {
	// BaseURL is the site in any form users type: https://acme.atlassian.net,
	// the same with /wiki or /wiki/, or the API gateway form
	// https://api.atlassian.com/ex/confluence/<cloudId>. Required.
	BaseURL string
	// Email is the Atlassian account email, the HTTP Basic user.
	Email string
	// APIToken is the HTTP Basic password that goes with Email.
	APIToken string
	// BearerToken replaces Email and APIToken for scoped tokens and OAuth.
	// Credentials may be omitted only for loopback hosts (tests, simulator).
	BearerToken string
	// AllowInsecureHTTP permits http:// for hosts other than loopback ones.
	AllowInsecureHTTP bool

	// RequestsPerSecond is the rate budget shared by every request of the
	// site. Zero means 10.
	RequestsPerSecond float64
	// Burst is how many requests may start at once after an idle spell.
	// Zero means max(1, ceil(RequestsPerSecond)).
	Burst int

	// MaxAttempts bounds the attempts per request, the first included.
	// Zero means 8.
	MaxAttempts int
	// BackoffBase is the first computed backoff. Zero means 500ms.
	BackoffBase time.Duration
	// BackoffMax caps computed backoff; it never caps a Retry-After the site
	// asks for. Zero means 1m.
	BackoffMax time.Duration
	// RequestTimeout bounds each attempt, body included, in real time.
	// Zero means 30s.
	RequestTimeout time.Duration
	// MaxResponseBytes bounds a response body; a larger one fails the
	// request with ErrResponseTooLarge. Zero means 64 MiB.
	MaxResponseBytes int64
	// PageLimit is the limit parameter of list calls, 1..250. Zero means 250.
	PageLimit int

	// BreakerFailures is how many consecutive failures open the breaker.
	// Zero means 5.
	BreakerFailures uint32
	// BreakerOpenFor is how long the breaker stays open before it lets one
	// probe through. Zero means 30s.
	BreakerOpenFor time.Duration

	// UserAgent is sent with every request. Empty means
	// "parable-confluence-kafka/<module version>".
	UserAgent string
	// Transport is the base transport. Nil means a clone of
	// http.DefaultTransport, owned and closed by the Client.
	Transport http.RoundTripper
	// Clock times every policy wait. Nil means real time.
	Clock Clock
	// OnWait, if set, is called when a site-wide wait begins, with one of
	// the Wait* reasons and the wait's length. It must not block.
	OnWait func(reason string, d time.Duration)
	// Observer, if set, is told about every retry and every change of the
	// breaker's state, for metrics and status pages.
	Observer Observer
}

// Observer watches a Client's resilience policy. Its methods are called on
// the request path, possibly concurrently, and must not block.
type Observer interface {
	// Retried is called before a request is attempted again: path is the
	// URL path, attempt the number of the failed attempt (1 for the first),
	// status its HTTP status (0 for a transport error), and wait the backoff
	// before the next attempt.
	Retried(method, path string, attempt, status int, wait time.Duration)
	// BreakerChanged is called when the site's breaker changes state, with
	// "closed", "half-open" or "open".
	BreakerChanged(state string)
}

var (
	_ fmt.Stringer   = Config{}
	_ fmt.GoStringer = Config{}
	_ slog.LogValuer = Config{}
)

// Validate reports every invalid field. Each error names the field, its
// value and the allowed range; none contains a credential.
func (c Config) Validate() error {
	s, siteErr := parseBaseURL(c.BaseURL, c.AllowInsecureHTTP)
	errs := []error{siteErr}
	if siteErr == nil {
		errs = append(errs, c.validateAuth(s))
	}
	errs = append(errs, c.validateBudget()...)
	errs = append(errs, c.validateRetry()...)
	errs = append(errs, c.validateBreaker()...)
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		errs = append(errs, fmt.Errorf("UserAgent %q: must be one line", c.UserAgent))
	}
	return errors.Join(errs...)
}

func (c Config) validateAuth(s site) error {
	switch {
	case c.BearerToken != "" && (c.Email != "" || c.APIToken != ""):
		return errors.New("BearerToken: set either BearerToken or Email and APIToken, not both")
	case c.Email != "" && c.APIToken == "":
		return errors.New("APIToken: required with Email")
	case c.APIToken != "" && c.Email == "":
		return errors.New("Email: required with APIToken")
	case c.BearerToken != "" || c.Email != "":
		return nil
	}
	if !s.loopback {
		return fmt.Errorf("Email and APIToken (or BearerToken): required for %s", s.id)
	}
	return nil
}

func (c Config) validateBudget() []error {
	var errs []error
	if c.RequestsPerSecond < 0 || c.RequestsPerSecond > 10000 || math.IsNaN(c.RequestsPerSecond) {
		errs = append(errs, fmt.Errorf("RequestsPerSecond %v: must be in (0, 10000] (0 = default %v)",
			c.RequestsPerSecond, DefaultRequestsPerSecond))
	}
	if c.Burst < 0 || c.Burst > 10000 {
		errs = append(errs, fmt.Errorf("Burst %d: must be 1..10000 (0 = default)", c.Burst))
	}
	return errs
}

func (c Config) validateRetry() []error {
	var errs []error
	if c.MaxAttempts < 0 || c.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("MaxAttempts %d: must be 1..100 (0 = default %d)",
			c.MaxAttempts, DefaultMaxAttempts))
	}
	errs = append(errs,
		checkDuration("BackoffBase", c.BackoffBase, DefaultBackoffBase),
		checkDuration("BackoffMax", c.BackoffMax, DefaultBackoffMax),
		checkDuration("RequestTimeout", c.RequestTimeout, DefaultRequestTimeout))
	lo, hi := cmpDefault(c.BackoffBase, DefaultBackoffBase), cmpDefault(c.BackoffMax, DefaultBackoffMax)
	if lo > hi {
		errs = append(errs, fmt.Errorf("BackoffMax %s: must be >= BackoffBase %s", hi, lo))
	}
	if c.MaxResponseBytes < 0 || (c.MaxResponseBytes > 0 && c.MaxResponseBytes < 1024) {
		errs = append(errs, fmt.Errorf("MaxResponseBytes %d: must be >= 1024 (0 = default %d)",
			c.MaxResponseBytes, DefaultMaxResponseBytes))
	}
	if c.PageLimit < 0 || c.PageLimit > 250 {
		errs = append(errs, fmt.Errorf("PageLimit %d: must be 1..250 (0 = default %d)",
			c.PageLimit, DefaultPageLimit))
	}
	return errs
}

func (c Config) validateBreaker() []error {
	var errs []error
	if c.BreakerFailures > 1000 {
		errs = append(errs, fmt.Errorf("BreakerFailures %d: must be 1..1000 (0 = default %d)",
			c.BreakerFailures, DefaultBreakerFailures))
	}
	return append(errs, checkDuration("BreakerOpenFor", c.BreakerOpenFor, DefaultBreakerOpenFor))
}

func checkDuration(field string, d, def time.Duration) error {
	if d < 0 || d > 24*time.Hour {
		return fmt.Errorf("%s %s: must be in (0s, 24h] (0 = default %s)", field, d, def)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.RequestsPerSecond = cmpDefault(c.RequestsPerSecond, DefaultRequestsPerSecond)
	c.Burst = cmpDefault(c.Burst, max(1, int(math.Ceil(c.RequestsPerSecond))))
	c.MaxAttempts = cmpDefault(c.MaxAttempts, DefaultMaxAttempts)
	c.BackoffBase = cmpDefault(c.BackoffBase, DefaultBackoffBase)
	c.BackoffMax = cmpDefault(c.BackoffMax, DefaultBackoffMax)
	c.RequestTimeout = cmpDefault(c.RequestTimeout, DefaultRequestTimeout)
	c.MaxResponseBytes = cmpDefault(c.MaxResponseBytes, DefaultMaxResponseBytes)
	c.PageLimit = cmpDefault(c.PageLimit, DefaultPageLimit)
	c.BreakerFailures = cmpDefault(c.BreakerFailures, DefaultBreakerFailures)
	c.BreakerOpenFor = cmpDefault(c.BreakerOpenFor, DefaultBreakerOpenFor)
	c.UserAgent = cmpDefault(c.UserAgent, defaultUserAgent())
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	return c
}

func cmpDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func defaultUserAgent() string {
	version := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	return "parable-confluence-kafka/" + version
}

// String describes c without its credentials.
func (c Config) String() string {
	return fmt.Sprintf("confluence.Config{BaseURL: %s, Auth: %s, RequestsPerSecond: %v, PageLimit: %d}",
		redactURL(c.BaseURL), c.authMode(), c.RequestsPerSecond, c.PageLimit)
}

// GoString is String, so that %#v cannot print the credentials either.
func (c Config) GoString() string { return c.String() }

// LogValue describes c for slog without its credentials.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", redactURL(c.BaseURL)),
		slog.String("auth", c.authMode()),
		slog.Float64("requests_per_second", c.RequestsPerSecond),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.Int("page_limit", c.PageLimit),
	)
}

// authMode names the credentials in use; the email is not secret and helps
// a person check which account a 401 was for.
func (c Config) authMode() string {
	switch {
	case c.BearerToken != "":
		return "bearer [redacted]"
	case c.Email != "":
		return "basic " + c.Email + " [redacted]"
	default:
		return "none"
	}
}
