package bench

import (
	"testing"

	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// harnessPages keeps the harness tests small: they check that the
// benchmarks measure what they claim, not how fast anything is.
const harnessPages = 300

// The ceiling benchmark must write the very records the crawl committed:
// same count, same bytes, same page events, in every role's topic.
func TestFranzGoRewritesCapturedRecords(t *testing.T) {
	env := startSite(t, harnessPages)
	seeds, _ := kafkatest.Brokers(t)
	want := env.site.Expected()

	crawled := freshTopics(t, seeds)
	stats, err := crawlOnce(t.Context(), env.client, seeds, crawled)
	if err != nil {
		t.Fatalf("crawlOnce() = %v", err)
	}
	recs, err := capture(t.Context(), seeds, crawled)
	if err != nil {
		t.Fatalf("capture(crawled) = %v", err)
	}
	if got := int64(recs.pages); got != stats.Pages.Load()+stats.BlogPosts.Load() || recs.pages != want.Pages+want.BlogPosts {
		t.Fatalf("capture(crawled) found %d page events, want %d (site) and %d (producer stats)",
			recs.pages, want.Pages+want.BlogPosts, stats.Pages.Load()+stats.BlogPosts.Load())
	}

	for _, txnEvents := range []int{0, 7} {
		rewritten := freshTopics(t, seeds)
		cl := newPlainClient(t, seeds, txnEvents > 0)
		err := produceAll(t.Context(), cl, recs.retarget(rewritten), txnEvents)
		cl.Close()
		if err != nil {
			t.Fatalf("produceAll(txnEvents=%d) = %v", txnEvents, err)
		}
		again, err := capture(t.Context(), seeds, rewritten)
		if err != nil {
			t.Fatalf("capture(rewritten) = %v", err)
		}
		if len(again.records) != len(recs.records) || again.bytes != recs.bytes || again.pages != recs.pages {
			t.Errorf("rewrite with txnEvents=%d = %d records, %d bytes, %d pages; want %d, %d, %d",
				txnEvents, len(again.records), again.bytes, again.pages, len(recs.records), recs.bytes, recs.pages)
		}
	}
}

// The memory benchmark's child must crawl the whole site and report
// consistent figures: a peak heap at least the peak live heap, a resident
// set, and less retained than the peak.
func TestCrawlChildReports(t *testing.T) {
	env := startSite(t, harnessPages)
	seeds, _ := kafkatest.Brokers(t)
	want := env.site.Expected()

	res, err := runCrawlChild(t.Context(), env.url, seeds, freshTopics(t, seeds))
	if err != nil {
		t.Fatalf("runCrawlChild() = %v", err)
	}
	if int(res.PageEvents) != want.Pages+want.BlogPosts {
		t.Errorf("runCrawlChild() page events = %d, want %d", res.PageEvents, want.Pages+want.BlogPosts)
	}
	if res.PeakLive == 0 || res.PeakHeap < res.PeakLive || res.PeakTotal < res.PeakHeap {
		t.Errorf("runCrawlChild() peaks live %d, heap %d, runtime %d; want 0 < live <= heap <= runtime",
			res.PeakLive, res.PeakHeap, res.PeakTotal)
	}
	if res.PeakRSS == 0 || res.Retained == 0 || res.Retained > res.PeakLive {
		t.Errorf("runCrawlChild() rss %d, retained %d, peak live %d; want rss > 0 and 0 < retained <= peak live",
			res.PeakRSS, res.Retained, res.PeakLive)
	}
}
