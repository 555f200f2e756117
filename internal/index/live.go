package index

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrNoIndex is what a Live without a Store answers: the first index is
// still being built. Its HTTP interface answers 503 then.
var ErrNoIndex = errors.New("no index yet: the first build is still running")

// Live is the index that searches read while it is being replaced: a
// rebuilt Store takes over from the old one in a single step, and each
// search or count is answered entirely by one of them, never by a closed
// Store and never by a mix.
//
// The current Store sits behind an atomic pointer. A search loads the
// pointer and holds its generation's read lock while it queries; Swap
// installs the new generation first, then takes the old one's write lock,
// which waits for the searches still running there and marks it retired.
// A search that loaded the old pointer just before the swap finds it
// retired under its lock and loads again, getting the new Store. So the
// old Store can be closed as soon as Swap returns, and searches never wait
// for more than the searches already running on the old Store.
//
// Its methods are safe for concurrent use.
type Live struct {
	cur atomic.Pointer[generation]
	log *slog.Logger
}

// generation is one Store behind a Live, and its readers.
type generation struct {
	store *Store // nil until the first index exists

	mu      sync.RWMutex // read-held by each search on store, write-held by Swap to retire it
	retired bool
}

// NewLive returns a Live that answers from s; a nil s answers ErrNoIndex
// until the first Swap. A nil logger discards logs. The caller closes the
// Stores that Swap returns; Close closes the current one.
func NewLive(s *Store, logger *slog.Logger) *Live {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Live{log: logger}
	l.cur.Store(&generation{store: s})
	return l
}

// Swap makes s the Store that answers from now on and returns the previous
// one (nil if there was none), which no search uses any more: the caller
// closes it. s must not be nil. Swap blocks until the searches running on
// the previous Store finished.
func (l *Live) Swap(s *Store) *Store {
	if s == nil {
		panic("index: Live.Swap with a nil Store")
	}
	return l.replace(s)
}

// Close closes the current Store once its running searches finished; from
// then on, searches answer ErrNoIndex until a Swap.
func (l *Live) Close() error {
	if s := l.replace(nil); s != nil {
		return s.Close()
	}
	return nil
}

// replace installs s and retires the previous generation, whose Store it
// returns.
func (l *Live) replace(s *Store) *Store {
	old := l.cur.Swap(&generation{store: s})
	old.mu.Lock()
	old.retired = true
	old.mu.Unlock()
	return old.store
}

// Search is Store.Search on the current Store.
func (l *Live) Search(ctx context.Context, query string, limit int) ([]Hit, error) {
	var hits []Hit
	err := l.use(func(s *Store) error {
		var err error
		hits, err = s.Search(ctx, query, limit)
		return err
	})
	return hits, err
}

// Counts is Store.Counts on the current Store.
func (l *Live) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := l.use(func(s *Store) error {
		var err error
		c, err = s.Counts(ctx)
		return err
	})
	return c, err
}

// Handler returns the HTTP interface of Store.Handler, answered by the
// current Store, or 503 while there is none.
func (l *Live) Handler() http.Handler {
	return newHandler(l, l.log)
}

// use calls fn with the current Store, holding it against retirement.
func (l *Live) use(fn func(*Store) error) error {
	for {
		if retired, err := l.cur.Load().use(fn); !retired {
			return err
		}
		// Swap retired the generation after it was loaded: its successor
		// is already in place.
	}
}

// use calls fn with g's Store, unless g is retired.
func (g *generation) use(fn func(*Store) error) (retired bool, err error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.retired {
		return true, nil
	}
	if g.store == nil {
		return false, ErrNoIndex
	}
	return false, fn(g.store)
}
