package confluence

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// minShrinkLimit is the smallest page size the client shrinks a listing to
// when the site keeps failing on large pages.
const minShrinkLimit = 25

// errStopListing ends a listing early without an error.
var errStopListing = errors.New("stop listing")

// cursorPager walks a v2 cursor listing. fn gets each non-empty page, the
// page's web base and the absolute next link ("" on the last page).
//
// It follows the next link from the body's _links.next, or else from the
// Link header; it stops when there is none or when a page is empty. A
// rejected cursor restarts the listing from first once. A page that still
// fails after the retry layer gave up on a server error is asked for again
// with half the limit, down to minShrinkLimit (DESIGN.md §5).
type cursorPager[T any] struct {
	c     *Client
	what  string // "list pages of space 123", for errors and logs
	first string // absolute URL of the first page
	fn    func(results []T, base, next string) error
}

func (p *cursorPager[T]) run(ctx context.Context, from string) error {
	u, err := p.start(from)
	if err != nil {
		return fmt.Errorf("%s: %w", p.what, err)
	}
	restarted := false
	for u != "" {
		next, err := p.page(ctx, u)
		if errors.Is(err, ErrInvalidCursor) && !restarted {
			restarted = true
			p.c.log.Warn("cursor rejected, listing restarted", "listing", p.what)
			u = p.first
			continue
		}
		if errors.Is(err, errStopListing) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p.what, err)
		}
		u = next
	}
	return nil
}

func (p *cursorPager[T]) start(from string) (string, error) {
	if from == "" {
		return p.first, nil
	}
	return p.c.site.resolve(from)
}

// page fetches u, shrinking its limit on persistent server failures, hands
// the results to fn and returns the next link.
func (p *cursorPager[T]) page(ctx context.Context, u string) (string, error) {
	var list wireList[T]
	hdr, err := p.c.do(ctx, http.MethodGet, u, nil, &list)
	for err != nil && shrinkable(ctx, err) {
		smaller, ok := shrinkLimit(u)
		if !ok {
			break
		}
		p.c.log.Warn("page size shrunk after server errors", "listing", p.what, "limit", limitOf(smaller), "err", err)
		u = smaller
		hdr, err = p.c.do(ctx, http.MethodGet, u, nil, &list)
	}
	if err != nil {
		return "", err
	}

	// An empty page ends the listing whatever links it carries: DESIGN.md §2,
	// and a site that answers an empty page with a link to itself would
	// otherwise fail the crawl as a repeating link.
	if len(list.Results) == 0 {
		return "", nil
	}
	next, err := p.next(list.Links.Next, hdr, u)
	if err != nil {
		return "", err
	}
	if err := p.fn(list.Results, p.c.webBase(list.Links.Base), next); err != nil {
		return "", err
	}
	return next, nil
}

// next resolves the page's next link and keeps a shrunk limit on it.
func (p *cursorPager[T]) next(body string, hdr http.Header, current string) (string, error) {
	link := body
	if link == "" {
		link = linkNext(hdr)
	}
	if link == "" {
		return "", nil
	}
	next, err := p.c.site.resolve(link)
	if err != nil {
		return "", err
	}
	if n := limitOf(current); n > 0 && n < limitOf(next) {
		next = withLimit(next, n)
	}
	if next == current {
		return "", fmt.Errorf("next link %q repeats the current page", next)
	}
	return next, nil
}

// shrinkable reports whether a failed page is worth asking for again with
// a smaller limit: the retry layer gave up on server errors or timeouts.
func shrinkable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500
	}
	return transient(err)
}

func shrinkLimit(u string) (string, bool) {
	n := limitOf(u)
	if n <= minShrinkLimit {
		return "", false
	}
	return withLimit(u, max(minShrinkLimit, n/2)), true
}

func limitOf(u string) int {
	pu, err := url.Parse(u)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(pu.Query().Get("limit")) // absent or malformed: 0
	return n
}

// withLimit sets the limit parameter, keeping the rest of the query (and
// the opaque cursor) byte for byte.
func withLimit(u string, n int) string {
	base, query, _ := strings.Cut(u, "?")
	parts := []string{}
	if query != "" {
		parts = strings.Split(query, "&")
	}
	kept := parts[:0]
	for _, kv := range parts {
		if !strings.HasPrefix(kv, "limit=") {
			kept = append(kept, kv)
		}
	}
	return base + "?" + strings.Join(append(kept, "limit="+strconv.Itoa(n)), "&")
}

// linkNext returns the target of the rel="next" entry of the response's
// Link headers (RFC 8288), or "".
func linkNext(h http.Header) string {
	for _, v := range h.Values("Link") {
		for v != "" {
			target, params, rest := splitLink(v)
			if target == "" && rest == v {
				break
			}
			if hasRel(params, "next") {
				return target
			}
			v = rest
		}
	}
	return ""
}

// splitLink splits the first `<target>; params` entry off a Link value.
func splitLink(v string) (target, params, rest string) {
	v = strings.TrimLeft(v, " \t,")
	if !strings.HasPrefix(v, "<") {
		return "", "", v
	}
	end := strings.IndexByte(v, '>')
	if end < 0 {
		return "", "", v
	}
	target, v = v[1:end], v[end+1:]
	inQuote := false
	for i, r := range v {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == ',' && !inQuote:
			return target, v[:i], v[i+1:]
		}
	}
	return target, v, ""
}

// hasRel reports whether params has a rel parameter listing rel.
func hasRel(params, rel string) bool {
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for r := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(value), `"`)) {
			if strings.EqualFold(r, rel) {
				return true
			}
		}
	}
	return false
}
