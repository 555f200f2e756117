package confluencesim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// kind tells pages from blog posts. Both share one id space, as on a real
// site.
type kind uint8

const (
	kindPage kind = iota
	kindBlog
)

// contentBase is the smallest content id. Page i has an id in
// [base+16i, base+16i+8); blog post j one in [base+16*stride*j+8, ...+16).
const contentBase = 1_179_648

// content is one page or blog post as derived from (seed, kind, index),
// with any edit applied. It is built per use and never stored.
type content struct {
	kind  kind
	idx   int // index among all pages or all blog posts
	id    int64
	space int // index into Site.spaces
	local int // index within the space

	title    string
	status   string
	parentID int64 // 0 for a top-level page and for blog posts
	position int
	depth    int

	authorID    string
	ownerID     string
	lastOwnerID string // "" means null
	createdAt   time.Time

	version        int
	versionAt      time.Time
	versionAuthor  string
	versionMessage string
	minorEdit      bool

	edits int // simulator edits, each adds a paragraph to the body
}

// override is the state of content changed through EditPage, TrashPage or
// DeletePage.
type override struct {
	version       int
	versionAt     time.Time
	versionAuthor string
	message       string
	minorEdit     bool
	status        string // "" keeps the derived status
	deleted       bool   // purged: gone from every endpoint
	edits         int
}

func (s *Site) count(k kind) int {
	if k == kindBlog {
		return s.cfg.BlogPosts
	}
	return s.cfg.Pages + len(s.addedPages())
}

func (sp space) contentRange(k kind) (int, int) {
	if k == kindBlog {
		return sp.blogLo, sp.blogHi
	}
	return sp.pageLo, sp.pageHi
}

func (s *Site) salt(k kind) uint64 {
	if k == kindBlog {
		return saltBlog
	}
	return saltPage
}

// contentID returns the id of page or blog post i; ids grow with i.
func (s *Site) contentID(k kind, i int) int64 {
	h := int64(mix(s.cfg.Seed, s.salt(k), uint64(i)) % 8)
	if k == kindBlog {
		return contentBase + int64(i)*16*int64(s.blogStride) + 8 + h
	}
	return contentBase + int64(i)*16 + h
}

// decodeID is the inverse of contentID.
func (s *Site) decodeID(id int64) (kind, int, bool) {
	off := id - contentBase
	if off < 0 {
		return 0, 0, false
	}
	k, i := kindPage, int(off/16)
	if off%16 >= 8 {
		q := off / 16
		k, i = kindBlog, int(q/int64(s.blogStride))
	}
	if i >= s.count(k) || s.contentID(k, i) != id {
		return 0, 0, false
	}
	return k, i, true
}

// spaceOf returns the space holding page or blog post i.
func (s *Site) spaceOf(k kind, i int) int {
	if k == kindPage && i >= s.cfg.Pages {
		return s.addedPages()[i-s.cfg.Pages].space
	}
	return sort.Search(len(s.spaces), func(sk int) bool {
		_, hi := s.spaces[sk].contentRange(k)
		return hi > i
	})
}

// created returns the creation time of page or blog post i; it grows
// strictly with i.
func (s *Site) created(k kind, i int) time.Time {
	if k == kindPage && i >= s.cfg.Pages {
		return s.addedPages()[i-s.cfg.Pages].createdAt
	}
	step := s.pageStep
	if k == kindBlog {
		step = s.blogStep
	}
	jitter := time.Duration(mix(s.cfg.Seed, s.salt(k), uint64(i), 1)%uint64(step/time.Millisecond)) * time.Millisecond
	return epochStart.Add(time.Duration(i)*step + jitter)
}

// content derives page or blog post i and applies its override, if any.
func (s *Site) content(k kind, i int) content {
	c := s.derive(k, i)
	s.mu.RLock()
	o := s.overrides[c.id]
	if o != nil {
		c.apply(o)
	}
	s.mu.RUnlock()
	return c
}

func (c *content) apply(o *override) {
	c.version, c.versionAt, c.versionAuthor = o.version, o.versionAt, o.versionAuthor
	c.versionMessage, c.minorEdit, c.edits = o.message, o.minorEdit, o.edits
	if o.status != "" {
		c.status = o.status
	}
	if o.deleted {
		c.status = "purged"
	}
}

// statusLocked returns the status of page or blog post i; s.mu is held.
func (s *Site) statusLocked(k kind, i int) string {
	id := s.contentID(k, i)
	if o := s.overrides[id]; o != nil {
		if o.deleted {
			return "purged"
		}
		if o.status != "" {
			return o.status
		}
	}
	return s.baseStatus(k, i)
}

// baseStatus is the derived status: a few leaf pages are archived or
// trashed, a few blog posts trashed.
func (s *Site) baseStatus(k kind, i int) string {
	x := mix(s.cfg.Seed, s.salt(k), uint64(i), 2) % 100
	if k == kindPage && i >= s.cfg.Pages {
		return "current" // created through CreatePage
	}
	if k == kindBlog {
		if x == 0 {
			return "trashed"
		}
		return "current"
	}
	sp := s.spaces[s.spaceOf(k, i)]
	j, n := i-sp.pageLo, sp.pageHi-sp.pageLo
	if j == 0 || sp.roots+j*sp.branch < n {
		return "current" // the homepage and pages with children stay current
	}
	switch {
	case x < 3:
		return "archived"
	case x == 3:
		return "trashed"
	}
	return "current"
}

