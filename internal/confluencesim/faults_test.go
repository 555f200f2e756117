package confluencesim

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const routeSpacePages = "GET /wiki/api/v2/spaces/{id}/pages"

func TestFaultResponses(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantHeader [2]string
		wantBody   string // substring
		wantType   string // Content-Type prefix
	}{
		{
			name:       "429 with Retry-After and no body",
			fault:      Fault{Status: 429, Headers: http.Header{"Retry-After": {"1847"}, "Ratelimit-Reason": {"confluence-quota-global-based"}}},
			wantStatus: 429, wantHeader: [2]string{"Retry-After", "1847"},
		},
		{
			name:       "429 without Retry-After",
			fault:      Fault{Status: 429},
			wantStatus: 429, wantHeader: [2]string{"Retry-After", ""},
		},
		{
			name:       "503 with a v2 error body",
			fault:      Fault{Status: 503, Headers: http.Header{"Retry-After": {"5"}}},
			wantStatus: 503, wantHeader: [2]string{"Retry-After", "5"}, wantBody: `"code":"SERVICE_UNAVAILABLE"`,
		},
		{
			name:       "500 with a plain text body",
			fault:      Fault{Status: 500, Body: "upstream exploded"},
			wantStatus: 500, wantBody: "upstream exploded",
		},
		{
			name:       "403 forbidden",
			fault:      Fault{Status: 403},
			wantStatus: 403, wantBody: `"status":403`,
		},
		{
			name:       "200 with a replaced body",
			fault:      Fault{Body: `{"results":[]}`},
			wantStatus: 200, wantBody: `{"results":[]}`,
		},
		{
			name:       "HTML login page with 200",
			fault:      Fault{HTML200: true},
			wantStatus: 200, wantBody: "<!DOCTYPE html>", wantType: "text/html",
		},
		{
			name:       "near-limit header on a normal response",
			fault:      Fault{Headers: http.Header{"X-RateLimit-NearLimit": {"true"}}},
			wantStatus: 200, wantHeader: [2]string{"X-RateLimit-NearLimit", "true"}, wantBody: `"results":[{`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Seed: 1, Spaces: 2, Pages: 20, Users: 5})
			space := e.site.SpaceIDs()[0]
			e.site.InjectFault(Match{Route: routeSpacePages}, tt.fault)
			resp, body := e.get(t, "/wiki/api/v2/spaces/"+space+"/pages")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if h := tt.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], resp.Header.Get(h[0]), h[1])
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %.200s, want it to contain %q", body, tt.wantBody)
			}
			if tt.wantBody == "" && len(body) != 0 {
				t.Errorf("body = %.200s, want none", body)
			}
			if ct := resp.Header.Get("Content-Type"); tt.wantType != "" && !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.wantType)
			}
			if _, body := e.get(t, "/wiki/api/v2/spaces/"+space); !strings.Contains(string(body), `"id":"`+space+`"`) {
				t.Errorf("GET /spaces/%s was faulted too: %.200s", space, body)
			}
		})
	}
}

// rawGet sends an authenticated GET and returns the transport error and
// the bytes read before it.
func rawGet(t *testing.T, e *env, client *http.Client, path string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.SetBasicAuth(testEmail, testToken)
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaultBrokenConnections(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{
			name:  "reset closes without a response",
			fault: Fault{Reset: true},
			check: func(t *testing.T, resp *http.Response, _ []byte, err error) {
				if err == nil {
					t.Errorf("GET = %d, want a transport error", resp.StatusCode)
				}
			},
		},
		{
			name:  "truncate cuts the body",
			fault: Fault{Truncate: 100},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				if resp == nil || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) != 100 {
					t.Errorf("GET read %d bytes, err %v; want 100 bytes and unexpected EOF", len(body), err)
				}
			},
		},
		{
			name:  "delay outlasts the client timeout",
			fault: Fault{Delay: time.Hour},
			check: func(t *testing.T, _ *http.Response, _ []byte, err error) {
				var ne interface{ Timeout() bool }
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("GET err = %v, want a timeout", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Seed: 1, Spaces: 2, Pages: 20, Users: 5})
			e.site.InjectFault(Match{}, tt.fault)
			client := e.srv.Client()
			client.Timeout = 200 * time.Millisecond
			resp, body, err := rawGet(t, e, client, "/wiki/api/v2/pages?body-format=storage")
			tt.check(t, resp, body, err)
		})
	}
}

