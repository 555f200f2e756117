package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
)

// defaultIndexGroup is the consumer group of the index subcommands unless
// configured.
const defaultIndexGroup = "confluence-indexer"

// replayFlags are the settings of the replay subcommand.
type replayFlags struct {
	kafka  kafkaFlags
	logs   logFlags
	group  string
	early  bool
	toTime string
	dryRun bool
}

func (f *replayFlags) register(fs *flag.FlagSet) {
	f.kafka.register(fs)
	f.logs.register(fs)
	fs.StringVar(&f.group, "consumer-group", defaultIndexGroup, "consumer group whose offsets to reset")
	fs.BoolVar(&f.early, "to-earliest", false, "reset to the earliest offsets: replay the topics from the start")
	fs.StringVar(&f.toTime, "to-time", "", "reset to the first offsets at or after this RFC 3339 time, such as 2026-12-01T00:00:00Z")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the new offsets without committing them")
}

// target returns the time to reset to; zero means the earliest offsets.
func (f *replayFlags) target() (time.Time, error) {
	switch {
	case f.early && f.toTime != "":
		return time.Time{}, fmt.Errorf("%w: to-earliest and to-time %q: want only one", errUsage, f.toTime)
	case f.early:
		return time.Time{}, nil
	case f.toTime == "":
		return time.Time{}, fmt.Errorf("%w: want to-earliest or to-time", errUsage)
	}
	at, err := time.Parse(time.RFC3339, f.toTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: to-time %q: want an RFC 3339 time such as 2026-12-01T00:00:00Z", errUsage, f.toTime)
	}
	return at, nil
}

// runReplay resets a consumer group on the entity topics to the earliest
// offsets or to a time, so that its next run replays the topics from there.
// It refuses while the group has members.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var f replayFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	at, err := f.target()
	if err != nil {
		return err
	}
	logger, err := f.logs.logger(stderr)
	if err != nil {
		return err
	}
	if f.kafka.brokers == "" && f.kafka.embeddedDataDir == "" {
		return fmt.Errorf("%w: kafka-brokers is required: an embedded broker has no group to reset", errUsage)
	}
	cl, err := f.kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer cl.close()
	return f.reset(ctx, stdout, cl, at)
}

