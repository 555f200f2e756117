package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/schema"
)

// errCommit marks a failed Kafka transaction: the stream cannot go on
// without knowing what the topics hold, so it stops.
var errCommit = errors.New("stream commit failed")

// commitTimeout bounds a transaction from its first record to its commit,
// including one that is finishing after the crawl or stream was asked to
// stop.
const commitTimeout = 30 * time.Second

// Poller runs the polls of a stream one at a time. Stream drives one on a
// ticker; tests and tools may call Poll themselves. A Poller must not be
// used concurrently, nor alongside other calls on its Producer.
type Poller struct {
	p      *Producer
	src    StreamSource
	status StatusSource // nil when the source cannot list by status
	pub    *publisher   // owns the committed checkpoint
	known  *published
	log    *slog.Logger
}

// PollResult says what one poll did.
type PollResult struct {
	// Poll is the poll's number, counted from 1 over the life of the stream.
	Poll int64
	// Feed is the listing the poll read: schema.KindPage or
	// schema.KindBlogPost.
	Feed string
	// Pages, Users and Spaces count the upsert events published; Deletions
	// counts tombstones.
	Pages, Users, Spaces, Deletions int
	// TrashListed, Relisted and Swept say which periodic tasks completed.
	TrashListed, Relisted, Swept bool
	// SweepAborted lists the spaces whose sweep stopped on an error: nothing
	// was deleted in them.
	SweepAborted []string
}

// Stream runs one full crawl, or resumes an incomplete one, and then polls
// the site for changes every interval until ctx ends, publishing each change
// once. It blocks meanwhile and returns nil after a shutdown through ctx; a
// transaction in progress then finishes first. It returns an error when the
// crawl fails, when Confluence rejects the credentials, or when a Kafka
// transaction fails. Other failures of a poll are logged and the next poll
// tries again.
//
// The source must implement StreamSource. An idle poll costs one request:
// polls alternate between the site-wide page and blog post listings sorted
// by modification date, each stopping at its watermark. See Config for the
// periodic relisting, sweep and trash listing.
func (p *Producer) Stream(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("poll interval %s: want more than 0s", interval)
	}
	pl, err := p.StartStream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		res, err := pl.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case fatal(err):
			return err
		case err != nil:
			p.logger.Warn("poll failed", "poll", res.Poll, "err", err)
		default:
			p.logger.Debug("poll done", "poll", res.Poll, "feed", res.Feed, "pages", res.Pages,
				"deletions", res.Deletions, "users", res.Users, "spaces", res.Spaces)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// StartStream prepares the polls of a stream: it runs or resumes the full
// crawl when the last one did not complete, then reads back from the topics
// what they hold of the site (its users, spaces and the ids of its pages).
func (p *Producer) StartStream(ctx context.Context) (*Poller, error) {
	src, ok := p.src.(StreamSource)
	if !ok {
		return nil, fmt.Errorf("stream: source %T does not list by modification date", p.src)
	}
	// Take over the transactional id before reading: a predecessor's commit
	// still being completed would otherwise be missed (see fence).
	if err := p.fence(ctx); err != nil {
		return nil, err
	}
	state, err := LoadCheckpoint(ctx, p.readOptions(), p.cfg.Topics.State, p.site.ID)
	if err != nil {
		return nil, err
	}
	if state == nil || state.CompletedAt.IsZero() {
		res, err := p.Crawl(ctx)
		if err != nil {
			return nil, err
		}
		state = res.Checkpoint
	}
	known, err := p.loadPublished(ctx)
	if err != nil {
		return nil, err
	}
	pl := &Poller{p: p, src: src, known: known, log: p.logger,
		pub: &publisher{cl: p.cl, stateTopic: p.cfg.Topics.State, checkpoint: state.clone(),
			stats: &p.stats, logger: p.logger}}
	pl.status, _ = p.src.(StatusSource)
	pl.start(state)
	return pl, nil
}

