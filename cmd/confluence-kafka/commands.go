package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
)

// runCrawl runs one full crawl of each configured site into Kafka, the
// sites at once.
func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("crawl", stderr)
	var site confluenceFlags
	var kafka kafkaFlags
	var logs logFlags
	var ops opsFlags
	site.register(fs)
	kafka.register(fs)
	logs.register(fs)
	ops.register(fs)
	logger, err := parseCommand(fs, args, &logs, stderr)
	if err != nil {
		return err
	}
	specs, err := siteSpecs(&site, kafka.file.file)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("%w: confluence-base-url or a config-file with sites is required (run 'simulate' for a local site)", errUsage)
	}
	if err := checkSites(specs); err != nil {
		return err
	}
	if kafka.brokers == "" && kafka.embeddedDataDir == "" {
		return fmt.Errorf("%w: kafka-brokers is required: an embedded broker without embedded-broker-dir "+
			"would lose the crawl when this command exits (use 'run' for the all-in-one job)", errUsage)
	}
	cl, err := kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer cl.close()
	ob, err := ops.start(cl, &kafka, defaultIndexGroup, stdout, stderr, logger)
	if err != nil {
		return err
	}
	defer ob.close()
	sites, err := newFleet(specs, ob, logger)
	if err != nil {
		return err
	}
	defer sites.close()
	err = sites.crawl(ctx, cl, &kafka, logger)
	ob.stopProgress()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "crawl complete")
	return nil
}

// runIndex consumes the topics into the index, until caught up or, with
// --follow, until stopped.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index", stderr)
	var kafka kafkaFlags
	var idx indexFlags
	var logs logFlags
	kafka.register(fs)
	idx.register(fs)
	logs.register(fs)
	follow := fs.Bool("follow", false, "keep consuming new events instead of stopping once caught up")
	logger, err := parseCommand(fs, args, &logs, stderr)
	if err != nil {
		return err
	}
	if kafka.brokers == "" && kafka.embeddedDataDir == "" {
		return fmt.Errorf("%w: kafka-brokers is required", errUsage)
	}
	cl, err := kafka.connect(ctx, logger)
	if err != nil {
		return err
	}
	defer cl.close()
	if err := ensureDir(idx.path); err != nil {
		return err
	}
	_, err = indexer.Run(ctx, indexer.Config{
		Brokers: cl.seeds, ClientOptions: cl.opts, Group: idx.group,
		Topics: kafka.topics(), Path: idx.path, StopAtEnd: !*follow,
	}, logger)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "index up to date:", idx.path)
	return nil
}

// runSearch answers one query from the index file.
func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("search", stderr)
	var idx indexFlags
	idx.register(fs)
	limit := fs.Int("limit", 10, "most hits to print")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	query := strings.Join(fs.Args(), " ")
	if query == "" {
		return fmt.Errorf("%w: search needs a query, such as: search incident review", errUsage)
	}
	if *limit < 1 || *limit > 1000 {
		return fmt.Errorf("%w: limit %d: want 1..1000", errUsage, *limit)
	}
	store, err := openExisting(idx.path)
	if err != nil {
		return err
	}
	defer store.Close()
	hits, err := store.Search(ctx, query, *limit)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d hits\n", len(hits))
	printHits(stdout, hits)
	return nil
}

// runServe serves the search endpoint of the index file.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var idx indexFlags
	var logs logFlags
	idx.register(fs)
	logs.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the search endpoint")
	logger, err := parseCommand(fs, args, &logs, stderr)
	if err != nil {
		return err
	}
	store, err := openExisting(idx.path)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen for search: %w", err)
	}
	srv := &http.Server{Handler: store.Handler(), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("search serving", "url", "http://"+ln.Addr().String()+"/search?q=")
	fmt.Fprintf(stdout, "search at http://%s/search?q=\n", ln.Addr())
	return serveUntilDone(ctx, srv, ln)
}

// serveUntilDone serves until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

func openExisting(path string) (*index.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: index-path %s: no index there (run 'index' or 'run' first)", errUsage, path)
	}
	return index.Open(path, nil)
}

func ensureDir(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("index-path %s: %w", path, err)
	}
	return nil
}
