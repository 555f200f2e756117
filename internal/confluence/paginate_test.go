package confluence

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pageItems renders v2 page results with the given ids.
func pageItems(ids ...string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = fmt.Sprintf(`{"id":%q,"status":"current","title":"Page %s","spaceId":"7",`+
			`"version":{"number":1,"createdAt":"2025-06-01T10:00:00.000Z"},`+
			`"body":{"storage":{"value":"<p>%s</p>","representation":"storage"}},`+
			`"_links":{"webui":"/spaces/ENG/pages/%s"}}`, id, id, id, id)
	}
	return strings.Join(items, ",")
}

// listBody renders a v2 list with a body next link (or none).
func listBody(items, next string) string {
	links := `"base":"https://acme.atlassian.net/wiki"`
	if next != "" {
		links += fmt.Sprintf(`,"next":%q`, next)
	}
	return fmt.Sprintf(`{"results":[%s],"_links":{%s}}`, items, links)
}

func TestListSpacePagesPagination(t *testing.T) {
	const p2 = "/wiki/api/v2/spaces/7/pages?cursor=c2&limit=250&body-format=storage"
	const p3 = "/wiki/api/v2/spaces/7/pages?cursor=c3&limit=250&body-format=storage"
	tests := []struct {
		name string
		// respond answers the request for cursor ("" = first page).
		respond   func(w http.ResponseWriter, cursor, srvURL string)
		wantIDs   [][]string
		wantNexts []string // relative to the server URL; "" = last
		wantReqs  int
	}{{
		name: "next from Link header",
		respond: func(w http.ResponseWriter, cursor, _ string) {
			if cursor == "" {
				w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <https://acme.atlassian.net/wiki>; rel="base"`, p2))
				writeJSON(w, 200, `{"results":[`+pageItems("1", "2")+`],"_links":{"base":"https://acme.atlassian.net/wiki"}}`)
				return
			}
			writeJSON(w, 200, listBody(pageItems("3"), ""))
		},
		wantIDs: [][]string{{"1", "2"}, {"3"}}, wantNexts: []string{p2, ""}, wantReqs: 2,
	}, {
		name: "next from body, relative",
		respond: func(w http.ResponseWriter, cursor, _ string) {
			switch cursor {
			case "":
				writeJSON(w, 200, listBody(pageItems("1"), p2))
			case "c2":
				writeJSON(w, 200, listBody(pageItems("2"), p3))
			default:
				writeJSON(w, 200, listBody(pageItems("3"), ""))
			}
		},
		wantIDs: [][]string{{"1"}, {"2"}, {"3"}}, wantNexts: []string{p2, p3, ""}, wantReqs: 3,
	}, {
		name: "next from body, absolute",
		respond: func(w http.ResponseWriter, cursor, srvURL string) {
			if cursor == "" {
				writeJSON(w, 200, listBody(pageItems("1"), srvURL+p2))
				return
			}
			writeJSON(w, 200, listBody(pageItems("2"), ""))
		},
		wantIDs: [][]string{{"1"}, {"2"}}, wantNexts: []string{p2, ""}, wantReqs: 2,
	}, {
		name: "empty results with a next link stop the listing",
		respond: func(w http.ResponseWriter, cursor, _ string) {
			if cursor == "" {
				writeJSON(w, 200, listBody(pageItems("1"), p2))
				return
			}
			writeJSON(w, 200, listBody("", p3))
		},
		wantIDs: [][]string{{"1"}}, wantNexts: []string{p2}, wantReqs: 2,
	}, {
		// Regression: an empty page linking to itself failed the crawl as a
		// repeating next link instead of ending the listing.
		name: "empty results with a next link to themselves stop the listing",
		respond: func(w http.ResponseWriter, cursor, _ string) {
			if cursor == "" {
				writeJSON(w, 200, listBody(pageItems("1"), p2))
				return
			}
			writeJSON(w, 200, listBody("", p2))
		},
		wantIDs: [][]string{{"1"}}, wantNexts: []string{p2}, wantReqs: 2,
	}, {
		name: "a single last page",
		respond: func(w http.ResponseWriter, _, _ string) {
			writeJSON(w, 200, listBody(pageItems("1", "2"), ""))
		},
		wantIDs: [][]string{{"1", "2"}}, wantNexts: []string{""}, wantReqs: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srvURL string
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				tt.respond(w, r.URL.Query().Get("cursor"), srvURL)
			})
			srvURL = site.srv.URL
			c, _ := testClient(t, srvURL, newFakeClock(), nil)

			var gotIDs [][]string
			var gotNexts []string
			err := c.ListSpacePages(t.Context(), "7", "", func(batch []Page, next string) error {
				gotIDs = append(gotIDs, pageIDs(batch))
				gotNexts = append(gotNexts, strings.TrimPrefix(next, srvURL))
				return nil
			})
			if err != nil {
				t.Fatalf("ListSpacePages() = %v", err)
			}
			if diff := cmp.Diff(tt.wantIDs, gotIDs); diff != "" {
				t.Errorf("ListSpacePages() batches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNexts, gotNexts); diff != "" {
				t.Errorf("ListSpacePages() next links (-want +got):\n%s", diff)
			}
			if got := len(site.requests()); got != tt.wantReqs {
				t.Errorf("ListSpacePages() made %d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func pageIDs(batch []Page) []string {
	ids := make([]string, len(batch))
	for i, p := range batch {
		ids[i] = p.ID
	}
	return ids
}

func TestListSpacePagesFirstRequest(t *testing.T) {
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, listBody(pageItems("1"), ""))
	})
	c, _ := testClient(t, site.srv.URL+"/wiki/", newFakeClock(), func(c *Config) { c.PageLimit = 100 })

	var got []Page
	err := c.ListSpacePages(t.Context(), "7", "", func(batch []Page, _ string) error {
		got = append(got, batch...)
		return nil
	})
	if err != nil {
		t.Fatalf("ListSpacePages() = %v", err)
	}
	req := site.requests()[0]
	q, _ := url.ParseQuery(req.Query)
	if req.Path != "/wiki/api/v2/spaces/7/pages" || q.Get("limit") != "100" || q.Get("body-format") != "storage" {
		t.Errorf("ListSpacePages() requested %s?%s, want /wiki/api/v2/spaces/7/pages with limit=100 and body-format=storage",
			req.Path, req.Query)
	}
	want := []Page{{
		ID: "1", Kind: KindPage, Status: "current", Title: "Page 1", SpaceID: "7",
		Version: Version{Number: 1, CreatedAt: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)},
		Body:    "<p>1</p>", WebURL: "https://acme.atlassian.net/wiki/spaces/ENG/pages/1",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListSpacePages() pages (-want +got):\n%s", diff)
	}
}

