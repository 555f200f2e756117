package schema_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/schema"
	"github.com/parable/confluence-kafka/schema/jsonschema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	site    = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}
	created = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	edited  = time.Date(2026, 11, 2, 17, 5, 0, 123000000, time.UTC)
)

func samplePage() schema.Page {
	return schema.Page{
		ID: "98305", Kind: schema.KindPage, SpaceID: "65538", Status: "current",
		Title: "Runbook: 東京 failover ✅", ParentID: "98300",
		AuthorID: "557058:f3c8c4e0", OwnerID: "557058:f3c8c4e0", CreatedAt: created,
		Version:    schema.PageVersion{Number: 7, CreatedAt: edited, AuthorID: "712020:0b1d", Message: "fix steps"},
		WebURL:     "https://acme.atlassian.net/wiki/spaces/OPS/pages/98305",
		BodyFormat: "storage",
		Body:       `<p>Фаза 1 <ac:emoticon ac:name="smile" /></p><ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[kubectl get pods]]></ac:plain-text-body></ac:structured-macro>`,
	}
}

// goldenCases returns one message per event type, and which JSON Schema file
// its value must satisfy.
func goldenCases(t *testing.T) []struct {
	name, schemaFile string
	msg              schema.Message
} {
	t.Helper()
	must := func(m schema.Message, err error) schema.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	user := schema.User{AccountID: "557058:f3c8c4e0", AccountType: "atlassian", AccountStatus: "active",
		DisplayName: "Mia Krystof", PublicName: "mia", TimeZone: "Europe/Prague"}
	app := schema.User{AccountID: "5d9f2e1a0c", AccountType: "app", AccountStatus: "inactive", DisplayName: "Jira Cloud"}
	space := schema.Space{ID: "65538", Key: "OPS", Name: "Operations", Type: "global", Status: "current",
		Description: "How we run things", HomepageID: "98300", AuthorID: "557058:f3c8c4e0", CreatedAt: created,
		WebURL: "https://acme.atlassian.net/wiki/spaces/OPS"}
	blog := samplePage()
	blog.ID, blog.Kind, blog.ParentID, blog.Title = "131073", schema.KindBlogPost, "", "مرحبا Release notes"
	return []struct {
		name, schemaFile string
		msg              schema.Message
	}{
		{"user_upserted", "user.v1.json", must(site.UserUpserted(user, edited))},
		{"user_upserted_app_hidden_email", "user.v1.json", must(site.UserUpserted(app, edited))},
		{"user_deleted", "", site.Deleted(schema.EntityUser, user.AccountID, "", schema.ReasonMissing, edited)},
		{"space_upserted", "space.v1.json", must(site.SpaceUpserted(space, edited))},
		{"space_deleted", "", site.Deleted(schema.EntitySpace, space.ID, "", schema.ReasonUnreadable, edited)},
		{"page_upserted", "page.v1.json", must(site.PageUpserted(samplePage()))},
		{"page_upserted_degraded", "page.v1.json", must(site.PageUpserted(samplePage().WithoutBody()))},
		{"blogpost_upserted", "page.v1.json", must(site.PageUpserted(blog))},
		{"page_deleted", "", site.Deleted(schema.EntityPage, "98305", "7", schema.ReasonTrashed, edited)},
	}
}

func TestGoldenEvents(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got := render(tc.msg)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test ./schema -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s encoding changed (-golden +got):\n%s", tc.name, diff)
			}
		})
	}
}

// render writes a message as text: the key, each header, then the value.
func render(m schema.Message) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "key: %s\n", m.Key)
	for _, h := range m.Envelope.Headers() {
		fmt.Fprintf(&b, "header %s: %s\n", h.Key, h.Value)
	}
	if m.Value == nil {
		b.WriteString("value: null (tombstone)\n")
		return b.Bytes()
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, m.Value, "", "  "); err != nil {
		panic(err)
	}
	fmt.Fprintf(&b, "value:\n%s\n", indented.Bytes())
	return b.Bytes()
}

func TestValuesMatchJSONSchema(t *testing.T) {
	for _, tc := range goldenCases(t) {
		if tc.schemaFile == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := loadSchema(t, tc.schemaFile)
			var v any
			if err := json.Unmarshal(tc.msg.Value, &v); err != nil {
				t.Fatal(err)
			}
			if err := s.VisitJSON(v); err != nil {
				t.Errorf("value of %s does not satisfy %s: %v", tc.name, tc.schemaFile, err)
			}
		})
	}
}

