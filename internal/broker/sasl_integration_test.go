//go:build integration

package broker

import (
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// Environment of the SASL listener that .ci/kafka/start.sh opens when
// KAFKA_SASL_PORT is set. They are not the product's own KAFKA_SASL_*
// variables, so that the rest of the suite does not pick them up.
const (
	envSASLBrokers  = "KAFKA_SASL_TEST_BROKERS"
	envSASLUser     = "KAFKA_SASL_TEST_USER"
	envSASLPassword = "KAFKA_SASL_TEST_PASSWORD"
)

// saslBroker returns the seeds and credentials of the real broker's SASL
// listener, or skips the test when none is configured.
func saslBroker(t *testing.T) (seeds []string, user, password string) {
	t.Helper()
	raw := os.Getenv(envSASLBrokers)
	if raw == "" {
		t.Skipf("%s is not set: no SASL listener to test against", envSASLBrokers)
	}
	user, password = os.Getenv(envSASLUser), os.Getenv(envSASLPassword)
	if user == "" || password == "" {
		t.Fatalf("%s is set but %s or %s is empty", envSASLBrokers, envSASLUser, envSASLPassword)
	}
	return strings.Split(raw, ","), user, password
}

func TestSASLAgainstRealBroker(t *testing.T) {
	seeds, user, password := saslBroker(t)
	tests := []struct {
		name      string
		sasl      SASL
		wantError string
	}{
		{"scram-sha-256", SASL{MechanismScramSHA256, user, password}, ""},
		{"scram-sha-512", SASL{MechanismScramSHA512, user, password}, ""},
		{"plain", SASL{MechanismPlain, user, password}, ""},
		{"scram-sha-512 wrong password", SASL{MechanismScramSHA512, user, password + "-wrong"},
			"rejected the SASL credentials: check kafka-sasl-username, kafka-sasl-password"},
		{"scram-sha-256 unknown user", SASL{MechanismScramSHA256, "nobody", password}, "KAFKA_SASL_PASSWORD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ping(t, seeds, Security{SASL: tc.sasl})
			switch {
			case tc.wantError == "" && err != nil:
				t.Errorf("Ping(%s) = %v, want nil", tc.sasl.Mechanism, err)
			case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
				t.Errorf("Ping(%s) = %v, want an error containing %q", tc.sasl.Mechanism, err, tc.wantError)
			}
		})
	}
}

func TestSCRAMClientUsesRealBroker(t *testing.T) {
	seeds, user, password := saslBroker(t)
	opts, err := Security{SASL: SASL{MechanismScramSHA512, user, password}}.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, kgo.SeedBrokers(seeds...))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := kafkatest.TopicName(t, "sasl")
	if err := EnsureTopics(t.Context(), kadm.NewClient(cl), TopicConfig{Partitions: 1}, topic); err != nil {
		t.Fatalf("EnsureTopics() over SCRAM = %v", err)
	}
	produceAndRead(t, opts, topic)
}
