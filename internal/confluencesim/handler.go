package confluencesim

import (
	"crypto/subtle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scope tells the middleware what the {id} of a route names, so that
// faults can match on space and content ids.
type scope uint8

const (
	scopeNone scope = iota
	scopeSpace
	scopeContent
)

const (
	v2Prefix = "/wiki/api/v2"
	v1Prefix = "/wiki/rest/api"
)

// request is the per-request state the middleware hands to a route.
type request struct {
	route  string
	v1     bool
	base   string // the site's base URL, e.g. http://127.0.0.1:8080/wiki
	fault  *Fault // the fault that let the request through, if any
	status int    // status sent, for the request counts; 0 if none
	bufs   bufferPool

	site     *Site
	recorded bool
}

// record counts the request once. It runs before the response leaves, so
// a client that has its answer always finds the request in the counts.
func (rq *request) record() {
	if !rq.recorded {
		rq.recorded = true
		rq.site.record(rq.route, rq.status)
	}
}

type routeFunc func(w http.ResponseWriter, r *http.Request, rq *request)

func (s *Site) routes() http.Handler {
	mux := http.NewServeMux()
	s.handle(mux, "GET "+v2Prefix+"/spaces", scopeNone, s.listSpaces)
	s.handle(mux, "GET "+v2Prefix+"/spaces/{id}", scopeSpace, s.getSpace)
	s.handle(mux, "GET "+v2Prefix+"/spaces/{id}/pages", scopeSpace, s.listSpaceContent(kindPage))
	s.handle(mux, "GET "+v2Prefix+"/spaces/{id}/blogposts", scopeSpace, s.listSpaceContent(kindBlog))
	s.handle(mux, "GET "+v2Prefix+"/pages", scopeNone, s.listSiteContent(kindPage))
	s.handle(mux, "GET "+v2Prefix+"/pages/{id}", scopeContent, s.getContent(kindPage))
	s.handle(mux, "GET "+v2Prefix+"/blogposts", scopeNone, s.listSiteContent(kindBlog))
	s.handle(mux, "GET "+v2Prefix+"/blogposts/{id}", scopeContent, s.getContent(kindBlog))
	s.handle(mux, "POST "+v2Prefix+"/users-bulk", scopeNone, s.usersBulk)
	s.handle(mux, "GET "+v1Prefix+"/search/user", scopeNone, s.searchUsers)
	s.handle(mux, "GET "+v1Prefix+"/user/current", scopeNone, s.currentUser)
	mux.HandleFunc("/", s.unmatched)
	return mux
}

// handle registers a route behind the middleware: request counting,
// authentication, the rate limit and faults, in that order.
func (s *Site) handle(mux *http.ServeMux, pattern string, sc scope, h routeFunc) {
	v1 := strings.Contains(pattern, v1Prefix)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rq := &request{route: pattern, v1: v1, base: baseURL(r), bufs: s.bufs, site: s}
		// Counts requests that end without a response, such as a Delay
		// the client gave up on.
		defer rq.record()

		if !s.authorized(r) {
			rq.fail(w, http.StatusUnauthorized, "Client must be authenticated to access this resource.")
			return
		}
		if s.rateLimited(w, rq) {
			return
		}
		spaceID, contentID := s.scopeIDs(r, sc)
		if f := s.takeFault(pattern, spaceID, contentID); f != nil {
			rq.fault = f
			if s.applyFault(w, r, rq) {
				return
			}
		}
		h(w, r, rq)
	})
}

func (s *Site) unmatched(w http.ResponseWriter, r *http.Request) {
	rq := &request{route: "unmatched", base: baseURL(r), bufs: s.bufs, site: s}
	rq.notFound(w)
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host + "/wiki"
	}
	return "http://" + r.Host + "/wiki"
}