func TestFaultCountAfterAndMatch(t *testing.T) {
	e := newEnv(t, Config{Seed: 1, Spaces: 3, Pages: 30, Users: 5})
	spaces := e.site.SpaceIDs()
	page := e.site.PageIDs(spaces[1])[0]
	e.site.InjectFault(Match{Route: routeSpacePages, SpaceID: spaces[0]}, Fault{Status: 500, After: 1, Count: 2})
	e.site.InjectFault(Match{ContentID: page}, Fault{Status: 404})

	var got []int
	for range 5 {
		resp, _ := e.get(t, "/wiki/api/v2/spaces/"+spaces[0]+"/pages")
		got = append(got, resp.StatusCode)
	}
	if want := []int{200, 500, 500, 200, 200}; !equalInts(got, want) {
		t.Errorf("statuses with After 1 Count 2 = %v, want %v", got, want)
	}
	if resp, _ := e.get(t, "/wiki/api/v2/spaces/"+spaces[1]+"/pages"); resp.StatusCode != 200 {
		t.Errorf("other space = %d, want 200", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/wiki/api/v2/pages/"+page); resp.StatusCode != 404 {
		t.Errorf("faulted page = %d, want 404", resp.StatusCode)
	}
	other := e.site.PageIDs(spaces[0])[0]
	if resp, _ := e.get(t, "/wiki/api/v2/pages/"+other); resp.StatusCode != 200 {
		t.Errorf("other page = %d, want 200", resp.StatusCode)
	}
	e.site.ClearFaults()
	if resp, _ := e.get(t, "/wiki/api/v2/pages/"+page); resp.StatusCode != 200 {
		t.Errorf("page after ClearFaults = %d, want 200", resp.StatusCode)
	}
	stats := e.site.Requests()
	if n := stats.ByStatus[RouteStatus{Route: routeSpacePages, Status: 500}]; n != 2 {
		t.Errorf("Requests() counts %d 500s on %s, want 2", n, routeSpacePages)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultEmptyPageWithNext(t *testing.T) {
	e := newEnv(t, Config{Seed: 1, Spaces: 2, Pages: 20, Users: 5})
	space := e.site.SpaceIDs()[0]
	n := len(e.site.PageIDs(space))
	e.site.InjectFault(Match{Route: routeSpacePages}, Fault{EmptyPageWithNext: true, Count: 1})

	var lb listBody
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/spaces/"+space+"/pages?limit=250"), &lb)
	if len(lb.Results) == 0 || len(lb.Results) > n || lb.Links.Next == "" {
		t.Fatalf("last page: %d results, next %q; want results and a next link", len(lb.Results), lb.Links.Next)
	}
	var empty listBody
	mustUnmarshal(t, e.getOK(t, lb.Links.Next), &empty)
	if len(empty.Results) != 0 || empty.Links.Next != "" {
		t.Errorf("page after the end: %d results, next %q; want none and no next", len(empty.Results), empty.Links.Next)
	}
}

func TestRequestStats(t *testing.T) {
	e := newEnv(t, Config{Seed: 1, Spaces: 2, Pages: 20, Users: 5})
	e.get(t, "/wiki/api/v2/spaces")
	e.get(t, "/wiki/api/v2/spaces?limit=0")
	e.get(t, "/wiki/nothing")
	e.site.InjectFault(Match{Route: "GET /wiki/api/v2/pages"}, Fault{Reset: true})
	// A fresh connection: net/http retries a GET once when a reused
	// connection closes, which would count two resets.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, _, err := rawGet(t, e, fresh, "/wiki/api/v2/pages"); err == nil {
		t.Errorf("GET /pages with Reset fault succeeded, want an error")
	}
	got := e.site.Requests()
	want := map[RouteStatus]int{
		{"GET /wiki/api/v2/spaces", 200}: 1,
		{"GET /wiki/api/v2/spaces", 400}: 1,
		{"unmatched", 404}:               1,
		{"GET /wiki/api/v2/pages", 0}:    1,
	}
	if got.Total != 4 || len(got.ByStatus) != len(want) {
		t.Errorf("Requests() = %+v, want total 4 and %v", got, want)
	}
	for k, n := range want {
		if got.ByStatus[k] != n {
			t.Errorf("Requests().ByStatus[%v] = %d, want %d", k, got.ByStatus[k], n)
		}
	}
	e.site.ResetRequests()
	if got := e.site.Requests(); got.Total != 0 || len(got.ByRoute) != 0 {
		t.Errorf("Requests() after ResetRequests = %+v, want zero", got)
	}
}
