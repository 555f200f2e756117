package kafkatest

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSplitSeeds(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{name: "one", raw: "127.0.0.1:19092", want: []string{"127.0.0.1:19092"}},
		{name: "several", raw: "a:1,b:2", want: []string{"a:1", "b:2"}},
		{name: "spaces and blanks", raw: " a:1 , ,b:2, ", want: []string{"a:1", "b:2"}},
		{name: "empty", raw: "", want: nil},
		{name: "only commas", raw: " , ,", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitSeeds(tt.raw)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("splitSeeds(%q) mismatch (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestBrokersFromEnv(t *testing.T) {
	t.Setenv(EnvBrokers, "127.0.0.1:1, 127.0.0.1:2")

	seeds, real := Brokers(t)

	want := []string{"127.0.0.1:1", "127.0.0.1:2"}
	if diff := cmp.Diff(want, seeds); diff != "" || !real {
		t.Errorf("Brokers() = %v, %v, want %v, true (-want +got seeds):\n%s",
			seeds, real, want, diff)
	}
}

func TestBrokersFake(t *testing.T) {
	if _, ok := os.LookupEnv(EnvBrokers); ok {
		t.Skipf("%s is set: Brokers returns the real broker", EnvBrokers)
	}

	seeds, real := Brokers(t)

	if len(seeds) != 1 || real {
		t.Fatalf("Brokers() = %v, %v, want one fake seed, false", seeds, real)
	}
	md := fetchMetadata(t, seeds)
	if len(md.Brokers) != 1 {
		t.Errorf("metadata brokers = %v, want exactly one", md.Brokers)
	}
}

// validTopic matches what Kafka accepts as a topic name.
var validTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func TestTopicName(t *testing.T) {
	tests := []struct {
		name   string
		base   string
		prefix string
	}{
		{name: "plain", base: "pages", prefix: "pages.TestTopicName-plain."},
		{name: "spaces/and:colons", base: "x", prefix: "x.TestTopicName-spaces-and-colons."},
		{name: "empty base", base: "", prefix: "TestTopicName-empty_base."},
		{name: "long", base: strings.Repeat("b", 300), prefix: strings.Repeat("b", 240)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TopicName(t, tt.base)
			if !validTopic.MatchString(got) || !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("TopicName(%q) = %q, want a valid topic name starting %q",
					tt.base, got, tt.prefix)
			}
		})
	}
}

func TestTopicNameUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		got := TopicName(t, "u")
		if seen[got] {
			t.Fatalf("TopicName(%q) = %q twice, want a new name per call", "u", got)
		}
		seen[got] = true
	}
}

// TestCompactedTopicFake runs the broker plumbing checks against kfake, so
// they are known to pass there before CI points them at a real broker.
func TestCompactedTopicFake(t *testing.T) {
	seeds := Fake(t).ListenAddrs()

	checkCompactedTopic(t, seeds)
}

func TestTransactionFake(t *testing.T) {
	seeds := Fake(t).ListenAddrs()

	checkTransaction(t, seeds)
}
