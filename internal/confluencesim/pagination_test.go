package confluencesim

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestListValidation(t *testing.T) {
	e := newEnv(t, Config{Seed: 4, Spaces: 3, Pages: 60, Users: 10})
	space := e.site.SpaceIDs()[0]
	modCursor := cursorFrom(t, e, "/wiki/api/v2/pages?limit=1&sort=modified-date")
	idCursor := cursorFrom(t, e, "/wiki/api/v2/pages?limit=1")
	notJSON := base64.StdEncoding.EncodeToString([]byte("hello"))
	tests := []struct {
		name string
		path string
		want int
	}{
		{"limit 1", "/wiki/api/v2/pages?limit=1", 200},
		{"limit 250", "/wiki/api/v2/pages?limit=250", 200},
		{"limit 0", "/wiki/api/v2/pages?limit=0", 400},
		{"limit 251", "/wiki/api/v2/pages?limit=251", 400},
		{"limit negative", "/wiki/api/v2/spaces?limit=-1", 400},
		{"limit not a number", "/wiki/api/v2/blogposts?limit=ten", 400},
		{"space pages limit 251", "/wiki/api/v2/spaces/" + space + "/pages?limit=251", 400},
		{"cursor garbage", "/wiki/api/v2/pages?cursor=%25%25%25", 400},
		{"cursor not json", "/wiki/api/v2/pages?cursor=" + notJSON, 400},
		{"cursor of another sort", "/wiki/api/v2/pages?cursor=" + modCursor, 400},
		{"cursor of the same sort", "/wiki/api/v2/pages?cursor=" + idCursor, 200},
		{"sort unknown", "/wiki/api/v2/pages?sort=size", 400},
		{"sort title on blog posts", "/wiki/api/v2/blogposts?sort=title", 400},
		{"status unknown", "/wiki/api/v2/pages?status=draft", 400},
		{"blog status archived", "/wiki/api/v2/blogposts?status=archived", 400},
		{"body-format view on a list", "/wiki/api/v2/pages?body-format=view", 400},
		{"body-format view on one page", "/wiki/api/v2/pages/" + e.site.PageIDs(space)[0] + "?body-format=view", 200},
		{"depth unknown", "/wiki/api/v2/spaces/" + space + "/pages?depth=2", 400},
		{"space id not a number", "/wiki/api/v2/spaces/abc/pages", 400},
		{"unknown route", "/wiki/api/v2/whiteboards", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, resp.StatusCode, body, tt.want)
			}
			if tt.want == 400 && !strings.Contains(string(body), `"code":"INVALID_REQUEST_PARAMETER"`) {
				t.Errorf("GET %s body = %s, want an INVALID_REQUEST_PARAMETER error", tt.path, body)
			}
		})
	}
}

// cursorFrom returns the cursor of the next link of path.
func cursorFrom(t *testing.T, e *env, path string) string {
	t.Helper()
	resp, _ := e.get(t, path)
	next := linkNext(resp.Header.Get("Link"))
	_, after, ok := strings.Cut(next, "cursor=")
	if !ok {
		t.Fatalf("GET %s: no cursor in Link %q", path, resp.Header.Get("Link"))
	}
	cur, _, _ := strings.Cut(after, "&")
	return cur
}

func TestListOrders(t *testing.T) {
	e := newEnv(t, Config{Seed: 5, Spaces: 4, Pages: 400, BlogPosts: 30, Users: 20})
	want := e.site.Expected()
	tests := []struct {
		path  string
		n     int
		field func(item) string
		desc  bool
	}{
		{"/wiki/api/v2/pages?limit=33", want.Pages, func(i item) string { return pad(i.ID) }, false},
		{"/wiki/api/v2/pages?limit=33&sort=-id", want.Pages, func(i item) string { return pad(i.ID) }, true},
		{"/wiki/api/v2/pages?limit=33&sort=modified-date", want.Pages, func(i item) string { return i.Version.CreatedAt }, false},
		{"/wiki/api/v2/pages?limit=33&sort=-modified-date", want.Pages, func(i item) string { return i.Version.CreatedAt }, true},
		{"/wiki/api/v2/pages?limit=250&sort=created-date", want.Pages, func(i item) string { return pad(i.ID) }, false},
		{"/wiki/api/v2/blogposts?limit=4&sort=-created-date", want.BlogPosts, func(i item) string { return pad(i.ID) }, true},
		{"/wiki/api/v2/blogposts?limit=4&sort=-modified-date", want.BlogPosts, func(i item) string { return i.Version.CreatedAt }, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			list := items(t, e.walk(t, tt.path))
			if len(list) != tt.n {
				t.Errorf("walk(%s) found %d, want %d", tt.path, len(list), tt.n)
			}
			assertUnique(t, "id", list, func(i item) string { return i.ID })
			keys := make([]string, len(list))
			for n, it := range list {
				keys[n] = tt.field(it)
			}
			if tt.desc {
				slices.Reverse(keys)
			}
			if !slices.IsSorted(keys) {
				t.Errorf("walk(%s) is not in order", tt.path)
			}
		})
	}
}

func TestTitleSortPerSpace(t *testing.T) {
	e := newEnv(t, Config{Seed: 6, Spaces: 2, Pages: 90, Users: 8})
	for _, sp := range e.site.SpaceIDs() {
		list := items(t, e.walk(t, "/wiki/api/v2/spaces/"+sp+"/pages?limit=9&sort=title&status=current,archived,trashed"))
		if len(list) != len(e.site.PageIDs(sp)) {
			t.Errorf("space %s by title: %d pages, want %d", sp, len(list), len(e.site.PageIDs(sp)))
		}
		titles := make([]string, len(list))
		for n, it := range list {
			titles[n] = it.Title
		}
		if !slices.IsSorted(titles) {
			t.Errorf("space %s: titles not sorted: %q", sp, titles)
		}
	}
}

func pad(id string) string {
	return strings.Repeat("0", 20-len(id)) + id
}

func TestDepthRoot(t *testing.T) {
	e := newEnv(t, Config{Seed: 8, Spaces: 3, Pages: 100, Users: 8})
	for _, sp := range e.site.SpaceIDs() {
		list := items(t, e.walk(t, "/wiki/api/v2/spaces/"+sp+"/pages?depth=root"))
		if len(list) == 0 {
			t.Errorf("space %s: no root pages", sp)
		}
		for _, it := range list {
			if it.ParentID != "" {
				t.Errorf("space %s depth=root listed page %s with parent %s", sp, it.ID, it.ParentID)
			}
		}
	}
}

func TestEmptyListHasNoNext(t *testing.T) {
	e := newEnv(t, Config{Seed: 9, Spaces: 2, Pages: 10, Users: 4})
	resp, body := e.get(t, "/wiki/api/v2/pages?space-id=1")
	if resp.StatusCode != http.StatusOK || linkNext(resp.Header.Get("Link")) != "" {
		t.Fatalf("GET /pages?space-id=1 = %d Link %q, want 200 without next", resp.StatusCode, resp.Header.Get("Link"))
	}
	var lb listBody
	mustUnmarshal(t, body, &lb)
	if len(lb.Results) != 0 || lb.Links.Next != "" {
		t.Errorf("GET /pages?space-id=1 = %d results, next %q; want none", len(lb.Results), lb.Links.Next)
	}
}
