package index

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parable/confluence-kafka/schema"
)

// corpus applies a small site: two users, one space, a Japanese page, a code
// page, a blog post and twenty pages that all mention "deploy" in passing.
func corpus(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	evs := []schema.Event{
		userEvent(t, "u-1", "Mia Krystof"),
		userEvent(t, "u-2", "Kenji Sato"),
		spaceEvent(t, "65538", "OPS", "Operations"),
		contentEvent(t, "100", schema.KindPage, "u-2", "東京 フェイルオーバー 手順",
			"<p>東京 リージョン の 切り替え</p>"),
		contentEvent(t, "101", schema.KindPage, "u-1", "Restart pods",
			`<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[kubectl rollout restart deploy/api]]></ac:plain-text-body></ac:structured-macro>`),
		contentEvent(t, "102", schema.KindBlogPost, "u-1", "Release notes",
			"<p>We shipped the zebra-crossing feature &amp; fixed ✅ bugs.</p>"),
		contentEvent(t, "103", schema.KindPage, "u-1", "Deploy checklist", "<p>Before you start, read this.</p>"),
	}
	for i := range 20 {
		evs = append(evs, contentEvent(t, fmt.Sprint(200+i), schema.KindPage, "u-1",
			fmt.Sprintf("Meeting %d", i), "<p>We talked about the deploy and lunch.</p>"))
	}
	if err := s.Apply(t.Context(), evs); err != nil {
		t.Fatalf("Apply(corpus) = %v, want no error", err)
	}
	return s
}

func contentEvent(t *testing.T, id, kind, author, title, body string) schema.Event {
	t.Helper()
	p := schema.Page{
		ID: id, Kind: kind, SpaceID: "65538", Status: "current", Title: title, Body: body,
		AuthorID: author, WebURL: "https://acme.atlassian.net/wiki/x/" + id,
		Version: schema.PageVersion{Number: 1, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	m, err := testSite.PageUpserted(p)
	return event(t, m, err)
}

func TestSearchRanking(t *testing.T) {
	s := corpus(t)
	tests := []struct {
		query     string
		wantFirst string
		wantCount int
	}{
		{"deploy", "103", 22}, // the title match outranks twenty body mentions and the code
		{"zebra-crossing", "102", 1},
		{"kubectl rollout", "101", 1},
		{"DEPLOY Checklist", "103", 1},
		{"東京", "100", 1},
		{"lunch deploy", "200", 20},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := s.Search(t.Context(), tt.query, MaxLimit)
			if err != nil {
				t.Fatalf("Search(%q) = %v, want no error", tt.query, err)
			}
			if len(hits) != tt.wantCount {
				t.Fatalf("Search(%q) = %d hits, want %d", tt.query, len(hits), tt.wantCount)
			}
			if tt.wantFirst != "200" && hits[0].PageID != tt.wantFirst {
				t.Errorf("Search(%q)[0] = %s %q, want page %s", tt.query, hits[0].PageID, hits[0].Title, tt.wantFirst)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Rank > hits[i-1].Rank {
					t.Errorf("Search(%q): rank %d (%v) above rank %d (%v), want descending", tt.query, i, hits[i].Rank, i-1, hits[i-1].Rank)
				}
			}
		})
	}
}

func TestSearchHit(t *testing.T) {
	s := corpus(t)
	got := onlyHit(t, s, "zebra")
	want := Hit{
		Site: testSite.ID, PageID: "102", Kind: schema.KindBlogPost, Title: "Release notes",
		SpaceKey: "OPS", SpaceName: "Operations", AuthorName: "Mia Krystof",
		WebURL:  "https://acme.atlassian.net/wiki/x/102",
		Snippet: "We shipped the [zebra]-crossing feature & fixed ✅ bugs.",
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Rank" }, cmp.Ignore())); diff != "" {
		t.Errorf("Search(zebra) mismatch (-want +got):\n%s", diff)
	}
	if got.Rank <= 0 {
		t.Errorf("Search(zebra).Rank = %v, want > 0", got.Rank)
	}
}

func TestSearchHostileQueries(t *testing.T) {
	s := corpus(t)
	tests := []struct {
		query string
		want  int // hits
	}{
		{`"`, 0},
		{`""`, 0},
		{`deploy"`, 22},
		{`"deploy`, 22},
		{`AND(`, 20}, // the word "and", as the meeting notes have it
		{`deploy AND(`, 20},
		{`deploy OR lunch`, 0}, // OR is a word here, and no page contains it
		{`NOT deploy`, 0},
		{`NEAR(deploy lunch`, 0},
		{`*`, 0},
		{`deploy*`, 22},
		{`title:deploy`, 0},
		{`-deploy`, 22},
		{`^deploy`, 22},
		{`{title body}: deploy`, 0},
		{`✅`, 0},
		{`🚀🚀🚀`, 0},
		{`東京`, 1},
		{`フェイルオーバー`, 1},
		{"deploy\x00lunch", 20}, // NUL once ended the query: "unterminated string"
		{"lunch\x1b", 20},
		{strings.Repeat("deploy ", 500), 22},
		{"", 0},
		{"   \t ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			hits, err := s.Search(t.Context(), tt.query, MaxLimit)
			if err != nil {
				t.Fatalf("Search(%q) = %v, want no error", tt.query, err)
			}
			if len(hits) != tt.want {
				t.Errorf("Search(%q) = %d hits, want %d", tt.query, len(hits), tt.want)
			}
		})
	}
}

func TestSearchLimit(t *testing.T) {
	s := corpus(t)
	tests := []struct {
		limit, want int
	}{
		{0, DefaultLimit}, {-3, DefaultLimit}, {5, 5}, {1, 1}, {100000, 22},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			hits, err := s.Search(t.Context(), "deploy", tt.limit)
			if err != nil {
				t.Fatalf("Search(deploy, %d) = %v, want no error", tt.limit, err)
			}
			if len(hits) != tt.want {
				t.Errorf("Search(deploy, %d) = %d hits, want %d", tt.limit, len(hits), tt.want)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	s := corpus(t)
	applyEach(t, s,
		deleteEvent(t, "200", "1"),
		event(t, testSite.Deleted(schema.EntityUser, "u-2", "", schema.ReasonMissing, testTime), nil),
	)
	want := Counts{Users: 1, Spaces: 1, Pages: 22, BlogPosts: 1, Deleted: 2}
	if got := counts(t, s); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

func TestMatchExpr(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"deploy", `"deploy"`},
		{"a b", `"a" "b"`},
		{`say "hi"`, `"say" """hi"""`},
		{`AND( *`, `"AND("`},
		{"✅ ok", `"ok"`},
		{"a\x00b", `"a" "b"`},
		{"", ""},
		{strings.Repeat("x ", maxTerms+5), strings.TrimSpace(strings.Repeat(`"x" `, maxTerms))},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 20)], func(t *testing.T) {
			if got := matchExpr(tt.in); got != tt.want {
				t.Errorf("matchExpr(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
