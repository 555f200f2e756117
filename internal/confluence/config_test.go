package confluence

import (
	"strings"
	"testing"
	"time"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		insecure bool
		wantID   string
		wantRoot string
		wantWeb  string
	}{
		{"bare site", "https://acme.atlassian.net", false,
			"acme.atlassian.net", "https://acme.atlassian.net", "https://acme.atlassian.net/wiki"},
		{"wiki", "https://acme.atlassian.net/wiki", false,
			"acme.atlassian.net", "https://acme.atlassian.net", "https://acme.atlassian.net/wiki"},
		{"wiki slash", "https://acme.atlassian.net/wiki/", false,
			"acme.atlassian.net", "https://acme.atlassian.net", "https://acme.atlassian.net/wiki"},
		{"trailing slash, case, spaces and default port", "  HTTPS://Acme.Atlassian.NET:443/ ", false,
			"acme.atlassian.net", "https://acme.atlassian.net", "https://acme.atlassian.net/wiki"},
		{"gateway", "https://api.atlassian.com/ex/confluence/0f6a-cloud-id", false,
			"api.atlassian.com/ex/confluence/0f6a-cloud-id",
			"https://api.atlassian.com/ex/confluence/0f6a-cloud-id",
			"https://api.atlassian.com/ex/confluence/0f6a-cloud-id/wiki"},
		{"gateway with wiki", "https://api.atlassian.com/ex/confluence/0f6a/wiki/", false,
			"api.atlassian.com/ex/confluence/0f6a", "https://api.atlassian.com/ex/confluence/0f6a",
			"https://api.atlassian.com/ex/confluence/0f6a/wiki"},
		{"loopback http", "http://127.0.0.1:8090", false,
			"127.0.0.1:8090", "http://127.0.0.1:8090", "http://127.0.0.1:8090/wiki"},
		{"localhost http", "http://localhost:8090/wiki", false,
			"localhost:8090", "http://localhost:8090", "http://localhost:8090/wiki"},
		{"ipv6 loopback", "http://[::1]:8090", false,
			"[::1]:8090", "http://[::1]:8090", "http://[::1]:8090/wiki"},
		{"insecure allowed", "http://wiki.internal.example", true,
			"wiki.internal.example", "http://wiki.internal.example", "http://wiki.internal.example/wiki"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseBaseURL(tt.in, tt.insecure)
			if err != nil {
				t.Fatalf("parseBaseURL(%q) = %v, want nil error", tt.in, err)
			}
			if s.id != tt.wantID || s.root != tt.wantRoot || s.webRoot != tt.wantWeb {
				t.Errorf("parseBaseURL(%q) = id %q root %q web %q, want %q %q %q",
					tt.in, s.id, s.root, s.webRoot, tt.wantID, tt.wantRoot, tt.wantWeb)
			}
		})
	}
}

func TestParseBaseURLErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"empty", "", "required"},
		{"blank", "   ", "required"},
		{"missing scheme", "acme.atlassian.net", "absolute http(s) URL"},
		{"other scheme", "ftp://acme.atlassian.net", "absolute http(s) URL"},
		{"http to a remote host", "http://acme.atlassian.net", "AllowInsecureHTTP"},
		{"credentials in URL", "https://me:" + testToken + "@acme.atlassian.net", "credentials"},
		{"query", "https://acme.atlassian.net/wiki?x=1", "query"},
		{"page link pasted", "https://acme.atlassian.net/wiki/spaces/ENG/overview", "unexpected path"},
		{"gateway without cloud id", "https://api.atlassian.com/ex/confluence/", "unexpected path"},
		{"gateway with extra path", "https://api.atlassian.com/ex/confluence/abc/def", "unexpected path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBaseURL(tt.in, false)
			if err == nil {
				t.Fatalf("parseBaseURL(%q) = nil error, want one mentioning %q", tt.in, tt.wantMsg)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "BaseURL") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("parseBaseURL(%q) = %q, want it to start with BaseURL and contain %q", tt.in, msg, tt.wantMsg)
			}
			if strings.Contains(msg, testToken) {
				t.Errorf("parseBaseURL(%q) error %q contains the token", tt.in, msg)
			}
		})
	}
}

