package confluence

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingObserver keeps what a Client reports, in order.
type recordingObserver struct {
	mu       sync.Mutex
	retries  []string
	breakers []string
}

func (o *recordingObserver) Retried(method, path string, attempt, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, method+" "+path+" "+http.StatusText(status))
}

func (o *recordingObserver) BreakerChanged(state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.breakers = append(o.breakers, state)
}

func TestObserverSeesRetriesAndBreakerStates(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"accountId":"a1","accountType":"atlassian","displayName":"Crawler"}`))
	}))
	t.Cleanup(srv.Close)
	obs := &recordingObserver{}
	c, err := New(Config{
		BaseURL: srv.URL, Email: testEmail, APIToken: testToken, Observer: obs,
		BackoffBase: time.Millisecond, BackoffMax: time.Millisecond,
		BreakerFailures: 2, BreakerOpenFor: time.Millisecond, RequestsPerSecond: 1000,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.FetchCurrentUser(t.Context()); err != nil {
		t.Fatalf("FetchCurrentUser() = %v, want success on the third attempt", err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	wantRetries := []string{"GET /wiki/rest/api/user/current Bad Gateway", "GET /wiki/rest/api/user/current Bad Gateway"}
	if !slices.Equal(obs.retries, wantRetries) {
		t.Errorf("Retried calls = %q, want %q", obs.retries, wantRetries)
	}
	if want := []string{"open", "half-open", "closed"}; !slices.Equal(obs.breakers, want) {
		t.Errorf("BreakerChanged calls = %q, want %q", obs.breakers, want)
	}
}
