package index

import (
	"net/http"
	"strconv"

	"github.com/segmentio/encoding/json"
)

// searchResponse is the body of GET /search.
type searchResponse struct {
	Query string `json:"query"`
	Hits  []Hit  `json:"hits"`
}

// errorResponse is the body of every error answer.
type errorResponse struct {
	Error string `json:"error"`
}

// Handler returns the HTTP interface of the index:
//
//	GET /search?q=words&limit=n  {"query": ..., "hits": [Hit, ...]}
//	GET /counts                  Counts
//
// A missing q or a limit that is not a number is a 400. Errors are logged
// and answered with a 500 that does not repeat them.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", s.serveSearch)
	mux.HandleFunc("GET /counts", s.serveCounts)
	return mux
}

func (s *Store) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("q")
	if query == "" {
		writeJSON(w, http.StatusBadRequest, errorResponse{"missing query parameter q"})
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorResponse{"limit must be a whole number"})
			return
		}
		limit = n
	}

	hits, err := s.Search(r.Context(), query, limit)
	if err != nil {
		s.log.Error("search failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorResponse{"search failed"})
		return
	}
	if hits == nil {
		hits = []Hit{}
	}
	writeJSON(w, http.StatusOK, searchResponse{Query: query, Hits: hits})
}

func (s *Store) serveCounts(w http.ResponseWriter, r *http.Request) {
	c, err := s.Counts(r.Context())
	if err != nil {
		s.log.Error("count failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorResponse{"count failed"})
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own plain structs are encoded here; they always marshal.
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A write error means the client went away; there is no one to tell.
	_, _ = w.Write(append(body, '\n'))
}
