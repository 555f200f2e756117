package producer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// Result says how a crawl ended.
type Result struct {
	// Resumed is true when the crawl continued one that had not completed.
	Resumed bool
	// Skipped lists the spaces that could not be read, with the reason.
	Skipped []SkippedSpace
	// Checkpoint is the last committed checkpoint.
	Checkpoint *Checkpoint
}

// SkippedSpace is a space the crawl could not read.
type SkippedSpace struct {
	ID, Key, Reason string
}

// crawlOnce is one attempt of Crawl: it fences the site's previous producer,
// reads the checkpoint and crawls from it until done or the first error.
func (p *Producer) crawlOnce(ctx context.Context) (Result, error) {
	if err := p.fence(ctx); err != nil {
		return Result{}, err
	}
	opts := p.readOptions()
	state, err := LoadCheckpoint(ctx, opts, p.cfg.Topics.State, p.site.ID)
	if err != nil {
		return Result{}, fromKafka(err)
	}
	resumed := state != nil && state.CompletedAt.IsZero()
	if !resumed {
		state = &Checkpoint{Site: p.site.ID, CrawlStartedAt: p.now(), Spaces: map[string]*SpaceProgress{}}
	}
	acc := newAccounts(state.PendingAccounts)
	if state.UsersDone {
		if err := p.loadKnownAccounts(ctx, opts, acc); err != nil {
			return Result{}, fromKafka(err)
		}
	}
	p.logger.Info("crawl started", "resumed", resumed)

	pub := &publisher{
		cl: p.cl, stateTopic: p.cfg.Topics.State, maxEvents: p.cfg.TransactionEvents,
		checkpoint: state.clone(), stats: &p.stats, logger: p.logger,
	}
	in := make(chan batch, 4)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return pub.run(gctx, in) })
	g.Go(func() error {
		defer close(in)
		return p.crawl(gctx, state, acc, in)
	})
	err = g.Wait()
	res := Result{Resumed: resumed, Checkpoint: pub.checkpoint, Skipped: skipped(pub.checkpoint)}
	if err != nil {
		return res, err
	}
	p.logger.Info("crawl completed", "users", p.stats.Users.Load(), "spaces", p.stats.Spaces.Load(),
		"pages", p.stats.Pages.Load(), "blog_posts", p.stats.BlogPosts.Load(),
		"degraded", p.stats.Degraded.Load(), "skipped_spaces", len(res.Skipped))
	return res, nil
}

