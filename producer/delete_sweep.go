package producer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// sweep lists every space completely and compares the listings with the
// pages the topics hold as live. A page a complete listing leaves out is
// asked for by id, which says why it is gone (trashed, purged, unreadable)
// or that it is not (it moved to another space). A space whose listing or
// confirmations fail deletes nothing; the other spaces are swept anyway.
//
// The sweep also publishes live pages the topics lack, such as pages
// restored from the trash. It costs the listings of every space (two
// requests per space at least) and one request per page left out.
//
// TODO(#5): a space that is gone answers 404 to its listing, so its sweep
// aborts every time and its pages stay live in the topics; deleting a space
// needs a complete space listing to prove it, which the relisting has.
//
// TODO(#5): a page restored from the trash keeps its version, and the index
// keeps the version a page was deleted at, so it ignores the republished
// page; the event would need a restore count in its version or ce_id.
func (pl *Poller) sweep(ctx context.Context, res *PollResult) error {
	bySpace := pl.known.pages.bySpace()
	spaces := maps.Clone(pl.known.spaces)
	for id := range bySpace {
		spaces[id] = ""
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(spaces)) {
		err := pl.sweepSpace(ctx, id, bySpace[id], res)
		if fatal(err) {
			return err
		}
		if err != nil {
			res.SweepAborted = append(res.SweepAborted, id)
			errs = append(errs, err)
		}
	}
	res.Swept = len(errs) == 0
	return errors.Join(errs...)
}

// sweepSpace sweeps one space. known holds the ids the topics list as live
// in the space, each with whether it is a blog post.
func (pl *Poller) sweepSpace(ctx context.Context, spaceID string, known map[string]bool, res *PollResult) error {
	t := &txn{}
	listed := map[string]bool{}
	for _, blog := range []bool{false, true} {
		list := pl.src.ListSpacePages
		if blog {
			list = pl.src.ListSpaceBlogPosts
		}
		err := list(ctx, spaceID, "", func(batch []confluence.Page, _ string) error {
			return pl.sweepListed(t, spaceID, batch, listed)
		})
		if err != nil {
			return fmt.Errorf("sweep space %s: list %s: %w", spaceID, listingName(blog), err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(known)) {
		if listed[id] {
			continue
		}
		if err := pl.confirm(ctx, t, id, known[id]); err != nil {
			return fmt.Errorf("sweep space %s: %w", spaceID, err)
		}
	}
	return pl.commit(ctx, t, res, nil)
}

// sweepListed handles a batch of a complete listing of a space: a page in a
// gone status is deleted, a live page the topics lack is published, and a
// page the topics place in another space has moved.
func (pl *Poller) sweepListed(t *txn, spaceID string, batch []confluence.Page, listed map[string]bool) error {
	for _, pg := range batch {
		if listed[pg.ID] {
			continue // a restarted listing shows pages again
		}
		listed[pg.ID] = true
		ref, live := pl.known.pages.get(pg.ID)
		blog := pg.Kind == schema.KindBlogPost
		switch {
		case pl.p.goneReason(pg.Status) != "":
			pl.tombstone(t, pg.ID, strconv.Itoa(pg.Version.Number), pl.p.goneReason(pg.Status))
		case !live && !pl.pub.checkpoint.stream().feed(blog).published(pg.ID, pg.Version.Number):
			pl.log.Info("page found by sweep", "page_id", pg.ID, "space_id", spaceID)
			if _, err := pl.take(t, pg); err != nil {
				return err
			}
		case live && ref.space != pg.SpaceID:
			id, space := pg.ID, pg.SpaceID
			t.after = append(t.after, func() { pl.known.pages.put(id, space, blog) })
		}
	}
	return nil
}

// confirm asks for a page that a complete listing of its space left out,
// and adds its deletion to t when the answer says it is gone: a 404 is a
// purge (Confluence also answers 404 for content the account may no longer
// see), a 403 makes it unreadable, a 200 gives the reason in its status. A
// page still live was moved, or changed while the listing ran, and stays.
func (pl *Poller) confirm(ctx context.Context, t *txn, id string, blog bool) error {
	fetch := pl.src.FetchPage
	if blog {
		fetch = pl.src.FetchBlogPost
	}
	pg, err := fetch(ctx, id)
	switch {
	case errors.Is(err, confluence.ErrNotFound):
		pl.tombstone(t, id, "", schema.ReasonPurged)
	case errors.Is(err, confluence.ErrForbidden):
		pl.tombstone(t, id, "", schema.ReasonUnreadable)
	case err != nil:
		return err
	case pl.p.goneReason(pg.Status) != "":
		pl.tombstone(t, id, strconv.Itoa(pg.Version.Number), pl.p.goneReason(pg.Status))
	default:
		space := pg.SpaceID
		t.after = append(t.after, func() { pl.known.pages.put(id, space, blog) })
	}
	return nil
}
