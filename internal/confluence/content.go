package confluence

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// ListSpaces calls fn with each page of the site's spaces (GET
// /wiki/api/v2/spaces, plain-text descriptions). It blocks until the
// listing ends, fn fails or ctx ends; fn runs on the calling goroutine.
func (c *Client) ListSpaces(ctx context.Context, fn func(batch []Space) error) error {
	p := &cursorPager[wireSpace]{
		c:     c,
		what:  "list spaces",
		first: c.v2("/spaces", url.Values{"description-format": {"plain"}}),
		fn: func(results []wireSpace, base, _ string) error {
			return fn(c.spaces(results, base))
		},
	}
	return p.run(ctx, "")
}

// ListSpacePages calls fn with each page of the space's pages (GET
// /wiki/api/v2/spaces/{id}/pages, storage bodies, all depths), together
// with the absolute link of the next page, "" on the last one. Passing a
// next link back as from resumes there; "" starts at the beginning. A
// rejected cursor restarts the listing from the beginning once, so fn may
// see pages again.
func (c *Client) ListSpacePages(ctx context.Context, spaceID, from string, fn func(batch []Page, next string) error) error {
	return c.listContent(ctx, "pages", spaceID, from, KindPage, fn)
}

// ListSpaceBlogPosts is ListSpacePages for the space's blog posts (GET
// /wiki/api/v2/spaces/{id}/blogposts).
func (c *Client) ListSpaceBlogPosts(ctx context.Context, spaceID, from string, fn func(batch []Page, next string) error) error {
	return c.listContent(ctx, "blogposts", spaceID, from, KindBlogPost, fn)
}

func (c *Client) listContent(ctx context.Context, kindPath, spaceID, from, kind string, fn func([]Page, string) error) error {
	p := &cursorPager[wirePage]{
		c:     c,
		what:  fmt.Sprintf("list %s of space %s", kindPath, spaceID),
		first: c.v2("/spaces/"+url.PathEscape(spaceID)+"/"+kindPath, url.Values{"body-format": {"storage"}}),
		fn: func(results []wirePage, base, next string) error {
			return fn(c.pages(results, kind, base), next)
		},
	}
	return p.run(ctx, from)
}

// ListPagesModifiedSince calls fn with the site's pages modified at or
// after since, newest first (GET /wiki/api/v2/pages?sort=-modified-date,
// storage bodies). It stops at the first older page, so an idle poll costs
// one request.
func (c *Client) ListPagesModifiedSince(ctx context.Context, since time.Time, fn func(batch []Page) error) error {
	return c.listModified(ctx, "pages", KindPage, since, fn)
}

// ListBlogPostsModifiedSince is ListPagesModifiedSince for blog posts (GET
// /wiki/api/v2/blogposts?sort=-modified-date).
func (c *Client) ListBlogPostsModifiedSince(ctx context.Context, since time.Time, fn func(batch []Page) error) error {
	return c.listModified(ctx, "blogposts", KindBlogPost, since, fn)
}

// The modified-since listings use the API's default statuses (current and
// archived); ListPagesWithStatus finds trashed and deleted content.
func (c *Client) listModified(ctx context.Context, kindPath, kind string, since time.Time, fn func([]Page) error) error {
	query := url.Values{"sort": {"-modified-date"}, "body-format": {"storage"}}
	p := &cursorPager[wirePage]{
		c:     c,
		what:  fmt.Sprintf("list %s modified since %s", kindPath, since.Format(time.RFC3339)),
		first: c.v2("/"+kindPath, query),
		fn: func(results []wirePage, base, _ string) error {
			batch, older := modifiedSince(c.pages(results, kind, base), since)
			if len(batch) > 0 {
				if err := fn(batch); err != nil {
					return err
				}
			}
			if older {
				return errStopListing
			}
			return nil
		},
	}
	return p.run(ctx, "")
}

// Statuses accepted by ListPagesWithStatus and ListBlogPostsWithStatus,
// from the status enums of GET /pages and GET /blogposts.
var (
	pageStatuses     = []string{"current", "archived", "deleted", "trashed"}
	blogPostStatuses = []string{"current", "deleted", "trashed"}
)

