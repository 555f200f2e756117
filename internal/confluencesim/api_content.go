package confluencesim

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// timeFormat is how the v2 API writes dates: "YYYY-MM-DDTHH:mm:ss.sssZ".
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

type versionJSON struct {
	CreatedAt string `json:"createdAt"`
	Message   string `json:"message"`
	Number    int    `json:"number"`
	MinorEdit bool   `json:"minorEdit"`
	AuthorID  string `json:"authorId"`
}

type bodyType struct {
	Representation string `json:"representation"`
	Value          string `json:"value"`
}

type contentLinks struct {
	WebUI  string `json:"webui"`
	EditUI string `json:"editui"`
	TinyUI string `json:"tinyui"`
	Base   string `json:"base,omitempty"`
}

// pageJSON is a page in v2 lists and single responses.
type pageJSON struct {
	ID          string              `json:"id"`
	Status      string              `json:"status"`
	Title       string              `json:"title"`
	SpaceID     string              `json:"spaceId"`
	ParentID    string              `json:"parentId,omitempty"`
	ParentType  string              `json:"parentType,omitempty"`
	Position    int                 `json:"position"`
	AuthorID    string              `json:"authorId"`
	OwnerID     string              `json:"ownerId"`
	LastOwnerID *string             `json:"lastOwnerId"`
	CreatedAt   string              `json:"createdAt"`
	Version     *versionJSON        `json:"version,omitempty"`
	Body        map[string]bodyType `json:"body"`
	Links       contentLinks        `json:"_links"`
}

// blogJSON is a blog post in v2 lists and single responses.
type blogJSON struct {
	ID        string              `json:"id"`
	Status    string              `json:"status"`
	Title     string              `json:"title"`
	SpaceID   string              `json:"spaceId"`
	AuthorID  string              `json:"authorId"`
	CreatedAt string              `json:"createdAt"`
	Version   *versionJSON        `json:"version,omitempty"`
	Body      map[string]bodyType `json:"body"`
	Links     contentLinks        `json:"_links"`
}

// Body formats that list endpoints accept; single endpoints accept more.
var (
	listFormats   = []string{"storage", "atlas_doc_format"}
	singleFormats = []string{"storage", "atlas_doc_format", "view", "export_view",
		"anonymous_export_view", "styled_view", "editor"}
)

func (s *Site) listSpaceContent(k kind) routeFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		sk, ok := s.pathSpace(w, r, rq)
		if !ok {
			return
		}
		q, format, ok := s.parseList(w, r, rq, k)
		if !ok {
			return
		}
		q.spaces = []int{sk}
		if k == kindPage {
			switch r.URL.Query().Get("depth") {
			case "", "all":
			case "root":
				q.rootOnly = true
			default:
				rq.badParam(w, "depth", "Expected one of all, root.")
				return
			}
		}
		s.sendContentList(w, r, rq, q, format)
	}
}

func (s *Site) listSiteContent(k kind) routeFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		q, format, ok := s.parseList(w, r, rq, k)
		if !ok {
			return
		}
		if q.spaces, ok = s.spaceFilter(r); !ok {
			rq.badParam(w, "space-id", "Expected a list of at most 100 space ids.")
			return
		}
		if ids := multi(r, "id"); ids != nil {
			if q.ids, ok = s.idFilter(k, ids); !ok {
				rq.badParam(w, "id", "Expected a list of at most 250 ids.")
				return
			}
			q.idFilter = true
		}
		s.sendContentList(w, r, rq, q, format)
	}
}

func (s *Site) sendContentList(w http.ResponseWriter, r *http.Request, rq *request, q contentQuery, format string) {
	idxs, more, last := s.list(q)
	j := rq.newBuf()
	j.raw(`{"results":[`)
	scratch := getScratch()
	defer putScratch(scratch)
	for n, i := range idxs {
		if n > 0 {
			j.raw(",")
		}
		var v any
		v, *scratch = s.contentJSON(s.content(q.kind, i), format, *scratch)
		j.value(v)
	}
	next := rq.nextCursor(q.order, more, last)
	if next != "" {
		next = nextLink(r.URL, next)
	}
	rq.sendList(w, j, next)
}

