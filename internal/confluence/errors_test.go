package confluence

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewAPIError(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		url         string
		body        string
		wantCode    string
		wantMessage string
		wantIs      error
	}{
		{"v2 404", 404, "/wiki/api/v2/pages/1",
			`{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}`,
			"NOT_FOUND", "Not Found", ErrNotFound},
		{"v2 bad cursor", 400, "/wiki/api/v2/pages?cursor=zzz", invalidCursorBody,
			"INVALID_REQUEST_PARAMETER", "Provided value for 'cursor' is not the correct type.", ErrInvalidCursor},
		{"v2 title and detail", 409, "/wiki/api/v2/pages/1",
			`{"errors":[{"status":409,"code":"CONFLICT","title":"Version conflict","detail":"Current version: [5]"}]}`,
			"CONFLICT", "Version conflict: Current version: [5]", nil},
		{"v1", 401, "/wiki/rest/api/user/current",
			`{"statusCode":401,"data":{"authorized":false},"message":"Client must be authenticated"}`,
			"", "Client must be authenticated", ErrUnauthorized},
		{"plain text", 403, "/wiki/api/v2/spaces", "Forbidden: no access\n", "", "Forbidden: no access", ErrForbidden},
		{"HTML page", 502, "/wiki/api/v2/spaces", "<html><body>Bad Gateway</body></html>", "", "", nil},
		{"empty", 404, "/wiki/api/v2/pages/9", "", "", "", ErrNotFound},
		{"JSON of another shape", 404, "/wiki/api/v2/pages/9", `["x"]`, "", `["x"]`, ErrNotFound},
		{"bad parameter without a cursor is not a cursor error", 400, "/wiki/api/v2/pages?limit=999",
			`{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"limit too big"}]}`,
			"INVALID_REQUEST_PARAMETER", "limit too big", nil},
	}
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrInvalidCursor}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "https://acme.atlassian.net"+tt.url, nil)
			e := newAPIError(req, tt.status, []byte(tt.body))
			if e.Status != tt.status || e.Code != tt.wantCode || e.Message != tt.wantMessage {
				t.Errorf("newAPIError(%d, %q) = %d %q %q, want %d %q %q",
					tt.status, tt.body, e.Status, e.Code, e.Message, tt.status, tt.wantCode, tt.wantMessage)
			}
			if strings.Contains(e.Path, "?") || e.Path != req.URL.Path {
				t.Errorf("newAPIError().Path = %q, want %q without the query", e.Path, req.URL.Path)
			}
			wrapped := fmt.Errorf("fetch page 1: %w", e)
			for _, s := range sentinels {
				if got := errors.Is(wrapped, s); got != (s == tt.wantIs) {
					t.Errorf("errors.Is(%v, %v) = %t, want %t", wrapped, s, got, s == tt.wantIs)
				}
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		e    APIError
		want string
	}{
		{APIError{Status: 404, Code: "NOT_FOUND", Message: "Not Found", Method: "GET", Path: "/wiki/api/v2/pages/1"},
			"GET /wiki/api/v2/pages/1: 404 Not Found (NOT_FOUND): Not Found"},
		{APIError{Status: 401, Method: "GET", Path: "/wiki/rest/api/user/current"},
			"GET /wiki/rest/api/user/current: 401 Unauthorized; check Email and APIToken (or BearerToken) and BaseURL"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("APIError.Error() = %q, want %q", got, tt.want)
		}
	}
	long := newAPIError(httptest.NewRequest("GET", "/x", nil), 500, []byte(strings.Repeat("é", 400)+"\nline"))
	if len(long.Message) > maxMessageLen+len("…") || strings.ContainsAny(long.Message, "\n\ufffd") {
		t.Errorf("newAPIError(long body).Message = %q, want one line of at most %d bytes", long.Message, maxMessageLen)
	}
}

func TestUnauthorizedIsImmediate(t *testing.T) {
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 401, `{"statusCode":401,"message":"Unauthorized; scope does not match"}`)
	})
	c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

	err := c.ListSpaces(t.Context(), func([]Space) error { return nil })
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("ListSpaces() = %v, want ErrUnauthorized", err)
	}
	if got := len(site.requests()); got != 1 {
		t.Errorf("site saw %d requests, want 1 (a 401 is never retried)", got)
	}
	if !strings.Contains(err.Error(), "check Email and APIToken") {
		t.Errorf("ListSpaces() = %q, want it to name the settings to check", err)
	}
}