// ListPagesWithStatus calls fn with the site's pages in one status
// ("current", "archived", "deleted" or "trashed"), without bodies (GET
// /wiki/api/v2/pages?status=...). It blocks like ListSpaces.
func (c *Client) ListPagesWithStatus(ctx context.Context, status string, fn func(batch []Page) error) error {
	return c.listStatus(ctx, "pages", KindPage, status, pageStatuses, fn)
}

// ListBlogPostsWithStatus is ListPagesWithStatus for blog posts, whose
// statuses are "current", "deleted" and "trashed".
func (c *Client) ListBlogPostsWithStatus(ctx context.Context, status string, fn func(batch []Page) error) error {
	return c.listStatus(ctx, "blogposts", KindBlogPost, status, blogPostStatuses, fn)
}

func (c *Client) listStatus(ctx context.Context, kindPath, kind, status string, allowed []string, fn func([]Page) error) error {
	what := fmt.Sprintf("list %s with status %s", kindPath, status)
	if !slices.Contains(allowed, status) {
		return fmt.Errorf("%s: status must be one of %v", what, allowed)
	}
	p := &cursorPager[wirePage]{
		c:     c,
		what:  what,
		first: c.v2("/"+kindPath, url.Values{"status": {status}}),
		fn: func(results []wirePage, base, _ string) error {
			return fn(c.pages(results, kind, base))
		},
	}
	return p.run(ctx, "")
}

// modifiedSince keeps the leading pages modified at or after since and
// reports whether an older one was met. A page without a version time is
// kept: it cannot be proven old.
func modifiedSince(pages []Page, since time.Time) ([]Page, bool) {
	for i, p := range pages {
		if t := p.Version.CreatedAt; !t.IsZero() && t.Before(since) {
			return pages[:i], true
		}
	}
	return pages, false
}

// FetchPage returns one page with its storage body (GET
// /wiki/api/v2/pages/{id}). A trashed page comes back with Status
// "trashed"; a page that is gone or hidden is ErrNotFound.
func (c *Client) FetchPage(ctx context.Context, id string) (Page, error) {
	p, err := c.fetchContent(ctx, "pages", id, KindPage)
	if err != nil {
		return Page{}, fmt.Errorf("fetch page %s: %w", id, err)
	}
	return p, nil
}

// FetchBlogPost is FetchPage for a blog post (GET /wiki/api/v2/blogposts/{id}).
func (c *Client) FetchBlogPost(ctx context.Context, id string) (Page, error) {
	p, err := c.fetchContent(ctx, "blogposts", id, KindBlogPost)
	if err != nil {
		return Page{}, fmt.Errorf("fetch blog post %s: %w", id, err)
	}
	return p, nil
}

func (c *Client) fetchContent(ctx context.Context, kindPath, id, kind string) (Page, error) {
	u := c.site.api("/wiki/api/v2/" + kindPath + "/" + url.PathEscape(id) + "?body-format=storage")
	var w wirePage
	if _, err := c.do(ctx, http.MethodGet, u, nil, &w); err != nil {
		return Page{}, err
	}
	return w.page(kind, c.webBase(w.Links.Base)), nil
}

// v2 returns the first-page URL of a v2 list, with the configured limit.
func (c *Client) v2(path string, query url.Values) string {
	query.Set("limit", strconv.Itoa(c.cfg.PageLimit))
	return c.site.api("/wiki/api/v2" + path + "?" + query.Encode())
}

// pages converts a page of results, dropping entries without an id: they
// could not be keyed downstream.
func (c *Client) pages(results []wirePage, kind, base string) []Page {
	out := make([]Page, 0, len(results))
	for i := range results {
		if results[i].ID == "" {
			c.log.Warn("result without id skipped", "kind", kind)
			continue
		}
		out = append(out, results[i].page(kind, base))
	}
	return out
}

func (c *Client) spaces(results []wireSpace, base string) []Space {
	out := make([]Space, 0, len(results))
	for i := range results {
		if results[i].ID == "" {
			c.log.Warn("result without id skipped", "kind", "space")
			continue
		}
		out = append(out, results[i].space(base))
	}
	return out
}