// start gives each feed its first watermark: the crawl's start minus the
// overlap, so the first poll lists every change the crawl may have missed.
func (pl *Poller) start(state *Checkpoint) {
	since := state.CrawlStartedAt.Add(-pl.p.cfg.PollOverlap)
	st := pl.pub.checkpoint.stream()
	for _, f := range []*Feed{&st.Pages, &st.BlogPosts} {
		if f.Since.IsZero() {
			f.Since = since
		}
	}
	pl.log.Info("stream started", "polls", st.Polls, "pages_since", st.Pages.Since,
		"blog_posts_since", st.BlogPosts.Since, "known_pages", pl.known.pages.len())
}

// Poll runs the next poll: it reads one feed, then the periodic tasks that
// are due. It returns the first fatal error at once (see Stream); other
// failures are joined into the error after every due task ran.
func (pl *Poller) Poll(ctx context.Context) (PollResult, error) {
	n := pl.pub.checkpoint.stream().Polls + 1
	res := PollResult{Poll: n, Feed: schema.KindPage}
	blog := n%2 == 0
	if blog {
		res.Feed = schema.KindBlogPost
	}
	if err := pl.pollFeed(ctx, n, blog, &res); err != nil {
		return res, err
	}
	cfg := pl.p.cfg
	var errs []error
	for _, task := range []struct {
		every int
		run   func(context.Context, *PollResult) error
	}{
		{cfg.TrashEvery, pl.listTrash},
		{cfg.RelistEvery, pl.relist},
		{cfg.SweepEvery, pl.sweep},
	} {
		if task.every < 0 || n%int64(task.every) != 0 {
			continue
		}
		err := task.run(ctx, &res)
		if fatal(err) {
			return res, err
		}
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// Checkpoint returns the last committed checkpoint. It must not be modified.
func (pl *Poller) Checkpoint() *Checkpoint {
	return pl.pub.checkpoint
}

// fatal reports whether err must stop the stream.
func fatal(err error) bool {
	return errors.Is(err, errCommit) || errors.Is(err, confluence.ErrUnauthorized) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// txn is what one stream transaction publishes: its events, the change to
// the checkpoint that goes with them, and what the stream learns about the
// topics once they committed.
type txn struct {
	events  []outgoing
	notes   []seenPage      // versions for the feeds' Recent maps
	dropped map[string]bool // pages t deletes
	after   []func()
}

// commit publishes t with update applied to the checkpoint, in one
// transaction, and then applies what t taught. A transaction that began
// finishes even when ctx ends meanwhile, within commitTimeout.
func (pl *Poller) commit(ctx context.Context, t *txn, res *PollResult, update func(*Checkpoint)) error {
	if len(t.events) == 0 && update == nil && len(t.notes) == 0 {
		return nil
	}
	notes := t.notes
	b := batch{events: t.events, update: func(c *Checkpoint) {
		st := c.stream()
		for _, n := range notes {
			st.feed(n.blog).note(n)
		}
		if update != nil {
			update(c)
		}
	}}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := pl.pub.commit(cctx, []batch{b}); err != nil {
		return fmt.Errorf("%w: %w", errCommit, err)
	}
	for _, fn := range t.after {
		fn()
	}
	res.count(t.events)
	*t = txn{}
	return nil
}

// flushIfFull commits t early once it holds a transaction's worth of
// events. The watermark stays where it was: a restart lists those pages
// again, and the Recent map noted with them skips them.
func (pl *Poller) flushIfFull(ctx context.Context, t *txn, res *PollResult) error {
	if len(t.events) < pl.p.cfg.TransactionEvents {
		return nil
	}
	return pl.commit(ctx, t, res, nil)
}

func (r *PollResult) count(events []outgoing) {
	for _, e := range events {
		switch e.msg.Envelope.Type {
		case schema.TypePageUpserted:
			r.Pages++
		case schema.TypeUserUpserted:
			r.Users++
		case schema.TypeSpaceUpserted:
			r.Spaces++
		default:
			r.Deletions++
		}
	}
}
