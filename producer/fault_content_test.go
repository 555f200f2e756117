package producer_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/producer"
	"github.com/parable/confluence-kafka/schema"
)

// TestMultiMegabyteResponses: listing answers of several megabytes are read
// whole; a page whose event would pass the topic's size limit is published
// without its body, flagged and counted, and the crawl goes on; an answer
// over the client's MaxResponseBytes stops the run, naming the limit.
func TestMultiMegabyteResponses(t *testing.T) {
	t.Parallel()
	const bodyBytes = 5 << 20
	tests := []struct {
		name       string
		maxBody    int64 // client MaxResponseBytes; 0 is the 64 MiB default
		wantErr    string
		wantDegrad int64 // pages published without their body
	}{
		{name: "5 MB page published degraded", wantDegrad: 1},
		{name: "answer over MaxResponseBytes", maxBody: 2 << 20, wantErr: "response body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, faultSite, func(c *confluence.Config) { c.MaxResponseBytes = tc.maxBody })
			space := r.site.SpaceIDs()[2]
			first := r.listing(space) + "?body-format=storage&limit=250"
			big, id := r.withHugeBody(t, first, bodyBytes)
			r.site.InjectFault(confluencesim.Match{Route: pagesRoute, SpaceID: space},
				confluencesim.Fault{Body: big, Count: 1})
			p, _, err := r.crawl(t, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "space "+space) {
					t.Fatalf("Crawl() = %v, want %q for the pages of space %s", err, tc.wantErr, space)
				}
				return
			}
			if err != nil {
				t.Fatalf("Crawl() = %v", err)
			}
			if n := p.Stats().Degraded.Load(); n != tc.wantDegrad {
				t.Errorf("Stats().Degraded = %d, want %d", n, tc.wantDegrad)
			}
			r.site.ClearFaults()
			for key, ev := range r.published(t) {
				if !strings.HasSuffix(key, "/"+id) {
					continue
				}
				page, err := schema.Decode[schema.Page](ev)
				if err != nil {
					t.Fatal(err)
				}
				if !page.BodyOmitted || page.Body != "" || page.BodyBytes < bodyBytes {
					t.Errorf("page %s: omitted %v, body %d bytes, body bytes %d; want the body omitted and its size kept",
						id, page.BodyOmitted, len(page.Body), page.BodyBytes)
				}
			}
			want := r.wantCounts(t)
			want.degraded = int(tc.wantDegrad)
			if got := r.count(t); got != want {
				t.Errorf("committed %+v, want %+v", got, want)
			}
		})
	}
}

// withHugeBody returns the site's answer to the listing page path with the
// first result's body grown to n bytes, and that result's id.
func (r *faultRig) withHugeBody(t *testing.T, path string, n int) (string, string) {
	t.Helper()
	list := r.fetchJSON(t, path)
	results, _ := list["results"].([]any)
	if len(results) == 0 {
		t.Fatalf("GET %s: no results", path)
	}
	page := results[0].(map[string]any)
	unit := "Ωmega ünïcode 数据 🚀 "
	filler := strings.Repeat(unit, n/len(unit)+1)
	page["body"] = map[string]any{"storage": map[string]any{"representation": "storage", "value": "<p>" + filler + "</p>"}}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), page["id"].(string)
}

// TestScriptsAndEmojiArePublishedByteForByte: titles and bodies in many
// scripts, with emoji, reach the topics exactly as the site serves them.
func TestScriptsAndEmojiArePublishedByteForByte(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, faultSite)
	if _, _, err := r.crawl(t, func(c *producer.Config) { c.SpaceConcurrency = 4 }); err != nil {
		t.Fatalf("Crawl() = %v", err)
	}
	served := map[string]confluence.Page{}
	for _, space := range r.site.SpaceIDs() {
		for _, blog := range []bool{false, true} {
			list := r.client.ListSpacePages
			if blog {
				list = r.client.ListSpaceBlogPosts
			}
			err := list(t.Context(), space, "", func(b []confluence.Page, _ string) error {
				for _, p := range b {
					served[p.ID] = p
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	scripts := map[string]bool{}
	for key, ev := range r.published(t) {
		if !strings.Contains(key, ".pages|") {
			continue
		}
		page, err := schema.Decode[schema.Page](ev)
		if err != nil {
			t.Fatal(err)
		}
		want := served[page.ID]
		if page.Title != want.Title || page.Body != want.Body {
			t.Errorf("page %s: published title %q and %d body bytes, site serves %q and %d bytes",
				page.ID, page.Title, len(page.Body), want.Title, len(want.Body))
		}
		if !utf8.ValidString(page.Title) || !utf8.ValidString(page.Body) {
			t.Errorf("page %s: published text is not valid UTF-8", page.ID)
		}
		noteScripts(scripts, page.Title+page.Body)
	}
	if len(served) == 0 || len(served) != r.wantCounts(t).pages+r.wantCounts(t).blogPosts {
		t.Errorf("site serves %d pages and blog posts, want Expected()'s count", len(served))
	}
	for _, s := range []string{"Latin", "Cyrillic", "Greek", "Arabic", "Han", "Katakana", "emoji"} {
		if !scripts[s] {
			t.Errorf("no published text in %s; the check needs it (seen %v)", s, scripts)
		}
	}
}

// noteScripts records which of a few scripts, and emoji, text uses.
func noteScripts(seen map[string]bool, text string) {
	tables := map[string]*unicode.RangeTable{
		"Latin": unicode.Latin, "Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek,
		"Arabic": unicode.Arabic, "Han": unicode.Han, "Katakana": unicode.Katakana,
	}
	for _, c := range text {
		if c >= 0x1F300 && c <= 0x1FAFF || c >= 0x2600 && c <= 0x27BF {
			seen["emoji"] = true
			continue
		}
		for name, tab := range tables {
			if !seen[name] && unicode.Is(tab, c) {
				seen[name] = true
			}
		}
	}
}
