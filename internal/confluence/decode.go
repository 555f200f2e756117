package confluence

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// The wire types follow the v2 and v1 specs in shared/confluence. Decoding
// is lenient, as the API is: unknown fields are ignored, nulls leave zero
// values, ids may come as strings or numbers and a malformed timestamp is
// a zero time rather than a failed batch.

type wireLinks struct {
	Next  string `json:"next"`
	Base  string `json:"base"`
	WebUI string `json:"webui"`
}

type wireList[T any] struct {
	Results []T       `json:"results"`
	Links   wireLinks `json:"_links"`
}

type wireBody struct {
	Storage struct {
		Value string `json:"value"`
	} `json:"storage"`
}

type wireVersion struct {
	Number    flexInt    `json:"number"`
	CreatedAt flexTime   `json:"createdAt"`
	AuthorID  flexString `json:"authorId"`
	Message   string     `json:"message"`
	MinorEdit bool       `json:"minorEdit"`
}

type wirePage struct {
	ID         flexString  `json:"id"`
	Status     string      `json:"status"`
	Title      string      `json:"title"`
	SpaceID    flexString  `json:"spaceId"`
	ParentID   flexString  `json:"parentId"`
	ParentType string      `json:"parentType"`
	AuthorID   flexString  `json:"authorId"`
	OwnerID    flexString  `json:"ownerId"`
	CreatedAt  flexTime    `json:"createdAt"`
	Version    wireVersion `json:"version"`
	Body       wireBody    `json:"body"`
	Links      wireLinks   `json:"_links"`
}

type wireSpace struct {
	ID          flexString `json:"id"`
	Key         string     `json:"key"`
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	Status      string     `json:"status"`
	AuthorID    flexString `json:"authorId"`
	HomepageID  flexString `json:"homepageId"`
	CreatedAt   flexTime   `json:"createdAt"`
	Description struct {
		Plain struct {
			Value string `json:"value"`
		} `json:"plain"`
	} `json:"description"`
	Links wireLinks `json:"_links"`
}

type wireUser struct {
	AccountID     flexString `json:"accountId"`
	AccountType   string     `json:"accountType"`
	AccountStatus string     `json:"accountStatus"`
	DisplayName   string     `json:"displayName"`
	PublicName    string     `json:"publicName"`
	Email         string     `json:"email"`
	TimeZone      string     `json:"timeZone"`
}

// wireSearch is v1 SearchPageResponseSearchResult, as returned by
// GET /wiki/rest/api/search/user.
type wireSearch struct {
	Results []struct {
		User *wireUser `json:"user"`
	} `json:"results"`
	Start     int       `json:"start"`
	Limit     int       `json:"limit"`
	Size      int       `json:"size"`
	TotalSize int       `json:"totalSize"`
	Links     wireLinks `json:"_links"`
}

func (w *wirePage) page(kind, base string) Page {
	return Page{
		ID:         string(w.ID),
		Kind:       kind,
		Status:     w.Status,
		Title:      w.Title,
		SpaceID:    string(w.SpaceID),
		ParentID:   string(w.ParentID),
		ParentType: w.ParentType,
		AuthorID:   string(w.AuthorID),
		OwnerID:    string(w.OwnerID),
		CreatedAt:  time.Time(w.CreatedAt),
		Version: Version{
			Number:    int(w.Version.Number),
			CreatedAt: time.Time(w.Version.CreatedAt),
			AuthorID:  string(w.Version.AuthorID),
			Message:   w.Version.Message,
			MinorEdit: w.Version.MinorEdit,
		},
		Body:   w.Body.Storage.Value,
		WebURL: webURL(base, w.Links.WebUI),
	}
}

func (w *wireSpace) space(base string) Space {
	return Space{
		ID:          string(w.ID),
		Key:         w.Key,
		Name:        w.Name,
		Type:        w.Type,
		Status:      w.Status,
		AuthorID:    string(w.AuthorID),
		HomepageID:  string(w.HomepageID),
		Description: w.Description.Plain.Value,
		CreatedAt:   time.Time(w.CreatedAt),
		WebURL:      webURL(base, w.Links.WebUI),
	}
}

func (w *wireUser) user() User {
	return User{
		AccountID:     string(w.AccountID),
		AccountType:   w.AccountType,
		AccountStatus: w.AccountStatus,
		DisplayName:   w.DisplayName,
		PublicName:    w.PublicName,
		Email:         w.Email,
		TimeZone:      w.TimeZone,
	}
}

// webURL joins a _links.webui path to the site's web base (which ends in
// /wiki). An absolute webui is kept; an empty one gives an empty URL.
func webURL(base, webui string) string {
	switch {
	case webui == "":
		return ""
	case strings.HasPrefix(webui, "https://"), strings.HasPrefix(webui, "http://"):
		return webui
	case !strings.HasPrefix(webui, "/"):
		webui = "/" + webui
	}
	return strings.TrimSuffix(base, "/") + webui
}

// flexString decodes a JSON string, number or null.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = flexString(b)
	default:
		*s = "" // an object or a bool where an id belongs: treat as absent
	}
	return nil
}

// flexInt decodes a JSON number, a numeric string or null.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		*n = 0
		return nil //nolint:nilerr // lenient: a malformed number is absent
	}
	*n = flexInt(f)
	return nil
}

// flexTime decodes an RFC 3339 string, epoch milliseconds, or null.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	*t = flexTime{}
	s := string(b)
	if s == "" || s == "null" {
		return nil
	}
	if s[0] != '"' {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			*t = flexTime(time.UnixMilli(ms).UTC())
		}
		return nil
	}
	if v, err := time.Parse(time.RFC3339Nano, strings.Trim(s, `"`)); err == nil {
		*t = flexTime(v)
	}
	return nil
}
