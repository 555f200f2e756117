package confluencesim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

type spaceJSON struct {
	ID                 string            `json:"id"`
	Key                string            `json:"key"`
	Name               string            `json:"name"`
	Type               string            `json:"type"`
	Status             string            `json:"status"`
	AuthorID           string            `json:"authorId"`
	CurrentActiveAlias string            `json:"currentActiveAlias,omitempty"`
	CreatedAt          string            `json:"createdAt"`
	HomepageID         string            `json:"homepageId,omitempty"`
	Description        *spaceDescription `json:"description,omitempty"`
	Icon               *spaceIcon        `json:"icon,omitempty"`
	Links              spaceLinks        `json:"_links"`
}

type spaceDescription struct {
	Plain *bodyType `json:"plain,omitempty"`
	View  *bodyType `json:"view,omitempty"`
}

type spaceIcon struct {
	Path            string `json:"path"`
	APIDownloadLink string `json:"apiDownloadLink,omitempty"`
}

type spaceLinks struct {
	WebUI string `json:"webui"`
	Base  string `json:"base,omitempty"`
}

var spaceFields = []string{fieldID, "key", "name"}

func (s *Site) listSpaces(w http.ResponseWriter, r *http.Request, rq *request) {
	limit, ok := parseLimit(w, r, rq)
	if !ok {
		return
	}
	o, ok := parseOrder(r.URL.Query().Get("sort"), fieldID, spaceFields...)
	if !ok {
		rq.badParam(w, "sort", "Expected one of id, key, name, optionally with a leading '-'.")
		return
	}
	format, ok := descriptionFormat(w, r, rq)
	if !ok {
		return
	}
	matches, ok := s.filterSpaces(w, r, rq)
	if !ok {
		return
	}
	slices.SortFunc(matches, func(a, b int) int {
		c := s.spaceKey(a, o.field).cmp(s.spaceKey(b, o.field))
		if o.desc {
			return -c
		}
		return c
	})

	var last okey
	if c := r.URL.Query().Get("cursor"); c != "" {
		after, end, ok := decodeCursor(c, o)
		if !ok {
			rq.badCursor(w)
			return
		}
		last = after
		matches = spacesAfter(s, matches, o, after, end)
	}
	var more *okey
	if len(matches) > limit {
		matches = matches[:limit]
		k := s.spaceKey(matches[limit-1], o.field)
		more = &k
	}

	j := rq.newBuf()
	j.raw(`{"results":[`)
	icon := r.URL.Query().Get("include-icon") == "true"
	for n, k := range matches {
		if n > 0 {
			j.raw(",")
		}
		j.value(s.spaceJSON(k, format, icon))
		last = s.spaceKey(k, o.field)
	}
	next := rq.nextCursor(o, more, last)
	if next != "" {
		next = nextLink(r.URL, next)
	}
	rq.sendList(w, j, next)
}

// spacesAfter drops the spaces up to and including the cursor's.
func spacesAfter(s *Site, sorted []int, o order, after okey, end bool) []int {
	if end {
		return nil
	}
	for n, k := range sorted {
		c := s.spaceKey(k, o.field).cmp(after)
		if c > 0 && !o.desc || c < 0 && o.desc {
			return sorted[n:]
		}
	}
	return nil
}

// filterSpaces applies the ids, keys, type and status filters.
func (s *Site) filterSpaces(w http.ResponseWriter, r *http.Request, rq *request) ([]int, bool) {
	ids, keys := multi(r, "ids"), multi(r, "keys")
	typ, status := r.URL.Query().Get("type"), r.URL.Query().Get("status")
	if status != "" && status != "current" && status != "archived" {
		rq.badParam(w, "status", "Expected one of current, archived.")
		return nil, false
	}
	for _, id := range ids {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			rq.badParam(w, "ids", "Expected a list of space ids.")
			return nil, false
		}
	}
	var out []int
	for k, sp := range s.spaces {
		id := strconv.FormatInt(sp.id, 10)
		if ids != nil && !slices.Contains(ids, id) || keys != nil && !slices.Contains(keys, sp.key) ||
			typ != "" && typ != sp.typ || status != "" && status != sp.status {
			continue
		}
		out = append(out, k)
	}
	return out, true
}

func (s *Site) spaceKey(k int, field string) okey {
	sp := s.spaces[k]
	switch field {
	case "key":
		return okey{str: sp.key, id: sp.id}
	case "name":
		return okey{str: s.spaceName(k), id: sp.id}
	}
	return okey{num: sp.id, id: sp.id}
}

func descriptionFormat(w http.ResponseWriter, r *http.Request, rq *request) (string, bool) {
	f := r.URL.Query().Get("description-format")
	if f != "" && f != "plain" && f != "view" {
		rq.badParam(w, "description-format", "Expected one of plain, view.")
		return "", false
	}
	return f, true
}

func (s *Site) getSpace(w http.ResponseWriter, r *http.Request, rq *request) {
	sk, ok := s.pathSpace(w, r, rq)
	if !ok {
		return
	}
	format, ok := descriptionFormat(w, r, rq)
	if !ok {
		return
	}
	v := s.spaceJSON(sk, format, r.URL.Query().Get("include-icon") == "true")
	v.Links.Base = rq.base
	j := rq.newBuf()
	j.value(v)
	rq.send(w, http.StatusOK, j)
}

func (s *Site) spaceJSON(k int, format string, icon bool) *spaceJSON {
	sp := s.spaces[k]
	v := &spaceJSON{ID: strconv.FormatInt(sp.id, 10), Key: sp.key, Name: s.spaceName(k), Type: sp.typ,
		Status: sp.status, AuthorID: sp.authorID, CreatedAt: sp.createdAt.Format(timeFormat),
		Links: spaceLinks{WebUI: "/spaces/" + sp.key}}
	if sp.typ == "global" {
		v.CurrentActiveAlias = sp.key
	}
	if sp.pageLo < sp.pageHi {
		v.HomepageID = strconv.FormatInt(s.contentID(kindPage, sp.pageLo), 10)
	}
	switch format {
	case "plain":
		v.Description = &spaceDescription{Plain: &bodyType{Representation: "plain", Value: sp.descr}}
	case "view":
		v.Description = &spaceDescription{View: &bodyType{Representation: "view", Value: "<p>" + sp.descr + "</p>"}}
	}
	if icon {
		v.Icon = &spaceIcon{Path: "/wiki/download/attachments/" + v.ID + "/" + strings.ToLower(asciiOnly(sp.key)) + ".png"}
		if sp.typ == "global" {
			v.Icon.APIDownloadLink = "/wiki/rest/api/space/" + sp.key + "/icon"
		}
	}
	return v
}
