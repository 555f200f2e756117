package confluencesim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// user is one account of the site. Users are few, so they are kept.
type user struct {
	accountID     string
	accountType   string // atlassian or app
	accountStatus string // active, inactive or closed
	displayName   string
	publicName    string
	email         string // empty when hidden by the user's privacy settings
	timeZone      string // empty when hidden
	personalSpace int    // index into Site.spaces, or -1
	external      bool
}

// space is one space and the ranges of the content it holds. Pages of space
// k are the global page indices [pageLo, pageHi); blog posts likewise.
type space struct {
	id        int64
	key       string
	name      string
	typ       string // global or personal
	status    string // current or archived
	authorID  string
	createdAt time.Time
	descr     string

	pageLo, pageHi int
	blogLo, blogHi int

	branch int // children per page in the space's tree
	roots  int // pages at the top level, the homepage first
}

// The site's content was created between these dates; pages are spread
// over the span in id order.
var (
	epochStart = time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)
	epochEnd   = time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)
)

// buildUsers derives every account. Account 0 is the caller of
// /user/current: active, with a visible email.
func buildUsers(cfg Config) []user {
	users := make([]user, cfg.Users)
	for u := range users {
		users[u] = deriveUser(cfg, u)
	}
	return users
}

func deriveUser(cfg Config, u int) user {
	h := mix(cfg.Seed, saltUser, uint64(u))
	r := newRNG(h)
	usr := user{accountType: "atlassian", accountStatus: "active", personalSpace: -1}
	usr.accountID = accountID(h, u)
	given, family := pick(&r, givenNames), pick(&r, familyNames)
	usr.displayName = given + " " + family
	usr.publicName = given
	usr.timeZone = pick(&r, timeZones)
	usr.email = fmt.Sprintf("%s.%d@example.com", strings.ToLower(asciiOnly(given)), u)

	kind := r.intn(100)
	if u == 0 {
		kind = 99
	}
	switch {
	case kind < 6:
		usr.accountType = "app"
		usr.accountID = "557058:" + usr.accountID[strings.IndexByte(usr.accountID, ':')+1:]
		usr.displayName = appNames[u%len(appNames)]
		usr.publicName = usr.displayName
		usr.email, usr.timeZone = "", ""
	case kind < 12:
		usr.accountStatus = "inactive"
	case kind < 16:
		usr.accountStatus = "closed"
		usr.displayName, usr.publicName = "Former user", "Former user"
		usr.email, usr.timeZone = "", ""
	}
	if usr.accountType == "atlassian" && r.intn(100) < 35 && u != 0 {
		usr.email, usr.timeZone = "", ""
	}
	usr.external = usr.accountType == "atlassian" && r.intn(100) < 4
	return usr
}

// accountID derives an id in the form Atlassian uses for newer accounts;
// u is folded in so that two accounts never share one.
func accountID(h uint64, u int) string {
	h2 := splitmix(h)
	return fmt.Sprintf("712020:%08x-%04x-4%03x-a%03x-%012x",
		uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(h2>>48)&0xfff,
		(h2&0xfff_ffff)<<20|uint64(u)&0xf_ffff)
}

// asciiOnly keeps the ASCII letters of s, or returns "user" if none.
func asciiOnly(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 128 {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// buildSpaces derives every space and spreads pages and blog posts over
// them unevenly.
func buildSpaces(cfg Config, users []user) []space {
	spaces := make([]space, cfg.Spaces)
	keys := make(map[string]bool, cfg.Spaces)
	for k := range spaces {
		spaces[k] = deriveSpace(cfg, users, k, keys)
	}
	pageOff := spread(cfg.Pages, spaceWeights(cfg, spaces, saltPage))
	blogOff := spread(cfg.BlogPosts, spaceWeights(cfg, spaces, saltBlog))
	for k := range spaces {
		spaces[k].pageLo, spaces[k].pageHi = pageOff[k], pageOff[k+1]
		spaces[k].blogLo, spaces[k].blogHi = blogOff[k], blogOff[k+1]
	}
	return spaces
}

func deriveSpace(cfg Config, users []user, k int, keys map[string]bool) space {
	h := mix(cfg.Seed, saltSpace, uint64(k))
	r := newRNG(h)
	sp := space{typ: "global", status: "current"}
	sp.id = 98304 + int64(k)*32768 + int64(h%16000)
	sp.branch = 2 + r.intn(7)
	sp.roots = 1 + r.intn(3)
	sp.authorID = users[r.intn(len(users))].accountID

	owner := k % len(users)
	if k > 0 && r.intn(4) == 0 && users[owner].personalSpace < 0 && users[owner].accountType == "atlassian" {
		users[owner].personalSpace = k
		sp.typ = "personal"
		sp.key = "~" + strings.NewReplacer(":", "", "-", "").Replace(users[owner].accountID)
		sp.name = users[owner].displayName
		sp.authorID = users[owner].accountID
	} else {
		word := spaceWords[r.intn(len(spaceWords))]
		sp.key, sp.name = uniqueKey(word, k, keys)
		if k > 0 && r.intn(10) == 0 {
			sp.status = "archived"
		}
	}
	sp.descr = fmt.Sprintf("Home of the %s team: plans, runbooks and meeting notes.", sp.name)
	return sp
}

// uniqueKey returns a space key and name built from word that no earlier
// space uses.
func uniqueKey(word string, k int, keys map[string]bool) (string, string) {
	var abbr strings.Builder
	for _, f := range strings.Fields(word) {
		abbr.WriteString(strings.ToUpper(f[:min(len(f), 4)]))
	}
	key, name := abbr.String(), word
	if keys[key] {
		key += strconv.Itoa(k)
		name += " " + strconv.Itoa(k)
	}
	keys[key] = true
	return key, name
}

// spaceWeights gives each space an uneven share: a few big global spaces,
// many small ones, and small personal spaces.
func spaceWeights(cfg Config, spaces []space, salt uint64) []int64 {
	w := make([]int64, len(spaces))
	for k := range spaces {
		h := int64(mix(cfg.Seed, saltWeight, salt, uint64(k)) % 100)
		w[k] = 1 + h*h
		if spaces[k].typ == "personal" {
			w[k] = 1 + h%50
		}
	}
	return w
}

// spread divides total items over len(weights) buckets in proportion to
// the weights, giving each bucket at least one item while there are enough,
// and returns the bucket offsets (len(weights)+1 entries).
func spread(total int, weights []int64) []int {
	n := len(weights)
	counts := make([]int, n)
	rest := total
	if total >= n {
		for k := range counts {
			counts[k] = 1
		}
		rest -= n
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	given := 0
	for k, w := range weights {
		c := int(int64(rest) * w / sum)
		counts[k] += c
		given += c
	}
	for k := 0; given < rest; k = (k + 1) % n {
		counts[k]++
		given++
	}
	off := make([]int, n+1)
	for k, c := range counts {
		off[k+1] = off[k] + c
	}
	return off
}
