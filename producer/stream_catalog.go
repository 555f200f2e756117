package producer

import (
	"context"
	"fmt"
	"strings"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/schema"
)

// published is what the topics hold of the site, as far as a stream needs
// it: the live pages and blog posts, and the ce_id last published for each
// user and space. The ce_id of a user or space derives from its content, so
// comparing it tells whether a listing shows a change.
type published struct {
	pages  catalog
	users  map[string]string
	spaces map[string]string
}

// catalog is the set of live pages and blog posts: their ids, each with its
// space and kind. Deletion detection compares listings with it. It costs
// about 80 bytes per page.
//
// TODO(#5): it is read back from the pages topic at every start, which reads
// every page body once; a compact id set per space in the state topic would
// avoid that for large sites, at the price of more state to commit.
type catalog struct {
	items    map[string]pageRef
	interned map[string]string // space ids, shared by the entries
}

type pageRef struct {
	space string
	blog  bool
}

func newCatalog() catalog {
	return catalog{items: map[string]pageRef{}, interned: map[string]string{}}
}

func (c *catalog) put(id, space string, blog bool) {
	s, ok := c.interned[space]
	if !ok {
		s = strings.Clone(space)
		c.interned[s] = s
	}
	c.items[id] = pageRef{space: s, blog: blog}
}

func (c *catalog) get(id string) (pageRef, bool) {
	r, ok := c.items[id]
	return r, ok
}

func (c *catalog) drop(id string) {
	delete(c.items, id)
}

func (c *catalog) len() int {
	return len(c.items)
}

// bySpace groups the catalog's ids by space: for each id, whether it is a
// blog post.
func (c *catalog) bySpace() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for id, r := range c.items {
		if out[r.space] == nil {
			out[r.space] = map[string]bool{}
		}
		out[r.space][id] = r.blog
	}
	return out
}

// loadPublished reads the site's users, spaces and pages back from the
// topics, up to what was committed.
func (p *Producer) loadPublished(ctx context.Context) (*published, error) {
	known := &published{pages: newCatalog(), users: map[string]string{}, spaces: map[string]string{}}
	if err := p.readSite(ctx, p.cfg.Topics.Users, eventIDs(known.users)); err != nil {
		return nil, err
	}
	if err := p.readSite(ctx, p.cfg.Topics.Spaces, eventIDs(known.spaces)); err != nil {
		return nil, err
	}
	err := p.readSite(ctx, p.cfg.Topics.Pages, func(id string, r *kgo.Record) error {
		if r.Value == nil {
			known.pages.drop(id)
			return nil
		}
		var v struct {
			SpaceID string `json:"spaceId"`
			Kind    string `json:"kind"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return fmt.Errorf("decode page %s at offset %d: %w", id, r.Offset, err)
		}
		known.pages.put(id, v.SpaceID, v.Kind == schema.KindBlogPost)
		return nil
	})
	return known, err
}

// readSite calls fn with the entity id and record of every committed record
// of the site in topic, in offset order per partition.
func (p *Producer) readSite(ctx context.Context, topic string, fn func(id string, r *kgo.Record) error) error {
	prefix := p.site.ID + "/"
	err := broker.ReadCommitted(ctx, p.readOptions(), topic, func(r *kgo.Record) error {
		if id, ok := strings.CutPrefix(string(r.Key), prefix); ok {
			return fn(id, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read back %s: %w", topic, err)
	}
	return nil
}

// eventIDs returns a record handler that keeps the ce_id of each live
// entity in ids.
func eventIDs(ids map[string]string) func(string, *kgo.Record) error {
	return func(id string, r *kgo.Record) error {
		if r.Value == nil {
			delete(ids, id)
			return nil
		}
		ev, err := schema.ParseRecord(r)
		if err != nil {
			return fmt.Errorf("read %s at offset %d: %w", id, r.Offset, err)
		}
		ids[id] = ev.ID
		return nil
	}
}
