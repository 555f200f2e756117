package confluencesim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEditPage(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, Config{Seed: 21, Spaces: 3, Pages: 80, BlogPosts: 6, Users: 10, Now: func() time.Time { return now }})
	space := e.site.SpaceIDs()[0]
	pageIDs := e.site.PageIDs(space)
	first, second := pageIDs[1], pageIDs[0]
	var before item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+first+"?body-format=storage"), &before)

	v1, err1 := e.site.EditPage(first)
	_, err2 := e.site.EditPage(second)
	if err1 != nil || err2 != nil {
		t.Fatalf("EditPage = %v, %v", err1, err2)
	}
	if v1 != before.Version.Number+1 {
		t.Errorf("EditPage(%s) = version %d, want %d", first, v1, before.Version.Number+1)
	}

	var after item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+first+"?body-format=storage"), &after)
	if after.Version.Number != v1 || after.Version.CreatedAt != "2026-05-01T12:00:00.000Z" {
		t.Errorf("after edit: version %d at %s, want %d at 2026-05-01T12:00:00.000Z",
			after.Version.Number, after.Version.CreatedAt, v1)
	}
	if !strings.Contains(after.Body.Storage.Value, "Edit 1: ") || after.Body.Storage.Value == before.Body.Storage.Value {
		t.Errorf("after edit the body did not gain an edit paragraph")
	}
	if !strings.Contains(after.Body.Storage.Value, e.site.UniquePhrase(first)) {
		t.Errorf("after edit the body lost its unique phrase")
	}

	// Both edits happened at the same clock reading; the later one must
	// still sort first.
	var lb listBody
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages?sort=-modified-date&limit=2"), &lb)
	got := items(t, lb.Results)
	if len(got) != 2 || got[0].ID != second || got[1].ID != first {
		t.Errorf("newest two by -modified-date = %v, want [%s %s]", got, second, first)
	}
	if _, err := e.site.EditPage("999"); !errors.Is(err, ErrUnknownContent) {
		t.Errorf("EditPage(999) = %v, want ErrUnknownContent", err)
	}
}

func TestTrashAndDeletePage(t *testing.T) {
	e := newEnv(t, Config{Seed: 22, Spaces: 2, Pages: 40, BlogPosts: 4, Users: 10})
	space := e.site.SpaceIDs()[0]
	ids := e.site.PageIDs(space)
	trash, gone := ids[len(ids)-1], ids[len(ids)-2]
	want := e.site.Expected()
	if err := e.site.TrashPage(trash); err != nil {
		t.Fatalf("TrashPage(%s) = %v", trash, err)
	}
	if err := e.site.DeletePage(gone); err != nil {
		t.Fatalf("DeletePage(%s) = %v", gone, err)
	}

	var single item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+trash), &single)
	if single.Status != "trashed" {
		t.Errorf("GET trashed page status = %q, want trashed", single.Status)
	}
	if resp, _ := e.get(t, "/wiki/api/v2/pages/"+gone); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET deleted page = %d, want 404", resp.StatusCode)
	}
	listed := map[string]string{}
	for _, it := range items(t, e.walk(t, "/wiki/api/v2/spaces/"+space+"/pages?status=current,archived,trashed")) {
		listed[it.ID] = it.Status
	}
	if listed[trash] != "trashed" {
		t.Errorf("status=trashed list shows %s as %q, want trashed", trash, listed[trash])
	}
	if _, ok := listed[gone]; ok {
		t.Errorf("deleted page %s is still listed", gone)
	}
	defaults := items(t, e.walk(t, "/wiki/api/v2/spaces/"+space+"/pages"))
	for _, it := range defaults {
		if it.ID == trash {
			t.Errorf("default list shows trashed page %s", trash)
		}
	}
	got := e.site.Expected()
	// Each change removes one page from the default crawl unless the page
	// was already trashed.
	if got.Pages > want.Pages-1 || got.Pages < want.Pages-2 {
		t.Errorf("Expected().Pages = %d after trash and delete, want %d or %d", got.Pages, want.Pages-2, want.Pages-1)
	}
	if err := e.site.TrashPage(gone); !errors.Is(err, ErrUnknownContent) {
		t.Errorf("TrashPage(deleted) = %v, want ErrUnknownContent", err)
	}
}

