package confluencesim

import (
	"net/http"
	"strings"

	"github.com/segmentio/encoding/json"
)

// jsonBuf builds a response body in a pooled buffer; the first encoding
// error is kept and turns the response into a 500.
type jsonBuf struct {
	b    []byte
	err  error
	pool bufferPool
}

// bufferPool recycles response buffers, so that a listing of 250 large
// pages does not allocate its megabytes again for every request. It is a
// bounded free list rather than a sync.Pool, whose contents every garbage
// collection drops: under the allocation rate of a crawl that is often.
type bufferPool chan *jsonBuf

// Bounds of the free list: buffers kept, and the largest buffer kept.
const (
	poolBuffers  = 16
	poolMaxBytes = 16 << 20
)

func (p bufferPool) get() *jsonBuf {
	select {
	case j := <-p:
		j.b, j.err = j.b[:0], nil
		return j
	default:
		return &jsonBuf{b: make([]byte, 0, 64<<10), pool: p}
	}
}

func (j *jsonBuf) release() {
	if cap(j.b) > poolMaxBytes {
		return
	}
	select {
	case j.pool <- j:
	default: // the list is full; let the collector have it
	}
}

func (rq *request) newBuf() *jsonBuf {
	return rq.bufs.get()
}

func (j *jsonBuf) raw(s string) {
	j.b = append(j.b, s...)
}

// value appends v. Map keys are sorted: without it, maps would encode in
// random order and the site would not be byte-identical across runs.
func (j *jsonBuf) value(v any) {
	if j.err != nil {
		return
	}
	j.b, j.err = json.Append(j.b, v, json.SortMapKeys)
}

// send writes the buffer as a JSON response and releases it.
func (rq *request) send(w http.ResponseWriter, status int, j *jsonBuf) {
	defer j.release()
	if j.err != nil {
		rq.fail(w, http.StatusInternalServerError, "encode response: "+j.err.Error())
		return
	}
	rq.write(w, status, contentTypeJSON, j.b)
}

// multiLinks is the _links object of a v2 list response.
type multiLinks struct {
	Next string `json:"next,omitempty"`
	Base string `json:"base"`
}

// sendList finishes a v2 list response whose results were already written
// after `{"results":[`, adding the next link to the body and, with the
// base, to the Link header.
func (rq *request) sendList(w http.ResponseWriter, j *jsonBuf, next string) {
	j.raw(`],"_links":`)
	j.value(multiLinks{Next: next, Base: rq.base})
	j.raw("}")
	link := "<" + rq.base + `>; rel="base"`
	if next != "" {
		link = "<" + next + `>; rel="next", ` + link
	}
	w.Header().Set("Link", link)
	rq.send(w, http.StatusOK, j)
}

// nextCursor returns the cursor of the next page: after more when the
// listing continues, or past last when an EmptyPageWithNext fault applies
// to a listing that ends here.
func (rq *request) nextCursor(o order, more *okey, last okey) string {
	if more != nil {
		return encodeCursor(o, *more, false)
	}
	if rq.fault != nil && rq.fault.EmptyPageWithNext {
		return encodeCursor(o, last, true)
	}
	return ""
}

// v2Error is one entry of a v2 error body.
type v2Error struct {
	Status int     `json:"status"`
	Code   string  `json:"code"`
	Title  string  `json:"title"`
	Detail *string `json:"detail"`
}

type v2Errors struct {
	Errors []v2Error `json:"errors"`
}

// v1Error is the body of a v1 error.
type v1Error struct {
	StatusCode int         `json:"statusCode"`
	Data       v1ErrorData `json:"data"`
	Message    string      `json:"message"`
}

type v1ErrorData struct {
	Authorized bool  `json:"authorized"`
	Valid      bool  `json:"valid"`
	Errors     []any `json:"errors"`
	Successful bool  `json:"successful"`
}

// fail sends an error with the body shape of the request's API version.
func (rq *request) fail(w http.ResponseWriter, status int, title string) {
	rq.failDetail(w, status, title, nil)
}

func (rq *request) failDetail(w http.ResponseWriter, status int, title string, detail *string) {
	j := rq.newBuf()
	if rq.v1 {
		j.value(v1Error{StatusCode: status, Message: title, Data: v1ErrorData{Errors: []any{}}})
	} else {
		e := v2Error{Status: status, Code: errorCode(status), Title: title, Detail: detail}
		j.value(v2Errors{Errors: []v2Error{e}})
	}
	defer j.release()
	if j.err != nil {
		rq.write(w, http.StatusInternalServerError, "text/plain", []byte(j.err.Error()))
		return
	}
	rq.write(w, status, contentTypeJSON, j.b)
}

// faultStatus answers with an injected status: the given body, nothing
// for 429 (Atlassian documents none), or an error body.
func (rq *request) faultStatus(w http.ResponseWriter, status int, body string) {
	switch {
	case body != "":
		rq.write(w, status, contentTypeJSON, []byte(body))
	case status == http.StatusTooManyRequests:
		rq.write(w, status, "", nil)
	default:
		rq.fail(w, status, http.StatusText(status))
	}
}

func (rq *request) notFound(w http.ResponseWriter) {
	rq.fail(w, http.StatusNotFound, "Not Found")
}

// badParam answers 400 for a query parameter with an unusable value.
func (rq *request) badParam(w http.ResponseWriter, name, want string) {
	rq.fail(w, http.StatusBadRequest, "Provided value for '"+name+"' is not valid. "+want)
}

func (rq *request) badCursor(w http.ResponseWriter) {
	detail := "The provided cursor was not valid. You can get a new valid cursor by making the original pagination request again."
	rq.failDetail(w, http.StatusBadRequest,
		"Provided value for 'cursor' is not the correct type. Expected type is Cursor.", &detail)
}

// errorCode turns a status into the upper-case code v2 bodies carry, such
// as NOT_FOUND; 400 uses the code Atlassian sends for bad parameters.
func errorCode(status int) string {
	if status == http.StatusBadRequest {
		return "INVALID_REQUEST_PARAMETER"
	}
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
