// Package status follows the crawl of each site for people: a live progress
// line per site on a terminal, periodic progress logs otherwise, and a
// self-refreshing status page with the same figures plus consumer lag.
//
// A [Board] holds one [Site] per crawled site. The crawl reports to its Site
// (start, spaces, waits, breaker, end); readers take a [SiteStatus] snapshot,
// which derives the rate, the wait left and the last checkpoint time.
package status

import (
	"fmt"
	"sync"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/producer"
)

// State is where a site's crawl is.
type State string

// States of a site's crawl.
const (
	StateStarting  State = "starting"
	StateCrawling  State = "crawling"
	StateWaiting   State = "waiting"
	StateCompleted State = "completed"
	StateFailed    State = "failed"
	StateStopped   State = "stopped"
)

// rateWindow is how far back the pages-per-second rate looks.
const rateWindow = 10 * time.Second

// Site is the progress of one site's crawl. Its methods are safe for
// concurrent use; the reporting ones never block.
type Site struct {
	name, identity string
	now            func() time.Time

	mu          sync.Mutex
	state       State
	stats       *producer.Stats
	resumed     bool
	spaces      map[string]*spaceDone
	waitReason  string
	waitUntil   time.Time
	breaker     string
	lastTxns    int64
	lastCommit  time.Time
	err         string
	started     time.Time
	ended       time.Time
	samples     []sample
	spacesKnown bool
}

type spaceDone struct{ pages, blogPosts bool }

type sample struct {
	at    time.Time
	pages int64
}

// SiteStatus is a snapshot of a Site, as the progress line, the status page
// and its JSON show it.
type SiteStatus struct {
	Name           string        `json:"name"`
	Identity       string        `json:"site"`
	State          State         `json:"state"`
	Resumed        bool          `json:"resumed"`
	SpacesDone     int           `json:"spacesDone"`
	SpacesTotal    int           `json:"spacesTotal"`
	Pages          int64         `json:"pages"`
	Users          int64         `json:"users"`
	Degraded       int64         `json:"degraded"`
	PagesPerSecond float64       `json:"pagesPerSecond"`
	Wait           string        `json:"wait,omitempty"`
	WaitReason     string        `json:"waitReason,omitempty"`
	WaitLeft       time.Duration `json:"-"`
	WaitSeconds    int64         `json:"waitSeconds,omitempty"`
	Breaker        string        `json:"breaker"`
	LastCheckpoint time.Time     `json:"lastCheckpoint"`
	Error          string        `json:"error,omitempty"`
	Started        time.Time     `json:"started"`
}

func newSite(name, identity string, now func() time.Time) *Site {
	return &Site{name: name, identity: identity, now: now, state: StateStarting, breaker: "closed",
		spaces: map[string]*spaceDone{}}
}

// Name returns the site's label.
func (s *Site) Name() string { return s.name }

// Start marks the crawl as running; stats are the producer's counters, read
// at each snapshot. cp is the checkpoint the crawl resumes from, nil for a
// new crawl: its finished spaces count as done.
func (s *Site) Start(stats *producer.Stats, cp *producer.Checkpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats, s.state, s.started = stats, StateCrawling, s.now()
	s.spaces, s.spacesKnown = map[string]*spaceDone{}, false
	if cp != nil && cp.CompletedAt.IsZero() {
		s.resumed, s.spacesKnown = true, cp.SpacesDone
		for id, p := range cp.Spaces {
			s.spaces[id] = &spaceDone{pages: p.PagesDone || p.Skipped != "", blogPosts: p.BlogPostsDone || p.Skipped != ""}
		}
	}
}

// Stats returns the producer counters given to Start, nil before.
func (s *Site) Stats() *producer.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// SpacesListed records the spaces of the site, none of them crawled yet.
func (s *Site) SpacesListed(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.spaces[id] == nil {
			s.spaces[id] = &spaceDone{}
		}
	}
	s.spacesKnown = true
}