// crawl reads the site in order and sends what it reads to out. state is the
// checkpoint the crawl started from; it is not modified.
func (p *Producer) crawl(ctx context.Context, state *Checkpoint, acc *accounts, out chan<- batch) error {
	if !state.UsersDone {
		if err := p.crawlUsers(ctx, acc, out); err != nil {
			return err
		}
	}
	spaces := state.Spaces
	if !state.SpacesDone {
		var err error
		if spaces, err = p.crawlSpaces(ctx, out); err != nil {
			return err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.SpaceConcurrency)
	for _, id := range slices.Sorted(maps.Keys(spaces)) {
		progress := *spaces[id]
		if progress.Done() {
			continue
		}
		g.Go(func() error { return p.crawlSpace(gctx, id, progress, acc, out) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return p.finish(ctx, acc, out)
}

// crawlUsers publishes every user of the user search in one batch, so that a
// restart never publishes part of them twice. The search finds the accounts;
// users-bulk resolves them, because only its answer carries the account
// status and time zone, and a stream compares later answers with it.
func (p *Producer) crawlUsers(ctx context.Context, acc *accounts, out chan<- batch) error {
	var found []confluence.User
	err := p.src.SearchUsers(ctx, func(users []confluence.User) error {
		found = append(found, users...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.AccountID
	}
	resolved, err := p.src.FetchUsers(ctx, ids)
	if err != nil {
		return fmt.Errorf("fetch %d users: %w", len(ids), err)
	}
	events, err := p.userEvents(bulkFirst(found, resolved), p.now())
	if err != nil {
		return err
	}
	acc.publish(ids...)
	return send(ctx, out, batch{events: events, update: func(c *Checkpoint) { c.UsersDone = true }})
}

// crawlSpaces publishes every space and returns the progress map that lists
// them all.
func (p *Producer) crawlSpaces(ctx context.Context, out chan<- batch) (map[string]*SpaceProgress, error) {
	var events []outgoing
	spaces := map[string]*SpaceProgress{}
	now := p.now()
	err := p.src.ListSpaces(ctx, func(list []confluence.Space) error {
		for _, s := range list {
			msg, err := p.site.SpaceUpserted(spaceEntity(s), now)
			if err != nil {
				return err
			}
			events = append(events, outgoing{topic: p.cfg.Topics.Spaces, msg: msg})
			spaces[s.ID] = &SpaceProgress{Key: s.Key}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list spaces: %w", err)
	}
	update := func(c *Checkpoint) {
		c.SpacesDone = true
		for id, s := range spaces {
			cp := *s
			c.Spaces[id] = &cp
		}
	}
	return spaces, send(ctx, out, batch{events: events, update: update})
}

// crawlSpace publishes the pages and then the blog posts of one space. A space
// the account may not read, or that is gone, is skipped and reported.
func (p *Producer) crawlSpace(ctx context.Context, id string, progress SpaceProgress, acc *accounts, out chan<- batch) error {
	err := p.crawlListing(ctx, id, progress, false, acc, out)
	if err == nil {
		err = p.crawlListing(ctx, id, progress, true, acc, out)
	}
	reason := skipReason(err)
	if reason == "" {
		return err
	}
	p.logger.Warn("space skipped", "space_id", id, "space_key", progress.Key, "reason", reason, "err", err)
	return send(ctx, out, batch{update: func(c *Checkpoint) { c.Spaces[id].Skipped = reason }})
}

// crawlListing publishes one listing of a space (pages, or blog posts) from
// where its checkpoint left off. Every listing page becomes a batch whose
// checkpoint points at the next listing page.
func (p *Producer) crawlListing(ctx context.Context, spaceID string, progress SpaceProgress, blog bool, acc *accounts, out chan<- batch) error {
	list, from, done := p.src.ListSpacePages, progress.PagesNext, progress.PagesDone
	if blog {
		list, from, done = p.src.ListSpaceBlogPosts, progress.BlogPostsNext, progress.BlogPostsDone
	}
	if done {
		return nil
	}
	err := list(ctx, spaceID, from, func(pages []confluence.Page, next string) error {
		events := make([]outgoing, 0, len(pages))
		var seen []string
		for _, pg := range pages {
			if p.goneReason(pg.Status) != "" {
				continue // archived, when archived pages count as gone
			}
			e, err := p.pageEvent(pg)
			if err != nil {
				return err
			}
			events = append(events, e)
			seen = append(seen, accountIDs(pg)...)
		}
		fresh := acc.see(seen...)
		crawled := seenPages(pages)
		update := func(c *Checkpoint) {
			// The last listing page has no next link: the listing is done with
			// this batch. Leaving it undone made a crawl interrupted right after
			// it list the whole space again on resume, publishing it twice.
			setListing(c.Spaces[spaceID], blog, next, next == "")
			c.PendingAccounts = append(c.PendingAccounts, fresh...)
			c.noteCrawled(crawled, p.cfg.PollOverlap)
		}
		return send(ctx, out, batch{events: events, update: update})
	})
	if err != nil {
		return err // the client's error already names the listing and the space
	}
	return send(ctx, out, batch{update: func(c *Checkpoint) { setListing(c.Spaces[spaceID], blog, "", true) }})
}

// pageEvent builds the event of a page, in its degraded form without the body
// when the full one would exceed the topic's record size limit.
func (p *Producer) pageEvent(pg confluence.Page) (outgoing, error) {
	e := pageEntity(pg)
	msg, err := p.site.PageUpserted(e)
	if err != nil {
		return outgoing{}, err
	}
	out := outgoing{topic: p.cfg.Topics.Pages, msg: msg, blogPost: pg.Kind == schema.KindBlogPost}
	if len(msg.Key)+len(msg.Value)+recordOverhead <= p.cfg.MaxRecordBytes {
		return out, nil
	}
	p.logger.Warn("page published without body", "page_id", pg.ID, "bytes", len(msg.Value),
		"limit", p.cfg.MaxRecordBytes)
	if out.msg, err = p.site.PageUpserted(e.WithoutBody()); err != nil {
		return outgoing{}, err
	}
	out.degraded = true
	return out, nil
}

// finish resolves the accounts that authored content without being in the
// user search, and marks the crawl complete in the same transaction.
func (p *Producer) finish(ctx context.Context, acc *accounts, out chan<- batch) error {
	ids := acc.pendingIDs()
	slices.Sort(ids)
	var users []confluence.User
	if len(ids) > 0 {
		var err error
		if users, err = p.src.FetchUsers(ctx, ids); err != nil {
			return fmt.Errorf("fetch %d users: %w", len(ids), err)
		}
	}
	now := p.now()
	events, err := p.userEvents(users, now)
	if err != nil {
		return err
	}
	update := func(c *Checkpoint) {
		c.PendingAccounts = nil
		c.CompletedAt = now
	}
	return send(ctx, out, batch{events: events, update: update})
}

// loadKnownAccounts marks as published every user of this site already in the
// users topic, so a resumed crawl does not publish them again.
func (p *Producer) loadKnownAccounts(ctx context.Context, opts []kgo.Opt, acc *accounts) error {
	prefix := p.site.ID + "/"
	return broker.ReadCommitted(ctx, opts, p.cfg.Topics.Users, func(r *kgo.Record) error {
		if id, ok := strings.CutPrefix(string(r.Key), prefix); ok && r.Value != nil {
			acc.publish(id)
		}
		return nil
	})
}

// readOptions are the options of the short-lived clients that read the state
// and users topics: the producer's own, without its transactional id.
func (p *Producer) readOptions() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(p.cfg.Brokers...)}, p.cfg.ClientOptions...)
}

func send(ctx context.Context, out chan<- batch, b batch) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func setListing(s *SpaceProgress, blog bool, next string, done bool) {
	if blog {
		s.BlogPostsNext, s.BlogPostsDone = next, done
		return
	}
	s.PagesNext, s.PagesDone = next, done
}

func listingName(blog bool) string {
	if blog {
		return "blog posts"
	}
	return "pages"
}

// skipReason tells whether err means the space should be skipped, and why.
func skipReason(err error) string {
	switch {
	case errors.Is(err, confluence.ErrForbidden):
		return "forbidden"
	case errors.Is(err, confluence.ErrNotFound):
		return "not found"
	}
	return ""
}

func skipped(c *Checkpoint) []SkippedSpace {
	var out []SkippedSpace
	for _, id := range slices.Sorted(maps.Keys(c.Spaces)) {
		if s := c.Spaces[id]; s.Skipped != "" {
			out = append(out, SkippedSpace{ID: id, Key: s.Key, Reason: s.Skipped})
		}
	}
	return out
}