func TestResolveLink(t *testing.T) {
	const cursor = "cursor=eyJpZCI6IjMwMjczNyJ9&limit=100"
	acme := mustSite(t, "https://acme.atlassian.net/wiki")
	gateway := mustSite(t, "https://api.atlassian.com/ex/confluence/c1")
	tests := []struct {
		name string
		s    site
		link string
		want string
	}{
		{"relative with wiki", acme, "/wiki/api/v2/spaces/7/pages?" + cursor,
			"https://acme.atlassian.net/wiki/api/v2/spaces/7/pages?" + cursor},
		{"absolute same host", acme, "https://acme.atlassian.net/wiki/api/v2/pages?" + cursor,
			"https://acme.atlassian.net/wiki/api/v2/pages?" + cursor},
		{"absolute other host is re-rooted", acme, "https://evil.example/wiki/api/v2/pages?" + cursor,
			"https://acme.atlassian.net/wiki/api/v2/pages?" + cursor},
		{"relative to the wiki base", acme, "api/v2/pages?" + cursor,
			"https://acme.atlassian.net/wiki/api/v2/pages?" + cursor},
		{"gateway relative", gateway, "/wiki/api/v2/pages?" + cursor,
			"https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?" + cursor},
		{"gateway absolute site link", gateway, "https://acme.atlassian.net/wiki/api/v2/pages?" + cursor,
			"https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?" + cursor},
		{"gateway absolute gateway link", gateway,
			"https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?" + cursor,
			"https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?" + cursor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.resolve(tt.link)
			if err != nil || got != tt.want {
				t.Errorf("resolve(%q) = %q, %v, want %q", tt.link, got, err, tt.want)
			}
		})
	}
	if got, err := acme.resolve("/rest/other"); err == nil {
		t.Errorf("resolve(%q) = %q, want an error for a path outside /wiki", "/rest/other", got)
	}
}

func mustSite(t *testing.T, raw string) site {
	t.Helper()
	s, err := parseBaseURL(raw, false)
	if err != nil {
		t.Fatalf("parseBaseURL(%q) = %v", raw, err)
	}
	return s
}

func TestValidate(t *testing.T) {
	valid := Config{BaseURL: "https://acme.atlassian.net", Email: testEmail, APIToken: testToken}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"bearer", func(c *Config) { c.Email, c.APIToken, c.BearerToken = "", "", testToken }, ""},
		{"loopback without credentials", func(c *Config) {
			c.BaseURL, c.Email, c.APIToken = "http://127.0.0.1:1", "", ""
		}, ""},
		{"remote without credentials", func(c *Config) { c.Email, c.APIToken = "", "" }, "required for acme.atlassian.net"},
		{"email without token", func(c *Config) { c.APIToken = "" }, "APIToken: required"},
		{"token without email", func(c *Config) { c.Email = "" }, "Email: required"},
		{"both auth kinds", func(c *Config) { c.BearerToken = testToken }, "not both"},
		{"bad base URL", func(c *Config) { c.BaseURL = "acme" }, "BaseURL \"acme\""},
		{"negative rate", func(c *Config) { c.RequestsPerSecond = -1 }, "RequestsPerSecond -1"},
		{"negative burst", func(c *Config) { c.Burst = -2 }, "Burst -2"},
		{"attempts", func(c *Config) { c.MaxAttempts = 101 }, "MaxAttempts 101: must be 1..100"},
		{"page limit", func(c *Config) { c.PageLimit = 251 }, "PageLimit 251: must be 1..250"},
		{"backoff order", func(c *Config) { c.BackoffBase, c.BackoffMax = time.Minute, time.Second }, "BackoffMax 1s"},
		{"negative timeout", func(c *Config) { c.RequestTimeout = -time.Second }, "RequestTimeout -1s"},
		{"tiny body limit", func(c *Config) { c.MaxResponseBytes = 10 }, "MaxResponseBytes 10"},
		{"breaker failures", func(c *Config) { c.BreakerFailures = 5000 }, "BreakerFailures 5000"},
		{"breaker open", func(c *Config) { c.BreakerOpenFor = 48 * time.Hour }, "BreakerOpenFor 48h0m0s"},
		{"user agent", func(c *Config) { c.UserAgent = "a\r\nb" }, "UserAgent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate(%v) = %v, want nil", cfg, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate(%v) = %v, want an error containing %q", cfg, err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), testToken):
				t.Fatalf("Validate(%v) = %q, which contains the token", cfg, err)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	got := Config{RequestsPerSecond: 2.5}.withDefaults()
	if got.Burst != 3 || got.MaxAttempts != 8 || got.BackoffBase != 500*time.Millisecond ||
		got.BackoffMax != time.Minute || got.RequestTimeout != 30*time.Second ||
		got.MaxResponseBytes != 64<<20 || got.PageLimit != 250 || got.BreakerFailures != 5 ||
		got.BreakerOpenFor != 30*time.Second || !strings.HasPrefix(got.UserAgent, "parable-confluence-kafka/") ||
		got.Clock == nil {
		t.Errorf("withDefaults() = %+v, want the documented defaults", got)
	}
	if b := (Config{}).withDefaults().Burst; b != 10 {
		t.Errorf("withDefaults().Burst = %d, want 10 for the default rate", b)
	}
}