func TestListGatewayFollowsLinksUnderTheGatewayPath(t *testing.T) {
	const prefix = "/ex/confluence/cloud-1"
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/wiki/api/v2/") {
			writeJSON(w, 404, `{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found"}]}`)
			return
		}
		if r.URL.Query().Get("cursor") == "" {
			// Atlassian's links are site-relative and contain /wiki only.
			w.Header().Set("Link", `</wiki/api/v2/spaces/7/blogposts?cursor=c2&limit=250>; rel="next"`)
			writeJSON(w, 200, `{"results":[`+pageItems("1")+`],"_links":{"base":"https://acme.atlassian.net/wiki"}}`)
			return
		}
		writeJSON(w, 200, listBody(pageItems("2"), ""))
	})
	c, _ := testClient(t, site.srv.URL+prefix, newFakeClock(), nil)

	var ids []string
	err := c.ListSpaceBlogPosts(t.Context(), "7", "", func(batch []Page, _ string) error {
		for _, p := range batch {
			if p.Kind != KindBlogPost {
				t.Errorf("ListSpaceBlogPosts() page %s kind %q, want %q", p.ID, p.Kind, KindBlogPost)
			}
		}
		ids = append(ids, pageIDs(batch)...)
		return nil
	})
	if err != nil || strings.Join(ids, ",") != "1,2" {
		t.Fatalf("ListSpaceBlogPosts() = %v, ids %v, want nil and [1 2]", err, ids)
	}
	if got, want := site.requests()[1].Path, prefix+"/wiki/api/v2/spaces/7/blogposts"; got != want {
		t.Errorf("second request path = %q, want %q", got, want)
	}
	if got, want := c.SiteURL(), "https://acme.atlassian.net/wiki"; got != want {
		t.Errorf("SiteURL() after a response = %q, want the reported base %q", got, want)
	}
	if got, want := c.Site(), site.srv.Listener.Addr().String()+prefix; got != want {
		t.Errorf("Site() = %q, want %q", got, want)
	}
}

func TestListSpacePagesResumesFromNextLink(t *testing.T) {
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, listBody(pageItems("9"), ""))
	})
	c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

	from := site.srv.URL + "/wiki/api/v2/spaces/7/pages?cursor=resume-here&limit=250"
	err := c.ListSpacePages(t.Context(), "7", from, func([]Page, string) error { return nil })
	if err != nil {
		t.Fatalf("ListSpacePages(from) = %v", err)
	}
	if got := site.requests()[0].Query; got != "cursor=resume-here&limit=250" {
		t.Errorf("ListSpacePages(from) first query = %q, want the checkpointed cursor", got)
	}
}

