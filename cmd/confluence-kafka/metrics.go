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
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/term"

	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/metrics"
	"github.com/parable/confluence-kafka/internal/status"
)

// opsFlags are the settings of the metrics port and of progress reporting.
type opsFlags struct {
	listen       string
	blockedAfter time.Duration
	progress     string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.listen, "metrics-listen", "", "address of /metrics, /healthz, /readyz and the status page, "+
		"such as 127.0.0.1:9464 (empty: none)")
	fs.DurationVar(&o.blockedAfter, "ready-blocked-after", metrics.DefaultBlockedAfter,
		"a site waiting longer than this (rate limit, open breaker) makes /readyz fail")
	fs.StringVar(&o.progress, "progress", "auto", "crawl progress: auto (live lines on a terminal, logs otherwise), lines, logs or off")
}

func (o *opsFlags) validate() error {
	switch o.progress {
	case "auto", "lines", "logs", "off":
	default:
		return fmt.Errorf("%w: progress %q: want auto, lines, logs or off", errUsage, o.progress)
	}
	return durationInRange("ready-blocked-after", o.blockedAfter, time.Second, 24*time.Hour)
}

// progressInterval is how often progress is logged without a terminal.
const progressInterval = 30 * time.Second

// observer is what one command run reports to: the progress board, the
// metrics, the HTTP server of both, and the progress display. Close stops
// all of it.
type observer struct {
	board   *status.Board
	metrics *metrics.Metrics
	admin   *kgo.Client // for lag and readiness; nil without Kafka

	cancel context.CancelFunc
	wg     sync.WaitGroup
	srv    *http.Server

	stopLines context.CancelFunc // ends the progress display
	linesDone sync.WaitGroup
}

// startObserver starts the board's sampler, the progress display and, with
// --metrics-listen, the HTTP server; it prints the server's address to
// stdout. kafka may be nil. group is the indexer's consumer group, whose lag
// is shown.
func (o *opsFlags) start(kafka *cluster, k *kafkaFlags, group string, stdout, stderr io.Writer, logger *slog.Logger) (*observer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	ob := &observer{board: status.NewBoard(nil), metrics: metrics.New()}
	ob.metrics.WatchBoard(ob.board, k.topics())
	page := &status.Page{Board: ob.board, Logger: logger}
	health := metrics.Health{Board: ob.board, BlockedAfter: o.blockedAfter}
	if kafka != nil {
		admin, err := kgo.NewClient(kafka.clientOptions()...)
		if err != nil {
			return nil, fmt.Errorf("kafka client: %w", err)
		}
		ob.admin = admin
		page.Lag = metrics.Lag(kadm.NewClient(admin), group)
		ob.metrics.WatchLag(page.Lag, logger)
		health.Ping = admin.Ping
	}
	ctx, cancel := context.WithCancel(context.Background())
	ob.cancel = cancel
	if err := ob.serve(ctx, o.listen, health, page, stdout, logger); err != nil {
		ob.close()
		return nil, err
	}
	ob.wg.Go(func() { ob.board.Run(ctx, time.Second) })
	ob.showProgress(ctx, o.progress, stderr, logger)
	return ob, nil
}

// serve starts the HTTP server on addr; an empty addr serves nothing.
func (ob *observer) serve(ctx context.Context, addr string, health metrics.Health, page *status.Page, stdout io.Writer, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: metrics-listen %s: %v", errUsage, addr, err)
	}
	ob.srv = &http.Server{Handler: ob.metrics.Handler(health, page), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	ob.wg.Go(func() {
		if err := ob.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "err", err)
		}
	})
	url := "http://" + ln.Addr().String()
	logger.Info("metrics serving", "url", url+"/metrics", "status_page", url+"/status")
	fmt.Fprintf(stdout, "status page at %s/status, metrics at %s/metrics\n", url, url)
	return nil
}

// showProgress starts live lines on a terminal, or periodic progress logs,
// until stopProgress.
func (ob *observer) showProgress(ctx context.Context, mode string, stderr io.Writer, logger *slog.Logger) {
	ctx, ob.stopLines = context.WithCancel(ctx)
	if mode == "auto" {
		mode = "logs"
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "lines"
		}
	}
	switch mode {
	case "lines":
		// TODO(#6): log records written meanwhile leave the frame drawn
		// before them on screen; a writer shared by the logger and the
		// lines would keep the lines below the logs.
		p := &status.Progress{W: stderr, Board: ob.board}
		ob.linesDone.Go(func() { p.Run(ctx) })
	case "logs":
		ob.linesDone.Go(func() { status.LogProgress(ctx, logger, ob.board, progressInterval) })
	}
}

// stopProgress draws the final progress and ends the display, so that what
// the command prints next is not drawn over. The metrics and the status
// page keep serving until close.
func (ob *observer) stopProgress() {
	if ob.stopLines != nil {
		ob.stopLines()
	}
	ob.linesDone.Wait()
}

// watchIndex adds the index's row counts to the metrics.
func (ob *observer) watchIndex(store *index.Store, logger *slog.Logger) {
	ob.metrics.WatchIndex(store.Counts, logger)
}

// consumerLogger returns logger counting the consumer's failures and
// dead-lettered events into the metrics.
func (ob *observer) consumerLogger(logger *slog.Logger) *slog.Logger {
	return slog.New(ob.metrics.ConsumerLogs(logger.Handler()))
}

// close stops the server, the progress display and the sampler, and waits
// for them.
func (ob *observer) close() {
	if ob.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ob.srv.Shutdown(ctx) // past the timeout, open scrapes are cut: fine at exit
		cancel()
	}
	ob.stopProgress()
	if ob.cancel != nil {
		ob.cancel()
	}
	ob.wg.Wait()
	if ob.admin != nil {
		ob.admin.Close()
	}
}
