package confluencesim

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// serve answers one request straight from the handler, with a fixed host,
// so two sites can be compared byte for byte.
func serve(s *Site, path string) (int, string, string) {
	req := httptest.NewRequest(http.MethodGet, "http://sim.example"+path, nil)
	req.SetBasicAuth("anyone", "anything")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Link"), rec.Body.String()
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 42, Spaces: 5, Pages: 200, BlogPosts: 12, Users: 25}
	a, errA := New(cfg)
	b, errB := New(cfg)
	other, errC := New(Config{Seed: 43, Spaces: 5, Pages: 200, BlogPosts: 12, Users: 25})
	if errA != nil || errB != nil || errC != nil {
		t.Fatalf("New = %v, %v, %v", errA, errB, errC)
	}
	space := a.SpaceIDs()[1]
	page := a.PageIDs(space)[3]
	paths := []string{
		"/wiki/api/v2/spaces?limit=3",
		"/wiki/api/v2/spaces/" + space + "/pages?limit=40&body-format=storage",
		"/wiki/api/v2/spaces/" + space + "/blogposts?body-format=atlas_doc_format",
		"/wiki/api/v2/pages?limit=250&sort=-modified-date&body-format=storage",
		"/wiki/api/v2/pages/" + page + "?body-format=atlas_doc_format",
		"/wiki/rest/api/search/user?cql=type=user&limit=1000",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			codeA, linkA, bodyA := serve(a, p)
			codeB, linkB, bodyB := serve(b, p)
			if codeA != 200 {
				t.Fatalf("GET %s = %d %.200s, want 200", p, codeA, bodyA)
			}
			if diff := cmp.Diff([]any{codeA, linkA, bodyA}, []any{codeB, linkB, bodyB}); diff != "" {
				t.Errorf("same seed, different responses (-first +second):\n%.2000s", diff)
			}
			if _, _, bodyC := serve(other, p); bodyC == bodyA {
				t.Errorf("seeds 42 and 43 give the same body for %s", p)
			}
		})
	}
}

func TestUniquePhrase(t *testing.T) {
	e := newEnv(t, Config{Seed: 11, Spaces: 4, Pages: 150, BlogPosts: 10, Users: 10})
	var all []item
	for _, sp := range e.site.SpaceIDs() {
		for _, kind := range []string{"pages", "blogposts"} {
			path := "/wiki/api/v2/spaces/" + sp + "/" + kind + "?limit=250&body-format=storage&status=" +
				map[string]string{"pages": "current,archived,trashed", "blogposts": "current,trashed"}[kind]
			all = append(all, items(t, e.walk(t, path))...)
		}
	}
	if len(all) != 160 {
		t.Fatalf("walked %d pages and blog posts, want 160", len(all))
	}
	for _, it := range all {
		phrase := e.site.UniquePhrase(it.ID)
		var holders []string
		for _, other := range all {
			if strings.Contains(other.Body.Storage.Value, phrase) || strings.Contains(other.Title, phrase) {
				holders = append(holders, other.ID)
			}
		}
		if len(holders) != 1 || holders[0] != it.ID {
			t.Errorf("UniquePhrase(%s) = %q occurs in %v, want only %s", it.ID, phrase, holders, it.ID)
		}
	}
	if got := e.site.UniquePhrase("12"); got != "" {
		t.Errorf("UniquePhrase(unknown) = %q, want empty", got)
	}
}

func TestContentIsRealistic(t *testing.T) {
	e := newEnv(t, Config{Seed: 12})
	pages := items(t, e.walk(t, "/wiki/api/v2/pages?limit=250&body-format=storage"))
	features := map[string]*regexp.Regexp{
		"info macro":    regexp.MustCompile(`ac:structured-macro ac:name="info"`),
		"code macro":    regexp.MustCompile(`ac:name="code"[^>]*>.*<!\[CDATA\[`),
		"toc macro":     regexp.MustCompile(`ac:name="toc"`),
		"jira macro":    regexp.MustCompile(`ac:name="jira"`),
		"table":         regexp.MustCompile(`<table><tbody><tr><th>`),
		"page link":     regexp.MustCompile(`<ac:link><ri:page ri:content-title="[^"]+" /></ac:link>`),
		"emoticon":      regexp.MustCompile(`<ac:emoticon ac:name="`),
		"emoji":         regexp.MustCompile(`🚀|✅|🔥|🎉`),
		"Japanese":      regexp.MustCompile(`\p{Hiragana}|\p{Katakana}`),
		"Cyrillic":      regexp.MustCompile(`\p{Cyrillic}`),
		"Arabic":        regexp.MustCompile(`\p{Arabic}`),
		"Greek":         regexp.MustCompile(`\p{Greek}`),
		"Han":           regexp.MustCompile(`\p{Han}`),
		"Hangul":        regexp.MustCompile(`\p{Hangul}`),
		"German umlaut": regexp.MustCompile(`[äöüÄÖÜ]`),
	}
	found := map[string]bool{}
	titles := map[string]map[string]bool{}
	ids := map[string]string{} // page id -> space id
	var small, large, versioned, withParent int
	for _, p := range pages {
		ids[p.ID] = p.SpaceID
		body := p.Body.Storage.Value
		for name, re := range features {
			if !found[name] && re.MatchString(body) {
				found[name] = true
			}
		}
		if len(body) < 1024 {
			small++
		}
		if len(body) > 9*1024 {
			large++
		}
		if p.Version.Number > 1 {
			versioned++
		}
		if titles[p.SpaceID] == nil {
			titles[p.SpaceID] = map[string]bool{}
		}
		if titles[p.SpaceID][p.Title] {
			t.Errorf("title %q appears twice in space %s", p.Title, p.SpaceID)
		}
		titles[p.SpaceID][p.Title] = true
	}
	for _, p := range pages {
		if p.ParentID == "" {
			continue
		}
		withParent++
		if ids[p.ParentID] != p.SpaceID {
			t.Errorf("page %s has parent %s, which is not a listed page of space %s", p.ID, p.ParentID, p.SpaceID)
		}
	}
	for name := range features {
		if !found[name] {
			t.Errorf("no page body has %s", name)
		}
	}
	if small > 0 || large > 0 {
		t.Errorf("%d bodies under 1 KB and %d over 9 KB, want none", small, large)
	}
	if versioned < len(pages)/2 || withParent < len(pages)/2 {
		t.Errorf("%d of %d pages have version > 1 and %d a parent; want at least half each", versioned, len(pages), withParent)
	}
}

func TestUsersAreVaried(t *testing.T) {
	s, err := New(Config{Seed: 13})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	count := map[string]int{}
	for u := range s.users {
		j := s.userJSON(u)
		count["type "+j.AccountType]++
		count["status "+j.AccountStatus]++
		if j.Email == "" && j.AccountType == "atlassian" && j.AccountStatus != "closed" {
			count["hidden email"]++
		}
		if j.PersonalSpaceID != "" {
			count["personal space"]++
		}
		if strings.IndexFunc(j.DisplayName, func(r rune) bool { return r > unicode.MaxLatin1 }) >= 0 {
			count["non-Latin name"]++
		}
	}
	for _, k := range []string{"type atlassian", "type app", "status active", "status inactive",
		"status closed", "hidden email", "personal space", "non-Latin name"} {
		if count[k] == 0 {
			t.Errorf("no user with %s among %d (counts %v)", k, len(s.users), count)
		}
	}
}
