package producer

import (
	"context"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
)

// StreamSource is what a stream reads from: a Source, plus the site-wide
// listings by modification date and the reads of one page by id.
// *confluence.Client implements it.
type StreamSource interface {
	Source
	ListPagesModifiedSince(ctx context.Context, since time.Time, fn func(batch []confluence.Page) error) error
	ListBlogPostsModifiedSince(ctx context.Context, since time.Time, fn func(batch []confluence.Page) error) error
	FetchPage(ctx context.Context, id string) (confluence.Page, error)
	FetchBlogPost(ctx context.Context, id string) (confluence.Page, error)
}

// StatusSource is implemented by sources that list the whole site's pages
// or blog posts in one status, such as GET /wiki/api/v2/pages?status=trashed.
// A stream whose source implements it (*confluence.Client does) finds
// trashed content every Config.TrashEvery polls; otherwise only the sweep
// finds it.
type StatusSource interface {
	ListPagesWithStatus(ctx context.Context, status string, fn func(batch []confluence.Page) error) error
	ListBlogPostsWithStatus(ctx context.Context, status string, fn func(batch []confluence.Page) error) error
}

var (
	_ StreamSource = (*confluence.Client)(nil)
	_ StatusSource = (*confluence.Client)(nil)
)
