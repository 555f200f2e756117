package index

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/segmentio/encoding/json"
)

func TestHandler(t *testing.T) {
	s := corpus(t)
	h := s.Handler()
	tests := []struct {
		name, method, target string
		wantStatus           int
		wantHits             int // for 200 answers to /search
	}{
		{"search", http.MethodGet, "/search?q=deploy", http.StatusOK, DefaultLimit},
		{"search with limit", http.MethodGet, "/search?q=deploy&limit=3", http.StatusOK, 3},
		{"hostile query", http.MethodGet, "/search?q=%22AND%28%2A", http.StatusOK, 20},
		{"no match", http.MethodGet, "/search?q=nothinglikethis", http.StatusOK, 0},
		{"missing q", http.MethodGet, "/search", http.StatusBadRequest, 0},
		{"bad limit", http.MethodGet, "/search?q=deploy&limit=ten", http.StatusBadRequest, 0},
		{"wrong method", http.MethodPost, "/search?q=deploy", http.StatusMethodNotAllowed, 0},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			var got searchResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%s %s body %s: %v", tt.method, tt.target, rec.Body, err)
			}
			if got.Hits == nil || len(got.Hits) != tt.wantHits {
				t.Errorf("%s %s = %d hits (nil %t), want %d", tt.method, tt.target, len(got.Hits), got.Hits == nil, tt.wantHits)
			}
		})
	}
}

func TestHandlerCounts(t *testing.T) {
	s := corpus(t)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/counts", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /counts = %d %s, want 200", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /counts Content-Type = %q, want application/json", ct)
	}
	var got Counts
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("GET /counts body %s: %v", rec.Body, err)
	}
	if want := (Counts{Users: 2, Spaces: 1, Pages: 23, BlogPosts: 1}); got != want {
		t.Errorf("GET /counts = %+v, want %+v", got, want)
	}
}

func TestHandlerStoreClosed(t *testing.T) {
	s := corpus(t)
	h := s.Handler()
	if err := s.r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/search?q=deploy", "/counts"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("GET %s on a closed store = %d, want 500", target, rec.Code)
		}
	}
}
