package producer

import (
	"context"

	"github.com/parable/confluence-kafka/internal/confluence"
)

// Source is the part of the Confluence client a crawl reads from.
// *confluence.Client implements it.
type Source interface {
	// Site is the site's identity, the first part of every key.
	Site() string
	// SiteURL is the site's base URL, the ce_source of its events.
	SiteURL() string

	SearchUsers(ctx context.Context, fn func(batch []confluence.User) error) error
	FetchUsers(ctx context.Context, accountIDs []string) ([]confluence.User, error)
	ListSpaces(ctx context.Context, fn func(batch []confluence.Space) error) error
	ListSpacePages(ctx context.Context, spaceID, from string, fn func(batch []confluence.Page, next string) error) error
	ListSpaceBlogPosts(ctx context.Context, spaceID, from string, fn func(batch []confluence.Page, next string) error) error
}

var _ Source = (*confluence.Client)(nil)
