package confluencesim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Site is a simulated Confluence Cloud site. Its methods are safe for
// concurrent use, including while its Handler serves requests.
type Site struct {
	cfg        Config
	users      []user
	userByID   map[string]int
	spaces     []space
	spaceByID  map[int64]int
	pageStep   time.Duration // creation time between consecutive pages
	blogStep   time.Duration
	blogStride int // page ids per blog post id, so the two interleave
	handler    http.Handler
	bufs       bufferPool

	added atomic.Pointer[[]addedPage] // pages made by CreatePage; copied on write

	mu         sync.RWMutex        // guards the content state below
	overrides  map[int64]*override // edited, trashed or deleted content by id
	lastChange time.Time           // modification date of the latest edit
	spaceNames map[int]string      // renamed spaces by index, see RenameSpace
	userEdits  map[int]UserChange  // changed accounts by index, see ChangeUser
	perms      map[permKey][]int32 // cached sort orders, see Site.perm

	reqMu  sync.Mutex // guards the request state below
	faults []*faultRule
	stats  RequestStats
	window time.Time // start of the current rate-limit window
	used   int       // requests counted in the current window
}

// Counts is what a full default crawl of the site must find.
type Counts struct {
	// Spaces is the number of spaces GET /spaces lists, current and archived.
	Spaces int

	// Pages is the number of pages listed with the default statuses
	// (current and archived).
	Pages int

	// BlogPosts is the number of blog posts listed with the default status
	// (current).
	BlogPosts int

	// Users is the number of accounts GET /wiki/rest/api/search/user
	// enumerates. Closed accounts are not searchable, as on a real site.
	Users int

	// AccountIDs is the number of distinct account ids that the listed
	// spaces, pages and blog posts name as author, owner, previous owner or
	// version author. Some of them (closed accounts) are only found through
	// POST /users-bulk.
	AccountIDs int

	// CrawlableUsers is the number of distinct accounts a full crawl
	// publishes: those the user search lists, and those content references.
	CrawlableUsers int
}

// New builds a site from cfg. It derives the spaces and users; pages and
// blog posts are derived on demand.
func New(cfg Config) (*Site, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("confluencesim config: %w", err)
	}
	cfg = cfg.withDefaults()

	s := &Site{cfg: cfg, overrides: map[int64]*override{}, perms: map[permKey][]int32{}}
	s.users = buildUsers(cfg)
	s.spaces = buildSpaces(cfg, s.users)
	s.userByID = make(map[string]int, len(s.users))
	for u, usr := range s.users {
		s.userByID[usr.accountID] = u
	}
	s.spaceByID = make(map[int64]int, len(s.spaces))
	for k, sp := range s.spaces {
		s.spaceByID[sp.id] = k
	}

	span := epochEnd.Sub(epochStart)
	s.pageStep = (span / time.Duration(cfg.Pages+1)).Truncate(time.Millisecond)
	s.blogStep = (span / time.Duration(cfg.BlogPosts+1)).Truncate(time.Millisecond)
	s.blogStride = max(1, cfg.Pages/max(1, cfg.BlogPosts))
	for k := range s.spaces {
		s.spaces[k].createdAt = s.spaceCreated(k)
	}
	s.lastChange = epochEnd
	s.stats = newRequestStats()
	s.bufs = make(bufferPool, poolBuffers)
	s.handler = s.routes()
	return s, nil
}

// Handler returns the site's HTTP handler. Serve it at the root of a
// server: paths start with /wiki.
func (s *Site) Handler() http.Handler {
	return s.handler
}

// Expected returns what a full default crawl must find now, taking edits,
// trashing and deletion into account.
func (s *Site) Expected() Counts {
	c := Counts{Spaces: len(s.spaces)}
	referenced := s.ReferencedAccountIDs()
	c.AccountIDs = len(referenced)
	crawlable := map[string]bool{}
	for _, id := range referenced {
		crawlable[id] = true
	}
	for u := range s.users {
		if usr := s.user(u); usr.accountStatus != "closed" {
			c.Users++
			crawlable[usr.accountID] = true
		}
	}
	c.CrawlableUsers = len(crawlable)

	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range s.count(kindPage) {
		if st := s.statusLocked(kindPage, i); st == "current" || st == "archived" {
			c.Pages++
		}
	}
	for j := range s.cfg.BlogPosts {
		if s.statusLocked(kindBlog, j) == "current" {
			c.BlogPosts++
		}
	}
	return c
}

