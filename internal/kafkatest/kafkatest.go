// Package kafkatest gives tests a Kafka cluster to talk to.
//
// By default a test gets an in-process kfake cluster that lives as long as
// the test. When the environment variable KAFKA_BROKERS holds a
// comma-separated list of host:port seeds, tests talk to that real broker
// instead (CI starts one with .ci/kafka/start.sh). Tests that share a real
// broker must not share topics: name them with TopicName.
package kafkatest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EnvBrokers is the environment variable that points tests at a real broker.
const EnvBrokers = "KAFKA_BROKERS"

// maxTopicLen is the longest topic name Kafka accepts.
const maxTopicLen = 249

// Brokers returns seed addresses for a Kafka cluster the calling test may
// use. If KAFKA_BROKERS is set, it returns those seeds and real=true; the
// broker is shared with other tests and packages, so topics must be named
// with TopicName and nothing may be assumed about existing state. Otherwise
// it starts a fake cluster (see Fake), closes it when the test ends, and
// returns its addresses with real=false.
//
// Brokers fails the test if KAFKA_BROKERS is set but holds no address, or if
// the fake cluster cannot start.
func Brokers(t testing.TB) (seeds []string, real bool) {
	t.Helper()

	if raw, ok := os.LookupEnv(EnvBrokers); ok {
		seeds := splitSeeds(raw)
		if len(seeds) == 0 {
			t.Fatalf("%s=%q lists no broker address", EnvBrokers, raw)
		}
		return seeds, true
	}

	return Fake(t).ListenAddrs(), false
}

// Fake starts an in-process kfake cluster shaped like the broker CI runs:
// one node listening on 127.0.0.1, one partition per topic unless the
// creator asks for more, and no topic created on first use. Transactions,
// compaction settings and consumer groups need no extra option. opts are
// applied after these defaults, so a test may override any of them or add
// fault injection. The cluster is closed by t.Cleanup.
//
// Use Fake directly only for tests that need the cluster handle (to inject
// failures, move leaders and so on); such tests cannot run against a real
// broker.
func Fake(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()

	base := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(1),
	}
	c, err := kfake.NewCluster(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kfake.NewCluster() = %v, want no error", err)
	}
	t.Cleanup(c.Close)

	return c
}

// TopicName returns a topic name that no other call returns: base, the
// test's name reduced to the characters Kafka allows in topic names, and a
// random suffix, joined by dots and cut to Kafka's 249-character limit. It
// fails the test if base itself holds a character Kafka does not allow.
func TopicName(t testing.TB, base string) string {
	t.Helper()

	if strings.IndexFunc(base, func(r rune) bool { return !topicRune(r) }) >= 0 {
		t.Fatalf("TopicName(%q): base may hold only [a-zA-Z0-9._-]", base)
	}

	suffix := "." + randomHex(4)
	room := maxTopicLen - len(suffix)
	name := strings.Trim(base+"."+sanitize(t.Name()), ".")
	if len(name) > room {
		name = name[:room]
	}

	return name + suffix
}

// splitSeeds parses a comma-separated seed list, ignoring blanks.
func splitSeeds(raw string) []string {
	var seeds []string
	for s := range strings.SplitSeq(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// sanitize replaces every rune Kafka rejects in a topic name with '-'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if topicRune(r) {
			return r
		}
		return '-'
	}, s)
}

func topicRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r == '.' || r == '_' || r == '-'
}

func randomHex(n int) string {
	b := make([]byte, n)
	// Since Go 1.24 crypto/rand.Read never returns an error: it crashes the
	// program instead, so there is nothing to handle.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
