package confluencesim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ErrUnknownSpace is returned by the change methods for an id that names no
// space.
var ErrUnknownSpace = errors.New("unknown space id")

// addedPage is a page made by CreatePage. Created pages take the page
// indices after the derived ones, so their ids follow the same scheme and
// decode like any other page id.
type addedPage struct {
	space     int
	createdAt time.Time
	title     string
}

// CreatePage adds a new top-level page to the space and returns its id. The
// page is current, at version 1, created and modified at the date EditPage
// would give an edit, with a derived body that holds its UniquePhrase. Lists
// and GET by id show it at once, and Expected counts it.
func (s *Site) CreatePage(spaceID string) (string, error) {
	sk, ok := s.spaceIndex(spaceID)
	if !ok {
		return "", fmt.Errorf("create page in space %q: %w", spaceID, ErrUnknownSpace)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.addedPages()
	i := s.cfg.Pages + len(old)
	if i >= maxPages {
		return "", fmt.Errorf("create page in space %s: the site holds %d pages already", spaceID, i)
	}
	at := s.nextChangeLocked()
	title := fmt.Sprintf("New page %d about %s", len(old)+1,
		titleTopics[mix(s.cfg.Seed, saltTitle, uint64(kindPage), uint64(i))%uint64(len(titleTopics))])
	next := append(slices.Clip(old), addedPage{space: sk, createdAt: at, title: title})
	s.added.Store(&next)

	c := s.deriveAdded(i)
	s.overrides[c.id] = &override{version: 1, versionAt: at, versionAuthor: c.authorID}
	for _, f := range []string{fieldID, fieldCreated, fieldModified, fieldTitle} {
		s.dropPermsLocked(f)
	}
	return strconv.FormatInt(c.id, 10), nil
}

// addedPages returns the pages made by CreatePage, oldest first. The slice
// is never written after it was published, so it needs no lock.
func (s *Site) addedPages() []addedPage {
	if p := s.added.Load(); p != nil {
		return *p
	}
	return nil
}

// addedIn returns, ascending, the indices of the created content of kind k
// in the given spaces.
func (s *Site) addedIn(k kind, spaces ...int) []int {
	if k != kindPage {
		return nil
	}
	var out []int
	for n, a := range s.addedPages() {
		if slices.Contains(spaces, a.space) {
			out = append(out, s.cfg.Pages+n)
		}
	}
	return out
}

// deriveAdded derives created page i: top level, after the space's derived
// top-level pages, with its author drawn from the seed.
func (s *Site) deriveAdded(i int) content {
	n := i - s.cfg.Pages
	a := s.addedPages()[n]
	r := newRNG(mix(s.cfg.Seed, saltPage, uint64(i), 3))
	c := content{kind: kindPage, idx: i, id: s.contentID(kindPage, i), space: a.space, local: -1,
		title: a.title, status: "current", createdAt: a.createdAt, position: s.spaces[a.space].roots + n}
	c.authorID = s.users[r.intn(len(s.users))].accountID
	c.ownerID = c.authorID
	c.version, c.versionAt, c.versionAuthor = 1, a.createdAt, c.authorID
	return c
}

// topLevel reports whether page i sits at the top of its space's tree.
func (s *Site) topLevel(i int) bool {
	if i >= s.cfg.Pages {
		return true
	}
	sp := s.spaces[s.spaceOf(kindPage, i)]
	return i-sp.pageLo < sp.roots
}

// titleOf returns the title of page or blog post i.
func (s *Site) titleOf(k kind, i int) string {
	if k == kindPage && i >= s.cfg.Pages {
		return s.addedPages()[i-s.cfg.Pages].title
	}
	sk := s.spaceOf(k, i)
	lo, _ := s.spaces[sk].contentRange(k)
	return s.title(k, i, i-lo, s.spaces[sk])
}
