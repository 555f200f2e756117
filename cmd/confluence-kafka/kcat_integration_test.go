//go:build integration

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

// The event contract read back by kcat, a Kafka client written in C on
// librdkafka: what a consumer in another language sees of the pages topic.

// kcatTimeout bounds the crawl and the kcat run so that an unreachable
// broker fails the test instead of hanging it; it is not a speed assertion.
const kcatTimeout = 3 * time.Minute

// kcatRecord is one line of kcat -J output.
type kcatRecord struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Headers   []string `json:"headers"` // name, value, name, value, ...
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"` // null for a tombstone
}

func (r kcatRecord) String() string {
	return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)
}

// contractSite is the site identity every record must carry.
type contractSite struct {
	id  string // the site part of keys and the value's site field
	url string // ce_source
}

// checkedPage is what the checker learned from one valid record.
type checkedPage struct {
	page schema.Page
	ceID string
}

// kcatPath returns the kcat binary from KCAT or PATH, or skips the test.
func kcatPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KCAT"); p != "" {
		return p
	}
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed and KCAT is not set")
	}
	return p
}

func TestKcatReadsPagesTopic(t *testing.T) {
	brokers := os.Getenv(kafkatest.EnvBrokers)
	if brokers == "" {
		t.Skipf("%s is not set: no real broker to test against", kafkatest.EnvBrokers)
	}
	kcat := kcatPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), kcatTimeout)
	defer cancel()

	site, url := kcatSite(t)
	topics := schema.NewTopics(kafkatest.TopicName(t, "kcat") + ".")
	deleteTopicsAtEnd(t, brokers, topics)
	crawlInto(ctx, t, url, brokers, topics)

	records := consumeWithKcat(ctx, t, kcat, brokers, topics.Pages)
	want := site.Expected()
	if len(records) != want.Pages+want.BlogPosts {
		t.Errorf("kcat read %d records from %s, want %d pages + %d blog posts",
			len(records), topics.Pages, want.Pages, want.BlogPosts)
	}
	kinds := checkRecords(t, identityOf(t, url), contentIDs(site), records)
	t.Logf("kcat read %d records from %s: %v", len(records), topics.Pages, kinds)
	if kinds[schema.KindPage] != want.Pages || kinds[schema.KindBlogPost] != want.BlogPosts {
		t.Errorf("kinds = %v, want %d %s and %d %s", kinds,
			want.Pages, schema.KindPage, want.BlogPosts, schema.KindBlogPost)
	}
}

const kcatEmail, kcatToken = "kcat@example.com", "kcat-simulator-token"

// kcatSite serves a small simulated site for this test only.
func kcatSite(t *testing.T) (*confluencesim.Site, string) {
	t.Helper()
	site, err := confluencesim.New(confluencesim.Config{
		Seed: 23, Spaces: 3, Pages: 90, BlogPosts: 9, Users: 15,
		Email: kcatEmail, APIToken: kcatToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return site, srv.URL
}

// crawlInto runs the crawl subcommand the way a user would: the secret in
// the environment, the rest as flags.
func crawlInto(ctx context.Context, t *testing.T, url, brokers string, topics schema.Topics) {
	t.Helper()
	t.Setenv("CONFLUENCE_API_TOKEN", kcatToken)
	prefix := strings.TrimSuffix(topics.Pages, "pages")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"crawl", "--confluence-base-url", url, "--confluence-email", kcatEmail,
		"--kafka-brokers", brokers, "--topic-prefix", prefix, "--log-format", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("crawl: %v\nstderr:\n%s", err, stderr.String())
	}
}

// deleteTopicsAtEnd removes the topics the crawl creates, so that the shared
// broker does not fill up with test topics.
func deleteTopicsAtEnd(t *testing.T, brokers string, topics schema.Topics) {
	t.Helper()
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
		if err != nil {
			t.Errorf("kgo.NewClient() = %v, want no error", err)
			return
		}
		defer cl.Close()
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		names := append(topics.Entities(), topics.State)
		if _, err := kadm.NewClient(cl).DeleteTopics(ctx, names...); err != nil {
			t.Errorf("DeleteTopics(%q) = %v, want no error", names, err)
		}
	})
}

// consumeWithKcat reads topic from the beginning to its end with kcat, as a
// read_committed consumer, and parses its JSON lines.
func consumeWithKcat(ctx context.Context, t *testing.T, kcat, brokers, topic string) []kcatRecord {
	t.Helper()
	cmd := exec.CommandContext(ctx, kcat, "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e",
		"-J", "-q", "-X", "isolation.level=read_committed")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", cmd, err, stderr.String())
	}
	var records []kcatRecord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20) // a line holds a whole page body
	for sc.Scan() {
		var r kcatRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("kcat line %q: %v", sc.Text(), err)
		}
		records = append(records, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read kcat output: %v", err)
	}
	return records
}