func TestJSONSchemaRejectsBadPayload(t *testing.T) {
	tests := []struct {
		name, file, value string
	}{
		{"page without id", "page.v1.json", `{"site":"s","kind":"page","spaceId":"1","status":"current","title":"t","createdAt":"2025-01-01T00:00:00Z","version":{"number":1,"createdAt":"2025-01-01T00:00:00Z"},"bodyBytes":0}`},
		{"page of unknown kind", "page.v1.json", `{"site":"s","id":"1","kind":"comment","spaceId":"1","status":"current","title":"t","createdAt":"2025-01-01T00:00:00Z","version":{"number":1,"createdAt":"2025-01-01T00:00:00Z"},"bodyBytes":0}`},
		{"user without account id", "user.v1.json", `{"site":"s","accountType":"app","accountStatus":"active","displayName":"x"}`},
		{"space without key", "space.v1.json", `{"site":"s","id":"1","name":"n","type":"global","status":"current","createdAt":"2025-01-01T00:00:00Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.value), &v); err != nil {
				t.Fatal(err)
			}
			if err := loadSchema(t, tc.file).VisitJSON(v); err == nil {
				t.Errorf("%s accepted %s, want a validation error", tc.file, tc.value)
			}
		})
	}
}

func loadSchema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	raw, err := jsonschema.Files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var s openapi3.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return &s
}

func TestRoundTrip(t *testing.T) {
	msg, err := site.PageUpserted(samplePage())
	if err != nil {
		t.Fatal(err)
	}
	ev, err := schema.ParseRecord(msg.Record("confluence.pages"))
	if err != nil {
		t.Fatalf("ParseRecord() error = %v", err)
	}
	got, err := schema.Decode[schema.Page](ev)
	if err != nil {
		t.Fatalf("Decode() error = %v", err)
	}
	want := samplePage()
	want.Site, want.BodyBytes = site.ID, len(want.Body)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(msg.Envelope, ev.Envelope); diff != "" {
		t.Errorf("envelope round trip (-want +got):\n%s", diff)
	}
	entity, state, ok := ev.Entity()
	if entity != schema.EntityPage || state != schema.StateUpserted || !ok {
		t.Errorf("Entity() = %q, %q, %v, want page, upserted, true", entity, state, ok)
	}
}

func TestEventIDDeterministic(t *testing.T) {
	a, _ := site.PageUpserted(samplePage())
	b, _ := site.PageUpserted(samplePage())
	if a.Envelope.ID != b.Envelope.ID {
		t.Errorf("same page gave ids %s and %s", a.Envelope.ID, b.Envelope.ID)
	}
	next := samplePage()
	next.Version.Number++
	c, _ := site.PageUpserted(next)
	del := site.Deleted(schema.EntityPage, "98305", "7", schema.ReasonTrashed, edited)
	other := schema.Site{ID: "other.atlassian.net"}
	d, _ := other.PageUpserted(samplePage())
	ids := map[string]string{"v7": a.Envelope.ID, "v8": c.Envelope.ID, "deleted": del.Envelope.ID, "other site": d.Envelope.ID}
	seen := map[string]string{}
	for name, id := range ids {
		if prev, dup := seen[id]; dup {
			t.Errorf("events %s and %s share id %s", prev, name, id)
		}
		seen[id] = name
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	good := site.Deleted(schema.EntityPage, "1", "1", schema.ReasonPurged, edited).Envelope.Headers()
	without := func(key string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for _, h := range good {
			if h.Key != key {
				out = append(out, h)
			}
		}
		return out
	}
	with := func(key, value string) []kgo.RecordHeader {
		return append(without(key), kgo.RecordHeader{Key: key, Value: []byte(value)})
	}
	tests := []struct {
		name    string
		headers []kgo.RecordHeader
		want    string
	}{
		{"no headers", nil, "ce_specversion"},
		{"spec 0.3", with(schema.HeaderSpecVersion, "0.3"), "ce_specversion"},
		{"no id", without(schema.HeaderID), "ce_id"},
		{"no type", without(schema.HeaderType), "ce_type"},
		{"bad time", with(schema.HeaderTime, "yesterday"), "ce_time"},
		{"bad schema version", with(schema.HeaderSchemaVersion, "one"), "ce_schemaversion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schema.ParseEnvelope(tc.headers)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseEnvelope() error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestDecodeRefusesNewerSchema(t *testing.T) {
	msg, _ := site.PageUpserted(samplePage())
	ev := schema.Event{Envelope: msg.Envelope, Key: msg.Key, Value: msg.Value}
	ev.SchemaVersion = schema.SchemaVersion + 1
	if _, err := schema.Decode[schema.Page](ev); !errors.Is(err, schema.ErrUnsupportedSchemaVersion) {
		t.Errorf("Decode(version %d) error = %v, want ErrUnsupportedSchemaVersion", ev.SchemaVersion, err)
	}
}
