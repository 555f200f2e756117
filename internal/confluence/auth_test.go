package confluence

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRequestHeaders(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
	tests := []struct {
		name     string
		edit     func(*Config)
		wantAuth string
		wantUA   string
	}{
		{"basic", nil, basic, "parable-confluence-kafka/"},
		{"bearer", func(c *Config) { c.Email, c.APIToken, c.BearerToken = "", "", testToken }, "Bearer " + testToken, "parable-confluence-kafka/"},
		{"none on loopback", func(c *Config) { c.Email, c.APIToken = "", "" }, "", "parable-confluence-kafka/"},
		{"custom user agent", func(c *Config) { c.UserAgent = "acme-crawler/2" }, basic, "acme-crawler/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ua, accept string
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				ua, accept = r.Header.Get("User-Agent"), r.Header.Get("Accept")
				writeJSON(w, 200, onePage)
			})
			c, _ := testClient(t, site.srv.URL, newFakeClock(), tt.edit)

			if _, err := c.FetchPage(t.Context(), "42"); err != nil {
				t.Fatalf("FetchPage() = %v", err)
			}
			if got := site.requests()[0].Auth; got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			if !strings.HasPrefix(ua, tt.wantUA) || accept != "application/json" {
				t.Errorf("User-Agent, Accept = %q, %q, want prefix %q and application/json", ua, accept, tt.wantUA)
			}
		})
	}
}

func TestNoCredentialsOnRedirectToAnotherHost(t *testing.T) {
	other := newFakeSite(t, realClock{}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, onePage)
	})
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, other.srv.URL+r.URL.Path, http.StatusFound)
	})
	c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

	if _, err := c.FetchPage(t.Context(), "42"); err != nil {
		t.Fatalf("FetchPage() through a redirect = %v", err)
	}
	if got := site.requests()[0].Auth; got == "" {
		t.Error("the configured host got no Authorization header")
	}
	if got := other.requests()[0].Auth; got != "" {
		t.Errorf("another host got Authorization %q, want none", got)
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(testEmail + ":" + testToken))
	var out bytes.Buffer // every error string and formatted value
	clk := newFakeClock()
	clk.autoAdvance(t)

	site := newFakeSite(t, clk, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/wiki/api/v2/pages/401":
			writeJSON(w, 401, `{"statusCode":401,"message":"Unauthorized"}`)
		case "/wiki/api/v2/pages/429":
			w.Header().Set("Retry-After", "3")
			writeJSON(w, 429, "")
		default:
			writeJSON(w, 500, "oops")
		}
	})
	logs := &logBuffer{}
	text := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{
		BaseURL: site.srv.URL, Email: testEmail, APIToken: testToken, Clock: clk,
		MaxAttempts: 3, BreakerFailures: 2, RequestTimeout: time.Hour,
	}
	c, err := New(cfg, text)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	defer c.Close()

	for _, id := range []string{"401", "429", "500"} {
		_, err := c.FetchPage(t.Context(), id)
		fmt.Fprintln(&out, err)
	}
	down := closedPortURL(t)
	cd, err := New(Config{BaseURL: down, BearerToken: testToken, Clock: clk, MaxAttempts: 2}, text)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	defer cd.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	fmt.Fprintln(&out, cd.ListSpaces(ctx, func([]Space) error { return nil }))

	bad := cfg
	bad.BaseURL = "https://bot:" + testToken + "@acme.atlassian.net"
	bad.BearerToken = testToken
	_, err = New(bad, text)
	fmt.Fprintln(&out, err)
	fmt.Fprintf(&out, "%v %+v %#v %s %v %+v\n", cfg, cfg, cfg, cfg, c, c)
	fmt.Fprintf(&out, "%+v\n", struct{ C Config }{cfg})
	text.Info("config", "cfg", cfg, "bearer", Config{BearerToken: testToken})
	slog.New(slog.NewJSONHandler(logs, nil)).Info("config", "cfg", cfg)

	all := out.String() + logs.String()
	for _, s := range []string{testToken, basic} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q leaked into:\n%s", s, all)
		}
	}
	for _, want := range []string{"rate limited", "breaker state changed", "request retry", "401"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q, so the scenario did not run:\n%s", want, all)
		}
	}
}

// closedPortURL returns a loopback URL nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return "http://" + addr
}