// identityOf returns the site identity the product derives from url, from
// the same client code the crawl uses.
func identityOf(t *testing.T, url string) contractSite {
	t.Helper()
	c, err := confluence.New(confluence.Config{BaseURL: url, Email: kcatEmail, APIToken: kcatToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return contractSite{id: c.Site(), url: c.SiteURL()}
}

// contentIDs returns every page and blog post id of the site.
func contentIDs(site *confluencesim.Site) map[string]bool {
	ids := map[string]bool{}
	for _, sp := range site.SpaceIDs() {
		for _, id := range append(site.PageIDs(sp), site.BlogPostIDs(sp)...) {
			ids[id] = true
		}
	}
	return ids
}

// checkRecords checks every record against the contract, and across records
// that keys and ce_ids are unique and ids belong to the site. It returns the
// number of records of each kind.
func checkRecords(t *testing.T, site contractSite, ids map[string]bool, records []kcatRecord) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	seenKey, seenCEID := map[string]bool{}, map[string]bool{}
	for _, r := range records {
		p, problems := checkPageRecord(site, r)
		for _, problem := range problems {
			t.Errorf("record %s: %s", r, problem)
		}
		if len(problems) > 0 {
			continue
		}
		if key := *r.Key; seenKey[key] {
			t.Errorf("record %s: key %q appears twice", r, key)
		} else {
			seenKey[key] = true
		}
		if seenCEID[p.ceID] {
			t.Errorf("record %s: ce_id %q appears twice", r, p.ceID)
		}
		seenCEID[p.ceID] = true
		if !ids[p.page.ID] {
			t.Errorf("record %s: id %q is not a page or blog post of the site", r, p.page.ID)
		}
		kinds[p.page.Kind]++
	}
	return kinds
}

// checkPageRecord checks one record of the pages topic against the event
// contract (DESIGN.md §3) and returns every breach it finds.
func checkPageRecord(site contractSite, r kcatRecord) (checkedPage, []string) {
	if r.Key == nil || r.Payload == nil {
		return checkedPage{}, []string{"key or value is null: want a page upsert"}
	}
	h, problems := headerMap(r.Headers)
	keySite, id, ok := strings.Cut(*r.Key, "/")
	if !ok || keySite != site.id || id == "" {
		problems = append(problems, fmt.Sprintf("key %q: want %s/<id>", *r.Key, site.id))
	}
	for _, w := range []struct{ name, want string }{
		{schema.HeaderSpecVersion, "1.0"},
		{schema.HeaderSource, site.url},
		{schema.HeaderType, schema.TypePageUpserted},
		{schema.HeaderSubject, id},
		{schema.HeaderContentType, "application/json"},
		{schema.HeaderSchemaVersion, "1"},
	} {
		if got, ok := h[w.name]; !ok || got != w.want {
			problems = append(problems, fmt.Sprintf("header %s = %q, want %q", w.name, got, w.want))
		}
	}
	if h[schema.HeaderID] == "" {
		problems = append(problems, "header ce_id is empty")
	}
	ceTime, err := time.Parse(time.RFC3339, h[schema.HeaderTime])
	if err != nil {
		problems = append(problems, fmt.Sprintf("header ce_time %q: not RFC 3339", h[schema.HeaderTime]))
	}
	p, err := decodePage(*r.Payload)
	if err != nil {
		return checkedPage{}, append(problems, err.Error())
	}
	problems = append(problems, pageMatches(p, keySite, id, ceTime)...)
	return checkedPage{page: p, ceID: h[schema.HeaderID]}, problems
}

// headerMap turns kcat's flat header list into a map; a header that appears
// twice is a breach, since a reader could pick either value.
func headerMap(flat []string) (map[string]string, []string) {
	h := map[string]string{}
	var problems []string
	if len(flat)%2 != 0 {
		problems = append(problems, fmt.Sprintf("headers %q: odd length", flat))
	}
	for i := 0; i+1 < len(flat); i += 2 {
		if _, dup := h[flat[i]]; dup {
			problems = append(problems, fmt.Sprintf("header %s appears twice", flat[i]))
		}
		h[flat[i]] = flat[i+1]
	}
	return h, problems
}

// decodePage decodes a value into schema.Page, refusing fields the type
// does not have: the JSON Schema of the page event allows none either.
func decodePage(payload string) (schema.Page, error) {
	var p schema.Page
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("value does not decode into schema.Page: %v", err)
	}
	return p, nil
}

// pageMatches checks the value against the key and ce_time.
func pageMatches(p schema.Page, site, id string, ceTime time.Time) []string {
	var problems []string
	if p.Site != site || p.ID != id {
		problems = append(problems, fmt.Sprintf("value site/id = %s/%s, want the key's %s/%s",
			p.Site, p.ID, site, id))
	}
	if p.Kind != schema.KindPage && p.Kind != schema.KindBlogPost {
		problems = append(problems, fmt.Sprintf("value kind = %q, want %q or %q",
			p.Kind, schema.KindPage, schema.KindBlogPost))
	}
	if !ceTime.IsZero() && !ceTime.Equal(p.Version.CreatedAt) {
		problems = append(problems, fmt.Sprintf("ce_time %s, want the version's time %s",
			ceTime.Format(time.RFC3339Nano), p.Version.CreatedAt.Format(time.RFC3339Nano)))
	}
	return problems
}