// authorized checks the Authorization header against the configured
// credentials, in constant time.
func (s *Site) authorized(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || strings.TrimSpace(cred) == "" {
		return false
	}
	open := s.cfg.Email == "" && s.cfg.APIToken == ""
	switch strings.ToLower(scheme) {
	case "bearer":
		return open
	case "basic":
		email, token, ok := r.BasicAuth()
		if !ok {
			return false
		}
		if open {
			return true
		}
		e := subtle.ConstantTimeCompare([]byte(email), []byte(s.cfg.Email))
		t := subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.APIToken))
		return e&t == 1
	}
	return false
}

// rateLimited counts the request against the window, sets the rate-limit
// headers and answers 429 once the window's budget is spent.
func (s *Site) rateLimited(w http.ResponseWriter, rq *request) bool {
	now := s.cfg.Now()
	limit, window := s.cfg.RateLimit, s.cfg.RateWindow
	s.reqMu.Lock()
	if now.Before(s.window) || now.Sub(s.window) >= window {
		s.window, s.used = now.Truncate(window), 0
	}
	s.used++
	used, reset := s.used, s.window.Add(window)
	s.reqMu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Reset", reset.UTC().Format(time.RFC3339))
	if max(0, limit-used)*5 < limit { // under a fifth of the budget left
		h.Set("X-RateLimit-NearLimit", "true")
	}
	if used <= limit {
		return false
	}
	wait := math.Ceil(reset.Sub(now).Seconds())
	h.Set("Retry-After", strconv.Itoa(max(1, int(wait))))
	h.Set("RateLimit-Reason", "confluence-quota-global-based")
	rq.write(w, http.StatusTooManyRequests, "", nil)
	return true
}

// scopeIDs returns the space and content ids a request is about.
func (s *Site) scopeIDs(r *http.Request, sc scope) (spaceID, contentID string) {
	switch sc {
	case scopeSpace:
		return r.PathValue("id"), ""
	case scopeContent:
		contentID = r.PathValue("id")
		if id, err := strconv.ParseInt(contentID, 10, 64); err == nil {
			if k, i, ok := s.decodeID(id); ok {
				spaceID = strconv.FormatInt(s.spaces[s.spaceOf(k, i)].id, 10)
			}
		}
		return spaceID, contentID
	}
	return r.URL.Query().Get("space-id"), ""
}

// applyFault carries out the parts of rq.fault that come before the real
// handler. It reports whether the response is complete.
func (s *Site) applyFault(w http.ResponseWriter, r *http.Request, rq *request) bool {
	f := rq.fault
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return true
		case <-t.C:
		}
	}
	switch {
	case f.Reset:
		rq.record()
		resetConn(w)
	case f.HTML200:
		rq.write(w, http.StatusOK, "text/html;charset=UTF-8", []byte(loginPage))
	case f.Status != 0:
		rq.faultStatus(w, f.Status, f.Body)
	case f.Body != "":
		rq.write(w, http.StatusOK, contentTypeJSON, []byte(f.Body))
	default:
		return false
	}
	return true
}

// resetConn drops the connection without writing a response.
func resetConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close() // the point is to break the connection
			return
		}
	}
	panic(http.ErrAbortHandler)
}

const loginPage = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
	`<title>Log in to continue - Log in with Atlassian account</title></head>` +
	`<body><div id="root"><form action="/login" method="post">` +
	`<input name="username" type="email"><button type="submit">Continue</button>` +
	`</form></div></body></html>`

const contentTypeJSON = "application/json;charset=UTF-8"

// write sends a complete response. Headers of the fault are added last so
// they win; a Truncate fault cuts the body and drops the connection.
func (rq *request) write(w http.ResponseWriter, status int, ctype string, body []byte) {
	h := w.Header()
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if rq.fault != nil {
		for k, vs := range rq.fault.Headers {
			h[http.CanonicalHeaderKey(k)] = vs
		}
	}
	rq.status = status
	rq.record()
	w.WriteHeader(status)
	if rq.fault != nil && rq.fault.Truncate > 0 && rq.fault.Truncate < len(body) {
		_, _ = w.Write(body[:rq.fault.Truncate]) // the connection is dropped next anyway
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	// A write error means the client went away; there is no one to tell.
	_, _ = w.Write(body)
}
