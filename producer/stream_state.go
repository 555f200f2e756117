package producer

import (
	"maps"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// StreamState is where the stream of one site stands. It is part of the
// Checkpoint, so it commits in the same transaction as the events of each
// poll.
type StreamState struct {
	// Polls is the number of polls committed so far. It decides which feed
	// a poll reads and when the periodic tasks run.
	Polls int64 `json:"polls"`
	// Pages and BlogPosts are the positions of the two modified-date feeds.
	Pages     Feed `json:"pages"`
	BlogPosts Feed `json:"blogPosts"`
}

// Feed is the position of one site-wide listing sorted by modification date.
type Feed struct {
	// Since is the watermark: the next poll lists what was modified at or
	// after it. It is the start of the last poll minus the overlap; zero
	// before the first poll, which then starts from the crawl's start minus
	// the overlap.
	Since time.Time `json:"since"`
	// Recent holds, by content id, the last version published of each page
	// modified at or after Since: a poll lists those again, and skips the
	// versions it finds here. Older entries are dropped, so its size is the
	// number of changes within the overlap and one poll interval.
	//
	// TODO(#5): after a long outage (or a crawl of hours) it holds every
	// change since, about 40 bytes each in the checkpoint record, so some
	// 20,000 changes reach a 1 MiB state topic limit; acceptable while polls
	// run every few seconds, but a bound would need a second watermark.
	Recent map[string]Seen `json:"recent,omitempty"`
}

// Seen is a published version of a page and its modification date.
type Seen struct {
	Version  int   `json:"v"`
	Modified int64 `json:"m"` // Unix milliseconds
}

// seenPage is what a feed remembers of a page it saw.
type seenPage struct {
	id       string
	blog     bool
	version  int
	modified time.Time
}

func seenOf(pg confluence.Page) seenPage {
	return seenPage{id: pg.ID, blog: pg.Kind == schema.KindBlogPost, version: pg.Version.Number,
		modified: pg.Version.CreatedAt}
}

func seenPages(pages []confluence.Page) []seenPage {
	out := make([]seenPage, len(pages))
	for i, pg := range pages {
		out[i] = seenOf(pg)
	}
	return out
}

// stream returns c's stream state, creating it when missing.
func (c *Checkpoint) stream() *StreamState {
	if c.Stream == nil {
		c.Stream = &StreamState{}
	}
	return c.Stream
}

// noteCrawled records the pages a crawl published that the first poll will
// list again: those modified within overlap before the crawl started, or
// later. Without them, that poll would publish each of them a second time.
func (c *Checkpoint) noteCrawled(pages []seenPage, overlap time.Duration) {
	cutoff := c.CrawlStartedAt.Add(-overlap)
	for _, pg := range pages {
		if !pg.modified.Before(cutoff) {
			c.stream().feed(pg.blog).note(pg)
		}
	}
}

// clone returns a deep copy of s.
func (s *StreamState) clone() *StreamState {
	if s == nil {
		return nil
	}
	out := *s
	out.Pages.Recent = maps.Clone(s.Pages.Recent)
	out.BlogPosts.Recent = maps.Clone(s.BlogPosts.Recent)
	return &out
}

// feed returns the feed of blog posts or of pages.
func (s *StreamState) feed(blog bool) *Feed {
	if blog {
		return &s.BlogPosts
	}
	return &s.Pages
}

// published reports whether version v of page id, or a later one, was
// published since the watermark.
func (f *Feed) published(id string, v int) bool {
	seen, ok := f.Recent[id]
	return ok && seen.Version >= v
}

// note records a version of a page. A page modified before Since is left
// out: no poll lists it again.
func (f *Feed) note(pg seenPage) {
	if pg.modified.Before(f.Since) || f.published(pg.id, pg.version) {
		return
	}
	if f.Recent == nil {
		f.Recent = map[string]Seen{}
	}
	f.Recent[pg.id] = Seen{Version: pg.version, Modified: pg.modified.UnixMilli()}
}

// advance moves the watermark to since, if that is later, and forgets the
// pages modified before it.
func (f *Feed) advance(since time.Time) {
	if since.After(f.Since) {
		f.Since = since
	}
	cutoff := f.Since.UnixMilli()
	maps.DeleteFunc(f.Recent, func(_ string, s Seen) bool { return s.Modified < cutoff })
}
