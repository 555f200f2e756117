package confluencesim

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specFile returns the path of a published spec: from env if set, else
// <repo root>/../shared/confluence/name. It skips the test if the file is
// missing.
func specFile(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("spec file missing: looked for %s (from %s)", p, env)
		}
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("spec file %s missing: no go.mod above the test directory (set %s)", name, env)
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "confluence", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("spec file missing: looked for %s (set %s to override)", p, env)
	}
	return p
}

// The published documents carry defaults and examples that break their own
// schemas; those checks are about the document, not about responses.
var specLoadOptions = []openapi3.ValidationOption{
	openapi3.DisableSchemaDefaultsValidation(),
	openapi3.DisableExamplesValidation(),
}

// validator checks responses against the v2 spec (routed by kin-openapi)
// and the v1 spec (routed by hand: the v1 document has conflicting paths
// that kin-openapi's router rejects).
type validator struct {
	mu       sync.Mutex
	v2       routers.Router
	v1       *openapi3.T
	checked  map[string]int // responses validated per operation and status
	failures int
}

func newValidator(t *testing.T, serverURL string) *validator {
	t.Helper()
	v2doc := loadSpec(t, specFile(t, "CONFLUENCE_OPENAPI_V2", "openapi-v2.json"))
	v2doc.Servers = openapi3.Servers{{URL: serverURL + v2Prefix}}
	if err := v2doc.Validate(t.Context(), specLoadOptions...); err != nil {
		t.Fatalf("v2 spec: %v", err)
	}
	router, err := legacy.NewRouter(v2doc, specLoadOptions...)
	if err != nil {
		t.Fatalf("v2 router: %v", err)
	}
	v1doc := loadSpec(t, specFile(t, "CONFLUENCE_OPENAPI_V1", "openapi-v1.json"))
	return &validator{v2: router, v1: v1doc, checked: map[string]int{}}
}

func loadSpec(t *testing.T, path string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("load spec %s: %v", path, err)
	}
	return doc
}

func (v *validator) route(req *http.Request) (*routers.Route, map[string]string, error) {
	if !strings.HasPrefix(req.URL.Path, v1Prefix) {
		return v.v2.FindRoute(req)
	}
	item := v.v1.Paths.Find(req.URL.Path)
	if item == nil || item.GetOperation(req.Method) == nil {
		return nil, nil, errors.New("no v1 operation for " + req.Method + " " + req.URL.Path)
	}
	return &routers.Route{Spec: v.v1, Path: req.URL.Path, PathItem: item, Method: req.Method,
		Operation: item.GetOperation(req.Method)}, map[string]string{}, nil
}

// check validates one response: its status must be documented for the
// operation and its body must match the documented schema.
func (v *validator) check(t *testing.T, req *http.Request, status int, h http.Header, body []byte) {
	t.Helper()
	route, err := v.validate(t, req, status, h, body)

	v.mu.Lock()
	defer v.mu.Unlock()
	v.checked[req.Method+" "+route+" "+http.StatusText(status)]++
	if err != nil {
		v.failures++
		if v.failures <= 5 {
			t.Errorf("%s %s -> %d does not match the spec: %v\nbody: %.600s", req.Method, req.URL, status, err, body)
		}
	}
}

