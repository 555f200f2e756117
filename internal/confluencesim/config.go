package confluencesim

import (
	"fmt"
	"time"
)

// Config describes a simulated site. The zero value is a valid small site.
// The same Config (apart from Now) always yields a byte-identical site.
type Config struct {
	// Seed selects the site's content. Zero is a valid seed.
	Seed int64

	// Spaces is the number of spaces, global and personal, some archived.
	// Zero means 20.
	Spaces int

	// Pages is the number of pages across the site, spread unevenly over
	// the spaces in trees. Zero means 2000.
	Pages int

	// BlogPosts is the number of blog posts across the site. Zero means
	// Pages/20; a negative value means none.
	BlogPosts int

	// Users is the number of accounts, including accounts with hidden
	// emails, app accounts, and inactive and closed accounts. Zero means 200.
	Users int

	// Email and APIToken are the accepted Basic credentials. When both are
	// empty the site accepts any Basic or Bearer credentials, but it still
	// answers 401 to a request without an Authorization header.
	Email    string
	APIToken string

	// RateLimit is the number of requests the site accepts per RateWindow
	// before it answers 429 with Retry-After. Zero means 40000, the figure
	// in Atlassian's documented example.
	RateLimit int

	// RateWindow is the length of a rate-limit window. Zero means one hour.
	RateWindow time.Duration

	// Now is the clock used for rate-limit windows and for the modification
	// dates of edited content. Nil means time.Now.
	Now func() time.Time
}

// Limits on the size of a simulated site; they keep ids and dates in range.
const (
	maxSpaces = 10_000
	maxPages  = 10_000_000
	maxUsers  = 1_000_000
)

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	switch {
	case c.Spaces < 0 || c.Spaces > maxSpaces:
		return fmt.Errorf("spaces %d: want 0..%d", c.Spaces, maxSpaces)
	case c.Pages < 0 || c.Pages > maxPages:
		return fmt.Errorf("pages %d: want 0..%d", c.Pages, maxPages)
	case c.BlogPosts > maxPages:
		return fmt.Errorf("blog posts %d: want at most %d", c.BlogPosts, maxPages)
	case c.Users < 0 || c.Users > maxUsers:
		return fmt.Errorf("users %d: want 0..%d", c.Users, maxUsers)
	case c.RateLimit < 0:
		return fmt.Errorf("rate limit %d: want 0 or more", c.RateLimit)
	case c.RateWindow < 0:
		return fmt.Errorf("rate window %s: want 0 or more", c.RateWindow)
	case c.Email == "" && c.APIToken != "":
		return fmt.Errorf("email is empty but an API token is set")
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Spaces == 0 {
		c.Spaces = 20
	}
	if c.Pages == 0 {
		c.Pages = 2000
	}
	switch {
	case c.BlogPosts == 0:
		c.BlogPosts = c.Pages / 20
	case c.BlogPosts < 0:
		c.BlogPosts = 0
	}
	if c.Users == 0 {
		c.Users = 200
	}
	if c.RateLimit == 0 {
		c.RateLimit = 40000
	}
	if c.RateWindow == 0 {
		c.RateWindow = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
