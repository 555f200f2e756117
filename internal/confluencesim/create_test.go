package confluencesim

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
)

func TestCreatePage(t *testing.T) {
	e := newEnv(t, Config{Seed: 31, Spaces: 3, Pages: 60, BlogPosts: 6, Users: 10})
	spaces := e.site.SpaceIDs()
	before := e.site.Expected()
	first, err := e.site.CreatePage(spaces[1])
	if err != nil {
		t.Fatalf("CreatePage(%s) = %v", spaces[1], err)
	}
	second, err := e.site.CreatePage(spaces[1])
	if err != nil {
		t.Fatalf("CreatePage(%s) = %v", spaces[1], err)
	}
	if first == second {
		t.Fatalf("CreatePage twice = %s both times, want two ids", first)
	}

	var got item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+first+"?body-format=storage"), &got)
	if got.Status != "current" || got.Version.Number != 1 || got.SpaceID != spaces[1] || got.ParentID != "" {
		t.Errorf("GET created page = status %q version %d space %s parent %q, want current 1 %s top level",
			got.Status, got.Version.Number, got.SpaceID, got.ParentID, spaces[1])
	}
	if !strings.Contains(got.Body.Storage.Value, e.site.UniquePhrase(first)) {
		t.Errorf("created page body lacks its unique phrase %q", e.site.UniquePhrase(first))
	}

	tests := []struct {
		name, path string
		want       []string // ids that must be listed, in this relative order
	}{
		{"site-wide newest first", "/wiki/api/v2/pages?sort=-modified-date&limit=2", []string{second, first}},
		{"space in id order", "/wiki/api/v2/spaces/" + spaces[1] + "/pages", []string{first, second}},
		{"space by title", "/wiki/api/v2/spaces/" + spaces[1] + "/pages?sort=title", []string{first, second}},
		{"space top level", "/wiki/api/v2/spaces/" + spaces[1] + "/pages?depth=root", []string{first, second}},
		{"site by created date", "/wiki/api/v2/pages?sort=created-date", []string{first, second}},
		{"by id filter", "/wiki/api/v2/pages?id=" + second + "," + first, []string{first, second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, it := range items(t, e.walk(t, tt.path)) {
				if slices.Contains(tt.want, it.ID) {
					ids = append(ids, it.ID)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("GET %s lists %v of the created pages, want %v", tt.path, ids, tt.want)
			}
		})
	}
	if other := items(t, e.walk(t, "/wiki/api/v2/spaces/"+spaces[0]+"/pages")); slices.ContainsFunc(other, func(it item) bool {
		return it.ID == first || it.ID == second
	}) {
		t.Errorf("space %s lists a page created in space %s", spaces[0], spaces[1])
	}
	if after := e.site.Expected(); after.Pages != before.Pages+2 {
		t.Errorf("Expected().Pages = %d after two creations, want %d", after.Pages, before.Pages+2)
	}
	if ids := e.site.PageIDs(spaces[1]); !slices.Contains(ids, first) || !slices.Contains(ids, second) {
		t.Errorf("PageIDs(%s) lacks the created pages", spaces[1])
	}
}

func TestCreatedPageChanges(t *testing.T) {
	e := newEnv(t, Config{Seed: 32, Spaces: 2, Pages: 30, BlogPosts: 3, Users: 8})
	space := e.site.SpaceIDs()[0]
	id, err := e.site.CreatePage(space)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.site.EditPage(id); err != nil || v != 2 {
		t.Errorf("EditPage(created) = %d, %v, want 2", v, err)
	}
	if err := e.site.TrashPage(id); err != nil {
		t.Fatalf("TrashPage(created) = %v", err)
	}
	var got item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+id), &got)
	if got.Status != "trashed" || got.Version.Number != 2 {
		t.Errorf("created page after edit and trash = %s v%d, want trashed v2", got.Status, got.Version.Number)
	}
	if _, err := e.site.CreatePage("12"); !errors.Is(err, ErrUnknownSpace) {
		t.Errorf("CreatePage(12) = %v, want ErrUnknownSpace", err)
	}
}

