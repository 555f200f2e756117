package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// namePattern is what a site name may hold: it becomes a metric label and
// part of log lines.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate reports every invalid field of f; each error names the file, the
// line, the field, the value and what is allowed.
func (f *File) Validate() error {
	errs := f.validateKafka()
	errs = append(errs, f.validateGlobal()...)
	names, ids, txns := map[string]int{}, map[string]int{}, map[string]int{}
	for i := range f.Sites {
		errs = append(errs, f.validateSite(i)...)
		s := &f.Sites[i]
		errs = append(errs,
			f.unique(names, s.Label(), i, "name"),
			f.unique(ids, s.Identity(), i, "base_url"),
			f.unique(txns, s.TransactionalID, i, "transactional_id"))
	}
	return errors.Join(errs...)
}

func (f *File) validateKafka() []error {
	k := f.Kafka
	errs := []error{
		f.intRange("kafka.topic_partitions", k.TopicPartitions, 1, 10000),
		f.intRange("kafka.topic_replication_factor", k.TopicReplicationFactor, 1, 16),
		f.intRange("kafka.topic_max_message_bytes", k.TopicMaxMessageBytes, 64<<10, math.MaxInt32),
		f.durationRange("kafka.connect_timeout", k.ConnectTimeout, time.Second, time.Hour),
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s %q and key_file %q: set both or neither",
			f.at("kafka.tls.cert_file"), k.TLS.CertFile, k.TLS.KeyFile))
	}
	switch m := strings.ToUpper(k.SASL.Mechanism); m {
	case "":
		if k.SASL.Username != "" || k.SASL.PasswordEnv != "" || k.SASL.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("%s is empty but username or password is set: want PLAIN, "+
				"SCRAM-SHA-256 or SCRAM-SHA-512", f.at("kafka.sasl.mechanism")))
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		errs = append(errs, f.oneOf("kafka.sasl", "password_env", k.SASL.PasswordEnv, "password_file", k.SASL.PasswordFile, true))
		if k.SASL.Username == "" {
			errs = append(errs, fmt.Errorf("%s: required with mechanism %s", f.at("kafka.sasl.username"), m))
		}
	default:
		errs = append(errs, fmt.Errorf("%s %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
			f.at("kafka.sasl.mechanism"), k.SASL.Mechanism))
	}
	return errs
}

func (f *File) validateGlobal() []error {
	errs := []error{f.durationRange("metrics.blocked_after", f.Metrics.BlockedAfter, time.Second, 24*time.Hour)}
	if v := f.Log.Format; v != "" && v != "auto" && v != "text" && v != "json" {
		errs = append(errs, fmt.Errorf("%s %q: want auto, text or json", f.at("log.format"), v))
	}
	switch strings.ToLower(f.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%s %q: want debug, info, warn or error", f.at("log.level"), f.Log.Level))
	}
	return errs
}

func (f *File) validateSite(i int) []error {
	s := f.Sites[i]
	p := fmt.Sprintf("sites[%d]", i)
	errs := []error{f.validateBaseURL(p, s), f.validateCredentials(p, s)}
	if s.Name != "" && !namePattern.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("%s %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with "+
			"a letter or digit", f.at(p+".name"), s.Name))
	}
	if r := s.RequestsPerSecond; r < 0 || r > 10000 || math.IsNaN(r) {
		errs = append(errs, fmt.Errorf("%s %v: want a number in (0, 10000]", f.at(p+".requests_per_second"), r))
	}
	return append(errs,
		f.intRange(p+".burst", s.Burst, 1, 10000),
		f.intRange(p+".max_attempts", s.MaxAttempts, 1, 100),
		f.durationRange(p+".request_timeout", s.RequestTimeout, time.Millisecond, 24*time.Hour),
		f.intRange(p+".breaker.failures", s.Breaker.Failures, 1, 1000),
		f.durationRange(p+".breaker.open_for", s.Breaker.OpenFor, time.Millisecond, 24*time.Hour),
		f.intRange(p+".checkpoint.events", s.Checkpoint.Events, 1, 100000),
		f.intRange(p+".space_concurrency", s.SpaceConcurrency, 1, 64),
	)
}

