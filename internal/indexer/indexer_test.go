package indexer_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/internal/indexer"
	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	site = schema.Site{ID: "acme.atlassian.net", URL: "https://acme.atlassian.net/wiki"}
	at   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// fixture creates the three entity topics (3 partitions each) and returns
// the seeds, the topics and an admin client.
func fixture(t *testing.T) ([]string, schema.Topics, *kgo.Client) {
	t.Helper()
	seeds, _ := kafkatest.Brokers(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	topics := schema.NewTopics(kafkatest.TopicName(t, "confluence") + ".")
	adm := kadm.NewClient(cl)
	for _, name := range append(topics.Entities(), topics.Pages+".dlq") {
		resp, err := adm.CreateTopic(t.Context(), 3, 1, nil, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("CreateTopic(%s) = %v, want no error", name, err)
		}
	}
	return seeds, topics, cl
}

func produce(t *testing.T, cl *kgo.Client, topic string, msgs ...schema.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := cl.ProduceSync(t.Context(), m.Record(topic)).FirstErr(); err != nil {
			t.Fatalf("ProduceSync(%s) = %v, want no error", topic, err)
		}
	}
}

// must returns a function that fails the test on an encoding error.
func must(t *testing.T) func(schema.Message, error) schema.Message {
	return func(m schema.Message, err error) schema.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func page(t *testing.T, id, kind string, v int, title string) schema.Message {
	t.Helper()
	return must(t)(site.PageUpserted(schema.Page{
		ID: id, Kind: kind, SpaceID: "65538", Status: "current", Title: title, AuthorID: "u-1",
		Body:    "<p>Body of " + title + "</p>",
		Version: schema.PageVersion{Number: v, CreatedAt: at.Add(time.Duration(v) * time.Hour)},
	}))
}

// publishSite writes a small site: 2 users, 1 space, 10 pages (one deleted,
// one with a stale version written after its newer one), 2 blog posts.
func publishSite(t *testing.T, cl *kgo.Client, topics schema.Topics) {
	t.Helper()
	produce(t, cl, topics.Users,
		must(t)(site.UserUpserted(schema.User{AccountID: "u-1", DisplayName: "Mia Krystof"}, at)),
		must(t)(site.UserUpserted(schema.User{AccountID: "u-2", DisplayName: "Kenji Sato"}, at)))
	produce(t, cl, topics.Spaces,
		must(t)(site.SpaceUpserted(schema.Space{ID: "65538", Key: "OPS", Name: "Operations"}, at)))
	for i := range 10 {
		produce(t, cl, topics.Pages, page(t, fmt.Sprint(i), schema.KindPage, 2, fmt.Sprintf("Runbook %d", i)))
	}
	produce(t, cl, topics.Pages,
		page(t, "3", schema.KindPage, 1, "Runbook three stale draft"),
		site.Deleted(schema.EntityPage, "9", "2", schema.ReasonTrashed, at),
		page(t, "b1", schema.KindBlogPost, 1, "Release notes zebra"),
		page(t, "b2", schema.KindBlogPost, 1, "Offsite recap"))
}

func TestRunIndexesTopics(t *testing.T) {
	seeds, topics, cl := fixture(t)
	publishSite(t, cl, topics)
	path := filepath.Join(t.TempDir(), "index.db")
	cfg := indexer.Config{Brokers: seeds, Group: kafkatest.TopicName(t, "g"), Topics: topics, Path: path, StopAtEnd: true}

	want := index.Counts{Users: 2, Spaces: 1, Pages: 9, BlogPosts: 2, Deleted: 1}
	got, err := indexer.Run(t.Context(), cfg, nil)
	if err != nil || got != want {
		t.Fatalf("Run() = %+v, %v; want %+v, nil", got, err, want)
	}

	// A replay into the same index (a new group starts from the beginning)
	// changes nothing.
	cfg.Group = kafkatest.TopicName(t, "replay")
	got, err = indexer.Run(t.Context(), cfg, nil)
	if err != nil || got != want {
		t.Fatalf("replay: Run() = %+v, %v; want %+v, nil", got, err, want)
	}

	s, err := index.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSearch(t, s, "zebra", []string{"b1"})
	checkSearch(t, s, "stale draft", nil) // version 1 of page 3 came after version 2
	checkSearch(t, s, "Runbook 9", nil)   // deleted
	hits, err := s.Search(t.Context(), "Runbook 4", 1)
	if err != nil || len(hits) != 1 || hits[0].AuthorName != "Mia Krystof" || hits[0].SpaceKey != "OPS" {
		t.Errorf("Search(Runbook 4) = %+v, %v; want page 4 by Mia Krystof in OPS", hits, err)
	}
}

// An event the index cannot apply goes to the dead-letter topic; the rest of
// its batch is indexed.
func TestRunDeadLettersBadEvents(t *testing.T) {
	seeds, topics, cl := fixture(t)
	bad := page(t, "bad", schema.KindPage, 1, "broken")
	bad.Value = []byte(`{"id": "bad", "version": {"number": "one"}}`)
	produce(t, cl, topics.Pages, page(t, "1", schema.KindPage, 1, "fine one"), bad, page(t, "2", schema.KindPage, 1, "fine two"))

	cfg := indexer.Config{
		Brokers: seeds, Group: kafkatest.TopicName(t, "g"), Topics: topics, StopAtEnd: true,
		Path: filepath.Join(t.TempDir(), "index.db"), DeadLetterTopic: topics.Pages + ".dlq",
	}
	got, err := indexer.Run(t.Context(), cfg, nil)
	if want := (index.Counts{Pages: 2}); err != nil || got != want {
		t.Fatalf("Run() = %+v, %v; want %+v, nil", got, err, want)
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(cfg.DeadLetterTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fs := rd.PollFetches(t.Context())
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	recs := fs.Records()
	if len(recs) != 1 || string(recs[0].Key) != string(bad.Key) {
		t.Errorf("dead-letter topic holds %d records (first key %q), want only %q", len(recs), firstKey(recs), bad.Key)
	}
}

func firstKey(recs []*kgo.Record) string {
	if len(recs) == 0 {
		return ""
	}
	return string(recs[0].Key)
}

func checkSearch(t *testing.T, s *index.Store, q string, want []string) {
	t.Helper()
	hits, err := s.Search(t.Context(), q, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v, want no error", q, err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.PageID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Search(%q) = %v, want %v", q, got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   indexer.Config
		valid bool
	}{
		{"minimal", indexer.Config{Brokers: []string{"127.0.0.1:9092"}, Path: "x.db"}, true},
		{"no brokers", indexer.Config{Path: "x.db"}, false},
		{"no path", indexer.Config{Brokers: []string{"127.0.0.1:9092"}}, false},
		{"partial topics", indexer.Config{Brokers: []string{"127.0.0.1:9092"}, Path: "x.db",
			Topics: schema.Topics{Pages: "p"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.valid {
				t.Errorf("Validate(%+v) = %v, want valid %t", tt.cfg, err, tt.valid)
			}
		})
	}
}
