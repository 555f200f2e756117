package producer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
)

// Checkpoint is how far the crawl of one site has got. The producer commits it
// to the state topic in the same transaction as the events it covers, under the
// key of [checkpointKey].
type Checkpoint struct {
	Site string `json:"site"`
	// CrawlStartedAt is when the full crawl in progress began.
	CrawlStartedAt time.Time `json:"crawlStartedAt"`
	// UsersDone is set once every user of the user search was published.
	UsersDone bool `json:"usersDone"`
	// SpacesDone is set once every space was published and listed in Spaces.
	SpacesDone bool `json:"spacesDone"`
	// Spaces holds the progress of each space, by space id.
	Spaces map[string]*SpaceProgress `json:"spaces,omitempty"`
	// PendingAccounts are account ids that authored content but were not in the
	// user search; they are resolved and published at the end of the crawl.
	PendingAccounts []string `json:"pendingAccounts,omitempty"`
	// CompletedAt is when the full crawl finished; zero while it runs.
	CompletedAt time.Time `json:"completedAt"`
	// Stream is the position of the stream that follows the crawl: nil until
	// a crawl or a poll records one.
	Stream *StreamState `json:"stream,omitempty"`
}

// SpaceProgress is the crawl state of one space's listings. A next link is the
// absolute URL of the listing page to read next.
type SpaceProgress struct {
	Key           string `json:"key"`
	PagesNext     string `json:"pagesNext,omitempty"`
	PagesDone     bool   `json:"pagesDone"`
	BlogPostsNext string `json:"blogPostsNext,omitempty"`
	BlogPostsDone bool   `json:"blogPostsDone"`
	// Skipped says why the space was skipped (no permission, gone); a skipped
	// space is reported and never a reason to delete anything.
	Skipped string `json:"skipped,omitempty"`
}

// Done reports whether nothing is left to crawl in the space.
func (p *SpaceProgress) Done() bool {
	return p.Skipped != "" || (p.PagesDone && p.BlogPostsDone)
}

func checkpointKey(site string) []byte {
	return []byte(site + "/crawl")
}

// clone returns a deep copy, so the publisher's copy never shares maps with
// the crawler's.
func (c *Checkpoint) clone() *Checkpoint {
	out := *c
	out.Spaces = make(map[string]*SpaceProgress, len(c.Spaces))
	for id, p := range c.Spaces {
		cp := *p
		out.Spaces[id] = &cp
	}
	out.PendingAccounts = slices.Clone(c.PendingAccounts)
	out.Stream = c.Stream.clone()
	return &out
}

func (c *Checkpoint) record(topic string) (*kgo.Record, error) {
	value, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	return &kgo.Record{Topic: topic, Key: checkpointKey(c.Site), Value: value}, nil
}

// LoadCheckpoint reads the last committed checkpoint of site from the state
// topic. It returns nil when the site has none.
func LoadCheckpoint(ctx context.Context, opts []kgo.Opt, topic, site string) (*Checkpoint, error) {
	key := string(checkpointKey(site))
	var last []byte
	err := broker.ReadCommitted(ctx, opts, topic, func(r *kgo.Record) error {
		if string(r.Key) == key {
			last = r.Value
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load checkpoint of %s: %w", site, err)
	}
	if last == nil {
		return nil, nil
	}
	var c Checkpoint
	if err := json.Unmarshal(last, &c); err != nil {
		return nil, fmt.Errorf("decode checkpoint of %s: %w", site, err)
	}
	return &c, nil
}
