// Command confluence-kafka crawls Confluence Cloud sites into Kafka and indexes
// the events for search. Run it without arguments for the list of subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// command is one subcommand: its name, a one-line summary, and its entry point.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "crawl a site into Kafka, index it and answer a search (the main job)", runMain},
		{"crawl", "crawl a site into Kafka", runCrawl},
		{"stream", "crawl a site into Kafka, then publish its changes until stopped", runStream},
		{"index", "consume the topics into the search index", runIndex},
		{"reindex", "rebuild the index from the topics into a new file and switch to it", runReindex},
		{"replay", "reset a consumer group to the earliest offsets or to a time", runReplay},
		{"search", "search the index", runSearch},
		{"serve", "serve the search endpoint over HTTP", runServe},
		{"simulate", "serve a simulated Confluence Cloud site on a loopback port", runSimulate},
		{"check", "test the Confluence credentials and the Kafka connection", runCheck},
		{"config", "print the effective configuration (flags, environment, file) with secrets redacted", runConfig},
	}
}

// errUsage marks errors caused by the command line; they exit with status 2.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return errHelpShown
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("%w: unknown subcommand %q: run without arguments for the list", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: confluence-kafka <subcommand> [flags]\n\nsubcommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set by the environment variable of the same name,\n"+
		"upper case with underscores: --kafka-brokers is KAFKA_BROKERS.\n"+
		"Run 'confluence-kafka <subcommand> -h' for its flags.")
}

// exitCode reports err once and maps it to the process exit status.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		if !errors.Is(err, errHelpShown) {
			// errUsage classifies the error; its own text adds nothing.
			fmt.Fprintln(stderr, "error:", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		}
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "stopped")
		return 130
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
}
