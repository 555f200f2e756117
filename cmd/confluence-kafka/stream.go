package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/parable/confluence-kafka/producer"
)

// streamFlags are the settings of the stream subcommand.
type streamFlags struct {
	interval     time.Duration
	overlap      time.Duration
	relistEvery  int
	sweepEvery   int
	trashEvery   int
	archivedGone bool
}

func (s *streamFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.interval, "poll-interval", 30*time.Second, "time between two polls for changes")
	fs.DurationVar(&s.overlap, "poll-overlap", 2*time.Minute,
		"how far before a poll's start the next poll looks again (absorbs clock skew)")
	fs.IntVar(&s.relistEvery, "relist-every", 20, "polls between two listings of all spaces and users (-1: never)")
	fs.IntVar(&s.sweepEvery, "sweep-every", 120,
		"polls between two sweeps that list every space to find deleted pages (-1: never)")
	fs.IntVar(&s.trashEvery, "trash-every", 10, "polls between two listings of the site's trash (-1: never)")
	fs.BoolVar(&s.archivedGone, "archived-gone", false, "treat archived pages as deleted")
}

// validate checks the settings, naming the one out of range.
func (s *streamFlags) validate() error {
	if err := durationInRange("poll-interval", s.interval, 100*time.Millisecond, 24*time.Hour); err != nil {
		return err
	}
	if err := durationInRange("poll-overlap", s.overlap, time.Millisecond, 24*time.Hour); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"relist-every", s.relistEvery}, {"sweep-every", s.sweepEvery}, {"trash-every", s.trashEvery}} {
		if f.n == 0 || f.n < -1 || f.n > 1_000_000 {
			return fmt.Errorf("%w: %s %d: want 1..1000000 polls, or -1 for never", errUsage, f.name, f.n)
		}
	}
	return nil
}

// apply sets the stream settings of cfg.
func (s *streamFlags) apply(cfg producer.Config) producer.Config {
	cfg.PollOverlap, cfg.ArchivedGone = s.overlap, s.archivedGone
	cfg.RelistEvery, cfg.SweepEvery, cfg.TrashEvery = s.relistEvery, s.sweepEvery, s.trashEvery
	return cfg
}

// runStream crawls the configured site into Kafka, or resumes the crawl,
// and then publishes its changes until stopped. SIGINT or SIGTERM stops it
// after the transaction in progress.
func runStream(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stream", stderr)
	var site confluenceFlags
	var kafka kafkaFlags
	var logs logFlags
	var stream streamFlags
	site.register(fs)
	kafka.register(fs)
	logs.register(fs)
	stream.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := stream.validate(); err != nil {
		return err
	}
	logger, err := logs.logger(stderr)
	if err != nil {
		return err
	}
	if site.baseURL == "" {
		return fmt.Errorf("%w: confluence-base-url is required (run 'simulate' for a local site)", errUsage)
	}
	if kafka.brokers == "" && kafka.embeddedDataDir == "" {
		return fmt.Errorf("%w: kafka-brokers is required: an embedded broker without embedded-broker-dir "+
			"would lose the stream when this command exits", errUsage)
	}
	client, err := newConfluenceClient(site.config(), logger)
	if err != nil {
		return err
	}
	defer client.Close()
	cl, err := kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer cl.close()

	p, err := producer.New(stream.apply(producer.Config{
		Brokers:        cl.seeds,
		ClientOptions:  cl.opts,
		Topics:         kafka.topics(),
		MaxRecordBytes: kafka.maxMessageBytes,
	}), client, logger)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	defer p.Close()
	fmt.Fprintf(stdout, "streaming %s every %s\n", client.Site(), stream.interval)
	if err := p.Stream(ctx, stream.interval); err != nil {
		return explain(err)
	}
	fmt.Fprintln(stdout, "stream stopped")
	return nil
}