// reset plans or commits the reset and prints the offsets.
func (f *replayFlags) reset(ctx context.Context, stdout io.Writer, cl *cluster, at time.Time) error {
	kc, err := kgo.NewClient(cl.clientOptions()...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer kc.Close()
	adm := kadm.NewClient(kc)
	topics := f.kafka.topics().Entities()

	var changes []consumer.OffsetChange
	if f.dryRun {
		if err := consumer.CheckInactive(ctx, adm, f.group); err != nil {
			fmt.Fprintln(stdout, "warning:", err)
		}
		changes, err = consumer.PlanReset(ctx, adm, f.group, topics, at)
	} else {
		changes, err = consumer.ResetOffsets(ctx, adm, f.group, topics, at)
	}
	if err != nil {
		return err
	}
	printReset(stdout, f.group, at, f.dryRun, changes)
	return nil
}

func printReset(w io.Writer, group string, at time.Time, dryRun bool, changes []consumer.OffsetChange) {
	target := "the earliest offsets"
	if !at.IsZero() {
		target = "the first offsets at or after " + at.Format(time.RFC3339)
	}
	verb := "reset"
	if dryRun {
		verb = "would be reset (dry run, nothing committed)"
	}
	fmt.Fprintf(w, "consumer group %s %s to %s:\n", group, verb, target)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "topic\tpartition\tfrom\tto")
	for _, c := range changes {
		from := "-"
		if c.From >= 0 {
			from = strconv.FormatInt(c.From, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", c.Topic, c.Partition, from, c.To)
	}
	// A tabwriter over an in-memory or terminal writer has nothing to report.
	_ = tw.Flush()
}

// reindexJob holds the settings of the reindex subcommand.
type reindexJob struct {
	kafka  kafkaFlags
	index  indexFlags
	logs   logFlags
	listen string
	follow bool
}

func (j *reindexJob) register(fs *flag.FlagSet) {
	j.kafka.register(fs)
	j.index.register(fs)
	j.logs.register(fs)
	fs.StringVar(&j.listen, "listen", "", "address of a search endpoint that answers during and after the rebuild (empty: none)")
	fs.BoolVar(&j.follow, "follow", false, "keep the index current: follow the topics into the old index during the rebuild, "+
		"and into the new one after the switch, until stopped")
}

// runReindex rebuilds the index from the topics into a new file while the
// old one keeps answering, then switches to it atomically. With --listen it
// serves searches throughout; with --follow it keeps indexing new events
// before and after the switch, which makes it the serving, following
// indexer.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reindex", stderr)
	var j reindexJob
	j.register(fs)
	logger, err := parseCommand(fs, args, &j.logs, stderr)
	if err != nil {
		return err
	}
	if j.kafka.brokers == "" && j.kafka.embeddedDataDir == "" {
		return fmt.Errorf("%w: kafka-brokers is required: an embedded broker has no topics to rebuild from", errUsage)
	}
	cl, err := j.kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer cl.close()
	if err := ensureDir(j.index.path); err != nil {
		return err
	}
	return j.run(ctx, stdout, cl, logger)
}

// run serves, follows, rebuilds, switches and follows again, as configured.
func (j *reindexJob) run(ctx context.Context, stdout io.Writer, cl *cluster, logger *slog.Logger) error {
	live, err := j.openLive(logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := live.Close(); err != nil {
			logger.Warn("index close failed", "err", err)
		}
	}()
	if j.listen != "" {
		stop, err := j.serve(ctx, stdout, live, logger)
		if err != nil {
			return err
		}
		defer stop()
	}

	if err := j.rebuild(ctx, stdout, cl, live, logger); err != nil {
		return err
	}
	switch {
	case j.follow:
		_, err = indexer.Run(ctx, j.config(cl, false), logger)
		return err
	case j.listen != "":
		<-ctx.Done()
	}
	return nil
}

// openLive opens the current index for searching, if there is one.
func (j *reindexJob) openLive(logger *slog.Logger) (*index.Live, error) {
	if _, err := os.Stat(j.index.path); err != nil {
		return index.NewLive(nil, logger), nil
	}
	s, err := index.Open(j.index.path, logger)
	if err != nil {
		return nil, err
	}
	return index.NewLive(s, logger), nil
}

// rebuild builds the new index, following into the old one meanwhile when
// asked to, and switches to it.
func (j *reindexJob) rebuild(ctx context.Context, stdout io.Writer, cl *cluster, live *index.Live, logger *slog.Logger) error {
	rb, err := indexer.NewRebuild(j.config(cl, true), logger)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	stopFollowing := j.followOld(ctx, cl, logger)
	counts, err := rb.Build(ctx)
	// The old index's indexer must leave the group before Switch moves the
	// group's offsets; it commits what it indexed as it leaves.
	if ferr := stopFollowing(); err == nil {
		err = ferr
	}
	if err == nil {
		err = rb.Switch(ctx, live)
	}
	if err != nil {
		j.discard(ctx, rb, logger)
		return err
	}
	fmt.Fprintf(stdout, "index rebuilt and switched: %s -> %s (%d pages, %d blog posts, %d spaces, %d users)\n",
		j.index.path, rb.Path(), counts.Pages, counts.BlogPosts, counts.Spaces, counts.Users)
	return nil
}

// followOld indexes new events into the old index until the returned
// function is called, when following and there is an old index.
func (j *reindexJob) followOld(ctx context.Context, cl *cluster, logger *slog.Logger) (stop func() error) {
	if _, err := os.Stat(j.index.path); !j.follow || err != nil {
		return func() error { return nil }
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := indexer.Run(fctx, j.config(cl, false), logger.With("role", "old index"))
		done <- err
	}()
	return func() error {
		cancel()
		return <-done
	}
}

// discard removes a rebuild that did not become the index.
func (j *reindexJob) discard(ctx context.Context, rb *indexer.Rebuild, logger *slog.Logger) {
	if current, err := index.Resolve(j.index.path); err != nil || current == rb.Path() {
		return
	}
	if err := rb.Discard(context.WithoutCancel(ctx)); err != nil {
		logger.Warn("rebuild not discarded", "path", rb.Path(), "err", err)
	}
}

func (j *reindexJob) config(cl *cluster, stopAtEnd bool) indexer.Config {
	return indexer.Config{
		Brokers: cl.seeds, ClientOptions: cl.opts, Group: j.index.group,
		Topics: j.kafka.topics(), Path: j.index.path, StopAtEnd: stopAtEnd,
	}
}

// serve serves live's search endpoint until the returned function is
// called.
func (j *reindexJob) serve(ctx context.Context, stdout io.Writer, live *index.Live, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", j.listen)
	if err != nil {
		return nil, fmt.Errorf("listen for search: %w", err)
	}
	srv := &http.Server{Handler: live.Handler(), ReadHeaderTimeout: 10 * time.Second}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(sctx, srv, ln) }()
	logger.Info("search serving", "url", "http://"+ln.Addr().String()+"/search?q=")
	fmt.Fprintf(stdout, "search at http://%s/search?q=\n", ln.Addr())
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("search server stopped", "err", err)
		}
	}, nil
}
