package confluencesim

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/segmentio/encoding/json"
)

// crawlResult is what a full default crawl found.
type crawlResult struct {
	spaces, pages, blogs []item
	users                []string // account ids from v1 search
	bulkUsers            []item   // users-bulk answers for referenced ids
	referenced           []string // account ids named by spaces and content
}

// crawl does what the product's crawler does: spaces, the pages and blog
// posts of each space, v1 user search, then users-bulk for every account
// id the content references.
func (e *env) crawl(t *testing.T, limit int) crawlResult {
	t.Helper()
	var res crawlResult
	lim := strconv.Itoa(limit)
	res.spaces = items(t, e.walk(t, withQuery("/wiki/api/v2/spaces", "limit", lim)))
	for _, sp := range res.spaces {
		base := "/wiki/api/v2/spaces/" + sp.ID
		res.pages = append(res.pages, items(t, e.walk(t, withQuery(base+"/pages", "limit", lim, "body-format", "storage")))...)
		res.blogs = append(res.blogs, items(t, e.walk(t, withQuery(base+"/blogposts", "limit", lim, "body-format", "storage")))...)
	}
	res.users = e.searchAllUsers(t, limit)

	seen := map[string]bool{}
	for _, sp := range res.spaces {
		seen[sp.AuthorID] = true
	}
	for _, c := range slices.Concat(res.pages, res.blogs) {
		for _, id := range []string{c.AuthorID, c.OwnerID, c.Version.AuthorID} {
			seen[id] = true
		}
		if c.LastOwnerID != nil {
			seen[*c.LastOwnerID] = true
		}
	}
	delete(seen, "")
	for id := range seen {
		res.referenced = append(res.referenced, id)
	}
	slices.Sort(res.referenced)
	for chunk := range slices.Chunk(res.referenced, maxBulkUsers) {
		body, err := json.Marshal(map[string][]string{"accountIds": chunk})
		if err != nil {
			t.Fatalf("marshal users-bulk request: %v", err)
		}
		resp, b := e.do(t, http.MethodPost, "/wiki/api/v2/users-bulk", body, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST users-bulk = %d %s, want 200", resp.StatusCode, b)
		}
		var lb listBody
		mustUnmarshal(t, b, &lb)
		res.bulkUsers = append(res.bulkUsers, items(t, lb.Results)...)
	}
	return res
}

// searchAllUsers pages through v1 user search, resolving each next link
// against _links.base as a client must.
func (e *env) searchAllUsers(t *testing.T, limit int) []string {
	t.Helper()
	var ids []string
	path := withQuery("/wiki/rest/api/search/user", "cql", "type=user", "limit", strconv.Itoa(limit))
	for path != "" {
		var page struct {
			Results []struct {
				User struct {
					AccountID string `json:"accountId"`
				} `json:"user"`
			} `json:"results"`
			Size      int               `json:"size"`
			TotalSize int               `json:"totalSize"`
			Links     map[string]string `json:"_links"`
		}
		mustUnmarshal(t, e.getOK(t, path), &page)
		if page.Size != len(page.Results) {
			t.Fatalf("GET %s: size = %d, want len(results) %d", path, page.Size, len(page.Results))
		}
		for _, r := range page.Results {
			ids = append(ids, r.User.AccountID)
		}
		// v1 next links are relative to the base, which ends in /wiki.
		path = ""
		if next := page.Links["next"]; next != "" {
			path = page.Links["base"] + next
		}
	}
	return ids
}

func TestExpectedMatchesCrawl(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		limit int
	}{
		{name: "defaults limit 250", cfg: Config{Seed: 1}, limit: 250},
		{name: "small site limit 7", cfg: Config{Seed: 2, Spaces: 5, Pages: 120, BlogPosts: 9, Users: 30}, limit: 7},
		{name: "more spaces than pages", cfg: Config{Seed: 3, Spaces: 12, Pages: 8, Users: 5}, limit: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			res := e.crawl(t, tt.limit)
			want := e.site.Expected()
			got := Counts{Spaces: len(res.spaces), Pages: len(res.pages), BlogPosts: len(res.blogs),
				Users: len(res.users), AccountIDs: len(res.referenced),
				CrawlableUsers: len(union(res.users, res.referenced))}
			if got != want {
				t.Errorf("crawl found %+v, Expected() = %+v", got, want)
			}
			if len(res.bulkUsers) != len(res.referenced) {
				t.Errorf("users-bulk resolved %d of %d referenced ids", len(res.bulkUsers), len(res.referenced))
			}
			if !slices.Equal(res.referenced, e.site.ReferencedAccountIDs()) {
				t.Errorf("referenced ids differ from ReferencedAccountIDs()")
			}
			assertUnique(t, "page id", res.pages, func(i item) string { return i.ID })
			assertUnique(t, "user id", toItems(res.users), func(i item) string { return i.ID })
		})
	}
}

func toItems(ids []string) []item {
	out := make([]item, len(ids))
	for n, id := range ids {
		out[n].ID = id
	}
	return out
}

func assertUnique(t *testing.T, what string, list []item, key func(item) string) {
	t.Helper()
	seen := map[string]bool{}
	for _, it := range list {
		if seen[key(it)] {
			t.Errorf("%s %q listed twice", what, key(it))
		}
		seen[key(it)] = true
	}
}

// union returns the distinct strings of a and b.
func union(a, b []string) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for _, s := range append(slices.Clone(a), b...) {
		m[s] = true
	}
	return m
}
