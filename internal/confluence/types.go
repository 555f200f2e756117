package confluence

import "time"

// Kinds of Page.
const (
	KindPage     = "page"
	KindBlogPost = "blogpost"
)

// Space is a Confluence space as listed by GET /wiki/api/v2/spaces.
type Space struct {
	ID          string
	Key         string
	Name        string
	Type        string // "global", "personal", "collaboration", ...
	Status      string // "current" or "archived"
	AuthorID    string
	HomepageID  string
	Description string // plain text
	CreatedAt   time.Time
	WebURL      string // absolute
}

// Page is a page or a blog post.
type Page struct {
	ID         string
	Kind       string // KindPage or KindBlogPost
	Status     string // "current", "archived", "trashed", ...
	Title      string
	SpaceID    string
	ParentID   string // empty for blog posts and top-level pages
	ParentType string // "page", "folder", "whiteboard", ...; empty without a parent
	AuthorID   string
	OwnerID    string
	CreatedAt  time.Time
	Version    Version
	Body       string // storage-format XHTML
	WebURL     string // absolute, from _links.webui and the site's base
}

// Version is the version of a page or blog post. Its CreatedAt is when the
// content was last modified.
type Version struct {
	Number    int
	CreatedAt time.Time
	AuthorID  string
	Message   string
	MinorEdit bool
}

// User is an Atlassian account. Key users by AccountID: Email is often
// empty because of privacy settings.
type User struct {
	AccountID     string
	AccountType   string // "atlassian", "app", "customer" or empty
	AccountStatus string // "active", "inactive", "closed", "unknown" or empty
	DisplayName   string
	PublicName    string
	Email         string
	TimeZone      string
}
