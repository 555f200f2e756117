package index

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parable/confluence-kafka/schema"
)

// storeWithPages opens a fresh index holding n pages.
func storeWithPages(t *testing.T, n int) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "index.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]schema.Event, n)
	for i := range evs {
		evs[i] = pageEvent(t, fmt.Sprint(i), 1)
	}
	if err := s.Apply(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLiveSwap(t *testing.T) {
	a, b := storeWithPages(t, 1), storeWithPages(t, 2)
	l := NewLive(a, nil)

	if got := livePages(t, l); got != 1 {
		t.Fatalf("Counts() before Swap = %d pages, want 1 (the first store)", got)
	}
	if old := l.Swap(b); old != a {
		t.Errorf("Swap() = %p, want the first store %p", old, a)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := livePages(t, l); got != 2 {
		t.Errorf("Counts() after Swap = %d pages, want 2 (the second store)", got)
	}
	if got := len(searchLive(t, l, "Runbook")); got != 2 {
		t.Errorf("Search(Runbook) after Swap = %d hits, want 2", got)
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	if _, err := l.Counts(t.Context()); !errors.Is(err, ErrNoIndex) {
		t.Errorf("Counts() after Close = %v, want ErrNoIndex", err)
	}
	if _, err := b.Counts(t.Context()); err == nil {
		t.Errorf("second store's Counts() after Live.Close = nil, want an error: Live.Close closed it")
	}
}

func TestLiveWithoutStore(t *testing.T) {
	l := NewLive(nil, nil)
	if _, err := l.Search(t.Context(), "Runbook", 0); !errors.Is(err, ErrNoIndex) {
		t.Errorf("Search() without a store = %v, want ErrNoIndex", err)
	}
	srv := httptest.NewServer(l.Handler())
	defer srv.Close()
	for _, path := range []string{"/search?q=Runbook", "/counts"} {
		if got := status(t, srv.URL+path); got != http.StatusServiceUnavailable {
			t.Errorf("GET %s without a store = %d, want 503", path, got)
		}
	}

	s := storeWithPages(t, 1)
	defer s.Close()
	if old := l.Swap(s); old != nil {
		t.Errorf("first Swap() = %p, want nil", old)
	}
	if got := status(t, srv.URL+"/search?q=Runbook"); got != http.StatusOK {
		t.Errorf("GET /search after the first Swap = %d, want 200", got)
	}
}

// A search that loaded the current generation just before a Swap finds it
// retired and never touches its store, which the caller may have closed.
func TestLiveStaleLoadIsRetried(t *testing.T) {
	a, b := storeWithPages(t, 1), storeWithPages(t, 2)
	defer b.Close()
	l := NewLive(a, nil)

	stale := l.cur.Load() // what a search loaded before the swap
	if err := l.Swap(b).Close(); err != nil {
		t.Fatal(err)
	}
	retired, err := stale.use(func(*Store) error {
		t.Error("use() called fn with the retired, closed store")
		return nil
	})
	if !retired || err != nil {
		t.Errorf("use() on the swapped-out generation = %t, %v; want retired, nil", retired, err)
	}
	if got := livePages(t, l); got != 2 {
		t.Errorf("Counts() = %d pages, want 2 from the new store", got)
	}
}

// Readers run while stores are swapped in and the retired ones closed at
// once: no read may fail (a read on a closed store fails with "sql:
// database is closed"), and a reader never goes back to an older store.
func TestLiveSwapUnderLoad(t *testing.T) {
	const generations, readers = 5, 4
	stores := make([]*Store, generations)
	for i := range stores {
		stores[i] = storeWithPages(t, i+1)
	}
	l := NewLive(stores[0], nil)

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() { errs <- readUntilStopped(ctx, l) })
	}
	for i := 1; i < generations; i++ {
		if err := l.Swap(stores[i]).Close(); err != nil {
			t.Fatalf("Close() of a retired store = %v, want no error", err)
		}
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := stores[generations-1].Close(); err != nil {
		t.Fatal(err)
	}
}

// readUntilStopped counts and searches until ctx ends; it reports the first
// failure or step back to an older store.
func readUntilStopped(ctx context.Context, l *Live) error {
	seen := 0
	for n := 0; ctx.Err() == nil || n == 0; n++ {
		c, err := l.Counts(context.Background())
		if err != nil {
			return fmt.Errorf("Counts() = %w, want no error", err)
		}
		if c.Pages < seen {
			return fmt.Errorf("Counts() = %d pages after %d: a reader went back to an older store", c.Pages, seen)
		}
		seen = c.Pages
		if _, err := l.Search(context.Background(), "Runbook", 0); err != nil {
			return fmt.Errorf("Search() = %w, want no error", err)
		}
	}
	return nil
}

func livePages(t *testing.T, l *Live) int {
	t.Helper()
	c, err := l.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts() = %v, want no error", err)
	}
	return c.Pages
}

func searchLive(t *testing.T, l *Live, q string) []Hit {
	t.Helper()
	hits, err := l.Search(t.Context(), q, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v, want no error", q, err)
	}
	return hits
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
