package confluence

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// usersBulkMax is the maxItems of accountIds in POST /users-bulk.
const usersBulkMax = 250

// FetchUsers resolves account ids to users with POST
// /wiki/api/v2/users-bulk, 250 ids per request. Duplicate and empty ids are
// dropped; ids the site does not know are absent from the result.
func (c *Client) FetchUsers(ctx context.Context, accountIDs []string) ([]User, error) {
	ids := uniqueIDs(accountIDs)
	users := make([]User, 0, len(ids))
	for chunk := range slices.Chunk(ids, usersBulkMax) {
		var list wireList[wireUser]
		req := struct {
			AccountIDs []string `json:"accountIds"`
		}{chunk}
		if _, err := c.do(ctx, http.MethodPost, c.site.api("/wiki/api/v2/users-bulk"), req, &list); err != nil {
			return nil, fmt.Errorf("fetch %d users: %w", len(chunk), err)
		}
		users = append(users, c.users(list.Results)...)
	}
	return users, nil
}

// SearchUsers calls fn with each page of the site's users from the v1
// GET /wiki/rest/api/search/user?cql=type=user, paged by start and limit
// (v2 has no user listing). It blocks like ListSpaces.
func (c *Client) SearchUsers(ctx context.Context, fn func(batch []User) error) error {
	for start := 0; ; {
		page, err := c.searchUsers(ctx, start)
		if err != nil {
			return fmt.Errorf("search users from %d: %w", start, err)
		}
		users := make([]User, 0, len(page.Results))
		for _, r := range page.Results {
			if r.User != nil && r.User.AccountID != "" {
				users = append(users, r.User.user())
			}
		}
		if len(page.Results) == 0 {
			return nil
		}
		if err := fn(users); err != nil {
			return err
		}
		start += len(page.Results)
		if lastSearchPage(page, start, c.cfg.PageLimit) {
			return nil
		}
	}
}

func (c *Client) searchUsers(ctx context.Context, start int) (wireSearch, error) {
	q := url.Values{
		"cql":   {"type=user"},
		"start": {strconv.Itoa(start)},
		"limit": {strconv.Itoa(c.cfg.PageLimit)},
	}
	var page wireSearch
	_, err := c.do(ctx, http.MethodGet, c.site.api("/wiki/rest/api/search/user?"+q.Encode()), nil, &page)
	return page, err
}

// lastSearchPage decides the end of v1 offset paging: past totalSize when
// the site reports one, or a short page without a next link.
func lastSearchPage(page wireSearch, next, limit int) bool {
	if page.TotalSize > 0 && next >= page.TotalSize {
		return true
	}
	return page.Links.Next == "" && len(page.Results) < limit
}

// FetchCurrentUser returns the account the credentials belong to (v1 GET
// /wiki/rest/api/user/current). It makes a cheap connection test.
func (c *Client) FetchCurrentUser(ctx context.Context) (User, error) {
	var w wireUser
	if _, err := c.do(ctx, http.MethodGet, c.site.api("/wiki/rest/api/user/current"), nil, &w); err != nil {
		return User{}, fmt.Errorf("fetch current user: %w", err)
	}
	return w.user(), nil
}

func (c *Client) users(results []wireUser) []User {
	out := make([]User, 0, len(results))
	for i := range results {
		if results[i].AccountID != "" {
			out = append(out, results[i].user())
		}
	}
	return out
}

func uniqueIDs(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; id == "" || dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}
