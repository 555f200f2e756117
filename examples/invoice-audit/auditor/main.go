// Command auditor is the audit service of the invoice-audit example: it
// consumes the billing service's invoices and the Confluence pages with the
// consumer package, and prints one line per event:
//
//	invoice {"id":"INV-...","customer":"C-100",...}
//	page 98305 v3 Quarterly close
//
// It stops once it has caught up with the topics, or runs until
// interrupted with -follow. See package invoiceaudit.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	invoiceaudit "github.com/parable/confluence-kafka/examples/invoice-audit"
	"github.com/parable/confluence-kafka/schema"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// settings are the auditor's flags.
type settings struct {
	group, invoices, pages string
	follow                 bool
}

func parse(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("auditor", flag.ContinueOnError)
	fs.StringVar(&s.group, "group", envOr("AUDIT_GROUP", "invoice-audit"), "consumer group (env AUDIT_GROUP)")
	fs.StringVar(&s.invoices, "invoice-topic", envOr("INVOICE_TOPIC", "billing.invoices"), "topic of the invoices (env INVOICE_TOPIC)")
	fs.StringVar(&s.pages, "pages-topic", envOr("PAGES_TOPIC", "confluence.pages"),
		"topic of the Confluence pages; empty: none (env PAGES_TOPIC)")
	fs.BoolVar(&s.follow, "follow", false, "keep consuming instead of stopping once caught up")
	return s, fs.Parse(args)
}

func (s settings) topics() []string {
	if s.pages == "" {
		return []string{s.invoices}
	}
	return []string{s.invoices, s.pages}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parse(args)
	if err != nil {
		return err
	}
	cluster, err := invoiceaudit.Connect()
	if err != nil {
		return err
	}
	defer cluster.Close()
	if cluster.Embedded {
		// A fresh embedded broker has no topics yet; a real cluster's
		// topics belong to their producers.
		if err := createTopics(ctx, cluster.Seeds, s.topics()); err != nil {
			return err
		}
	}

	var invoices, pages int
	c, err := invoiceaudit.NewAuditor(consumer.Config{
		Brokers: cluster.Seeds, Group: s.group, Topics: s.topics(), StopAtEnd: !s.follow,
	}, invoiceaudit.Handlers{
		Invoice: func(_ context.Context, _ schema.Event, inv invoiceaudit.Invoice) error {
			invoices++
			line, err := json.Marshal(inv)
			fmt.Fprintf(stdout, "invoice %s\n", line)
			return err
		},
		Page: func(_ context.Context, _ schema.Event, p schema.Page) error {
			pages++
			fmt.Fprintf(stdout, "page %s v%d %s\n", p.ID, p.Version.Number, p.Title)
			return nil
		},
	}, nil)
	if err != nil {
		return err
	}
	if err := c.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "audited %d invoices and %d pages\n", invoices, pages)
	return nil
}

func createTopics(ctx context.Context, seeds, topics []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, t := range topics {
		if err := invoiceaudit.EnsureTopic(ctx, cl, t, 3); err != nil {
			return err
		}
	}
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
