package confluencesim

import "maps"

// RequestStats counts the requests the site has served.
type RequestStats struct {
	// Total is the number of requests, whatever their outcome.
	Total int

	// ByRoute counts requests per route pattern, such as
	// "GET /wiki/api/v2/spaces/{id}/pages". Requests that match no route
	// are counted under "unmatched".
	ByRoute map[string]int

	// ByStatus counts requests per route pattern and status code. A
	// connection closed by a Reset fault counts with status 0.
	ByStatus map[RouteStatus]int
}

// RouteStatus is a route pattern and a response status code.
type RouteStatus struct {
	Route  string
	Status int
}

func newRequestStats() RequestStats {
	return RequestStats{ByRoute: map[string]int{}, ByStatus: map[RouteStatus]int{}}
}

// Requests returns a copy of the request counts since New or the last
// ResetRequests.
func (s *Site) Requests() RequestStats {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return RequestStats{
		Total:    s.stats.Total,
		ByRoute:  maps.Clone(s.stats.ByRoute),
		ByStatus: maps.Clone(s.stats.ByStatus),
	}
}

// ResetRequests sets the request counts to zero, for instance to measure
// one poll on its own.
func (s *Site) ResetRequests() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.stats = newRequestStats()
}

func (s *Site) record(route string, status int) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.stats.Total++
	s.stats.ByRoute[route]++
	s.stats.ByStatus[RouteStatus{Route: route, Status: status}]++
}