func TestArchivePage(t *testing.T) {
	e := newEnv(t, Config{Seed: 33, Spaces: 2, Pages: 40, BlogPosts: 4, Users: 8})
	space := e.site.SpaceIDs()[0]
	id := e.site.PageIDs(space)[0]
	var before item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+id), &before)
	if err := e.site.ArchivePage(id); err != nil {
		t.Fatalf("ArchivePage(%s) = %v", id, err)
	}
	var newest listBody
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages?sort=-modified-date&limit=1"), &newest)
	got := items(t, newest.Results)
	if len(got) != 1 || got[0].ID != id || got[0].Status != "archived" || got[0].Version.Number != before.Version.Number+1 {
		t.Errorf("newest page after ArchivePage(%s) = %+v, want it archived at version %d", id, got, before.Version.Number+1)
	}
	blog := e.site.BlogPostIDs(space)
	if len(blog) > 0 {
		if err := e.site.ArchivePage(blog[0]); !errors.Is(err, ErrUnknownContent) {
			t.Errorf("ArchivePage(blog post) = %v, want ErrUnknownContent", err)
		}
	}
}

func TestChangeUser(t *testing.T) {
	e := newEnv(t, Config{Seed: 34, Spaces: 2, Pages: 20, Users: 12})
	var id string
	for _, a := range e.site.AccountIDs()[1:] {
		if e.site.user(e.site.userByID[a]).accountStatus == "active" {
			id = a
			break
		}
	}
	searchable := e.site.Expected().Users
	tests := []struct {
		name           string
		change         UserChange
		wantName       string
		wantEmail      string
		wantSearchable bool
	}{
		{"hide email", UserChange{HideEmail: true}, e.site.users[e.site.userByID[id]].displayName, "", true},
		{"rename", UserChange{DisplayName: "Renamed Person"}, "Renamed Person", "", true},
		{"show email", UserChange{Email: "shown@example.com"}, "Renamed Person", "shown@example.com", true},
		{"close", UserChange{AccountStatus: "closed"}, "Renamed Person", "shown@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.site.ChangeUser(id, tt.change); err != nil {
				t.Fatalf("ChangeUser(%s, %+v) = %v", id, tt.change, err)
			}
			var bulk struct {
				Results []userJSON `json:"results"`
			}
			body, _ := json.Marshal(map[string][]string{"accountIds": {id}})
			_, raw := e.do(t, "POST", "/wiki/api/v2/users-bulk", body, nil)
			mustUnmarshal(t, raw, &bulk)
			if len(bulk.Results) != 1 || bulk.Results[0].DisplayName != tt.wantName || bulk.Results[0].Email != tt.wantEmail {
				t.Errorf("users-bulk(%s) = %+v, want name %q email %q", id, bulk.Results, tt.wantName, tt.wantEmail)
			}
			found := strings.Contains(string(e.getOK(t, "/wiki/rest/api/search/user?cql=type=user&limit=1000")), id)
			if found != tt.wantSearchable {
				t.Errorf("user search lists %s = %v, want %v", id, found, tt.wantSearchable)
			}
		})
	}
	if got := e.site.Expected().Users; got != searchable-1 {
		t.Errorf("Expected().Users after closing one account = %d, want %d", got, searchable-1)
	}
	if err := e.site.ChangeUser("nobody", UserChange{DisplayName: "x"}); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("ChangeUser(nobody) = %v, want ErrUnknownUser", err)
	}
	if err := e.site.ChangeUser(id, UserChange{AccountStatus: "gone"}); err == nil {
		t.Errorf("ChangeUser(status gone) = nil, want an error")
	}
}

func TestRenameSpace(t *testing.T) {
	e := newEnv(t, Config{Seed: 35, Spaces: 2, Pages: 20, Users: 8})
	space := e.site.SpaceIDs()[0]
	home := e.site.PageIDs(space)[0]
	var page item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+home), &page)
	if err := e.site.RenameSpace(space, "Renamed Space"); err != nil {
		t.Fatalf("RenameSpace = %v", err)
	}
	var sp struct {
		Name string `json:"name"`
	}
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/spaces/"+space), &sp)
	if sp.Name != "Renamed Space" {
		t.Errorf("GET space name = %q, want Renamed Space", sp.Name)
	}
	if !strings.Contains(string(e.getOK(t, "/wiki/api/v2/spaces")), `"Renamed Space"`) {
		t.Errorf("space list does not show the new name")
	}
	var after item
	mustUnmarshal(t, e.getOK(t, "/wiki/api/v2/pages/"+home), &after)
	if after.Title != page.Title {
		t.Errorf("homepage title after rename = %q, want %q", after.Title, page.Title)
	}
	if err := e.site.RenameSpace("1", "x"); !errors.Is(err, ErrUnknownSpace) {
		t.Errorf("RenameSpace(1) = %v, want ErrUnknownSpace", err)
	}
}
