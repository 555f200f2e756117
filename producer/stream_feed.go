package producer

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// pollFeed lists the pages, or the blog posts, modified since the feed's
// watermark and publishes each version it has not published yet. In the
// same transaction as the last of them, it moves the watermark to the poll's
// start minus the overlap: a change saved while the listing ran is listed
// again by the next poll, never missed, and the Recent map keeps it from
// being published twice.
func (pl *Poller) pollFeed(ctx context.Context, n int64, blog bool, res *PollResult) error {
	start := pl.p.now()
	feed := pl.pub.checkpoint.stream().feed(blog)
	since := feed.Since
	list := pl.src.ListPagesModifiedSince
	if blog {
		list = pl.src.ListBlogPostsModifiedSince
	}

	t := &txn{}
	var authors []string
	listed := map[string]int{} // a restarted listing may show a page twice
	err := list(ctx, since, func(batch []confluence.Page) error {
		for _, pg := range batch {
			if v, ok := listed[pg.ID]; (ok && v >= pg.Version.Number) || feed.published(pg.ID, pg.Version.Number) {
				continue
			}
			listed[pg.ID] = pg.Version.Number
			named, err := pl.take(t, pg)
			if err != nil {
				return err
			}
			authors = append(authors, named...)
		}
		return pl.flushIfFull(ctx, t, res)
	})
	if err != nil {
		return fmt.Errorf("poll %s modified since %s: %w", listingName(blog), since.Format(time.RFC3339), err)
	}
	if err := pl.resolveAuthors(ctx, t, authors); err != nil {
		return err
	}

	next := start.Add(-pl.p.cfg.PollOverlap)
	return pl.commit(ctx, t, res, func(c *Checkpoint) {
		st := c.stream()
		st.feed(blog).advance(next)
		st.Polls = n
	})
}

// take adds what a listed page means to t: a tombstone when its status says
// it is gone, an upsert otherwise. It returns the accounts an upsert names.
func (pl *Poller) take(t *txn, pg confluence.Page) ([]string, error) {
	t.notes = append(t.notes, seenOf(pg))
	if reason := pl.p.goneReason(pg.Status); reason != "" {
		pl.tombstone(t, pg.ID, strconv.Itoa(pg.Version.Number), reason)
		return nil, nil
	}
	ev, err := pl.p.pageEvent(pg)
	if err != nil {
		return nil, err
	}
	t.events = append(t.events, ev)
	id, space, blog := pg.ID, pg.SpaceID, pg.Kind == schema.KindBlogPost
	t.after = append(t.after, func() { pl.known.pages.put(id, space, blog) })
	return accountIDs(pg), nil
}

// tombstone adds the deletion of a live page to t; a page the topics do not
// hold as live needs none.
func (pl *Poller) tombstone(t *txn, id, version, reason string) {
	if _, ok := pl.known.pages.get(id); !ok || t.dropped[id] {
		return
	}
	if t.dropped == nil {
		t.dropped = map[string]bool{}
	}
	msg := pl.p.site.Deleted(schema.EntityPage, id, version, reason, pl.p.now())
	t.events = append(t.events, outgoing{topic: pl.p.cfg.Topics.Pages, msg: msg})
	t.dropped[id] = true
	t.after = append(t.after, func() { pl.known.pages.drop(id) })
	pl.log.Debug("page deleted", "page_id", id, "reason", reason)
}

// goneReason returns why content in status counts as gone, or "" when it
// does not.
func (p *Producer) goneReason(status string) string {
	switch status {
	case "trashed":
		return schema.ReasonTrashed
	case "deleted", "purged":
		return schema.ReasonPurged
	case "archived":
		if p.cfg.ArchivedGone {
			return schema.ReasonArchived
		}
	}
	return ""
}
