package confluencesim

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/segmentio/encoding/json"
)

// BenchmarkFullListing serves a full site-wide listing of 10,000 pages
// with storage bodies, 250 per request, over loopback; each iteration is
// one complete walk (40 requests). The client only finds the next link,
// so the figures are the simulator's own cost plus HTTP.
func BenchmarkFullListing(b *testing.B) {
	for _, pages := range []int{10_000} {
		b.Run(strconv.Itoa(pages)+" pages", func(b *testing.B) {
			e := newBenchEnv(b, Config{Seed: 1, Pages: pages})
			var total int64
			for b.Loop() {
				n, size := e.walkAll(b, "/wiki/api/v2/pages?limit=250&body-format=storage")
				if n != e.want {
					b.Fatalf("walk found %d pages, want %d", n, e.want)
				}
				total += size
			}
			b.SetBytes(total / int64(b.N))
			b.ReportMetric(float64(e.want)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

type benchEnv struct {
	env
	want int
}

func newBenchEnv(b *testing.B, cfg Config) *benchEnv {
	b.Helper()
	s, err := New(cfg)
	if err != nil {
		b.Fatalf("New = %v", err)
	}
	e := &benchEnv{want: s.Expected().Pages}
	e.site = s
	e.srv = newServer(b, s)
	return e
}

// walkAll follows a listing and returns the number of results and bytes.
// It reads into one reused buffer and decodes only the next link and the
// count, to keep the client's share of the figures small.
func (e *benchEnv) walkAll(b *testing.B, path string) (int, int64) {
	var n int
	var size int64
	var buf bytes.Buffer
	for path != "" {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, e.srv.URL+path, nil)
		if err != nil {
			b.Fatalf("new request: %v", err)
		}
		req.SetBasicAuth("bench", "bench")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s = %d, %v", path, resp.StatusCode, err)
		}
		var lb struct {
			Results []struct{} `json:"results"`
			Links   struct {
				Next string `json:"next"`
			} `json:"_links"`
		}
		if err := json.Unmarshal(buf.Bytes(), &lb); err != nil {
			b.Fatalf("decode %s: %v", path, err)
		}
		n += len(lb.Results)
		size += int64(buf.Len())
		path = lb.Links.Next
	}
	return n, size
}

// BenchmarkNew measures building a site: its B/op is the memory the site
// keeps, which must not grow with the number of pages.
func BenchmarkNew(b *testing.B) {
	for _, pages := range []int{10_000, 100_000, 1_000_000} {
		b.Run(strconv.Itoa(pages)+" pages", func(b *testing.B) {
			for b.Loop() {
				if _, err := New(Config{Seed: 1, Pages: pages}); err != nil {
					b.Fatalf("New = %v", err)
				}
			}
		})
	}
}