const invalidCursorBody = `{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER",` +
	`"title":"Provided value for 'cursor' is not the correct type.","detail":null}]}`

func TestInvalidCursorRestartsListingOnce(t *testing.T) {
	tests := []struct {
		name       string
		from       string
		badCursors int // how many cursor requests are rejected
		wantErr    error
		wantIDs    string
		wantQuery  []string // cursor of each request, "" for the first page
	}{
		{"mid-listing cursor rejected once", "", 1, nil, "1,1,2", []string{"", "c2", "", "c2"}},
		{"checkpointed cursor rejected once", "/wiki/api/v2/spaces/7/pages?cursor=stale", 1, nil, "1,2",
			[]string{"stale", "", "c2"}},
		{"rejected again after the restart", "", 2, ErrInvalidCursor, "1,1", []string{"", "c2", "", "c2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected := 0
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				switch cursor := r.URL.Query().Get("cursor"); {
				case cursor != "" && rejected < tt.badCursors:
					rejected++
					writeJSON(w, 400, invalidCursorBody)
				case cursor == "":
					writeJSON(w, 200, listBody(pageItems("1"), "/wiki/api/v2/spaces/7/pages?cursor=c2&limit=250"))
				default:
					writeJSON(w, 200, listBody(pageItems("2"), ""))
				}
			})
			c, logs := testClient(t, site.srv.URL, newFakeClock(), nil)

			var ids []string
			err := c.ListSpacePages(t.Context(), "7", tt.from, func(batch []Page, _ string) error {
				ids = append(ids, pageIDs(batch)...)
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ListSpacePages() = %v, want %v", err, tt.wantErr)
			}
			if got := strings.Join(ids, ","); got != tt.wantIDs {
				t.Errorf("ListSpacePages() ids = %s, want %s", got, tt.wantIDs)
			}
			var cursors []string
			for _, r := range site.requests() {
				q, _ := url.ParseQuery(r.Query)
				cursors = append(cursors, q.Get("cursor"))
			}
			if diff := cmp.Diff(tt.wantQuery, cursors); diff != "" {
				t.Errorf("ListSpacePages() cursors requested (-want +got):\n%s", diff)
			}
			if !strings.Contains(logs.String(), "cursor rejected, listing restarted") {
				t.Errorf("log = %s, want a restart line", logs)
			}
		})
	}
}

func TestListPagesModifiedSince(t *testing.T) {
	since := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	page := func(id string, modified time.Time) string {
		return fmt.Sprintf(`{"id":%q,"version":{"number":2,"createdAt":%q}}`, id, modified.Format(time.RFC3339Nano))
	}
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Query().Get("cursor") == "" {
			items := page("5", since.Add(3*time.Hour)) + "," + page("4", since.Add(time.Hour))
			writeJSON(w, 200, listBody(items, "/wiki/api/v2/pages?cursor=c2&sort=-modified-date"))
			return
		}
		items := page("3", since) + "," + page("2", since.Add(-time.Second)) + "," + page("1", since.Add(-time.Hour))
		writeJSON(w, 200, listBody(items, "/wiki/api/v2/pages?cursor=c3&sort=-modified-date"))
	})
	c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

	var batches [][]string
	err := c.ListPagesModifiedSince(t.Context(), since, func(batch []Page) error {
		batches = append(batches, pageIDs(batch))
		return nil
	})
	if err != nil {
		t.Fatalf("ListPagesModifiedSince() = %v", err)
	}
	if diff := cmp.Diff([][]string{{"5", "4"}, {"3"}}, batches); diff != "" {
		t.Errorf("ListPagesModifiedSince() batches (-want +got):\n%s", diff)
	}
	reqs := site.requests()
	if len(reqs) != 2 {
		t.Errorf("ListPagesModifiedSince() made %d requests, want 2 (stop at the first older page)", len(reqs))
	}
	if q, _ := url.ParseQuery(reqs[0].Query); reqs[0].Path != "/wiki/api/v2/pages" || q.Get("sort") != "-modified-date" {
		t.Errorf("first request = %s?%s, want /wiki/api/v2/pages with sort=-modified-date", reqs[0].Path, reqs[0].Query)
	}
}

