package invoiceaudit_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/consumer"
	invoiceaudit "github.com/parable/confluence-kafka/examples/invoice-audit"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var site = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}

// The auditor receives exactly the invoices the billing service published,
// each once with its CloudEvents envelope, and the Confluence pages as
// typed values.
func TestAuditorReceivesWhatWasPublished(t *testing.T) {
	seeds, _ := kafkatest.Brokers(t)
	cl := client(t, seeds)
	invTopic, pageTopic := topic(t, cl, "billing.invoices"), topic(t, cl, "confluence.pages")
	sent := invoiceaudit.NewInvoices(20, time.Now())
	if err := invoiceaudit.Publish(t.Context(), cl, invTopic, sent); err != nil {
		t.Fatal(err)
	}
	page := publishPage(t, cl, pageTopic)

	var got []invoiceaudit.Invoice
	var envelopes []schema.Envelope
	var pages []schema.Page
	c, err := invoiceaudit.NewAuditor(consumer.Config{
		Brokers: seeds, Group: kafkatest.TopicName(t, "audit"), Topics: []string{invTopic, pageTopic}, StopAtEnd: true,
	}, invoiceaudit.Handlers{
		Invoice: func(_ context.Context, ev schema.Event, inv invoiceaudit.Invoice) error {
			got, envelopes = append(got, inv), append(envelopes, ev.Envelope)
			return nil
		},
		Page: func(_ context.Context, _ schema.Event, p schema.Page) error {
			pages = append(pages, p)
			return nil
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}

	if diff := cmp.Diff(sent, sortedByID(got)); diff != "" {
		t.Errorf("invoices received (-published +received):\n%s", diff)
	}
	for _, env := range envelopes {
		if env.Type != invoiceaudit.TypeInvoiceCreated || env.Source != invoiceaudit.Source || env.ID != "invoice-created-"+env.Subject {
			t.Errorf("invoice envelope = %+v, want type %s, source %s and id from the subject",
				env, invoiceaudit.TypeInvoiceCreated, invoiceaudit.Source)
		}
	}
	if len(pages) != 1 || pages[0].ID != page.ID || pages[0].Title != page.Title {
		t.Errorf("pages received = %+v, want only page %s %q", pages, page.ID, page.Title)
	}
}

// The two programs, built and run as separate processes against the
// cluster in KAFKA_BROKERS: what the auditor prints is exactly what the
// publisher published, plus the Confluence page.
func TestProgramsAgainstCluster(t *testing.T) {
	seeds, _ := kafkatest.Brokers(t)
	cl := client(t, seeds)
	env := map[string]string{
		"KAFKA_BROKERS": strings.Join(seeds, ","),
		"INVOICE_TOPIC": topic(t, cl, "billing.invoices"),
		"PAGES_TOPIC":   topic(t, cl, "confluence.pages"),
		"AUDIT_GROUP":   kafkatest.TopicName(t, "audit"),
	}
	page := publishPage(t, cl, env["PAGES_TOPIC"])
	bin := buildPrograms(t)

	sent := decodeInvoices(t, runProgram(t, bin, "publisher", env, "-n", "12"), "")
	out := runProgram(t, bin, "auditor", env)
	if diff := cmp.Diff(sortedByID(sent), sortedByID(decodeInvoices(t, out, "invoice "))); diff != "" {
		t.Errorf("auditor output (-published +audited):\n%s", diff)
	}
	if want := "page " + page.ID + " v2 " + page.Title; !strings.Contains(out, want+"\n") {
		t.Errorf("auditor output lacks %q:\n%s", want, out)
	}
}

// Without KAFKA_BROKERS, each program starts the embedded broker on the
// same data directory: the auditor, started after the publisher exited,
// still receives exactly the published invoices; a second auditor run in
// the same group receives nothing new.
func TestProgramsWithEmbeddedBroker(t *testing.T) {
	env := map[string]string{"EMBEDDED_BROKER_DIR": t.TempDir(), "AUDIT_GROUP": "audit"}
	bin := buildPrograms(t)

	sent := decodeInvoices(t, runProgram(t, bin, "publisher", env, "-n", "4"), "")
	got := decodeInvoices(t, runProgram(t, bin, "auditor", env), "invoice ")
	if diff := cmp.Diff(sortedByID(sent), sortedByID(got)); diff != "" {
		t.Errorf("auditor output (-published +audited):\n%s", diff)
	}
	if again := runProgram(t, bin, "auditor", env); again != "" {
		t.Errorf("second auditor run printed %q, want nothing: the group committed", again)
	}
}

func client(t *testing.T, seeds []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// topic creates a fresh topic of 3 partitions.
func topic(t *testing.T, cl *kgo.Client, base string) string {
	t.Helper()
	name := kafkatest.TopicName(t, base)
	if err := invoiceaudit.EnsureTopic(t.Context(), cl, name, 3); err != nil {
		t.Fatal(err)
	}
	return name
}

// publishPage publishes one Confluence page event, as the Confluence
// producer would.
func publishPage(t *testing.T, cl *kgo.Client, topic string) schema.Page {
	t.Helper()
	p := schema.Page{ID: "98305", Kind: schema.KindPage, SpaceID: "1", Status: "current", Title: "Quarterly close",
		Version: schema.PageVersion{Number: 2, CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	m, err := site.PageUpserted(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(t.Context(), m.Record(topic)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildPrograms builds the publisher and the auditor into a temporary
// directory, as go run would.
func buildPrograms(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the example programs: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), gobin, "build", "-o", dir+string(filepath.Separator), "./publisher", "./auditor")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// runProgram runs one program with env added to an environment without
// KAFKA_BROKERS, and returns its standard output.
func runProgram(t *testing.T, bin, name string, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KAFKA_BROKERS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", name, args, err, stderr.String())
	}
	return stdout.String()
}

// decodeInvoices decodes the lines of out that start with prefix as JSON
// invoices; every line must.
func decodeInvoices(t *testing.T, out, prefix string) []invoiceaudit.Invoice {
	t.Helper()
	var invs []invoiceaudit.Invoice
	for line := range strings.Lines(out) {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		var inv invoiceaudit.Invoice
		if err := json.Unmarshal([]byte(rest), &inv); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		invs = append(invs, inv)
	}
	return invs
}

func sortedByID(invs []invoiceaudit.Invoice) []invoiceaudit.Invoice {
	return slices.SortedFunc(slices.Values(invs), func(a, b invoiceaudit.Invoice) int {
		return strings.Compare(a.ID, b.ID)
	})
}
