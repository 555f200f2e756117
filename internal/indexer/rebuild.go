package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/schema"
)

// Rebuild builds a fresh index of the topics next to a live one, without
// touching it, and then switches to it.
//
// Build writes a new generation file (index.NextPath) under a consumer
// group of its own, from the start of every entity topic up to the end
// offsets it lists when it starts; the live index keeps answering and may
// keep indexing meanwhile. Switch then makes the new file the live index:
// the index path becomes a link to it, the live consumer group takes over
// the rebuild's offsets, and an index.Live moves its searches over.
//
// TODO(#5): a separate process that has the old file open (a plain
// 'serve') keeps answering from it until restarted, since it does not
// watch the index path; acceptable while the serving process is the one
// that rebuilds ('reindex --listen').
type Rebuild struct {
	cfg   Config // the live index: its path and its consumer group
	path  string // the new generation
	group string // the rebuild's own consumer group

	base *slog.Logger // for the indexer and the store, which add their own keys
	log  *slog.Logger // base with the rebuild's keys
}

// NewRebuild prepares a rebuild of the index at cfg.Path, whose live
// consumer group is cfg.Group (DefaultGroup when empty). cfg.StopAtEnd is
// ignored: Build always stops at the end offsets. A nil logger discards
// logs.
func NewRebuild(cfg Config, logger *slog.Logger) (*Rebuild, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Topics == (schema.Topics{}) {
		cfg.Topics = schema.NewTopics(schema.DefaultTopicPrefix)
	}

	now := time.Now()
	r := &Rebuild{
		cfg:   cfg,
		path:  index.NextPath(cfg.Path, now),
		group: cfg.Group + ".rebuild." + now.UTC().Format("20060102T150405.000000000Z"),
	}
	r.base, r.log = logger, logger.With("index", cfg.Path, "generation", r.path)
	return r, nil
}

// Path returns the file that Build writes.
func (r *Rebuild) Path() string {
	return r.path
}

// Group returns the consumer group that Build consumes with.
func (r *Rebuild) Group() string {
	return r.group
}

// Build indexes every entity topic from its start into Path, up to the end
// offsets listed when it starts, and returns the new index's counts. It
// blocks meanwhile. After an error, call Discard.
func (r *Rebuild) Build(ctx context.Context) (index.Counts, error) {
	if _, err := os.Stat(r.path); err == nil {
		return index.Counts{}, fmt.Errorf("rebuild index %s: %s already exists", r.cfg.Path, r.path)
	}
	r.log.Info("rebuild started", "group", r.group)
	cfg := r.cfg
	cfg.Group, cfg.Path, cfg.StopAtEnd = r.group, r.path, true
	counts, err := Run(ctx, cfg, r.base)
	if err == nil {
		// Run returns nil after a shutdown too, when the end offsets may not
		// have been reached: such an index must never be switched to.
		err = ctx.Err()
	}
	if err != nil {
		return counts, fmt.Errorf("rebuild index %s: %w", r.cfg.Path, err)
	}
	r.log.Info("rebuild caught up", "users", counts.Users, "spaces", counts.Spaces,
		"pages", counts.Pages, "blog_posts", counts.BlogPosts, "deleted", counts.Deleted)
	return counts, nil
}

// Switch makes the rebuilt index the live one, after Build returned nil.
// The live consumer group must have no members: an indexer still running
// under it would keep writing into the old file, so Switch refuses with a
// *consumer.ActiveGroupError before changing anything. Then, in order, it
//
//  1. points the index path at Path (index.Promote): from now on, whoever
//     opens the index path opens the new file;
//  2. commits, for the live group, the offsets the rebuild reached (the
//     earliest offset where it committed none), so that an indexer that
//     follows the new file resumes exactly where the rebuild stopped;
//  3. swaps live, when not nil, to a Store on the new file and closes the
//     old Store once its running searches finished;
//  4. removes the file the index path named before (or, when it was a
//     regular file, the -wal and -shm files SQLite left of it), and the
//     rebuild's consumer group.
//
// An error in step 2 leaves the new file live and the group's offsets as
// they were; resetting the group to the earliest offsets then repairs it,
// since applying events again changes nothing.
func (r *Rebuild) Switch(ctx context.Context, live *index.Live) error {
	cl, err := kgo.NewClient(r.clientOptions()...)
	if err != nil {
		return fmt.Errorf("switch index %s: %w", r.cfg.Path, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	if err := consumer.CheckInactive(ctx, adm, r.cfg.Group); err != nil {
		return fmt.Errorf("switch index %s: %w", r.cfg.Path, err)
	}
	retired, err := index.Promote(r.cfg.Path, r.path)
	if err != nil {
		return err
	}
	if err := r.adoptOffsets(ctx, adm); err != nil {
		return fmt.Errorf("switch index %s: it is rebuilt, but the offsets of group %s were not moved "+
			"(reset them to the earliest before indexing into it): %w", r.cfg.Path, r.cfg.Group, err)
	}
	if err := r.swap(live); err != nil {
		return err
	}
	r.log.Info("index switched")
	r.cleanUp(ctx, adm, retired)
	return nil
}

// Discard removes the file and the consumer group of a rebuild that will
// not be switched to.
func (r *Rebuild) Discard(ctx context.Context) error {
	cl, err := kgo.NewClient(r.clientOptions()...)
	if err != nil {
		return fmt.Errorf("discard rebuild %s: %w", r.path, err)
	}
	defer cl.Close()
	return errors.Join(index.Remove(r.path), deleteGroup(ctx, kadm.NewClient(cl), r.group))
}

func (r *Rebuild) clientOptions() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(r.cfg.Brokers...)}, r.cfg.ClientOptions...)
}

// adoptOffsets commits the rebuild group's offsets for the live group.
func (r *Rebuild) adoptOffsets(ctx context.Context, adm *kadm.Client) error {
	// PlanReset gives the rebuild group's committed offset (From) and the
	// earliest offset (To) of every partition.
	plan, err := consumer.PlanReset(ctx, adm, r.group, r.cfg.Topics.Entities(), time.Time{})
	if err != nil {
		return err
	}
	for i, c := range plan {
		if c.From >= 0 {
			plan[i].To = c.From
		}
	}
	return consumer.SetOffsets(ctx, adm, r.cfg.Group, plan)
}

// swap moves live over to the new file and closes the old Store.
func (r *Rebuild) swap(live *index.Live) error {
	if live == nil {
		return nil
	}
	s, err := index.Open(r.path, r.base)
	if err != nil {
		return fmt.Errorf("switch index %s: %w", r.cfg.Path, err)
	}
	if old := live.Swap(s); old != nil {
		if err := old.Close(); err != nil {
			r.log.Warn("old index close failed", "err", err)
		}
	}
	return nil
}

// cleanUp removes what the switch left behind. Failures are logged, not
// returned: the switch itself succeeded.
func (r *Rebuild) cleanUp(ctx context.Context, adm *kadm.Client, retired index.Retired) {
	if err := retired.Remove(); err != nil {
		r.log.Warn("old index files not removed", "path", retired.Path, "err", err)
	}
	if err := deleteGroup(ctx, adm, r.group); err != nil {
		r.log.Warn("rebuild group not deleted", "group", r.group, "err", err)
	}
}

// deleteGroup deletes a consumer group; a group that does not exist is
// not an error.
func deleteGroup(ctx context.Context, adm *kadm.Client, group string) error {
	resp, err := adm.DeleteGroup(ctx, group)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	return nil
}
