package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
)

// errStopListing ends a listing after its first page.
var errStopListing = errors.New("stop listing")

// runCheck is what a connector's "Save & test connection" does: it checks the
// Confluence credentials, read access to spaces, and the Kafka connection, and
// says what to do about each failure.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	var site confluenceFlags
	var kafka kafkaFlags
	var logs logFlags
	site.register(fs)
	kafka.register(fs)
	logs.register(fs)
	logger, err := parseCommand(fs, args, &logs, stderr)
	if err != nil {
		return err
	}
	if site.baseURL == "" {
		return fmt.Errorf("%w: confluence-base-url is required", errUsage)
	}
	cfg := site.config()
	// One attempt: a check reports a rate limit instead of waiting it out.
	cfg.MaxAttempts = 1
	client, err := newConfluenceClient(cfg, logger)
	if err != nil {
		return err
	}
	failed := checkConfluence(ctx, client, stdout)
	if err := checkKafka(ctx, &kafka, stdout, logger); err != nil {
		failed = true
		fmt.Fprintf(stdout, "FAIL kafka: %v\n", err)
	}
	if failed {
		return errors.New("connection check failed")
	}
	return nil
}

// checkConfluence prints one line per check and reports whether one failed.
func checkConfluence(ctx context.Context, client *confluence.Client, w io.Writer) (failed bool) {
	me, err := client.FetchCurrentUser(ctx)
	if err != nil {
		fmt.Fprintf(w, "FAIL confluence credentials: %s\n", advice(err))
		return true
	}
	if me.AccountType == "" || me.AccountID == "" {
		fmt.Fprintln(w, "FAIL confluence credentials: the site answered as an anonymous user: "+
			"check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN")
		return true
	}
	fmt.Fprintf(w, "ok   confluence credentials: signed in as %s (%s)\n", me.DisplayName, me.AccountID)
	spaces := 0
	err = client.ListSpaces(ctx, func(batch []confluence.Space) error {
		spaces = len(batch)
		return errStopListing
	})
	if err != nil && !errors.Is(err, errStopListing) {
		fmt.Fprintf(w, "FAIL confluence read access: %s\n", advice(err))
		return true
	}
	if spaces == 0 {
		fmt.Fprintln(w, "FAIL confluence read access: the account sees no space: grant it read access to the spaces to crawl")
		return true
	}
	fmt.Fprintf(w, "ok   confluence read access: the account sees spaces (%d on the first page)\n", spaces)
	return false
}

// advice says what the user must do about a Confluence error.
func advice(err error) string {
	var apiErr *confluence.APIError
	status := 0
	if errors.As(err, &apiErr) {
		status = apiErr.Status
	}
	switch status {
	case http.StatusUnauthorized:
		return "wrong email or API token: check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN (" + err.Error() + ")"
	case http.StatusForbidden:
		return "missing permission: the account needs read access to the spaces, or site admin permission (" + err.Error() + ")"
	case http.StatusTooManyRequests:
		return "rate limited by Confluence: a crawl would back off and retry; try the check again later (" + err.Error() + ")"
	}
	return err.Error()
}

func checkKafka(ctx context.Context, kafka *kafkaFlags, w io.Writer, logger *slog.Logger) error {
	if kafka.brokers == "" {
		fmt.Fprintln(w, "ok   kafka: no KAFKA_BROKERS: the embedded broker would be used")
		return nil
	}
	if err := kafka.validate(); err != nil {
		return err
	}
	secure, err := kafka.securityOptions()
	if err != nil {
		return err
	}
	seeds := strings.Split(kafka.brokers, ",")
	opts := append(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, broker.LogOptions(logger)...), secure...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if err := broker.Ping(ctx, cl, kafka.connectTimeout); err != nil {
		return err
	}
	// A check changes nothing: it reports missing topics instead of creating
	// them, as crawl and run do at start.
	topics := kafka.topics()
	want := append(topics.Entities(), topics.State)
	listed, err := kadm.NewClient(cl).ListTopics(ctx, want...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var missing []string
	for _, t := range want {
		if d, ok := listed[t]; !ok || d.Err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "ok   kafka: %s answers; topics to be created at the first crawl: %s\n",
			kafka.brokers, strings.Join(missing, ", "))
		return nil
	}
	fmt.Fprintf(w, "ok   kafka: %s answers and the topics exist\n", kafka.brokers)
	return nil
}
