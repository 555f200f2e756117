package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
)

// mainJob holds the flags of the run subcommand.
type mainJob struct {
	site   confluenceFlags
	kafka  kafkaFlags
	sim    simFlags
	logs   logFlags
	index  indexFlags
	ops    opsFlags
	search string
}

func (j *mainJob) register(fs *flag.FlagSet) {
	j.site.register(fs)
	j.kafka.register(fs)
	j.sim.register(fs)
	j.logs.register(fs)
	j.index.register(fs)
	j.ops.register(fs)
	fs.StringVar(&j.search, "search", "", "query to answer at the end (empty: a phrase unique to one page of the simulated site)")
}

// runMain is the main job: crawl a site into Kafka, index the topics, print
// the counts at each step and answer one search.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	var j mainJob
	j.register(fs)
	logger, err := parseCommand(fs, args, &j.logs, stderr)
	if err != nil {
		return err
	}
	return j.run(ctx, stdout, stderr, logger)
}

// run crawls every site of the configuration file, or the one site of the
// flags, or else the simulated site; then indexes and reports.
func (j *mainJob) run(ctx context.Context, stdout, stderr io.Writer, logger *slog.Logger) error {
	var site *confluencesim.Site
	specs, err := j.siteSpecs()
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		sim, stop, err := j.startSimulatedSite(logger)
		if err != nil {
			return err
		}
		defer stop()
		site = sim
		specs, _ = j.siteSpecs() // the flags now name the simulated site
	}
	if err := checkSites(specs); err != nil {
		return err
	}
	kafka, err := j.kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer kafka.close()

	ob, err := j.ops.start(kafka, &j.kafka, j.index.group, stdout, stderr, logger)
	if err != nil {
		return err
	}
	defer ob.close()
	sites, err := newFleet(specs, ob, logger)
	if err != nil {
		return err
	}
	defer sites.close()
	err = sites.crawl(ctx, kafka, &j.kafka, logger)
	ob.stopProgress()
	if err != nil {
		return err
	}
	store, err := j.index.index(ctx, kafka, &j.kafka, ob, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	ob.watchIndex(store, logger)
	return j.report(ctx, stdout, site, sites.runs[0].client, kafka, store)
}

// startSimulatedSite serves the simulated site on a free loopback port with a
// fresh token, and points the Confluence settings at it.
func (j *mainJob) startSimulatedSite(logger *slog.Logger) (*confluencesim.Site, func(), error) {
	j.site.email, j.site.apiToken, j.site.bearerToken = "sim@example.com", randomToken(), ""
	site, err := confluencesim.New(j.sim.config(j.site.email, j.site.apiToken))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	srv, err := startSim(site, "127.0.0.1:0", logger)
	if err != nil {
		return nil, nil, err
	}
	j.site.baseURL = srv.url
	return site, srv.close, nil
}

// indexFlags are the settings of the search index.
type indexFlags struct {
	path  string
	group string
}

func (f *indexFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "index-path", filepath.Join("data", "index.db"), "SQLite file of the search index")
	fs.StringVar(&f.group, "consumer-group", "confluence-indexer", "Kafka consumer group of the indexer")
}

// index consumes the topics into the index until it has caught up, and opens
// the result for reading.
func (f *indexFlags) index(ctx context.Context, kafka *cluster, k *kafkaFlags, ob *observer, logger *slog.Logger) (*index.Store, error) {
	if err := ensureDir(f.path); err != nil {
		return nil, err
	}
	_, err := indexer.Run(ctx, indexer.Config{
		Brokers:       kafka.seeds,
		ClientOptions: append(kafka.opts[:len(kafka.opts):len(kafka.opts)], ob.metrics.KafkaHooks("indexer", "")),
		Group:         f.group,
		Topics:        k.topics(),
		Path:          f.path,
		StopAtEnd:     true,
	}, ob.consumerLogger(logger))
	if err != nil {
		return nil, err
	}
	return index.Open(f.path, logger)
}

func newConfluenceClient(cfg confluence.Config, logger *slog.Logger) (*confluence.Client, error) {
	c, err := confluence.New(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errUsage, settingNames(err, "flags"))
	}
	return c, nil
}
