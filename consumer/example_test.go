package consumer_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/schema"
)

// A service subscribes to its own events and to Confluence pages: raw
// CloudEvents for the first, the typed schema.Page for the second.
func Example() {
	ctx := context.Background()

	// An in-process broker stands in for the Kafka cluster.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(1, "billing.invoices", "confluence.pages"))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	seeds := cluster.ListenAddrs()
	publishExampleEvents(ctx, seeds)

	c, err := consumer.New(consumer.Config{
		Brokers:   seeds,
		Group:     "invoice-audit",
		Topics:    []string{"billing.invoices", "confluence.pages"},
		StopAtEnd: true, // return once caught up, for this example
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Handlers are never called concurrently, so seen needs no lock.
	var seen []string
	c.Handle("com.parable.billing.invoice.created", func(_ context.Context, ev schema.Event) error {
		seen = append(seen, fmt.Sprintf("invoice %s from %s: %s", ev.Subject, ev.Source, ev.Value))
		return nil
	})
	c.Handle(schema.TypePageUpserted, consumer.Typed(func(_ context.Context, _ schema.Event, p schema.Page) error {
		seen = append(seen, fmt.Sprintf("page %s %q at version %d", p.ID, p.Title, p.Version.Number))
		return nil
	}))
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}

	// The two topics are consumed concurrently: sort for a stable output.
	slices.Sort(seen)
	for _, s := range seen {
		fmt.Println(s)
	}
	// Output:
	// invoice INV-1001 from /parable/billing: {"customer":"C-7","amountCents":4200}
	// page 98305 "Quarterly close" at version 3
}

// publishExampleEvents plays two other programs: a billing service that
// publishes an invoice, and the Confluence producer that publishes a page.
func publishExampleEvents(ctx context.Context, seeds []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()

	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	invoice := schema.Envelope{
		ID: "INV-1001", Source: "/parable/billing", Type: "com.parable.billing.invoice.created",
		Subject: "INV-1001", Time: at, ContentType: schema.ContentType,
	}
	page, err := schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}.PageUpserted(schema.Page{
		ID: "98305", Kind: schema.KindPage, Title: "Quarterly close",
		Version: schema.PageVersion{Number: 3, CreatedAt: at},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = cl.ProduceSync(ctx,
		&kgo.Record{Topic: "billing.invoices", Key: []byte("INV-1001"),
			Value: []byte(`{"customer":"C-7","amountCents":4200}`), Headers: invoice.Headers()},
		page.Record("confluence.pages"),
	).FirstErr()
	if err != nil {
		log.Fatal(err)
	}
}