// TestCheckPageRecord shows that the contract check catches each breach: it
// starts from a record the schema package encodes and spoils one part.
func TestCheckPageRecord(t *testing.T) {
	site := contractSite{id: "acme.atlassian.net", url: "https://acme.atlassian.net/wiki"}
	tests := []struct {
		name  string
		spoil func(r *kcatRecord)
		want  []string
	}{
		{name: "valid", spoil: func(*kcatRecord) {}},
		{name: "deleted type", spoil: setHeader(schema.HeaderType, schema.TypePageDeleted),
			want: []string{`header ce_type = "com.parable.confluence.page.deleted", want "com.parable.confluence.page.upserted"`}},
		{name: "spec version", spoil: setHeader(schema.HeaderSpecVersion, "0.3"),
			want: []string{`header ce_specversion = "0.3", want "1.0"`}},
		{name: "subject differs from key", spoil: setHeader(schema.HeaderSubject, "98306"),
			want: []string{`header ce_subject = "98306", want "98305"`}},
		{name: "time not RFC 3339", spoil: setHeader(schema.HeaderTime, "2024-05-01 10:00:00"),
			want: []string{`header ce_time "2024-05-01 10:00:00": not RFC 3339`}},
		{name: "time of another version", spoil: setHeader(schema.HeaderTime, "2024-05-01T10:00:00Z"),
			want: []string{"ce_time 2024-05-01T10:00:00Z, want the version's time 2024-05-02T09:30:00.5Z"}},
		{name: "schema version 2", spoil: setHeader(schema.HeaderSchemaVersion, "2"),
			want: []string{`header ce_schemaversion = "2", want "1"`}},
		{name: "no content type", spoil: dropHeader(schema.HeaderContentType),
			want: []string{`header content-type = "", want "application/json"`}},
		{name: "empty ce_id", spoil: setHeader(schema.HeaderID, ""), want: []string{"header ce_id is empty"}},
		{name: "duplicate header", spoil: func(r *kcatRecord) { r.Headers = append(r.Headers, "ce_id", "x") },
			want: []string{"header ce_id appears twice"}},
		{name: "key of another site", spoil: func(r *kcatRecord) { r.Key = ptr("other.atlassian.net/98305") },
			want: []string{
				`key "other.atlassian.net/98305": want acme.atlassian.net/<id>`,
				"value site/id = acme.atlassian.net/98305, want the key's other.atlassian.net/98305",
			}},
		{name: "unknown field in value", spoil: func(r *kcatRecord) { r.Payload = ptr(`{"id":"98305","colour":"red"}`) },
			want: []string{`value does not decode into schema.Page: json: unknown field "colour"`}},
		{name: "tombstone", spoil: func(r *kcatRecord) { r.Payload = nil },
			want: []string{"key or value is null: want a page upsert"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := encodedRecord(t, site)
			tc.spoil(&r)
			_, got := checkPageRecord(site, r)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("checkPageRecord() problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// encodedRecord returns a page event encoded by the schema package, in the
// form kcat prints it.
func encodedRecord(t *testing.T, site contractSite) kcatRecord {
	t.Helper()
	m, err := schema.Site{ID: site.id, URL: site.url}.PageUpserted(schema.Page{
		ID: "98305", Kind: schema.KindPage, SpaceID: "65538", Status: "current", Title: "Runbook",
		CreatedAt:  time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
		Version:    schema.PageVersion{Number: 4, CreatedAt: time.Date(2024, 5, 2, 9, 30, 0, 5e8, time.UTC)},
		BodyFormat: "storage", Body: "<p>on call</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := kcatRecord{Topic: "confluence.pages", Key: ptr(string(m.Key)), Payload: ptr(string(m.Value))}
	for _, h := range m.Envelope.Headers() {
		r.Headers = append(r.Headers, h.Key, string(h.Value))
	}
	return r
}

func setHeader(name, value string) func(*kcatRecord) {
	return func(r *kcatRecord) {
		for i := 0; i+1 < len(r.Headers); i += 2 {
			if r.Headers[i] == name {
				r.Headers[i+1] = value
			}
		}
	}
}

func dropHeader(name string) func(*kcatRecord) {
	return func(r *kcatRecord) {
		var kept []string
		for i := 0; i+1 < len(r.Headers); i += 2 {
			if r.Headers[i] != name {
				kept = append(kept, r.Headers[i], r.Headers[i+1])
			}
		}
		r.Headers = kept
	}
}

func ptr(s string) *string { return &s }
