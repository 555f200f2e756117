package status

import (
	"context"
	"errors"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/producer"
)

// trackedSource reports to a Site which spaces a crawl listed and which
// listings it finished.
type trackedSource struct {
	producer.Source
	site *Site
}

var _ producer.Source = trackedSource{}

// Track returns src reporting its listings to site, for the spaces done of
// total figure.
func Track(src producer.Source, site *Site) producer.Source {
	return trackedSource{Source: src, site: site}
}

func (t trackedSource) ListSpaces(ctx context.Context, fn func([]confluence.Space) error) error {
	var ids []string
	err := t.Source.ListSpaces(ctx, func(batch []confluence.Space) error {
		for _, s := range batch {
			ids = append(ids, s.ID)
		}
		return fn(batch)
	})
	if err == nil {
		t.site.SpacesListed(ids)
	}
	return err
}

func (t trackedSource) ListSpacePages(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	err := t.Source.ListSpacePages(ctx, spaceID, from, fn)
	t.listed(spaceID, false, err)
	return err
}

func (t trackedSource) ListSpaceBlogPosts(ctx context.Context, spaceID, from string, fn func([]confluence.Page, string) error) error {
	err := t.Source.ListSpaceBlogPosts(ctx, spaceID, from, fn)
	t.listed(spaceID, true, err)
	return err
}

// listed counts a listing as done when it ended, or when the crawl skips
// the space because it may not be read or is gone.
func (t trackedSource) listed(spaceID string, blog bool, err error) {
	if err == nil || errors.Is(err, confluence.ErrForbidden) || errors.Is(err, confluence.ErrNotFound) {
		t.site.ListingDone(spaceID, blog)
	}
}
