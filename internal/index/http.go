package index

import (
	"context"
	"errors"
	"log/slog"
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
	return newHandler(s, s.log)
}

// reader is what the HTTP interface reads: a Store, or a Live that
// forwards to its current Store.
type reader interface {
	Search(ctx context.Context, query string, limit int) ([]Hit, error)
	Counts(ctx context.Context) (Counts, error)
}

// handler serves a reader over HTTP.
type handler struct {
	r   reader
	log *slog.Logger
}

func newHandler(r reader, logger *slog.Logger) http.Handler {
	h := &handler{r: r, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", h.serveSearch)
	mux.HandleFunc("GET /counts", h.serveCounts)
	return mux
}

func (h *handler) serveSearch(w http.ResponseWriter, r *http.Request) {
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

	hits, err := h.r.Search(r.Context(), query, limit)
	if errors.Is(err, ErrNoIndex) {
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{err.Error()})
		return
	}
	if err != nil {
		h.log.Error("search failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorResponse{"search failed"})
		return
	}
	if hits == nil {
		hits = []Hit{}
	}
	writeJSON(w, http.StatusOK, searchResponse{Query: query, Hits: hits})
}

func (h *handler) serveCounts(w http.ResponseWriter, r *http.Request) {
	c, err := h.r.Counts(r.Context())
	if errors.Is(err, ErrNoIndex) {
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{err.Error()})
		return
	}
	if err != nil {
		h.log.Error("count failed", "err", err)
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
