package index

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// Search limits.
const (
	DefaultLimit = 20  // results when the caller asks for zero or fewer
	MaxLimit     = 200 // results at most, whatever the caller asks for
	maxTerms     = 32  // query words kept; the rest are ignored
)

// Hit is one search result.
type Hit struct {
	Site       string  `json:"site"`
	PageID     string  `json:"pageId"`
	Kind       string  `json:"kind"` // schema.KindPage or schema.KindBlogPost
	Title      string  `json:"title"`
	SpaceKey   string  `json:"spaceKey"`   // empty when the space is unknown
	SpaceName  string  `json:"spaceName"`  // empty when the space is unknown
	AuthorName string  `json:"authorName"` // empty when the author is unknown
	WebURL     string  `json:"webUrl"`
	Snippet    string  `json:"snippet"` // body text around the matches, each match in [brackets]
	Rank       float64 `json:"rank"`    // bm25 relevance, negated: higher is better
}

// Counts are the number of live entities in the index, and of entities
// whose latest event was a tombstone.
type Counts struct {
	Users     int `json:"users"`
	Spaces    int `json:"spaces"`
	Pages     int `json:"pages"`
	BlogPosts int `json:"blogPosts"`
	Deleted   int `json:"deleted"`
}

// searchSQL ranks with bm25, a title match weighing ten body matches.
const searchSQL = `
SELECT p.site, p.id, p.kind, p.title, COALESCE(s.key, ''), COALESCE(s.name, ''),
	COALESCE(u.display_name, ''), p.web_url,
	snippet(pages_fts, 1, '[', ']', '…', 16), bm25(pages_fts, 10.0, 1.0) AS score
FROM pages_fts
JOIN pages p ON p.pk = pages_fts.rowid
LEFT JOIN spaces s ON s.site = p.site AND s.id = p.space_id AND s.deleted = 0
LEFT JOIN users u ON u.site = p.site AND u.account_id = p.author_id AND u.deleted = 0
WHERE pages_fts MATCH ?
ORDER BY score
LIMIT ?`

// Search returns the live pages and blog posts matching every word of query,
// best first. query is taken as plain words, never as FTS5 syntax, so any
// input is safe; words without a letter or digit (punctuation, emoji) are
// ignored, and a query without any word returns no hits. limit is clamped
// to 1..MaxLimit, with DefaultLimit for zero or less.
func (s *Store) Search(ctx context.Context, query string, limit int) ([]Hit, error) {
	match := matchExpr(query)
	if match == "" {
		return nil, nil
	}
	limit = clampLimit(limit)

	rows, err := s.r.QueryContext(ctx, searchSQL, match, limit)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	defer rows.Close()

	hits := make([]Hit, 0, limit)
	for rows.Next() {
		var h Hit
		err := rows.Scan(&h.Site, &h.PageID, &h.Kind, &h.Title, &h.SpaceKey, &h.SpaceName,
			&h.AuthorName, &h.WebURL, &h.Snippet, &h.Rank)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		h.Rank = -h.Rank
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return hits, nil
}

// Counts returns how many entities the index holds.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	const q = `SELECT
	(SELECT count(*) FROM users WHERE deleted = 0),
	(SELECT count(*) FROM spaces WHERE deleted = 0),
	(SELECT count(*) FROM pages WHERE deleted = 0 AND kind <> 'blogpost'),
	(SELECT count(*) FROM pages WHERE deleted = 0 AND kind = 'blogpost'),
	(SELECT count(*) FROM users WHERE deleted = 1) +
	(SELECT count(*) FROM spaces WHERE deleted = 1) +
	(SELECT count(*) FROM pages WHERE deleted = 1)`
	var c Counts
	err := s.r.QueryRowContext(ctx, q).Scan(&c.Users, &c.Spaces, &c.Pages, &c.BlogPosts, &c.Deleted)
	if err != nil {
		return Counts{}, fmt.Errorf("count index: %w", err)
	}
	return c, nil
}

// matchExpr turns user input into an FTS5 query that cannot be a syntax
// error: each word becomes a quoted phrase (inner quotes doubled), and the
// phrases are ANDed. It returns "" when no word has a letter or digit.
func matchExpr(query string) string {
	var b strings.Builder
	n := 0
	// FTS5 reads a NUL as the end of the query, inside quotes too: an
	// "unterminated string" error. Control characters never index anyway.
	query = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, query)
	for _, w := range strings.Fields(query) {
		if n == maxTerms {
			break
		}
		if strings.IndexFunc(w, isWordRune) < 0 {
			continue
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
		n++
	}
	return b.String()
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}