// ReferencedAccountIDs returns, sorted, the distinct account ids that the
// spaces and the default-listed pages and blog posts reference.
func (s *Site) ReferencedAccountIDs() []string {
	seen := map[string]bool{}
	for _, sp := range s.spaces {
		seen[sp.authorID] = true
	}
	for _, k := range []kind{kindPage, kindBlog} {
		for i := range s.count(k) {
			c := s.content(k, i)
			if !defaultStatus(k, c.status) {
				continue
			}
			for _, id := range []string{c.authorID, c.ownerID, c.lastOwnerID, c.versionAuthor} {
				if id != "" {
					seen[id] = true
				}
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// SpaceIDs returns the ids of all spaces in id order.
func (s *Site) SpaceIDs() []string {
	ids := make([]string, len(s.spaces))
	for k, sp := range s.spaces {
		ids[k] = strconv.FormatInt(sp.id, 10)
	}
	return ids
}

// PageIDs returns the ids of every page in the space, whatever its status,
// in id order, or nil if there is no such space.
func (s *Site) PageIDs(spaceID string) []string {
	return s.contentIDs(kindPage, spaceID)
}

// BlogPostIDs returns the ids of every blog post in the space, whatever its
// status, in id order, or nil if there is no such space.
func (s *Site) BlogPostIDs(spaceID string) []string {
	return s.contentIDs(kindBlog, spaceID)
}

func (s *Site) contentIDs(k kind, spaceID string) []string {
	sk, ok := s.spaceIndex(spaceID)
	if !ok {
		return nil
	}
	lo, hi := s.spaces[sk].contentRange(k)
	added := s.addedIn(k, sk)
	ids := make([]string, 0, hi-lo+len(added))
	for i := lo; i < hi; i++ {
		ids = append(ids, strconv.FormatInt(s.contentID(k, i), 10))
	}
	for _, i := range added {
		ids = append(ids, strconv.FormatInt(s.contentID(k, i), 10))
	}
	return ids
}

// AccountIDs returns the ids of all accounts, searchable or not.
func (s *Site) AccountIDs() []string {
	ids := make([]string, len(s.users))
	for u, usr := range s.users {
		ids[u] = usr.accountID
	}
	return ids
}

// UniquePhrase returns a phrase that occurs in the body of exactly one page
// or blog post, the one with the given id, and in no title. It returns ""
// for an unknown id.
func (s *Site) UniquePhrase(contentID string) string {
	id, err := strconv.ParseInt(contentID, 10, 64)
	if err != nil {
		return ""
	}
	if _, _, ok := s.decodeID(id); !ok {
		return ""
	}
	return uniquePhrase(id)
}

// uniquePhrase spells id as syllables between two framing words, so that
// no other id's phrase contains it.
func uniquePhrase(id int64) string {
	word := make([]byte, 0, 24)
	for shift := 60; shift >= 0; shift -= 4 {
		d := (id >> shift) & 0xf
		if d == 0 && len(word) == 0 && shift > 0 {
			continue
		}
		word = append(word, syllables[d]...)
	}
	return phraseHead + " " + string(word) + " " + phraseTail
}

func (s *Site) spaceIndex(spaceID string) (int, bool) {
	id, err := strconv.ParseInt(spaceID, 10, 64)
	if err != nil {
		return 0, false
	}
	k, ok := s.spaceByID[id]
	return k, ok
}

// spaceCreated dates a space a little before its first page or blog post.
func (s *Site) spaceCreated(k int) time.Time {
	sp := s.spaces[k]
	t := epochEnd
	if sp.pageLo < sp.pageHi {
		t = s.created(kindPage, sp.pageLo)
	}
	if sp.blogLo < sp.blogHi {
		t = minTime(t, s.created(kindBlog, sp.blogLo))
	}
	back := time.Duration(mix(s.cfg.Seed, saltSpace, uint64(k), 1)%(72*3600)) * time.Second
	return t.Add(-time.Hour - back)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
