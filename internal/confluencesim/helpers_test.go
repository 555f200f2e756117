package confluencesim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testEmail = "crawler@example.com"
	testToken = "token-123"
)

// env is a site served over loopback with a client that authenticates.
// When check is set, every response passes through it.
type env struct {
	site  *Site
	srv   *httptest.Server
	check func(t *testing.T, req *http.Request, status int, h http.Header, body []byte)
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	cfg.Email, cfg.APIToken = testEmail, testToken
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return &env{site: s, srv: newServer(t, s)}
}

func newServer(tb testing.TB, s *Site) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(s.Handler())
	tb.Cleanup(srv.Close)
	return srv
}

// do sends a request with the test credentials. path may be relative to
// the server or absolute.
func (e *env) do(t *testing.T, method, path string, body []byte, auth func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request %s: %v", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(testEmail, testToken)
	if auth != nil {
		auth(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	if e.check != nil {
		e.check(t, req, resp.StatusCode, resp.Header, b)
	}
	return resp, b
}

func (e *env) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodGet, path, nil, nil)
}

// getOK fetches path and fails the test unless the status is 200.
func (e *env) getOK(t *testing.T, path string) []byte {
	t.Helper()
	resp, body := e.get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", path, resp.StatusCode, body)
	}
	return body
}

type listBody struct {
	Results []json.RawMessage `json:"results"`
	Links   struct {
		Next string `json:"next"`
		Base string `json:"base"`
	} `json:"_links"`
}

// walk follows a v2 listing to its end and returns every result. It checks
// that the Link header and _links.next agree on every page.
func (e *env) walk(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	for pages := 0; path != ""; pages++ {
		if pages > 10_000 {
			t.Fatalf("walk: more than 10000 pages, last %s", path)
		}
		resp, body := e.get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s, want 200", path, resp.StatusCode, body)
		}
		var lb listBody
		mustUnmarshal(t, body, &lb)
		if got := linkNext(resp.Header.Get("Link")); got != lb.Links.Next {
			t.Fatalf("GET %s: Link next = %q, want _links.next %q", path, got, lb.Links.Next)
		}
		if lb.Links.Base != e.srv.URL+"/wiki" {
			t.Fatalf("GET %s: _links.base = %q, want %q", path, lb.Links.Base, e.srv.URL+"/wiki")
		}
		all = append(all, lb.Results...)
		path = lb.Links.Next
		if path != "" && !strings.HasPrefix(path, "/wiki/") {
			t.Fatalf("GET %s: next %q does not start with /wiki/", resp.Request.URL, path)
		}
	}
	return all
}

// linkNext extracts the rel="next" target of a Link header, reading each
// target up to its closing '>' so that commas inside it do no harm.
func linkNext(h string) string {
	for h != "" {
		start := strings.IndexByte(h, '<')
		end := strings.IndexByte(h, '>')
		if start < 0 || end < start {
			return ""
		}
		target, rest := h[start+1:end], h[end+1:]
		params, after, _ := strings.Cut(rest, ",")
		if strings.Contains(params, `rel="next"`) {
			return target
		}
		h = after
	}
	return ""
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %.200s: %v", b, err)
	}
}

// item is the union of the fields tests read from spaces, pages, blog
// posts and users.
type item struct {
	ID          string  `json:"id"`
	Key         string  `json:"key"`
	Status      string  `json:"status"`
	Title       string  `json:"title"`
	SpaceID     string  `json:"spaceId"`
	ParentID    string  `json:"parentId"`
	AuthorID    string  `json:"authorId"`
	OwnerID     string  `json:"ownerId"`
	LastOwnerID *string `json:"lastOwnerId"`
	HomepageID  string  `json:"homepageId"`
	Type        string  `json:"type"`
	Version     struct {
		Number    int    `json:"number"`
		AuthorID  string `json:"authorId"`
		CreatedAt string `json:"createdAt"`
	} `json:"version"`
	Body struct {
		Storage *struct {
			Representation string `json:"representation"`
			Value          string `json:"value"`
		} `json:"storage"`
		ADF *struct {
			Value string `json:"value"`
		} `json:"atlas_doc_format"`
	} `json:"body"`
}

func items(t *testing.T, raws []json.RawMessage) []item {
	t.Helper()
	out := make([]item, len(raws))
	for n, r := range raws {
		mustUnmarshal(t, r, &out[n])
	}
	return out
}

func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}
