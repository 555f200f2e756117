package producer

import (
	"context"
	"fmt"
	"strconv"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// listTrash lists the site's trashed pages and blog posts and deletes those
// the topics hold as live. Every listed page is proof on its own, so a
// listing that fails half-way still commits the deletions it found. Trashing
// adds no version, so the listing cannot stop at a watermark: it costs
// ceil(trashed/limit) requests per kind. Sources without StatusSource skip
// it and leave trashed content to the sweep.
func (pl *Poller) listTrash(ctx context.Context, res *PollResult) error {
	if pl.status == nil {
		return nil
	}
	t := &txn{}
	lists := []func(context.Context, string, func([]confluence.Page) error) error{
		pl.status.ListPagesWithStatus, pl.status.ListBlogPostsWithStatus,
	}
	var listErr error
	for i, list := range lists {
		err := list(ctx, "trashed", func(batch []confluence.Page) error {
			for _, pg := range batch {
				pl.tombstone(t, pg.ID, strconv.Itoa(pg.Version.Number), schema.ReasonTrashed)
			}
			return nil
		})
		if err != nil {
			listErr = fmt.Errorf("list trashed %s: %w", listingName(i == 1), err)
			break
		}
	}
	if err := pl.commit(ctx, t, res, nil); err != nil {
		return err
	}
	res.TrashListed = listErr == nil
	return listErr
}