// defaultStatus reports whether a list without a status filter shows c.
func defaultStatus(k kind, status string) bool {
	if k == kindBlog {
		return status == "current"
	}
	return status == "current" || status == "archived"
}

func (s *Site) derive(k kind, i int) content {
	if k == kindPage && i >= s.cfg.Pages {
		return s.deriveAdded(i)
	}
	h := mix(s.cfg.Seed, s.salt(k), uint64(i), 3)
	r := newRNG(h)
	sk := s.spaceOf(k, i)
	sp := s.spaces[sk]
	lo, _ := sp.contentRange(k)
	c := content{kind: k, idx: i, id: s.contentID(k, i), space: sk, local: i - lo}
	c.status = s.baseStatus(k, i)
	c.createdAt = s.created(k, i)
	c.title = s.title(k, i, c.local, sp)
	if k == kindPage {
		c.parentID, c.position, c.depth = s.treePlace(sp, c.local)
	}

	c.authorID = s.users[r.intn(len(s.users))].accountID
	c.ownerID = c.authorID
	if k == kindPage && r.intn(5) == 0 {
		c.ownerID = s.users[r.intn(len(s.users))].accountID
		if c.ownerID != c.authorID {
			c.lastOwnerID = c.authorID
		}
	}

	s.deriveVersion(&c)
	return c
}

// deriveVersion sets the current version of c. It draws from its own
// stream so that versionAt can be computed without deriving the rest.
func (s *Site) deriveVersion(c *content) {
	r := newRNG(mix(s.cfg.Seed, s.salt(c.kind), uint64(c.idx), 4))
	c.version, c.versionAt, c.versionAuthor = 1, c.createdAt, c.authorID
	if r.intn(4) == 0 {
		return
	}
	c.version = 2 + r.intn(15)
	left := epochEnd.Sub(c.createdAt) / time.Millisecond
	c.versionAt = c.createdAt.Add(time.Duration(r.next()%uint64(left+1)) * time.Millisecond)
	c.versionAuthor = s.users[r.intn(len(s.users))].accountID
	c.minorEdit = r.intn(4) == 0
	if r.intn(3) == 0 {
		c.versionMessage = pick(&r, []string{"typo", "updated owners", "new section", "links fixed"})
	}
}

// modifiedLocked returns the modification date of page or blog post i;
// s.mu is held.
func (s *Site) modifiedLocked(k kind, i int) time.Time {
	c := content{kind: k, idx: i, createdAt: s.created(k, i)}
	if o := s.overrides[s.contentID(k, i)]; o != nil {
		return o.versionAt
	}
	r := newRNG(mix(s.cfg.Seed, s.salt(k), uint64(i), 4))
	if r.intn(4) == 0 {
		return c.createdAt
	}
	r.intn(15)
	left := epochEnd.Sub(c.createdAt) / time.Millisecond
	return c.createdAt.Add(time.Duration(r.next()%uint64(left+1)) * time.Millisecond)
}

// treePlace puts page local of a space in its tree: the first roots pages
// are top level (the homepage first); page j >= roots is child number
// (j-roots)%branch of page (j-roots)/branch.
func (s *Site) treePlace(sp space, local int) (parentID int64, position, depth int) {
	if local < sp.roots {
		return 0, local, 0
	}
	p := (local - sp.roots) / sp.branch
	position = (local - sp.roots) % sp.branch
	depth = 1
	for q := p; q >= sp.roots; q = (q - sp.roots) / sp.branch {
		depth++
	}
	return s.contentID(kindPage, sp.pageLo+p), position, depth
}

// title derives a title that is unique in its space: each contains the
// local index, and the homepage's has no digits.
func (s *Site) title(k kind, i, local int, sp space) string {
	h := mix(s.cfg.Seed, saltTitle, uint64(k), uint64(i))
	topic := titleTopics[h%uint64(len(titleTopics))]
	if k == kindBlog {
		tpl := blogTemplates[(h>>8)%uint64(len(blogTemplates))]
		return titleFormat(tpl, local+1, topic)
	}
	if local == 0 {
		return sp.name + " Home"
	}
	return titleFormat(titleTemplates[(h>>8)%uint64(len(titleTemplates))], local, topic)
}

// titleFormat fills a template that has one %d and one %s in either
// order, and capitalises a leading topic.
func titleFormat(tpl string, n int, topic string) string {
	i := strings.IndexByte(tpl, '%')
	if i < 0 || i+1 >= len(tpl) {
		return tpl
	}
	if tpl[i+1] == 'd' {
		return fmt.Sprintf(tpl, n, topic)
	}
	if i == 0 {
		topic = strings.ToUpper(topic[:1]) + topic[1:]
	}
	return fmt.Sprintf(tpl, topic, n)
}
