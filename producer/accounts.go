package producer

import "sync"

// accounts tracks which account ids were published by the user search and
// which were seen on content without being published yet. It is shared by the
// goroutines that crawl spaces.
type accounts struct {
	mu      sync.Mutex
	known   map[string]bool
	pending map[string]bool
}

func newAccounts(pending []string) *accounts {
	a := &accounts{known: map[string]bool{}, pending: map[string]bool{}}
	for _, id := range pending {
		a.pending[id] = true
	}
	return a
}

// publish records ids as published.
func (a *accounts) publish(ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range ids {
		a.known[id] = true
		delete(a.pending, id)
	}
}

// see records ids seen on content and returns those not seen before, which
// become pending.
func (a *accounts) see(ids ...string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var fresh []string
	for _, id := range ids {
		if id == "" || a.known[id] || a.pending[id] {
			continue
		}
		a.pending[id] = true
		fresh = append(fresh, id)
	}
	return fresh
}

// pendingIDs returns the pending ids.
func (a *accounts) pendingIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.pending))
	for id := range a.pending {
		ids = append(ids, id)
	}
	return ids
}