func TestAuthentication(t *testing.T) {
	open, err := New(Config{Seed: 1, Spaces: 1, Pages: 5, Users: 3})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	closed, err := New(Config{Seed: 1, Spaces: 1, Pages: 5, Users: 3, Email: "a@example.com", APIToken: "t"})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	tests := []struct {
		name       string
		site       *Site
		auth       func(*http.Request)
		wantStatus int
	}{
		{"open site, no header", open, func(*http.Request) {}, 401},
		{"open site, any basic", open, func(r *http.Request) { r.SetBasicAuth("x", "y") }, 200},
		{"open site, bearer", open, func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, 200},
		{"open site, empty bearer", open, func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, 401},
		{"closed site, right basic", closed, func(r *http.Request) { r.SetBasicAuth("a@example.com", "t") }, 200},
		{"closed site, wrong token", closed, func(r *http.Request) { r.SetBasicAuth("a@example.com", "x") }, 401},
		{"closed site, wrong email", closed, func(r *http.Request) { r.SetBasicAuth("b@example.com", "t") }, 401},
		{"closed site, bearer", closed, func(r *http.Request) { r.Header.Set("Authorization", "Bearer t") }, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/wiki/api/v2/spaces", "/wiki/rest/api/user/current"} {
				req, err := http.NewRequest(http.MethodGet, "http://sim.example"+path, nil)
				if err != nil {
					t.Fatalf("new request: %v", err)
				}
				tt.auth(req)
				rec := httptest.NewRecorder()
				tt.site.Handler().ServeHTTP(rec, req)
				if rec.Code != tt.wantStatus {
					t.Errorf("GET %s = %d, want %d", path, rec.Code, tt.wantStatus)
				}
				if tt.wantStatus == 401 && strings.HasPrefix(path, v1Prefix) != strings.Contains(rec.Body.String(), `"statusCode":401`) {
					t.Errorf("GET %s 401 body = %s, want the API version's error shape", path, rec.Body)
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	// The clock is read by server goroutines, so it is atomic.
	var now atomic.Int64
	now.Store(time.Date(2026, 5, 1, 12, 59, 30, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	e := newEnv(t, Config{Seed: 1, Spaces: 1, Pages: 5, Users: 3, RateLimit: 3, Now: clock})
	var got []string
	for range 4 {
		resp, _ := e.get(t, "/wiki/api/v2/spaces")
		got = append(got, strconv.Itoa(resp.StatusCode)+" remaining="+resp.Header.Get("X-RateLimit-Remaining")+
			" retry="+resp.Header.Get("Retry-After")+" near="+resp.Header.Get("X-RateLimit-NearLimit"))
	}
	want := []string{
		"200 remaining=2 retry= near=",
		"200 remaining=1 retry= near=",
		"200 remaining=0 retry= near=true",
		"429 remaining=0 retry=30 near=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("responses =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	now.Add(int64(time.Minute)) // next window
	if resp, _ := e.get(t, "/wiki/api/v2/spaces"); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Reset") != "2026-05-01T14:00:00Z" {
		t.Errorf("next window: %d reset %s, want 200 reset 2026-05-01T14:00:00Z", resp.StatusCode, resp.Header.Get("X-RateLimit-Reset"))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"zero", Config{}, false},
		{"negative pages", Config{Pages: -1}, true},
		{"too many spaces", Config{Spaces: maxSpaces + 1}, true},
		{"negative users", Config{Users: -5}, true},
		{"token without email", Config{APIToken: "t"}, true},
		{"negative blog posts mean none", Config{BlogPosts: -1}, false},
		{"negative rate limit", Config{RateLimit: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Errorf("Validate(%+v) = %v, want error %v", tt.cfg, err, tt.wantErr)
			}
			if _, nerr := New(tt.cfg); (nerr != nil) != tt.wantErr {
				t.Errorf("New(%+v) = %v, want error %v", tt.cfg, nerr, tt.wantErr)
			}
		})
	}
}
