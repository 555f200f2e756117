package indexer_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/parable/confluence-kafka/internal/index"
)

// The phases of a rebuild as the hammer sees them.
const (
	phaseBuilding  int32 = iota // only the old index can answer
	phaseSwitching              // Switch is running: either may answer
	phaseSwitched               // only the new index can answer
)

// hammer asks the search endpoint for its counts and a search, again and
// again, noting the phase at the start and the end of each request.
type hammer struct {
	url   string
	phase atomic.Int32
	done  chan struct{}
	out   chan []answer
}

// answer is one /counts request and the phases around it.
type answer struct {
	start, end int32
	counts     index.Counts
	err        error
}

// startHammer starts hammering url and returns once one request was
// answered in phaseBuilding.
func startHammer(t *testing.T, url string) *hammer {
	t.Helper()
	h := &hammer{url: url, done: make(chan struct{}), out: make(chan []answer, 1)}
	ready := make(chan struct{})
	go h.run(ready)
	<-ready
	return h
}

// run requests until stopped, and at least once after the switch.
func (h *hammer) run(ready chan struct{}) {
	var answers []answer
	for {
		a := answer{start: h.phase.Load()}
		a.counts, a.err = h.ask()
		a.end = h.phase.Load()
		answers = append(answers, a)
		if len(answers) == 1 {
			close(ready)
		}
		select {
		case <-h.done:
			if a.start == phaseSwitched {
				h.out <- answers
				return
			}
		default:
		}
	}
}

// ask searches, then returns the counts.
func (h *hammer) ask() (index.Counts, error) {
	if _, err := get(h.url + "/search?q=Runbook"); err != nil {
		return index.Counts{}, err
	}
	body, err := get(h.url + "/counts")
	if err != nil {
		return index.Counts{}, err
	}
	var c index.Counts
	return c, json.Unmarshal(body, &c)
}

// stop stops the hammer after its next request and returns the answers.
func (h *hammer) stop(t *testing.T) []answer {
	t.Helper()
	close(h.done)
	return <-h.out
}

// check fails the test for every failed request, and for every answer
// from the new index before the switch or from the old one after it.
func (h *hammer) check(t *testing.T, answers []answer, old, new index.Counts) {
	t.Helper()
	var before, after int
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("request %d (phase %d..%d) failed: %v", i, a.start, a.end, a.err)
		case a.end == phaseBuilding && a.counts != old:
			t.Errorf("request %d before the switch got %+v, want the old index's %+v", i, a.counts, old)
		case a.start == phaseSwitched && a.counts != new:
			t.Errorf("request %d after the switch got %+v, want the new index's %+v", i, a.counts, new)
		case a.counts != old && a.counts != new:
			t.Errorf("request %d during the switch got %+v, want %+v or %+v", i, a.counts, old, new)
		}
		if a.end == phaseBuilding {
			before++
		}
		if a.start == phaseSwitched {
			after++
		}
	}
	t.Logf("%d requests: %d before the switch, %d after it", len(answers), before, after)
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, body)
	}
	return body, err
}
