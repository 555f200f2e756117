// Command publisher is the billing service of the invoice-audit example: it
// publishes invoice-created CloudEvents and prints each invoice it
// published as a JSON line. See package invoiceaudit.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	invoiceaudit "github.com/parable/confluence-kafka/examples/invoice-audit"
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

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("publisher", flag.ContinueOnError)
	n := fs.Int("n", 5, "invoices to publish")
	topic := fs.String("topic", envOr("INVOICE_TOPIC", "billing.invoices"), "topic of the invoices (env INVOICE_TOPIC)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cluster, err := invoiceaudit.Connect()
	if err != nil {
		return err
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.Seeds...))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := invoiceaudit.EnsureTopic(ctx, cl, *topic, 3); err != nil {
		return err
	}

	invs := invoiceaudit.NewInvoices(*n, time.Now())
	if err := invoiceaudit.Publish(ctx, cl, *topic, invs); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, inv := range invs {
		if err := enc.Encode(inv); err != nil {
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
