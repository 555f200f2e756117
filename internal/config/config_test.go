package config

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parable/confluence-kafka/internal/confluence"
)

func TestGoodFixturesLoad(t *testing.T) {
	paths, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := Load(path); err != nil {
				t.Errorf("Load(%s) = %v, want no error", path, err)
			}
		})
	}
}

// TestBadFixturesNameTheField loads every bad fixture; its first line says
// "# want: " and text the error must contain: file, line, field, value and
// what is allowed.
func TestBadFixturesNameTheField(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := wantLine(t, path)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) = %v, want an error containing %q", path, err, want)
			}
			for _, secret := range []string{"ATATT3xFfGF0-inline", "hunter2"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("Load(%s) error %q repeats the inline secret", path, err)
				}
			}
		})
	}
}

func wantLine(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "# want: ")
	if !ok {
		t.Fatalf("%s: first line %q does not start with \"# want: \"", path, sc.Text())
	}
	return want
}

func TestCompleteFixtureValues(t *testing.T) {
	f, err := Load("testdata/good/complete.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Site{{
		Name: "acme", BaseURL: "https://acme.atlassian.net", Email: "crawler@acme.example",
		APITokenEnv: "ACME_CONFLUENCE_TOKEN", RequestsPerSecond: 8, Burst: 4, MaxAttempts: 6,
		RequestTimeout: Duration(20 * time.Second), Breaker: Breaker{Failures: 5, OpenFor: Duration(time.Minute)},
		Checkpoint: Checkpoint{Events: 1000}, SpaceConcurrency: 2, TransactionalID: "confluence-producer.acme",
	}, {
		Name:            "globex",
		BaseURL:         "https://api.atlassian.com/ex/confluence/0d7a6c2e-5b1f-4a8e-9c3d-2f6e8b1a4c7d",
		BearerTokenFile: "/run/secrets/globex-token",
	}}
	if diff := cmp.Diff(want, f.Sites); diff != "" {
		t.Errorf("Load(complete.yaml).Sites mismatch (-want +got):\n%s", diff)
	}
	if got := f.Sites[1].Identity(); got != "api.atlassian.com/ex/confluence/0d7a6c2e-5b1f-4a8e-9c3d-2f6e8b1a4c7d" {
		t.Errorf("Sites[1].Identity() = %q, want the gateway host and cloud id path", got)
	}
}

func TestSettingsUseFlagNames(t *testing.T) {
	f, err := Load("testdata/good/complete.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		return map[string]string{"KAFKA_SASL_PASSWORD_FOR_TEST": "pw-from-env"}[name], name == "KAFKA_SASL_PASSWORD_FOR_TEST"
	}
	got, err := f.Settings(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"kafka-brokers":            "kafka-1.internal:9093,kafka-2.internal:9093",
		"kafka-connect-timeout":    "45s",
		"topic-prefix":             "parable.confluence.",
		"topic-partitions":         "12",
		"topic-replication-factor": "3",
		"topic-max-message-bytes":  "2097152",
		"kafka-tls":                "true",
		"kafka-tls-ca-file":        "/etc/confluence-kafka/ca.pem",
		"kafka-tls-cert-file":      "/etc/confluence-kafka/client.pem",
		"kafka-tls-key-file":       "/etc/confluence-kafka/client-key.pem",
		"kafka-tls-server-name":    "kafka.internal",
		"kafka-sasl-mechanism":     "SCRAM-SHA-512",
		"kafka-sasl-username":      "confluence-crawler",
		"kafka-sasl-password":      "pw-from-env",
		"index-path":               "/var/lib/confluence-kafka/index.db",
		"consumer-group":           "confluence-indexer",
		"metrics-listen":           "127.0.0.1:9464",
		"ready-blocked-after":      "15m0s",
		"log-format":               "json",
		"log-level":                "info",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settings() mismatch (-want +got):\n%s", diff)
	}

	_, err = f.Settings(func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "kafka.sasl.password_env KAFKA_SASL_PASSWORD_FOR_TEST: that environment variable is not set") {
		t.Errorf("Settings() without the password variable = %v, want an error naming kafka.sasl.password_env", err)
	}
}

func TestConfluenceReadsTheTokenFromWhereTheSiteSays(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("token-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"SITE_TOKEN": "token-from-env", "BLANK": " "}[name]
		return v, ok
	}
	base := Site{BaseURL: "https://acme.atlassian.net", Email: "crawler@acme.example"}
	tests := []struct {
		name    string
		edit    func(*Site)
		want    confluence.Config
		wantErr string
	}{
		{"api token from env", func(s *Site) { s.APITokenEnv = "SITE_TOKEN" },
			confluence.Config{BaseURL: base.BaseURL, Email: base.Email, APIToken: "token-from-env"}, ""},
		{"api token from file", func(s *Site) { s.APITokenFile = tokenFile },
			confluence.Config{BaseURL: base.BaseURL, Email: base.Email, APIToken: "token-from-file"}, ""},
		{"bearer token from file", func(s *Site) { s.Email, s.BearerTokenFile = "", tokenFile },
			confluence.Config{BaseURL: base.BaseURL, BearerToken: "token-from-file"}, ""},
		{"unset variable", func(s *Site) { s.APITokenEnv = "NOT_SET" }, confluence.Config{},
			"sites[0].api_token_env NOT_SET: that environment variable is not set or empty"},
		{"blank variable", func(s *Site) { s.APITokenEnv = "BLANK" }, confluence.Config{},
			"sites[0].api_token_env BLANK: that environment variable is not set or empty"},
		{"missing file", func(s *Site) { s.APITokenFile = filepath.Join(dir, "nope") }, confluence.Config{},
			"sites[0].api_token_file " + filepath.Join(dir, "nope")},
		{"empty file", func(s *Site) { s.APITokenFile = empty }, confluence.Config{},
			"the file is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			f := &File{Path: "test.yaml", Sites: []Site{s}}
			got, err := f.Confluence(0, env)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Confluence(0) error = %v, want one containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("Confluence(0) error = %v", err)
			default:
				if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(confluence.Config{}, "OnWait")); diff != "" {
					t.Errorf("Confluence(0) mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseReportsYAMLSyntaxWithTheFile(t *testing.T) {
	_, err := Parse("broken.yaml", []byte("sites:\n  - base_url: [unclosed\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "broken.yaml:") {
		t.Errorf("Parse(broken) = %v, want an error starting with the file name", err)
	}
}
