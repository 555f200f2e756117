package confluence

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

const (
	gatewayPrefix = "/ex/confluence/"
	baseURLForms  = "want https://<site>.atlassian.net[/wiki] or " +
		"https://api.atlassian.com/ex/confluence/<cloudId>"
)

// site is a normalised BaseURL.
type site struct {
	id       string // stable identity: host[:port], plus the gateway path
	root     string // scheme://host[:port][/ex/confluence/<id>], no trailing slash
	prefix   string // path part of root: "" or "/ex/confluence/<id>"
	host     string // host[:port] that may receive credentials
	webRoot  string // default web root (SiteURL) for links
	loopback bool
	gateway  bool
}

// parseBaseURL normalises every form of DESIGN.md §2 into a site. Errors
// name BaseURL and never echo a password.
func parseBaseURL(raw string, allowInsecure bool) (site, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return site{}, errors.New("BaseURL: required; " + baseURLForms)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return site{}, baseURLError(raw, "need an absolute http(s) URL with a host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return site{}, baseURLError(raw, "must not carry credentials, a query or a fragment")
	}

	host := normaliseHost(u)
	loopback := isLoopback(u.Hostname())
	if u.Scheme == "http" && !loopback && !allowInsecure {
		return site{}, baseURLError(raw, "http:// is allowed only for loopback hosts unless AllowInsecureHTTP is set")
	}

	s := site{host: host, loopback: loopback}
	path := strings.TrimSuffix(strings.TrimSuffix(u.EscapedPath(), "/"), "/wiki")
	switch {
	case path == "":
	case strings.HasPrefix(path, gatewayPrefix) && validCloudID(path[len(gatewayPrefix):]):
		s.prefix, s.gateway = path, true
	default:
		return site{}, baseURLError(raw, "unexpected path "+u.EscapedPath())
	}
	s.id = host + s.prefix
	s.root = u.Scheme + "://" + host + s.prefix
	s.webRoot = s.root + "/wiki"
	return s, nil
}

func baseURLError(raw, why string) error {
	return fmt.Errorf("BaseURL %q: %s; %s", redactURL(raw), why, baseURLForms)
}

func validCloudID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "/?#%")
}

// normaliseHost lower-cases the host and drops a default port.
func normaliseHost(u *url.URL) string {
	name := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if port == "" {
		return name
	}
	return name + ":" + port
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL returns raw with any password replaced, for errors and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "[redacted]"
		}
		return raw
	}
	return u.Redacted()
}

// origin returns scheme://host[:port], the only origin given credentials.
func (s site) origin() string {
	return s.root[:len(s.root)-len(s.prefix)]
}

// api returns the absolute URL of an API path such as "/wiki/api/v2/pages".
func (s site) api(path string) string {
	return s.root + path
}

// resolve turns a link the site returned (a Link header target, a body
// _links.next, or a checkpointed next link) into an absolute URL on the
// configured origin. Atlassian's links are relative to the site and already
// contain /wiki; on the gateway they must go under /ex/confluence/<id>.
// The host of an absolute link is ignored on purpose, so that credentials
// never follow a link to another host.
func (s site) resolve(link string) (string, error) {
	ref, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return "", fmt.Errorf("resolve link %q: %w", link, err)
	}
	path := ref.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/wiki/" + path // relative to the _links.base, which ends in /wiki
	}
	if s.prefix != "" && strings.HasPrefix(path, s.prefix+"/") {
		path = path[len(s.prefix):]
	}
	if path != "/wiki" && !strings.HasPrefix(path, "/wiki/") {
		return "", fmt.Errorf("resolve link %q: path outside /wiki", link)
	}
	out := s.root + path
	if ref.RawQuery != "" {
		out += "?" + ref.RawQuery
	}
	return out, nil
}
