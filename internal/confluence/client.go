package confluence

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/segmentio/encoding/json"
)

// Client is a Confluence Cloud REST client for one site. Its methods are
// safe for concurrent use, and all of them share the site's rate budget,
// breaker and retry policy. Use one Client per site.
type Client struct {
	cfg      Config // defaults applied
	site     site
	http     *http.Client
	owned    *http.Transport // the base transport, when New made it
	log      *slog.Logger
	breaker  *breakerLayer
	budget   *budget
	siteBase atomic.Pointer[string] // _links.base last reported by a gateway site
}

// New validates cfg, applies its defaults and returns a Client. A nil
// logger discards. New makes no request.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("confluence config: %w", err)
	}
	cfg = cfg.withDefaults()
	s, err := parseBaseURL(cfg.BaseURL, cfg.AllowInsecureHTTP)
	if err != nil {
		return nil, err // unreachable after Validate; kept for safety
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("site", s.id)

	c := &Client{cfg: cfg, site: s, log: logger}
	base := cfg.Transport
	if base == nil {
		c.owned = newBaseTransport()
		base = c.owned
	}
	rt, br, b := newTransport(base, s, cfg, logger)
	c.http, c.breaker, c.budget = newHTTPClient(rt), br, b
	c.cfg.APIToken, c.cfg.BearerToken = "", "" // the auth layer holds them now
	return c, nil
}

func newBaseTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64 // one site, many concurrent crawlers
	return t
}

// String names the Client's site.
func (c *Client) String() string { return "confluence.Client(" + c.site.id + ")" }

// Site returns the site's stable identity: "acme.atlassian.net",
// "api.atlassian.com/ex/confluence/<cloudId>", or "127.0.0.1:PORT".
func (c *Client) Site() string { return c.site.id }

// SiteURL returns the site's web root for links, such as
// "https://acme.atlassian.net/wiki". Through the API gateway it is the
// _links.base the site last reported, and the gateway's root until then.
func (c *Client) SiteURL() string {
	if b := c.siteBase.Load(); b != nil {
		return *b
	}
	return c.site.webRoot
}

// Close releases idle connections of a transport New created. The Client
// must not be used afterwards.
func (c *Client) Close() {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
}

// do sends one logical request (retried below) and decodes a JSON answer
// into out. It returns the response headers for pagination. An error
// status becomes an *APIError.
func (c *Client) do(ctx context.Context, method, url string, in, out any) (http.Header, error) {
	req, err := c.newRequest(ctx, method, url, in)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := bodyBytes(resp)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, newAPIError(req, resp.StatusCode, body)
	}
	c.log.Debug("request done", "method", method, "path", req.URL.Path, "status", resp.StatusCode)
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", method, req.URL.Path, err)
	}
	return resp.Header, nil
}

// bodyBytes returns the body the attempt layer buffered. The attempt layer
// always buffers; reading a stream is only a fallback.
func bodyBytes(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close() //nolint:errcheck // in memory; nothing to report
	if b, ok := resp.Body.(*bufferedBody); ok {
		return b.data, nil
	}
	return io.ReadAll(resp.Body)
}

func (c *Client) newRequest(ctx context.Context, method, url string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b) // lets http set GetBody, so retries can replay it
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// learnBase remembers the web base a gateway site reports, for SiteURL.
func (c *Client) learnBase(base string) {
	if !c.site.gateway || base == "" {
		return
	}
	if old := c.siteBase.Load(); old == nil || *old != base {
		c.siteBase.Store(&base)
	}
}

// webBase is the base for web links in a response: its _links.base when
// present, SiteURL otherwise.
func (c *Client) webBase(reported string) string {
	if reported != "" {
		c.learnBase(reported)
		return reported
	}
	return c.SiteURL()
}
