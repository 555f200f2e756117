package confluencesim

import (
	"net/http"
	"time"
)

// Match selects the requests a fault applies to. Empty fields match
// anything.
type Match struct {
	// Route is a route pattern as counted by Requests, for example
	// "GET /wiki/api/v2/spaces/{id}/pages".
	Route string

	// SpaceID matches requests about one space: the {id} of a space route,
	// the space of a page or blog post fetched by id, or a space-id
	// filter of a site-wide list.
	SpaceID string

	// ContentID matches requests for one page or blog post by id.
	ContentID string
}

// Fault changes the site's answer to matching requests. Its behaviours
// apply in this order: Delay, then Reset, HTML200 or Status/Body (which
// replace the response), otherwise the real response with Headers,
// Truncate and EmptyPageWithNext applied. A fault with only Delay or
// Headers set lets the request through.
type Fault struct {
	// Delay holds the response back for this long, or until the client
	// gives up.
	Delay time.Duration

	// Reset closes the connection without any response.
	Reset bool

	// HTML200 answers 200 with an HTML login page instead of JSON, as a
	// misrouted proxy or expired session does.
	HTML200 bool

	// Status answers with this status code. The body is Body, or when
	// Body is empty: nothing for 429, otherwise an error body of the shape
	// the API version uses.
	Status int

	// Body is the response body; with Status zero it is sent with 200.
	Body string

	// Headers are added to the response, faulted or not: for instance
	// Retry-After, X-RateLimit-NearLimit or RateLimit-Reason.
	Headers http.Header

	// Truncate, when positive, sends only the first Truncate bytes of the
	// real body (with the full Content-Length) and then drops the
	// connection.
	Truncate int

	// EmptyPageWithNext makes a list response that ends its listing carry
	// a next link anyway; following it yields a page with no results.
	EmptyPageWithNext bool

	// After lets this many matching requests through before the fault
	// starts to apply.
	After int

	// Count is how many times the fault applies; zero means always.
	Count int
}

// faultRule is an injected fault and how often it has matched.
type faultRule struct {
	match   Match
	fault   Fault
	seen    int // matching requests so far
	applied int
}

// InjectFault adds a fault for requests that match. When several faults
// match a request, the one injected first that still applies wins. It is
// safe to call while the site serves requests.
func (s *Site) InjectFault(m Match, f Fault) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.faults = append(s.faults, &faultRule{match: m, fault: f})
}

// ClearFaults removes every injected fault.
func (s *Site) ClearFaults() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.faults = nil
}

// takeFault returns the fault that applies to a request, if any, and
// counts it as used.
func (s *Site) takeFault(route, spaceID, contentID string) *Fault {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	for _, r := range s.faults {
		if !r.match.matches(route, spaceID, contentID) {
			continue
		}
		r.seen++
		if r.seen <= r.fault.After || r.fault.Count > 0 && r.applied >= r.fault.Count {
			continue
		}
		r.applied++
		f := r.fault
		return &f
	}
	return nil
}

func (m Match) matches(route, spaceID, contentID string) bool {
	return (m.Route == "" || m.Route == route) &&
		(m.SpaceID == "" || m.SpaceID == spaceID) &&
		(m.ContentID == "" || m.ContentID == contentID)
}