// parseList reads the parameters every page and blog post list shares.
func (s *Site) parseList(w http.ResponseWriter, r *http.Request, rq *request, k kind) (contentQuery, string, bool) {
	q := contentQuery{kind: k, title: r.URL.Query().Get("title")}
	var ok bool
	if q.limit, ok = parseLimit(w, r, rq); !ok {
		return q, "", false
	}
	fields := []string{fieldID, fieldCreated, fieldModified, fieldTitle}
	statuses, defaults := []string{"current", "archived", "deleted", "trashed"}, []string{"current", "archived"}
	if k == kindBlog {
		fields = fields[:3]
		statuses, defaults = []string{"current", "deleted", "trashed"}, []string{"current"}
	}
	if q.order, ok = parseOrder(r.URL.Query().Get("sort"), fieldID, fields...); !ok {
		rq.badParam(w, "sort", "Expected one of "+strings.Join(fields, ", ")+", optionally with a leading '-'.")
		return q, "", false
	}
	if q.statuses, ok = parseEnum(multi(r, "status"), defaults, statuses); !ok {
		rq.badParam(w, "status", "Expected a list of "+strings.Join(statuses, ", ")+".")
		return q, "", false
	}
	format := r.URL.Query().Get("body-format")
	if format != "" && !slices.Contains(listFormats, format) {
		rq.badParam(w, "body-format", "Expected type is PrimaryBodyRepresentation: storage or atlas_doc_format.")
		return q, "", false
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		key, end, ok := decodeCursor(c, q.order)
		if !ok {
			rq.badCursor(w)
			return q, "", false
		}
		q.after, q.end = &key, end
	}
	return q, format, true
}

// parseLimit reads limit: 25 when absent, otherwise an integer in 1..250.
func parseLimit(w http.ResponseWriter, r *http.Request, rq *request) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 25, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 250 {
		rq.badParam(w, "limit", "Expected an integer between 1 and 250.")
		return 0, false
	}
	return n, true
}

// multi returns the values of a list parameter, given repeated or
// comma-separated, or nil if it is absent.
func multi(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// parseEnum checks values against allowed and returns def for none.
func parseEnum(values, def, allowed []string) ([]string, bool) {
	if len(values) == 0 {
		return def, true
	}
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return nil, false
		}
	}
	return values, true
}

// spaceFilter reads space-id; unknown ids select nothing, as on a real
// site. It returns nil when the parameter is absent.
func (s *Site) spaceFilter(r *http.Request) ([]int, bool) {
	ids := multi(r, "space-id")
	if ids == nil {
		return nil, true
	}
	if len(ids) > 100 {
		return nil, false
	}
	out := []int{}
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, false
		}
		if k, ok := s.spaceByID[n]; ok && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, true
}

// idFilter turns content ids into indices, dropping ids of another kind
// or of no content.
func (s *Site) idFilter(k kind, ids []string) ([]int, bool) {
	if len(ids) > 250 {
		return nil, false
	}
	out := []int{}
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, false
		}
		if kk, i, ok := s.decodeID(n); ok && kk == k && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out, true
}

// pathSpace resolves the space {id} of a route, answering 400 or 404.
func (s *Site) pathSpace(w http.ResponseWriter, r *http.Request, rq *request) (int, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		rq.badParam(w, "id", "Expected type is Long.")
		return 0, false
	}
	sk, ok := s.spaceByID[id]
	if !ok {
		rq.notFound(w)
	}
	return sk, ok
}

func (s *Site) getContent(k kind) routeFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			rq.badParam(w, "id", "Expected type is Long.")
			return
		}
		format := r.URL.Query().Get("body-format")
		if format != "" && !slices.Contains(singleFormats, format) {
			rq.badParam(w, "body-format", "Expected type is PrimaryBodyRepresentationSingle.")
			return
		}
		kk, i, ok := s.decodeID(id)
		if !ok || kk != k {
			rq.notFound(w)
			return
		}
		c := s.content(k, i)
		if !s.singleVisible(r, &c) {
			rq.notFound(w)
			return
		}
		s.sendSingle(w, r, rq, c, format)
	}
}

