package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unsetEnv removes name from the environment for the test: the real-broker
// run sets KAFKA_BROKERS, which would take precedence over what a test checks.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the old value after the test
	os.Unsetenv(name)
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const precedenceConfig = `kafka:
  brokers: [file-broker:9092]
  topic_prefix: fromfile.
  sasl:
    mechanism: SCRAM-SHA-512
    username: crawler
    password_env: TEST_KAFKA_PASSWORD
log:
  level: warn
sites:
  - name: acme
    base_url: https://acme.atlassian.net
    email: crawler@acme.example
    api_token_env: TEST_ACME_TOKEN
`

func TestConfigPrintsEachSettingWithItsSource(t *testing.T) {
	path := writeConfig(t, precedenceConfig)
	unsetEnv(t, "KAFKA_BROKERS")
	t.Setenv("TOPIC_PREFIX", "fromenv.")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("TEST_KAFKA_PASSWORD", "kafka-pa55word-distinctive")
	t.Setenv("TEST_ACME_TOKEN", distinctiveToken)
	stdout, stderr, err := runCommand(t, "config", "--config-file", path, "--log-level", "debug")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		`log-level\s+debug\s+flag`,                    // flag over env and file
		`topic-prefix\s+fromenv\.\s+env TOPIC_PREFIX`, // env over file
		`kafka-brokers\s+file-broker:9092\s+file`,     // file over default
		`topic-partitions\s+6\s+default`,
		`kafka-sasl-password\s+\[redacted\]\s+file`,
		`kafka-sasl-mechanism\s+SCRAM-SHA-512\s+file`,
		`- name: acme\n\s+from: config file sites\[0\]\n\s+base_url: https://acme.atlassian.net`,
		`credentials: API token from environment variable TEST_ACME_TOKEN`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("config output does not match %q:\n%s", want, stdout)
		}
	}
	for _, secret := range []string{"kafka-pa55word-distinctive", distinctiveToken} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("config output contains the secret %q", secret)
		}
	}
}

func TestConfigFailsOnAnUnreadableToken(t *testing.T) {
	path := writeConfig(t, precedenceConfig)
	t.Setenv("TEST_KAFKA_PASSWORD", "pw")
	stdout, _, err := runCommand(t, "config", "--config-file", path)
	want := "sites[0].api_token_env TEST_ACME_TOKEN: that environment variable is not set or empty"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(stdout, want) {
		t.Errorf("config with TEST_ACME_TOKEN unset = %v, want an error (also printed) containing %q", err, want)
	}
}

func TestBadOperationsSettingsAreNamed(t *testing.T) {
	inline := writeConfig(t, "sites:\n  - base_url: https://acme.atlassian.net\n    email: a@example.com\n    api_token: inline-secret\n")
	sites := writeConfig(t, "sites:\n  - base_url: http://127.0.0.1:1\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"inline token in the file", []string{"crawl", "--config-file", inline}, "sites[0].api_token: a secret may not be written in the file"},
		{"missing file", []string{"run", "--config-file", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
		{"sites in the file and the flags", []string{"crawl", "--config-file", sites, "--confluence-base-url", "http://127.0.0.1:2",
			"--kafka-brokers", "127.0.0.1:1"}, "confluence-base-url \"http://127.0.0.1:2\" and the sites of config file"},
		{"unknown sasl mechanism", []string{"crawl", "--confluence-base-url", "http://127.0.0.1:1", "--kafka-brokers", "127.0.0.1:1",
			"--kafka-sasl-mechanism", "GSSAPI", "--kafka-sasl-username", "u", "--kafka-sasl-password", "p"}, `kafka-sasl-mechanism "GSSAPI"`},
		{"sasl without password", []string{"crawl", "--confluence-base-url", "http://127.0.0.1:1", "--kafka-brokers", "127.0.0.1:1",
			"--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-username", "u"}, "kafka-sasl-password: both required with PLAIN"},
		{"tls with the embedded broker", []string{"run", "--kafka-tls"}, "kafka-tls and kafka-sasl-* need kafka-brokers"},
		{"bad progress mode", []string{"run", "--progress", "fancy"}, `progress "fancy": want auto, lines, logs or off`},
	}
	unsetEnv(t, "KAFKA_BROKERS")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCommand(t, tc.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) error = %v, want a usage error containing %q", tc.args, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "inline-secret") {
				t.Errorf("run(%q) error repeats the inline secret", tc.args)
			}
		})
	}
}