func (f *File) validateBaseURL(p string, s Site) error {
	if s.BaseURL == "" {
		return fmt.Errorf("%s: required, such as https://your-company.atlassian.net", f.at(p+".base_url"))
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s %q: want an http(s) URL such as https://your-company.atlassian.net",
			f.at(p+".base_url"), s.BaseURL)
	}
	if u.Scheme == "http" && !s.AllowInsecureHTTP && !loopback(u.Hostname()) {
		return fmt.Errorf("%s %q: plain http to a host other than loopback: want https, or set allow_insecure_http",
			f.at(p+".base_url"), s.BaseURL)
	}
	return nil
}

// validateCredentials wants email with one API token source, or one bearer
// token source; a loopback site (the simulator) may have none.
func (f *File) validateCredentials(p string, s Site) error {
	basic := s.APITokenEnv != "" || s.APITokenFile != ""
	bearer := s.BearerTokenEnv != "" || s.BearerTokenFile != ""
	switch {
	case basic && bearer:
		return fmt.Errorf("%s: set an API token (api_token_env or api_token_file) or a bearer token "+
			"(bearer_token_env or bearer_token_file), not both", f.at(p))
	case basic:
		if s.Email == "" {
			return fmt.Errorf("%s: required with an API token", f.at(p+".email"))
		}
		return f.oneOf(p, "api_token_env", s.APITokenEnv, "api_token_file", s.APITokenFile, true)
	case bearer:
		if s.Email != "" {
			return fmt.Errorf("%s %q: a bearer token needs no email; remove it or use an API token",
				f.at(p+".email"), s.Email)
		}
		return f.oneOf(p, "bearer_token_env", s.BearerTokenEnv, "bearer_token_file", s.BearerTokenFile, true)
	}
	if u, err := url.Parse(s.BaseURL); err == nil && loopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%s: no credentials: want email with api_token_env or api_token_file, "+
		"or bearer_token_env or bearer_token_file", f.at(p))
}

// oneOf checks that exactly one (or, when required is false, at most one)
// of two alternative fields of section is set.
func (f *File) oneOf(section, a, va, b, vb string, required bool) error {
	switch {
	case va != "" && vb != "":
		return fmt.Errorf("%s and %s: set one, not both", f.at(section+"."+a), b)
	case required && va == "" && vb == "":
		return fmt.Errorf("%s: set %s or %s", f.at(section), a, b)
	}
	return nil
}

// intRange checks a number whose zero means "default".
func (f *File) intRange(path string, v, lo, hi int) error {
	if v != 0 && (v < lo || v > hi) {
		return fmt.Errorf("%s %d: want %d..%d (or leave it out for the default)", f.at(path), v, lo, hi)
	}
	return nil
}

// durationRange checks a duration whose zero means "default".
func (f *File) durationRange(path string, d Duration, lo, hi time.Duration) error {
	if d != 0 && (d.Std() < lo || d.Std() > hi) {
		return fmt.Errorf("%s %s: want %s..%s (or leave it out for the default)", f.at(path), d, lo, hi)
	}
	return nil
}

// unique records value for site i and reports a site before it with the
// same value.
func (f *File) unique(seen map[string]int, value string, i int, field string) error {
	if value == "" {
		return nil
	}
	if j, dup := seen[value]; dup {
		return fmt.Errorf("%s %q: the same as sites[%d]; each site needs its own", f.at(fmt.Sprintf("sites[%d].%s", i, field)), value, j)
	}
	seen[value] = i
	return nil
}

// Identity is the site's identity as the Confluence client derives it, the
// first part of every key: its host (with a port, if any), and for the API
// gateway also the cloud id path.
func (s Site) Identity() string {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if host != "api.atlassian.com" {
		return host
	}
	return host + strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/wiki")
}

// Label is the site's name, or its identity when it has none.
func (s Site) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Identity()
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	return strings.HasPrefix(host, "127.") || host == "::1"
}