// validate returns the spec path of the request's operation and the
// validation error, if any.
func (v *validator) validate(t *testing.T, req *http.Request, status int, h http.Header, body []byte) (string, error) {
	route, params, err := v.route(req)
	if err != nil {
		return "", err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 h,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return route.Path, openapi3filter.ValidateResponse(t.Context(), in)
}

func TestSpecConformance(t *testing.T) {
	e := newEnv(t, Config{Seed: 7, Spaces: 6, Pages: 300, BlogPosts: 20, Users: 40})
	v := newValidator(t, e.srv.URL)
	e.check = v.check

	res := e.crawl(t, 50)
	if len(res.pages) == 0 || len(res.blogs) == 0 || len(res.bulkUsers) == 0 {
		t.Fatalf("crawl found %d pages, %d blog posts, %d users; want some of each",
			len(res.pages), len(res.blogs), len(res.bulkUsers))
	}
	spaceID, pageID := res.spaces[0].ID, res.pages[0].ID
	blogID := res.blogs[0].ID
	trashed := firstWithStatus(t, e, "trashed")

	paths := []struct {
		path string
		want int
	}{
		{"/wiki/api/v2/spaces/" + spaceID, 200},
		{"/wiki/api/v2/spaces/" + spaceID + "?description-format=plain&include-icon=true", 200},
		{"/wiki/api/v2/spaces?status=archived&type=global&description-format=view", 200},
		{"/wiki/api/v2/spaces?keys=" + res.spaces[0].Key + "&sort=-name", 200},
		{"/wiki/api/v2/spaces/" + spaceID + "/pages?depth=root&sort=title", 200},
		{"/wiki/api/v2/spaces/" + spaceID + "/pages?status=trashed,archived&body-format=atlas_doc_format", 200},
		{"/wiki/api/v2/pages?limit=250&sort=-modified-date&body-format=storage", 200},
		{"/wiki/api/v2/pages?space-id=" + spaceID + "&sort=created-date", 200},
		{"/wiki/api/v2/pages?id=" + pageID + "," + trashed + "&status=current,trashed", 200},
		{"/wiki/api/v2/blogposts?limit=5&sort=-created-date&body-format=atlas_doc_format", 200},
		{"/wiki/api/v2/pages/" + pageID + "?body-format=storage", 200},
		{"/wiki/api/v2/pages/" + pageID + "?body-format=view&version=1", 200},
		{"/wiki/api/v2/pages/" + trashed, 200},
		{"/wiki/api/v2/blogposts/" + blogID + "?body-format=atlas_doc_format", 200},
		{"/wiki/rest/api/user/current", 200},
		{"/wiki/api/v2/pages?cursor=bm90IGEgY3Vyc29y", 400},
		{"/wiki/api/v2/spaces?limit=0", 400},
		{"/wiki/api/v2/spaces/" + spaceID + "/pages?limit=251", 400},
		{"/wiki/api/v2/blogposts?body-format=view", 400},
		{"/wiki/api/v2/pages/abc", 400},
		{"/wiki/api/v2/spaces/1", 404},
		{"/wiki/api/v2/pages/1", 404},
		{"/wiki/api/v2/pages/" + blogID, 404},
		{"/wiki/api/v2/blogposts/" + pageID, 404},
		{"/wiki/rest/api/search/user?cql=type=page", 400},
	}
	for _, p := range paths {
		if resp, body := e.get(t, p.path); resp.StatusCode != p.want {
			t.Errorf("GET %s = %d %.300s, want %d", p.path, resp.StatusCode, body, p.want)
		}
	}

	unauthorized := []func(*http.Request){
		func(r *http.Request) { r.Header.Del("Authorization") },
		func(r *http.Request) { r.SetBasicAuth(testEmail, "wrong") },
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer some-token") },
	}
	for n, auth := range unauthorized {
		if resp, _ := e.do(t, http.MethodGet, "/wiki/api/v2/pages", nil, auth); resp.StatusCode != 401 {
			t.Errorf("GET /pages with bad credentials #%d = %d, want 401", n, resp.StatusCode)
		}
	}
	tooMany := `{"accountIds":[` + strings.Repeat(`"x",`, 250) + `"x"]}`
	for _, body := range []string{tooMany, `{"accountIds":[]}`, `not json`} {
		if resp, _ := e.do(t, http.MethodPost, "/wiki/api/v2/users-bulk", []byte(body), nil); resp.StatusCode != 400 {
			t.Errorf("POST users-bulk %.30s = %d, want 400", body, resp.StatusCode)
		}
	}
	t.Logf("validated responses: %v", v.checked)
}

// firstWithStatus returns the id of the first page listed with status.
func firstWithStatus(t *testing.T, e *env, status string) string {
	t.Helper()
	list := items(t, e.walk(t, "/wiki/api/v2/pages?limit=250&status="+status))
	if len(list) == 0 {
		t.Fatalf("no page with status %s", status)
	}
	return list[0].ID
}

// TestSpecValidatorRejects proves the conformance check has teeth: real
// responses altered to break the schema must fail it.
func TestSpecValidatorRejects(t *testing.T) {
	e := newEnv(t, Config{Seed: 7, Spaces: 2, Pages: 20, Users: 5})
	v := newValidator(t, e.srv.URL)
	pageID := e.site.PageIDs(e.site.SpaceIDs()[0])[0]
	tests := []struct {
		name, path, from, to string
		status               int
	}{
		{"bad page status", "/wiki/api/v2/pages/" + pageID, `"status":"current"`, `"status":"bogus"`, 200},
		{"version number as string", "/wiki/api/v2/pages/" + pageID, `"number":`, `"number":"1","x":`, 200},
		{"results not an array", "/wiki/api/v2/spaces", `"results":[`, `"results":{"a":[`, 200},
		{"undocumented status", "/wiki/api/v2/spaces", "", "", 418},
		{"v1 search without totalSize", "/wiki/rest/api/search/user?cql=type=user", `"totalSize"`, `"total"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			altered := strings.Replace(string(body), tt.from, tt.to, 1)
			if altered == string(body) && tt.from != "" {
				t.Fatalf("body of %s has no %q", tt.path, tt.from)
			}
			if _, err := v.validate(t, resp.Request, tt.status, resp.Header, []byte(altered)); err == nil {
				t.Errorf("validate(%s altered) = nil, want an error", tt.path)
			}
		})
	}
}
