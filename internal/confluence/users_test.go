package confluence

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/encoding/json"
)

func TestFetchUsersChunks(t *testing.T) {
	tests := []struct {
		name       string
		ids        int // distinct ids
		dupes      bool
		wantChunks []int
	}{
		{"none", 0, false, nil},
		{"one chunk", 3, false, []int{3}},
		{"exactly 250", 250, false, []int{250}},
		{"three chunks", 600, false, []int{250, 250, 100}},
		{"duplicates and empties dropped", 251, true, []int{250, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				if r.Method != http.MethodPost || r.URL.Path != "/wiki/api/v2/users-bulk" ||
					r.Header.Get("Content-Type") != "application/json" {
					writeJSON(w, 400, "")
					return
				}
				var items []string
				body, _ := io.ReadAll(r.Body) // already in memory
				for _, id := range usersBulkBody(t, string(body)).AccountIDs {
					if id == "unknown" {
						continue // the site leaves out ids it does not know
					}
					items = append(items, fmt.Sprintf(`{"accountId":%q,"displayName":"U %s","email":""}`, id, id))
				}
				writeJSON(w, 200, `{"results":[`+strings.Join(items, ",")+`]}`)
			})
			c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

			var ids []string
			for i := range tt.ids {
				ids = append(ids, "acc-"+strconv.Itoa(i))
			}
			if tt.dupes {
				ids = append(ids, "", ids[0], ids[1], "")
			}
			users, err := c.FetchUsers(t.Context(), ids)
			if err != nil {
				t.Fatalf("FetchUsers(%d ids) = %v", len(ids), err)
			}
			var chunks []int
			for _, r := range site.requests() {
				chunks = append(chunks, len(usersBulkBody(t, r.Body).AccountIDs))
			}
			if diff := cmp.Diff(tt.wantChunks, chunks); diff != "" {
				t.Errorf("FetchUsers() chunk sizes (-want +got):\n%s", diff)
			}
			if len(users) != tt.ids {
				t.Errorf("FetchUsers() returned %d users, want %d", len(users), tt.ids)
			}
		})
	}
}

func usersBulkBody(t *testing.T, body string) (req struct {
	AccountIDs []string `json:"accountIds"`
}) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Errorf("users-bulk body %q: %v", body, err)
	}
	return req
}

func TestFetchUsersRetriesReplayTheBody(t *testing.T) {
	clk := newFakeClock()
	clk.autoAdvance(t)
	site := newFakeSite(t, clk, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			writeJSON(w, 503, "")
			return
		}
		writeJSON(w, 200, `{"results":[{"accountId":"a"},{"accountId":"b"}]}`)
	})
	c, _ := testClient(t, site.srv.URL, clk, nil)

	users, err := c.FetchUsers(t.Context(), []string{"a", "b"})
	if err != nil || len(users) != 2 {
		t.Fatalf("FetchUsers() = %v, %v, want 2 users", users, err)
	}
	reqs := site.requests()
	if len(reqs) != 2 || reqs[0].Body != reqs[1].Body || reqs[1].Body == "" {
		t.Errorf("request bodies = %q, want the same body on the retry", reqs)
	}
}

func TestSearchUsers(t *testing.T) {
	user := func(i int) string {
		return fmt.Sprintf(`{"user":{"type":"known","accountId":"u%d","accountType":"atlassian","email":"",`+
			`"publicName":"P%d","displayName":"D%d","_links":{}},"title":"D%d","entityType":"user","score":0.0}`, i, i, i, i)
	}
	tests := []struct {
		name      string
		total     int
		pageSize  int // what the site returns per page, at most
		reportTot bool
		wantReqs  int
	}{
		{"totalSize reported", 5, 2, true, 3},
		{"short last page, no totalSize", 5, 2, false, 3},
		{"empty site", 0, 2, true, 1},
		{"site caps the page below limit", 7, 2, false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
				q := r.URL.Query()
				start, _ := strconv.Atoi(q.Get("start"))
				if r.URL.Path != "/wiki/rest/api/search/user" || q.Get("cql") != "type=user" {
					writeJSON(w, 400, "")
					return
				}
				var items []string
				for i := start; i < min(tt.total, start+tt.pageSize); i++ {
					items = append(items, user(i))
				}
				total, next := 0, ""
				if tt.reportTot {
					total = tt.total
				}
				if start+len(items) < tt.total {
					next = "/rest/api/search/user?cql=type=user&start=" + strconv.Itoa(start+len(items))
				}
				writeJSON(w, 200, fmt.Sprintf(`{"results":[%s],"start":%d,"limit":2,"size":%d,"totalSize":%d,"_links":{"next":%q}}`,
					strings.Join(items, ","), start, len(items), total, next))
			})
			c, _ := testClient(t, site.srv.URL, newFakeClock(), func(c *Config) { c.PageLimit = 3 })

			var got []string
			err := c.SearchUsers(t.Context(), func(batch []User) error {
				for _, u := range batch {
					got = append(got, u.AccountID)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("SearchUsers() = %v", err)
			}
			if len(got) != tt.total {
				t.Errorf("SearchUsers() returned %d users %v, want %d", len(got), got, tt.total)
			}
			if n := len(site.requests()); n != tt.wantReqs {
				t.Errorf("SearchUsers() made %d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestFetchCurrentUser(t *testing.T) {
	site := newFakeSite(t, realClock{}, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path != "/wiki/rest/api/user/current" {
			writeJSON(w, 404, "")
			return
		}
		writeJSON(w, 200, `{"type":"known","accountId":"557058:f00","accountType":"atlassian","email":"crawler@example.com",`+
			`"publicName":"crawler","displayName":"Crawler","timeZone":"Europe/Paris","isExternalCollaborator":false}`)
	})
	c, _ := testClient(t, site.srv.URL, newFakeClock(), nil)

	got, err := c.FetchCurrentUser(t.Context())
	want := User{AccountID: "557058:f00", AccountType: "atlassian", Email: "crawler@example.com",
		PublicName: "crawler", DisplayName: "Crawler", TimeZone: "Europe/Paris"}
	if err != nil || got != want {
		t.Errorf("FetchCurrentUser() = %+v, %v, want %+v", got, err, want)
	}
}
