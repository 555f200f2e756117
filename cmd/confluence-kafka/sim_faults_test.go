package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parable/confluence-kafka/internal/confluencesim"
)

func TestParseFault(t *testing.T) {
	tests := []struct {
		spec      string
		wantMatch confluencesim.Match
		wantFault confluencesim.Fault
	}{
		{
			"GET /wiki/api/v2/spaces/{id}/pages:status=429,retry-after=30,count=3",
			confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages"},
			confluencesim.Fault{Status: 429, Headers: http.Header{"Retry-After": {"30"}}, Count: 3},
		},
		{
			"*:status=503,retry-after=7",
			confluencesim.Match{},
			confluencesim.Fault{Status: 503, Headers: http.Header{"Retry-After": {"7"}}},
		},
		{"*:status=429", confluencesim.Match{}, confluencesim.Fault{Status: 429}},
		{
			" * : near-limit ",
			confluencesim.Match{},
			confluencesim.Fault{Headers: http.Header{"X-Ratelimit-Nearlimit": {"true"}}},
		},
		{
			"GET /wiki/api/v2/spaces/{id}/blogposts:status=404,space=98765",
			confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/blogposts", SpaceID: "98765"},
			confluencesim.Fault{Status: 404},
		},
		{"GET /wiki/api/v2/pages/{id}:reset,content=12,after=2", confluencesim.Match{Route: "GET /wiki/api/v2/pages/{id}", ContentID: "12"},
			confluencesim.Fault{Reset: true, After: 2}},
		{"*:delay=45s,count=1", confluencesim.Match{}, confluencesim.Fault{Delay: 45 * time.Second, Count: 1}},
		{"*:html", confluencesim.Match{}, confluencesim.Fault{HTML200: true}},
		{"*:truncate=100", confluencesim.Match{}, confluencesim.Fault{Truncate: 100}},
		{"GET /wiki/api/v2/spaces:empty-next", confluencesim.Match{Route: "GET /wiki/api/v2/spaces"},
			confluencesim.Fault{EmptyPageWithNext: true}},
		{"*:header=RateLimit-Reason:jira-quota-tenant-based,status=429", confluencesim.Match{},
			confluencesim.Fault{Status: 429, Headers: http.Header{"Ratelimit-Reason": {"jira-quota-tenant-based"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := parseFault(tc.spec)
			if err != nil {
				t.Fatalf("parseFault(%q) error = %v", tc.spec, err)
			}
			if diff := cmp.Diff(tc.wantMatch, got.match); diff != "" {
				t.Errorf("parseFault(%q) match (-want +got):\n%s", tc.spec, diff)
			}
			if diff := cmp.Diff(canonical(tc.wantFault), got.fault); diff != "" {
				t.Errorf("parseFault(%q) fault (-want +got):\n%s", tc.spec, diff)
			}
		})
	}
}

// canonical gives f's header names their canonical spelling.
func canonical(f confluencesim.Fault) confluencesim.Fault {
	if f.Headers != nil {
		h := http.Header{}
		for k, v := range f.Headers {
			h[http.CanonicalHeaderKey(k)] = v
		}
		f.Headers = h
	}
	return f
}

func TestParseFaultErrors(t *testing.T) {
	tests := []struct {
		spec string
		want string // in the error
	}{
		{"status=429", "want ROUTE:OPTIONS"},
		{"GET /wiki/api/v2/nothing:status=500", "unknown route"},
		{"*:status=700", "status=700: want an integer in 100..599"},
		{"*:status=abc", "want an integer"},
		{"*:retry-after=-1", "retry-after=-1"},
		{"*:delay=soon", "delay=soon"},
		{"*:delay=2h", "want a duration in (0s, 1h]"},
		{"*:count=2", "names no behaviour"},
		{"*:teleport", `unknown option "teleport"`},
		{"*:reset=yes", "takes no value"},
		{"*:status=500,space=abc", "want a numeric id"},
		{"*:header=NoColon", "want header=NAME:VALUE"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parseFault(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseFault(%q) error = %v, want one containing %q", tc.spec, err, tc.want)
			}
		})
	}
}

// TestSimRoutesAreServed checks that every route a fault may name is one
// the simulator serves and counts under that name.
func TestSimRoutesAreServed(t *testing.T) {
	site, err := confluencesim.New(confluencesim.Config{Spaces: 1, Pages: 5, Users: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	space := site.SpaceIDs()[0]
	page := site.PageIDs(space)[0]
	for _, route := range simRoutes {
		method, path, _ := strings.Cut(route, " ")
		id := space
		if strings.HasSuffix(path, "s/{id}") && !strings.Contains(path, "/spaces/") {
			id = page // /pages/{id} and /blogposts/{id}
		}
		path = strings.ReplaceAll(path, "{id}", id)
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(`{"accountIds":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("any@example.com", "any")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // only the route counts matter
		if n := site.Requests().ByRoute[route]; n != 1 {
			t.Errorf("%s %s counted %d times under %q, want 1: the simulator does not serve that route", method, path, n, route)
		}
	}
}

// TestSimulateServesInjectedFaults runs the simulate subcommand with the
// example fault of the issue and checks a client sees it, then the site.
func TestSimulateServesInjectedFaults(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"simulate", "--listen", "127.0.0.1:0", "--log-level", "error",
			"--fault", "GET /wiki/api/v2/spaces:status=429,retry-after=30,count=1",
			"--fault", "GET /wiki/api/v2/spaces/{id}/pages:status=503,count=1"}, w, io.Discard)
		_ = w.Close() // ends the reader below if run fails before printing
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("simulate printed nothing: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // keep the pipe flowing
	url := strings.TrimSpace(strings.TrimPrefix(line, "simulated site at "))

	statuses := []int{}
	var retryAfter string
	for range 2 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/wiki/api/v2/spaces", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("any@example.com", "any")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // the status and headers are what count
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("simulate = %v, want a clean stop", err)
	}
	if !cmp.Equal(statuses, []int{429, 200}) || retryAfter != "30" {
		t.Errorf("GET /wiki/api/v2/spaces twice = %v with Retry-After %q, want [429 200] and 30", statuses, retryAfter)
	}
}
