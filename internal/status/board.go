package status

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Board holds the progress of every site of the deployment. Its methods are
// safe for concurrent use.
type Board struct {
	now func() time.Time

	mu    sync.Mutex
	sites []*Site
}

// NewBoard returns an empty board. A nil now means time.Now.
func NewBoard(now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now}
}

// Add adds a site under its label and identity and returns its tracker.
func (b *Board) Add(name, identity string) *Site {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := newSite(name, identity, b.now)
	b.sites = append(b.sites, s)
	return s
}

// Sites returns the trackers in the order they were added.
func (b *Board) Sites() []*Site {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Site(nil), b.sites...)
}

// Snapshot returns every site's figures, in the order they were added.
func (b *Board) Snapshot() []SiteStatus {
	sites := b.Sites()
	out := make([]SiteStatus, len(sites))
	for i, s := range sites {
		out[i] = s.Snapshot()
	}
	return out
}

// Blocked describes each site that cannot make progress: failed, or in a
// wait that ends more than threshold from now. It is empty when all is well.
func (b *Board) Blocked(threshold time.Duration) []string {
	var out []string
	for _, s := range b.Snapshot() {
		switch {
		case s.State == StateFailed:
			out = append(out, fmt.Sprintf("%s: failed: %s", s.Name, s.Error))
		case s.WaitLeft > threshold:
			out = append(out, fmt.Sprintf("%s: %s", s.Name, s.Wait))
		}
	}
	return out
}

// Run takes a snapshot of every site each interval until ctx ends, so that
// rates and checkpoint times stay fresh when nobody is looking.
func (b *Board) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		b.Snapshot()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
