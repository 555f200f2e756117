package confluencesim

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// userJSON is a user as POST /users-bulk returns it.
type userJSON struct {
	DisplayName            string    `json:"displayName"`
	TimeZone               string    `json:"timeZone,omitempty"`
	PersonalSpaceID        string    `json:"personalSpaceId,omitempty"`
	IsExternalCollaborator bool      `json:"isExternalCollaborator"`
	AccountStatus          string    `json:"accountStatus"`
	AccountID              string    `json:"accountId"`
	Email                  string    `json:"email"`
	AccountType            string    `json:"accountType"`
	PublicName             string    `json:"publicName"`
	ProfilePicture         *iconJSON `json:"profilePicture"`
}

type iconJSON struct {
	Path      string `json:"path"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	IsDefault bool   `json:"isDefault"`
}

// v1UserJSON is a user as the v1 API returns it.
type v1UserJSON struct {
	Type                   string            `json:"type"`
	AccountID              string            `json:"accountId"`
	AccountType            string            `json:"accountType"`
	Email                  string            `json:"email"`
	PublicName             string            `json:"publicName"`
	ProfilePicture         iconJSON          `json:"profilePicture"`
	DisplayName            string            `json:"displayName"`
	IsExternalCollaborator bool              `json:"isExternalCollaborator"`
	Expandable             map[string]string `json:"_expandable"`
	Links                  map[string]string `json:"_links"`
}

type searchResultJSON struct {
	User         v1UserJSON `json:"user"`
	Title        string     `json:"title"`
	Excerpt      string     `json:"excerpt"`
	URL          string     `json:"url"`
	Breadcrumbs  []string   `json:"breadcrumbs"`
	EntityType   string     `json:"entityType"`
	IconCSSClass string     `json:"iconCssClass"`
	LastModified string     `json:"lastModified"`
	Score        float64    `json:"score"`
}

type searchPageJSON struct {
	Results        []searchResultJSON `json:"results"`
	Start          int                `json:"start"`
	Limit          int                `json:"limit"`
	Size           int                `json:"size"`
	TotalSize      int                `json:"totalSize"`
	CQLQuery       string             `json:"cqlQuery"`
	SearchDuration int                `json:"searchDuration"`
	Links          map[string]string  `json:"_links"`
}

// Limits of the user endpoints.
const (
	maxBulkUsers    = 250
	maxSearchLimit  = 1000 // v1 caps limit silently, so clients must read size
	maxRequestBytes = 1 << 20
)

func (s *Site) usersBulk(w http.ResponseWriter, r *http.Request, rq *request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		rq.fail(w, http.StatusBadRequest, "Request body could not be read.")
		return
	}
	var req struct {
		AccountIDs []string `json:"accountIds"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		rq.fail(w, http.StatusBadRequest, "Request body is not valid JSON.")
		return
	}
	if n := len(req.AccountIDs); n == 0 || n > maxBulkUsers {
		rq.badParam(w, "accountIds", "Expected between 1 and 250 account ids.")
		return
	}

	j := rq.newBuf()
	j.raw(`{"results":[`)
	seen := make(map[int]bool, len(req.AccountIDs))
	for _, id := range req.AccountIDs {
		u, ok := s.userByID[id]
		if !ok || seen[u] {
			continue
		}
		if len(seen) > 0 {
			j.raw(",")
		}
		seen[u] = true
		j.value(s.userJSON(u))
	}
	rq.sendList(w, j, "")
}

func (s *Site) userJSON(u int) userJSON {
	usr := s.user(u)
	v := userJSON{DisplayName: usr.displayName, TimeZone: usr.timeZone,
		IsExternalCollaborator: usr.external, AccountStatus: usr.accountStatus,
		AccountID: usr.accountID, Email: usr.email, AccountType: usr.accountType,
		PublicName: usr.publicName}
	if usr.personalSpace >= 0 {
		v.PersonalSpaceID = strconv.FormatInt(s.spaces[usr.personalSpace].id, 10)
	}
	pic := s.picture(u)
	v.ProfilePicture = &iconJSON{Path: pic.Path, IsDefault: pic.IsDefault}
	return v
}

