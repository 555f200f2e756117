// Package invoiceaudit is a runnable example of the consumer package. A
// billing service, which is not the Confluence producer, publishes its own
// CloudEvents (source /parable/billing, type
// com.parable.billing.invoice.created, a JSON value, binary-mode headers);
// an audit service consumes them together with the Confluence page events:
// the invoices as raw CloudEvents, the pages as the typed schema.Page.
//
//	go run ./examples/invoice-audit/publisher -n 5
//	go run ./examples/invoice-audit/auditor
//
// Both programs use the Kafka cluster in KAFKA_BROKERS. When it is unset,
// each starts an embedded broker whose data lives in EMBEDDED_BROKER_DIR (by
// default a directory under the system's temporary directory), so the two
// programs, run one after the other, see the same topics.
package invoiceaudit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/consumer"
	"github.com/parable/confluence-kafka/schema"
)

// The CloudEvents identity of the billing service's events.
const (
	TypeInvoiceCreated = "com.parable.billing.invoice.created"
	Source             = "/parable/billing"
)

// Invoice is the payload of an invoice-created event.
type Invoice struct {
	ID          string    `json:"id"`
	Customer    string    `json:"customer"`
	AmountCents int64     `json:"amountCents"`
	Currency    string    `json:"currency"`
	IssuedAt    time.Time `json:"issuedAt"`
}

// NewInvoices returns n invoices issued at now, with ids unique to now.
func NewInvoices(n int, now time.Time) []Invoice {
	now = now.UTC().Truncate(time.Millisecond)
	batch := strconv.FormatInt(now.UnixNano(), 36)
	invs := make([]Invoice, n)
	for i := range invs {
		invs[i] = Invoice{
			ID:          fmt.Sprintf("INV-%s-%03d", batch, i),
			Customer:    fmt.Sprintf("C-%d", 100+i%7),
			AmountCents: int64(1000 + 250*i),
			Currency:    "EUR",
			IssuedAt:    now,
		}
	}
	return invs
}

// Record returns inv as a record for topic: keyed by the invoice id, with
// the CloudEvents envelope in the headers and the invoice as JSON value.
func Record(topic string, inv Invoice) (*kgo.Record, error) {
	value, err := json.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("encode invoice %s: %w", inv.ID, err)
	}
	env := schema.Envelope{
		ID:          "invoice-created-" + inv.ID,
		Source:      Source,
		Type:        TypeInvoiceCreated,
		Subject:     inv.ID,
		Time:        inv.IssuedAt,
		ContentType: schema.ContentType,
	}
	return &kgo.Record{Topic: topic, Key: []byte(inv.ID), Value: value, Headers: env.Headers()}, nil
}

// Publish writes invs to topic and returns once the brokers acknowledged
// all of them.
func Publish(ctx context.Context, cl *kgo.Client, topic string, invs []Invoice) error {
	recs := make([]*kgo.Record, len(invs))
	for i, inv := range invs {
		r, err := Record(topic, inv)
		if err != nil {
			return err
		}
		recs[i] = r
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("publish invoices to %s: %w", topic, err)
	}
	return nil
}

// Handlers are what the auditor does with each event. Both are required.
type Handlers struct {
	Invoice func(ctx context.Context, ev schema.Event, inv Invoice) error
	Page    func(ctx context.Context, ev schema.Event, p schema.Page) error
}

// NewAuditor returns a consumer of cfg.Topics with the audit handlers
// registered: invoices are read from the raw CloudEvent, pages through
// consumer.Typed. Every other event is skipped.
func NewAuditor(cfg consumer.Config, h Handlers, logger *slog.Logger) (*consumer.Consumer, error) {
	c, err := consumer.New(cfg, logger)
	if err != nil {
		return nil, err
	}
	c.Handle(TypeInvoiceCreated, func(ctx context.Context, ev schema.Event) error {
		var inv Invoice
		if err := json.Unmarshal(ev.Value, &inv); err != nil {
			// Retrying cannot fix a payload: dead-letter it at once.
			return consumer.Permanent(fmt.Errorf("decode invoice %s from %s: %w", ev.Subject, ev.Source, err))
		}
		return h.Invoice(ctx, ev, inv)
	})
	c.Handle(schema.TypePageUpserted, consumer.Typed(h.Page))
	return c, nil
}
