package schema

import "time"

// Entity names the kind of thing an event is about.
type Entity string

// The entities the Confluence producer publishes.
const (
	EntityUser  Entity = "user"
	EntitySpace Entity = "space"
	EntityPage  Entity = "page"
)

// State says whether an event carries the entity's current state or its removal.
type State string

// The states of an entity event.
const (
	StateUpserted State = "upserted"
	StateDeleted  State = "deleted"
)

// TypePrefix starts the ce_type of every Confluence event.
const TypePrefix = "com.parable.confluence."

// The ce_type of every Confluence event: TypePrefix, the entity and the state.
const (
	TypeUserUpserted  = TypePrefix + "user.upserted"
	TypeUserDeleted   = TypePrefix + "user.deleted"
	TypeSpaceUpserted = TypePrefix + "space.upserted"
	TypeSpaceDeleted  = TypePrefix + "space.deleted"
	TypePageUpserted  = TypePrefix + "page.upserted"
	TypePageDeleted   = TypePrefix + "page.deleted"
)

// EventType returns the ce_type for an entity in a state.
func EventType(e Entity, s State) string {
	return TypePrefix + string(e) + "." + string(s)
}

// Page kinds: Confluence pages and blog posts share the pages topic.
const (
	KindPage     = "page"
	KindBlogPost = "blogpost"
)

// Reasons carried by deletion events in ce_deletereason.
const (
	ReasonTrashed    = "trashed"    // the page is in the space's trash
	ReasonPurged     = "purged"     // Confluence answers 404 for a known page
	ReasonArchived   = "archived"   // archived, when archived pages count as gone
	ReasonUnreadable = "unreadable" // the crawler's account lost read access
	ReasonMissing    = "missing"    // absent from a complete listing of its space
)

// User is a Confluence account. Accounts are keyed by AccountID, never by email:
// the email is often hidden by the user's privacy settings.
type User struct {
	Site          string `json:"site"`
	AccountID     string `json:"accountId"`
	AccountType   string `json:"accountType"`   // "atlassian", "app" or "customer"
	AccountStatus string `json:"accountStatus"` // "active", "inactive" or "closed"
	DisplayName   string `json:"displayName"`
	PublicName    string `json:"publicName,omitempty"`
	Email         string `json:"email,omitempty"` // empty when hidden
	TimeZone      string `json:"timeZone,omitempty"`
}

// Space is a Confluence space.
type Space struct {
	Site        string    `json:"site"`
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`   // "global", "personal", ...
	Status      string    `json:"status"` // "current" or "archived"
	Description string    `json:"description,omitempty"`
	HomepageID  string    `json:"homepageId,omitempty"`
	AuthorID    string    `json:"authorId,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	WebURL      string    `json:"webUrl,omitempty"`
}

// Page is a Confluence page or blog post, with its storage-format body.
//
// A page too large for the topic's message size limit is published without its
// body: BodyOmitted is then true, Body is empty and BodyBytes still gives the
// size of the body that was left out.
type Page struct {
	Site       string      `json:"site"`
	ID         string      `json:"id"`
	Kind       string      `json:"kind"` // KindPage or KindBlogPost
	SpaceID    string      `json:"spaceId"`
	Status     string      `json:"status"` // "current", "archived", ...
	Title      string      `json:"title"`
	ParentID   string      `json:"parentId,omitempty"`
	AuthorID   string      `json:"authorId,omitempty"`
	OwnerID    string      `json:"ownerId,omitempty"`
	CreatedAt  time.Time   `json:"createdAt"`
	Version    PageVersion `json:"version"`
	WebURL     string      `json:"webUrl,omitempty"`
	BodyFormat string      `json:"bodyFormat,omitempty"` // "storage"
	Body       string      `json:"body,omitempty"`

	BodyOmitted bool `json:"bodyOmitted,omitempty"`
	BodyBytes   int  `json:"bodyBytes"`
}

// PageVersion is the version a page event describes.
type PageVersion struct {
	Number    int       `json:"number"`
	CreatedAt time.Time `json:"createdAt"`
	AuthorID  string    `json:"authorId,omitempty"`
	Message   string    `json:"message,omitempty"`
	MinorEdit bool      `json:"minorEdit,omitempty"`
}

// WithoutBody returns the degraded form of p published when p is too large for
// its topic: the same page with its body left out and flagged.
func (p Page) WithoutBody() Page {
	p.BodyBytes = len(p.Body)
	p.Body = ""
	p.BodyOmitted = true
	return p
}
