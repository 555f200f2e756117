package confluencesim

import (
	"slices"
	"sort"
)

// Sort fields of page and blog post lists.
const (
	fieldID       = "id"
	fieldCreated  = "created-date"
	fieldModified = "modified-date"
	fieldTitle    = "title"
)

// permKey names a cached sort order: all pages or blog posts of one space
// (space >= 0) or of the site (space -1), sorted by field.
type permKey struct {
	kind  kind
	space int
	field string
}

// contentQuery is a parsed list request for pages or blog posts.
type contentQuery struct {
	kind     kind
	spaces   []int // restrict to these spaces; nil means all
	ids      []int // restrict to these indices when idFilter is set
	idFilter bool
	statuses []string
	title    string // exact title, or "" for any
	rootOnly bool   // only top-level pages (depth=root)
	order    order
	limit    int
	after    *okey // continue after this key; nil starts at the beginning
	end      bool  // the cursor points past the last item
}

// seq is a list of content indices in ascending sort order.
type seq struct {
	n  int
	at func(pos int) int
}

// list runs q and returns the indices of one page of results, the key to
// continue after when more results follow, and the key of the last result
// (or of the cursor when there are none).
func (s *Site) list(q contentQuery) (out []int, more *okey, last okey) {
	if q.after != nil {
		last = *q.after
	}
	if q.end {
		return nil, nil, last
	}
	src, global := s.source(q)
	s.mu.RLock()
	defer s.mu.RUnlock()

	key := func(i int) okey { return s.keyLocked(q.kind, i, q.order.field) }
	at := src.at
	if q.order.desc {
		at = func(pos int) int { return src.at(src.n - 1 - pos) }
	}
	start := 0
	if q.after != nil {
		start = sort.Search(src.n, func(pos int) bool {
			c := key(at(pos)).cmp(*q.after)
			return c > 0 && !q.order.desc || c < 0 && q.order.desc
		})
	}

	for pos := start; pos < src.n; pos++ {
		i := at(pos)
		if !s.matchLocked(q, i, global) {
			continue
		}
		if len(out) == q.limit {
			return out, &last, last
		}
		out = append(out, i)
		last = key(i)
	}
	return out, nil, last
}

func (s *Site) matchLocked(q contentQuery, i int, global bool) bool {
	if !slices.Contains(q.statuses, s.statusLocked(q.kind, i)) {
		return false
	}
	if global && q.spaces != nil && !slices.Contains(q.spaces, s.spaceOf(q.kind, i)) {
		return false
	}
	if q.rootOnly && !s.topLevel(i) {
		return false
	}
	if q.title != "" {
		return s.titleOf(q.kind, i) == q.title
	}
	return true
}

// source returns the candidates of q in ascending order and whether they
// span more than q's spaces (so the space filter must still be applied).
func (s *Site) source(q contentQuery) (seq, bool) {
	if q.idFilter {
		ids := slices.Clone(q.ids)
		s.mu.RLock()
		slices.SortFunc(ids, func(a, b int) int {
			return s.keyLocked(q.kind, a, q.order.field).cmp(s.keyLocked(q.kind, b, q.order.field))
		})
		s.mu.RUnlock()
		return seq{n: len(ids), at: func(pos int) int { return ids[pos] }}, true
	}
	if q.order.field == fieldModified || q.order.field == fieldTitle {
		space := -1
		if len(q.spaces) == 1 {
			space = q.spaces[0]
		}
		p := s.perm(permKey{kind: q.kind, space: space, field: q.order.field})
		return seq{n: len(p), at: func(pos int) int { return int(p[pos]) }}, space < 0
	}
	return s.rangeSeq(q), false
}

// rangeSeq lists the contiguous index ranges of q's spaces in id order,
// which is also creation order.
func (s *Site) rangeSeq(q contentQuery) seq {
	if q.spaces == nil {
		return seq{n: s.count(q.kind), at: func(pos int) int { return pos }}
	}
	spaces := slices.Clone(q.spaces)
	slices.Sort(spaces)
	offs := make([]int, len(spaces)+1)
	for n, sk := range spaces {
		lo, hi := s.spaces[sk].contentRange(q.kind)
		offs[n+1] = offs[n] + hi - lo
	}
	// Created pages have the highest indices, so they follow the derived
	// ranges and the sequence stays in ascending order.
	added := s.addedIn(q.kind, spaces...)
	at := func(pos int) int {
		if pos >= offs[len(spaces)] {
			return added[pos-offs[len(spaces)]]
		}
		n := sort.SearchInts(offs, pos+1) - 1
		lo, _ := s.spaces[spaces[n]].contentRange(q.kind)
		return lo + pos - offs[n]
	}
	return seq{n: offs[len(spaces)] + len(added), at: at}
}

// keyLocked returns the sort key of page or blog post i; s.mu is held.
func (s *Site) keyLocked(k kind, i int, field string) okey {
	key := okey{id: s.contentID(k, i)}
	switch field {
	case fieldID:
		key.num = key.id
	case fieldCreated:
		key.num = s.created(k, i).UnixMilli()
	case fieldModified:
		key.num = s.modifiedLocked(k, i).UnixMilli()
	case fieldTitle:
		key.str = s.titleOf(k, i)
	}
	return key
}

// perm returns the indices of the scope of pk sorted by pk.field, building
// and caching the order on first use. Edits drop modified-date orders.
func (s *Site) perm(pk permKey) []int32 {
	s.mu.RLock()
	p, ok := s.perms[pk]
	s.mu.RUnlock()
	if ok {
		return p
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.perms[pk]; ok {
		return p
	}
	lo, hi := 0, s.count(pk.kind)
	var added []int
	if pk.space >= 0 {
		lo, hi = s.spaces[pk.space].contentRange(pk.kind)
		added = s.addedIn(pk.kind, pk.space)
	}
	keys := make([]okey, 0, hi-lo+len(added))
	p = make([]int32, 0, hi-lo+len(added))
	for i := lo; i < hi; i++ {
		p = append(p, int32(i))
		keys = append(keys, s.keyLocked(pk.kind, i, pk.field))
	}
	for _, i := range added {
		p = append(p, int32(i))
		keys = append(keys, s.keyLocked(pk.kind, i, pk.field))
	}
	sort.Sort(byKey{p: p, keys: keys})
	s.perms[pk] = p
	return p
}

// dropPermsLocked forgets cached orders by field; s.mu is held for writing.
func (s *Site) dropPermsLocked(field string) {
	for pk := range s.perms {
		if pk.field == field {
			delete(s.perms, pk)
		}
	}
}

type byKey struct {
	p    []int32
	keys []okey
}

func (b byKey) Len() int           { return len(b.p) }
func (b byKey) Less(i, j int) bool { return b.keys[i].cmp(b.keys[j]) < 0 }
func (b byKey) Swap(i, j int) {
	b.p[i], b.p[j] = b.p[j], b.p[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}