// ListingDone records that the pages (or, with blog set, the blog posts) of
// a space were all read or skipped.
func (s *Site) ListingDone(spaceID string, blog bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.spaces[spaceID]
	if d == nil {
		d = &spaceDone{}
		s.spaces[spaceID] = d
	}
	if blog {
		d.blogPosts = true
	} else {
		d.pages = true
	}
}

// OnWait records a site-wide wait; it has the signature of
// confluence.Config.OnWait.
func (s *Site) OnWait(reason string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.now().Add(d); until.After(s.waitUntil) {
		s.waitReason, s.waitUntil = reason, until
	}
}

// BreakerChanged records the breaker's state: closed, half-open or open.
func (s *Site) BreakerChanged(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breaker = state
}

// Finish records how the crawl ended: completed when err is nil, stopped
// when it was cancelled, failed otherwise.
func (s *Site) Finish(err error, stopped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = s.now()
	switch {
	case err == nil:
		s.state = StateCompleted
	case stopped:
		s.state, s.err = StateStopped, err.Error()
	default:
		s.state, s.err = StateFailed, err.Error()
	}
}

// Snapshot returns the site's figures now. It also samples the producer's
// counters, so the rate and the last checkpoint time are as fresh as the
// snapshots are frequent: the Board takes one every second.
func (s *Site) Snapshot() SiteStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	st := SiteStatus{
		Name: s.name, Identity: s.identity, State: s.state, Resumed: s.resumed,
		Breaker: s.breaker, Error: s.err, Started: s.started,
	}
	st.SpacesDone, st.SpacesTotal = s.spaceCounts()
	if s.stats != nil {
		st.Pages = s.stats.Pages.Load() + s.stats.BlogPosts.Load()
		st.Users, st.Degraded = s.stats.Users.Load(), s.stats.Degraded.Load()
		s.sample(now, st.Pages)
	}
	st.LastCheckpoint = s.lastCommit
	st.PagesPerSecond = s.rate(now, st.Pages)
	if left := s.waitUntil.Sub(now); left > 0 && s.ended.IsZero() {
		st.WaitReason, st.WaitLeft, st.WaitSeconds = s.waitReason, left, int64(left.Round(time.Second)/time.Second)
		st.Wait = waitText(s.waitReason, left)
		if st.State == StateCrawling {
			st.State = StateWaiting
		}
	}
	return st
}

func (s *Site) spaceCounts() (done, total int) {
	for _, d := range s.spaces {
		if d.pages && d.blogPosts {
			done++
		}
	}
	if !s.spacesKnown && s.state != StateCompleted {
		return done, 0 // not listed yet
	}
	return done, len(s.spaces)
}

// sample notes the pages count and a commit, keeping rateWindow of samples.
func (s *Site) sample(now time.Time, pages int64) {
	if txns := s.stats.Transactions.Load(); txns != s.lastTxns {
		s.lastTxns, s.lastCommit = txns, now
	}
	s.samples = append(s.samples, sample{at: now, pages: pages})
	for len(s.samples) > 2 && now.Sub(s.samples[1].at) >= rateWindow {
		s.samples = s.samples[1:]
	}
}

// rate is pages per second over the sample window while the crawl runs,
// and over the whole crawl once it ended.
func (s *Site) rate(now time.Time, pages int64) float64 {
	if !s.ended.IsZero() {
		if d := s.ended.Sub(s.started).Seconds(); d > 0 {
			return float64(pages) / d
		}
		return 0
	}
	if len(s.samples) < 2 {
		return 0
	}
	first := s.samples[0]
	if d := now.Sub(first.at).Seconds(); d > 0 {
		return float64(pages-first.pages) / d
	}
	return 0
}

// waitText says what a wait means for a person.
func waitText(reason string, left time.Duration) string {
	left = left.Round(time.Second)
	switch reason {
	case confluence.WaitRateLimited:
		return fmt.Sprintf("rate limited by Confluence, resuming in %s", left)
	case confluence.WaitBreakerOpen:
		return fmt.Sprintf("Confluence failing (breaker open), retrying in %s", left)
	}
	return fmt.Sprintf("%s, resuming in %s", reason, left)
}