// singleVisible applies the status and version parameters of a single
// content request. Trashed content is visible unless a status filter
// excludes it; purged content never is.
func (s *Site) singleVisible(r *http.Request, c *content) bool {
	if c.status == "purged" {
		return false
	}
	if st := multi(r, "status"); st != nil && !slices.Contains(st, c.status) {
		return false
	}
	v := r.URL.Query().Get("version")
	if v == "" {
		return true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > c.version {
		return false
	}
	if n < c.version {
		// Spread earlier versions evenly between creation and the latest.
		span := c.versionAt.Sub(c.createdAt)
		c.versionAt = c.createdAt.Add(span * time.Duration(n-1) / time.Duration(c.version-1))
		c.version, c.versionMessage = n, ""
	}
	return true
}

func (s *Site) sendSingle(w http.ResponseWriter, r *http.Request, rq *request, c content, format string) {
	scratch := getScratch()
	defer putScratch(scratch)
	var v any
	v, *scratch = s.contentJSON(c, format, *scratch)
	switch p := v.(type) {
	case *pageJSON:
		p.Links.Base = rq.base
		if r.URL.Query().Get("include-version") == "false" {
			p.Version = nil
		}
	case *blogJSON:
		p.Links.Base = rq.base
		if r.URL.Query().Get("include-version") == "false" {
			p.Version = nil
		}
	}
	j := rq.newBuf()
	j.value(v)
	rq.send(w, http.StatusOK, j)
}

// contentJSON builds the JSON object of c with its body in format ("" for
// none). scratch is reused for the body and returned, perhaps grown.
func (s *Site) contentJSON(c content, format string, scratch []byte) (any, []byte) {
	sp := s.spaces[c.space]
	id := strconv.FormatInt(c.id, 10)
	body := map[string]bodyType{}
	if format != "" {
		scratch = s.renderBody(c, format, scratch)
		// The value aliases scratch instead of copying it: the caller
		// encodes the object before scratch is written again.
		value := unsafe.String(unsafe.SliceData(scratch), len(scratch))
		body[format] = bodyType{Representation: format, Value: value}
	}
	version := &versionJSON{CreatedAt: c.versionAt.Format(timeFormat), Message: c.versionMessage,
		Number: c.version, MinorEdit: c.minorEdit, AuthorID: c.versionAuthor}
	links := contentLinks{
		EditUI: "/pages/resumedraft.action?draftId=" + id,
		TinyUI: tinyLink(c.id),
	}
	slug := url.QueryEscape(c.title)
	if c.kind == kindBlog {
		links.WebUI = "/spaces/" + sp.key + "/blog/" + c.createdAt.Format("2006/01/02") + "/" + id + "/" + slug
		return &blogJSON{ID: id, Status: c.status, Title: c.title, SpaceID: strconv.FormatInt(sp.id, 10),
			AuthorID: c.authorID, CreatedAt: c.createdAt.Format(timeFormat), Version: version,
			Body: body, Links: links}, scratch
	}
	links.WebUI = "/spaces/" + sp.key + "/pages/" + id + "/" + slug
	p := &pageJSON{ID: id, Status: c.status, Title: c.title, SpaceID: strconv.FormatInt(sp.id, 10),
		Position: c.position, AuthorID: c.authorID, OwnerID: c.ownerID,
		CreatedAt: c.createdAt.Format(timeFormat), Version: version, Body: body, Links: links}
	if c.parentID != 0 {
		p.ParentID, p.ParentType = strconv.FormatInt(c.parentID, 10), "page"
	}
	if c.lastOwnerID != "" {
		p.LastOwnerID = &c.lastOwnerID
	}
	return p, scratch
}

// renderBody renders the body of c in format into scratch. Formats other than
// atlas_doc_format get the storage markup.
// TODO(#2): render view, export_view and styled_view as HTML; the crawler
// only asks for storage, so the storage markup stands in for them.
func (s *Site) renderBody(c content, format string, scratch []byte) []byte {
	words := getScratch()
	defer putScratch(words)
	if format == "atlas_doc_format" {
		w := newADFWriter(scratch[:0])
		*words = s.writeBody(c, w, (*words)[:0])
		return w.finish()
	}
	w := &storageWriter{buf: scratch[:0]}
	*words = s.writeBody(c, w, (*words)[:0])
	return w.buf
}

// tinyLink derives a short link like Confluence's /x/ links: the id's
// little-endian bytes in URL-safe base64.
func tinyLink(id int64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(id))
	n := 8
	for n > 1 && b[n-1] == 0 {
		n--
	}
	return "/x/" + base64.RawURLEncoding.EncodeToString(b[:n])
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getScratch() *[]byte  { return scratchPool.Get().(*[]byte) }
func putScratch(b *[]byte) { *b = (*b)[:0]; scratchPool.Put(b) }