func TestPagingShrinksLimitAfterServerErrors(t *testing.T) {
	clk := newFakeClock()
	clk.autoAdvance(t)
	site := newFakeSite(t, clk, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Query().Get("limit") != "62" {
			writeJSON(w, 504, `{"errors":[{"status":504,"code":"GATEWAY_TIMEOUT","title":"too slow"}]}`)
			return
		}
		writeJSON(w, 200, listBody(pageItems("1"), ""))
	})
	c, logs := testClient(t, site.srv.URL, clk, func(c *Config) {
		c.MaxAttempts = 2
		c.BreakerFailures = 100
	})

	err := c.ListSpaces(t.Context(), func([]Space) error { return nil })
	if err != nil {
		t.Fatalf("ListSpaces() = %v, want success after shrinking to limit 62", err)
	}
	var limits []string
	for _, r := range site.requests() {
		q, _ := url.ParseQuery(r.Query)
		limits = append(limits, q.Get("limit"))
	}
	if diff := cmp.Diff([]string{"250", "250", "125", "125", "62"}, limits); diff != "" {
		t.Errorf("limits requested (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "page size shrunk") {
		t.Errorf("log = %s, want a shrink line", logs)
	}
}

func TestLinkNext(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"atlassian form", []string{`</wiki/api/v2/pages?cursor=abc=&limit=5>; rel="next", <https://x.atlassian.net/wiki>; rel="base"`},
			"/wiki/api/v2/pages?cursor=abc=&limit=5"},
		{"base first", []string{`<https://x.atlassian.net/wiki>; rel="base", </n>; rel="next"`}, "/n"},
		{"unquoted rel", []string{`</n>;rel=next`}, "/n"},
		{"rel list", []string{`</n>; rel="prev next"`}, "/n"},
		{"separate headers", []string{`</b>; rel="base"`, `</n>; rel="next"`}, "/n"},
		{"comma in a quoted param", []string{`</a>; title="x, y"; rel="prev", </n>; rel="next"`}, "/n"},
		{"no next", []string{`<https://x.atlassian.net/wiki>; rel="base"`}, ""},
		{"malformed", []string{`garbage; rel="next"`}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Link", v)
			}
			if got := linkNext(h); got != tt.want {
				t.Errorf("linkNext(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}

func TestWithLimit(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/wiki/api/v2/pages?cursor=a%3D&limit=250", "https://h/wiki/api/v2/pages?cursor=a%3D&limit=125"},
		{"https://h/wiki/api/v2/pages", "https://h/wiki/api/v2/pages?limit=125"},
		{"https://h/p?limit=250&sort=-id", "https://h/p?sort=-id&limit=125"},
	}
	for _, tt := range tests {
		if got := withLimit(tt.in, 125); got != tt.want {
			t.Errorf("withLimit(%q, 125) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestListWithStatus(t *testing.T) {
	tests := []struct {
		name     string
		list     func(c *Client, fn func([]Page) error) error
		wantPath string
		wantKind string
		wantErr  bool
	}{
		{"trashed pages", func(c *Client, fn func([]Page) error) error {
			return c.ListPagesWithStatus(t.Context(), "trashed", fn)
		}, "/wiki/api/v2/pages", KindPage, false},
		{"deleted blog posts", func(c *Client, fn func([]Page) error) error {
			return c.ListBlogPostsWithStatus(t.Context(), "deleted", fn)
		}, "/wiki/api/v2/blogposts", KindBlogPost, false},
		{"blog posts have no archived status", func(c *Client, fn func([]Page) error) error {
			return c.ListBlogPostsWithStatus(t.Context(), "archived", fn)
		}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				items := fmt.Sprintf(`{"id":"5","status":%q}`, r.URL.Query().Get("status"))
				writeJSON(w, 200, listBody(items, ""))
			})
			c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

			var got []Page
			err := tt.list(c, func(batch []Page) error {
				got = append(got, batch...)
				return nil
			})
			if tt.wantErr {
				if err == nil || len(site.requests()) != 0 {
					t.Errorf("list = %v after %d requests, want an error before any request", err, len(site.requests()))
				}
				return
			}
			if err != nil || len(got) != 1 || got[0].Kind != tt.wantKind {
				t.Fatalf("list = %v, %+v, want one %s", err, got, tt.wantKind)
			}
			req := site.requests()[0]
			q, _ := url.ParseQuery(req.Query)
			if req.Path != tt.wantPath || q.Get("status") != got[0].Status || q.Has("body-format") {
				t.Errorf("request = %s?%s, want %s with the status and no body-format", req.Path, req.Query, tt.wantPath)
			}
		})
	}
}