func (s *Site) picture(u int) iconJSON {
	usr := s.user(u)
	if usr.accountType == "app" || usr.accountStatus == "closed" {
		return iconJSON{Path: "/wiki/aa-avatar/default.png", Width: 48, Height: 48, IsDefault: true}
	}
	return iconJSON{Path: "/wiki/aa-avatar/" + usr.accountID, Width: 48, Height: 48}
}

func (s *Site) v1User(u int, base string) v1UserJSON {
	usr := s.user(u)
	return v1UserJSON{Type: "known", AccountID: usr.accountID, AccountType: usr.accountType,
		Email: usr.email, PublicName: usr.publicName, ProfilePicture: s.picture(u),
		DisplayName: usr.displayName, IsExternalCollaborator: usr.external,
		Expandable: map[string]string{"operations": "", "personalSpace": ""},
		Links:      map[string]string{"self": base + "/rest/api/user?accountId=" + usr.accountID}}
}

// searchUsers serves GET /wiki/rest/api/search/user?cql=type=user with v1
// offset paging. Closed accounts are not searchable. As on a real site,
// _links.next is relative to _links.base, which already ends in /wiki.
func (s *Site) searchUsers(w http.ResponseWriter, r *http.Request, rq *request) {
	cql := r.URL.Query().Get("cql")
	if strings.ReplaceAll(cql, " ", "") != "type=user" {
		rq.fail(w, http.StatusBadRequest, "Could not parse cql : "+cql)
		return
	}
	start, err1 := intParam(r, "start", 0)
	limit, err2 := intParam(r, "limit", 25)
	if err1 != nil || err2 != nil || start < 0 || limit < 0 {
		rq.fail(w, http.StatusBadRequest, "start and limit must be non-negative integers")
		return
	}
	limit = min(limit, maxSearchLimit)

	var all []int
	for u := range s.users {
		if s.user(u).accountStatus != "closed" {
			all = append(all, u)
		}
	}
	page := searchPageJSON{Start: start, Limit: limit, TotalSize: len(all), CQLQuery: cql,
		SearchDuration: 11, Results: []searchResultJSON{}}
	for _, u := range all[min(start, len(all)):min(start+limit, len(all))] {
		page.Results = append(page.Results, s.searchResult(u, rq.base))
	}
	page.Size = len(page.Results)
	page.Links = map[string]string{"base": rq.base, "context": "/wiki",
		"self": rq.base + "/rest/api/search/user?" + r.URL.RawQuery}
	if start+page.Size < len(all) && page.Size > 0 {
		q := url.Values{"cql": {cql}, "start": {strconv.Itoa(start + page.Size)}, "limit": {strconv.Itoa(limit)}}
		page.Links["next"] = "/rest/api/search/user?" + q.Encode()
	}
	j := rq.newBuf()
	j.value(page)
	rq.send(w, http.StatusOK, j)
}

func (s *Site) searchResult(u int, base string) searchResultJSON {
	usr := s.user(u)
	modified := epochStart.Add(time.Duration(u) * 7 * time.Hour)
	return searchResultJSON{User: s.v1User(u, base), Title: usr.displayName,
		URL: "/people/" + usr.accountID, Breadcrumbs: []string{}, EntityType: "user",
		IconCSSClass: "aui-icon content-type-profile", LastModified: modified.Format(timeFormat)}
}

func (s *Site) currentUser(w http.ResponseWriter, r *http.Request, rq *request) {
	v := s.v1User(0, rq.base)
	if s.cfg.Email != "" {
		v.Email = s.cfg.Email
	}
	v.Links["base"], v.Links["context"] = rq.base, "/wiki"
	j := rq.newBuf()
	j.value(v)
	rq.send(w, http.StatusOK, j)
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}
