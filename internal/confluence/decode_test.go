package confluence

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/encoding/json"
)

func TestLenientPageDecoding(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Page
	}{
		{"numeric ids, unknown fields, nulls",
			`{"id":123,"spaceId":7,"parentId":null,"ownerId":null,"status":null,"title":"T",` +
				`"position":57,"somethingNew":{"a":[1,2]},"version":{"number":"4","createdAt":"2025-01-02T03:04:05.678Z",` +
				`"authorId":"abc","minorEdit":null},"body":{"storage":{"value":"<p>x</p>"},"atlas_doc_format":{}},` +
				`"_links":{"webui":"/spaces/ENG/pages/123/T","editui":"/e","tinyui":"/x/AB"}}`,
			Page{ID: "123", Kind: KindPage, Title: "T", SpaceID: "7",
				Version: Version{Number: 4, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.UTC), AuthorID: "abc"},
				Body:    "<p>x</p>", WebURL: "https://acme.atlassian.net/wiki/spaces/ENG/pages/123/T"}},
		{"placeholders from the docs",
			`{"id":"<string>","createdAt":"<string>","version":{"createdAt":"<string>","number":19,"minorEdit":true},` +
				`"body":{"storage":{},"atlas_doc_format":{}},"_links":{"webui":"<string>"}}`,
			Page{ID: "<string>", Kind: KindPage, Version: Version{Number: 19, MinorEdit: true},
				WebURL: "https://acme.atlassian.net/wiki/<string>"}},
		{"epoch millis and absolute webui",
			`{"id":"9","createdAt":1700000000000,"_links":{"webui":"https://acme.atlassian.net/wiki/x"}}`,
			Page{ID: "9", Kind: KindPage, CreatedAt: time.UnixMilli(1700000000000).UTC(),
				WebURL: "https://acme.atlassian.net/wiki/x"}},
		{"id of the wrong kind is absent", `{"id":{"x":1},"title":"T"}`, Page{Kind: KindPage, Title: "T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w wirePage
			if err := json.Unmarshal([]byte(tt.in), &w); err != nil {
				t.Fatalf("Unmarshal(%s) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, w.page(KindPage, "https://acme.atlassian.net/wiki/")); diff != "" {
				t.Errorf("decoded page (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSpaceAndUserDecoding(t *testing.T) {
	var spaces wireList[wireSpace]
	in := `{"results":[{"id":98306,"key":"ENG","name":"Engineering","type":"global","status":"current",` +
		`"authorId":"u1","currentActiveAlias":"ENG","createdAt":"2024-05-06T07:08:09.000Z","homepageId":"65537",` +
		`"description":{"plain":{"value":"All things eng","representation":"plain"},"view":null},` +
		`"icon":{"path":"/i.png"},"_links":{"webui":"/spaces/ENG"}}],"_links":{"base":"https://acme.atlassian.net/wiki"}}`
	if err := json.Unmarshal([]byte(in), &spaces); err != nil {
		t.Fatalf("Unmarshal(spaces) = %v", err)
	}
	wantSpace := Space{ID: "98306", Key: "ENG", Name: "Engineering", Type: "global", Status: "current",
		AuthorID: "u1", HomepageID: "65537", Description: "All things eng",
		CreatedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), WebURL: "https://acme.atlassian.net/wiki/spaces/ENG"}
	if diff := cmp.Diff(wantSpace, spaces.Results[0].space(spaces.Links.Base)); diff != "" {
		t.Errorf("decoded space (-want +got):\n%s", diff)
	}

	var users wireList[wireUser]
	in = `{"results":[{"displayName":"Bot","timeZone":null,"personalSpaceId":null,"isExternalCollaborator":false,` +
		`"accountStatus":"inactive","accountId":"5b10:ab","email":"","accountType":"app","publicName":"Bot",` +
		`"profilePicture":{"path":"/p","isDefault":true}}]}`
	if err := json.Unmarshal([]byte(in), &users); err != nil {
		t.Fatalf("Unmarshal(users) = %v", err)
	}
	wantUser := User{AccountID: "5b10:ab", AccountType: "app", AccountStatus: "inactive", DisplayName: "Bot", PublicName: "Bot"}
	if diff := cmp.Diff(wantUser, users.Results[0].user()); diff != "" {
		t.Errorf("decoded user (-want +got):\n%s", diff)
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct{ base, webui, want string }{
		{"https://a.atlassian.net/wiki", "/spaces/X/pages/1", "https://a.atlassian.net/wiki/spaces/X/pages/1"},
		{"https://a.atlassian.net/wiki/", "/spaces/X", "https://a.atlassian.net/wiki/spaces/X"},
		{"https://a.atlassian.net/wiki", "spaces/X", "https://a.atlassian.net/wiki/spaces/X"},
		{"https://a.atlassian.net/wiki", "", ""},
		{"https://a.atlassian.net/wiki", "https://b.example/x", "https://b.example/x"},
	}
	for _, tt := range tests {
		if got := webURL(tt.base, tt.webui); got != tt.want {
			t.Errorf("webURL(%q, %q) = %q, want %q", tt.base, tt.webui, got, tt.want)
		}
	}
}
