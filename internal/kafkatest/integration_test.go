//go:build integration

package kafkatest

import (
	"os"
	"testing"
)

// realBrokers returns the seeds of the broker named by KAFKA_BROKERS and
// skips the test when there is none.
func realBrokers(t *testing.T) []string {
	t.Helper()

	if _, ok := os.LookupEnv(EnvBrokers); !ok {
		t.Skipf("%s is not set: no real broker to test against", EnvBrokers)
	}
	seeds, _ := Brokers(t)
	return seeds
}

func TestCompactedTopicBroker(t *testing.T) {
	checkCompactedTopic(t, realBrokers(t))
}

func TestTransactionBroker(t *testing.T) {
	checkTransaction(t, realBrokers(t))
}

func TestBrokerMetadata(t *testing.T) {
	md := fetchMetadata(t, realBrokers(t))

	if len(md.Brokers) == 0 || md.Controller < 0 {
		t.Errorf("BrokerMetadata() brokers = %v, controller = %d, want >= 1 broker and a controller",
			md.Brokers, md.Controller)
	}
}
