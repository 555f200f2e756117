package confluence

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
)

// pageListJSON renders a v2 list of n pages with bodyBytes of storage XHTML
// each, the shape GET /spaces/{id}/pages?body-format=storage returns.
func pageListJSON(n, bodyBytes int) []byte {
	body := strings.Repeat(`<p>Lorem <strong>ipsum</strong> &amp; <ac:emoticon ac:name=\"smile\"/></p>`, bodyBytes/70+1)[:bodyBytes]
	items := make([]string, n)
	for i := range n {
		items[i] = fmt.Sprintf(`{"id":"%d","status":"current","title":"Page %d","spaceId":"98306",`+
			`"parentId":"%d","parentType":"page","position":%d,"authorId":"557058:a","ownerId":"557058:a",`+
			`"lastOwnerId":null,"createdAt":"2025-03-04T05:06:07.890Z","version":{"createdAt":"2025-06-07T08:09:10.111Z",`+
			`"message":"","number":%d,"minorEdit":false,"authorId":"557058:b"},`+
			`"body":{"storage":{"representation":"storage","value":"%s"}},`+
			`"_links":{"webui":"/spaces/ENG/pages/%d/Page+%d","editui":"/pages/resumedraft.action?draftId=%d","tinyui":"/x/AbC"}}`,
			1000+i, i, 999, i, i%9+1, body, 1000+i, i, 1000+i)
	}
	return fmt.Appendf(nil, `{"results":[%s],"_links":{"next":"/wiki/api/v2/spaces/98306/pages?cursor=abc&limit=250",`+
		`"base":"https://acme.atlassian.net/wiki"}}`, strings.Join(items, ","))
}

// BenchmarkDecodePageList measures decoding one full 250-page list call
// (4 KiB bodies), including the JSON validity check the attempt layer runs.
func BenchmarkDecodePageList(b *testing.B) {
	data := pageListJSON(250, 4096)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if !json.Valid(data) {
			b.Fatal("invalid fixture")
		}
		var list wireList[wirePage]
		if err := json.Unmarshal(data, &list); err != nil {
			b.Fatal(err)
		}
		pages := make([]Page, len(list.Results))
		for i := range list.Results {
			pages[i] = list.Results[i].page(KindPage, list.Links.Base)
		}
		if len(pages) != 250 || pages[249].Body == "" {
			b.Fatalf("decoded %d pages", len(pages))
		}
	}
}

// BenchmarkListSpacePages measures one 250-page list call through every
// layer of the client against a loopback server, with the budget out of
// the way.
func BenchmarkListSpacePages(b *testing.B) {
	data := pageListJSON(250, 4096)
	site := newFakeSite(b, realClock{}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})
	c, err := New(Config{BaseURL: site.srv.URL, RequestsPerSecond: 10000, Burst: 10000}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		// The fixture's next link points at itself: stop after one page.
		err := c.ListSpacePages(b.Context(), "98306", "", func([]Page, string) error { return errStopListing })
		if err != nil {
			b.Fatal(err)
		}
	}
}
