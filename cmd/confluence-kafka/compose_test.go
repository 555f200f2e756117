package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"
)

// No Docker engine runs where these tests run, so docker-compose.yml and the
// Dockerfile are checked by reading them: every service built from this
// repository must run a real subcommand and set only environment variables
// that subcommand reads.

// binaryPath is where the Dockerfile installs the binary.
const binaryPath = "/usr/local/bin/confluence-kafka"

// composeFile is the part of a Compose file the checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

// composeService is the part of a service the checks read. Command,
// entrypoint and environment each have a string and a list form in Compose.
type composeService struct {
	Image       string   `yaml:"image"`
	Build       any      `yaml:"build"`
	Entrypoint  any      `yaml:"entrypoint"`
	Command     any      `yaml:"command"`
	Environment any      `yaml:"environment"`
	NetworkMode string   `yaml:"network_mode"`
	Volumes     []string `yaml:"volumes"` // short syntax: source:target[:mode]
	Healthcheck struct {
		Test any `yaml:"test"`
	} `yaml:"healthcheck"`
}

func parseCompose(data []byte) (composeFile, error) {
	var f composeFile
	if err := yaml.Load(data, &f); err != nil {
		return f, fmt.Errorf("parse compose file: %w", err)
	}
	return f, nil
}

// ours reports the services that run this repository's image: those with a
// build section, and those that reuse the image such a service builds.
func (f composeFile) ours() []string {
	built := map[string]bool{}
	for _, s := range f.Services {
		if s.Build != nil && s.Image != "" {
			built[s.Image] = true
		}
	}
	var names []string
	for name, s := range f.Services {
		if s.Build != nil || built[s.Image] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// words returns a Compose string-or-list field as a list. A string is split
// at spaces, which is enough to tell one word from several.
func words(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, len(v))
		for i, w := range v {
			out[i] = fmt.Sprint(w)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// environment returns the variables a service sets, by name, from either
// the map form or the list form (NAME=value, or NAME alone to pass it on).
func (s composeService) environment() map[string]string {
	env := map[string]string{}
	switch v := s.Environment.(type) {
	case map[string]any:
		for name, value := range v {
			env[name] = fmt.Sprint(value)
		}
	case []any:
		for _, item := range v {
			name, value, _ := strings.Cut(fmt.Sprint(item), "=")
			env[name] = value
		}
	}
	return env
}

// subcommandEnv caches the environment variables each subcommand reads.
type subcommandEnv map[string]map[string]bool

// of returns the environment variables sub reads: one per flag its help
// lists, named by envName. It fails for a name that is not a subcommand.
func (c subcommandEnv) of(ctx context.Context, sub string) (map[string]bool, error) {
	if env, ok := c[sub]; ok {
		return env, nil
	}
	if !slices.ContainsFunc(commands(), func(cmd command) bool { return cmd.name == sub }) {
		return nil, fmt.Errorf("%q is not a subcommand", sub)
	}
	var out, errOut strings.Builder
	if err := run(ctx, []string{sub, "-h"}, &out, &errOut); !errors.Is(err, errHelpShown) {
		return nil, fmt.Errorf("%s -h: error %v, want the help", sub, err)
	}
	env := map[string]bool{}
	for _, name := range flagNames(errOut.String()) {
		env[envName(name)] = true
	}
	c[sub] = env
	return env, nil
}

// helpFlag matches the first line of a flag in flag.PrintDefaults output.
var helpFlag = regexp.MustCompile(`(?m)^  -(\S+)`)

// flagNames returns the flag names listed in the help text of a flag set.
func flagNames(help string) []string {
	var names []string
	for _, m := range helpFlag.FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

// checkCompose returns one line per problem with the services of a Compose
// file that run this repository's binary.
func checkCompose(ctx context.Context, data []byte) ([]string, error) {
	f, err := parseCompose(data)
	if err != nil {
		return nil, err
	}
	envs := subcommandEnv{}
	var problems []string
	for _, name := range f.ours() {
		for _, p := range checkService(ctx, envs, f.Services[name]) {
			problems = append(problems, "service "+name+": "+p)
		}
	}
	return problems, nil
}

func checkService(ctx context.Context, envs subcommandEnv, s composeService) []string {
	var problems []string
	if s.Entrypoint != nil {
		problems = append(problems, "sets entrypoint: the image's entrypoint is the binary")
	}
	problems = append(problems, checkHealthcheck(ctx, envs, s)...)

	cmd := words(s.Command)
	if len(cmd) != 1 {
		return append(problems, fmt.Sprintf("command %q: want exactly one word, the subcommand", cmd))
	}
	env, err := envs.of(ctx, cmd[0])
	if err != nil {
		return append(problems, "command: "+err.Error())
	}
	for _, name := range sortedKeys(s.environment()) {
		if !env[name] {
			problems = append(problems, fmt.Sprintf("environment %s: %q reads no such variable", name, cmd[0]))
		}
	}
	return problems
}

// checkHealthcheck checks a health probe that runs the binary: it must name
// a real subcommand.
func checkHealthcheck(ctx context.Context, envs subcommandEnv, s composeService) []string {
	test := words(s.Healthcheck.Test)
	if len(test) < 2 || test[0] != "CMD" || test[1] != binaryPath {
		return nil
	}
	if len(test) < 3 {
		return []string{"healthcheck runs the binary without a subcommand"}
	}
	if _, err := envs.of(ctx, test[2]); err != nil {
		return []string{"healthcheck: " + err.Error()}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestFlagNames(t *testing.T) {
	help := "Usage of confluence-kafka index:\n" +
		"  -consumer-group string\n    \tKafka consumer group (default \"g\")\n" +
		"  -follow\n    \tkeep consuming\n    \t-not-a-flag on a continued line\n" +
		"  -x int\n    \tshort name\n"
	got := flagNames(help)
	want := []string{"consumer-group", "follow", "x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flagNames() mismatch (-want +got):\n%s", diff)
	}
}

func TestSubcommandEnv(t *testing.T) {
	tests := []struct {
		sub       string
		reads     []string
		readsNot  []string
		wantError bool
	}{
		{sub: "crawl",
			reads:    []string{"KAFKA_BROKERS", "CONFLUENCE_BASE_URL", "CONFLUENCE_API_TOKEN", "TOPIC_PREFIX", "LOG_FORMAT"},
			readsNot: []string{"FOLLOW", "INDEX_PATH", "LISTEN"}},
		{sub: "index", reads: []string{"FOLLOW", "INDEX_PATH", "CONSUMER_GROUP", "KAFKA_BROKERS"},
			readsNot: []string{"CONFLUENCE_BASE_URL"}},
		{sub: "serve", reads: []string{"INDEX_PATH", "LISTEN"}, readsNot: []string{"KAFKA_BROKERS"}},
		{sub: "simulate", reads: []string{"LISTEN", "SIM_PAGES", "SIM_API_TOKEN"},
			readsNot: []string{"KAFKA_BROKERS"}},
		{sub: "crawler", wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.sub, func(t *testing.T) {
			env, err := subcommandEnv{}.of(t.Context(), tc.sub)
			if (err != nil) != tc.wantError {
				t.Fatalf("subcommandEnv.of(%q) error = %v, want error %v", tc.sub, err, tc.wantError)
			}
			for _, name := range tc.reads {
				if !env[name] {
					t.Errorf("subcommandEnv.of(%q)[%s] = false, want true", tc.sub, name)
				}
			}
			for _, name := range tc.readsNot {
				if env[name] {
					t.Errorf("subcommandEnv.of(%q)[%s] = true, want false", tc.sub, name)
				}
			}
		})
	}
}

// checkerHeader is shared by the inline Compose files of TestCheckCompose:
// a broker image that is not ours, whose variables are not checked, and an
// anchor with the build settings.
const checkerHeader = `
x-app: &app
  image: ck:local
  build: .
services:
  kafka:
    image: apache/kafka:4.4.0
    environment:
      KAFKA_NODE_ID: "1"
`

func TestCheckCompose(t *testing.T) {
	tests := []struct {
		name     string
		services string
		want     []string
	}{
		{name: "valid", services: `
  crawler:
    <<: *app
    command: crawl
    environment: {KAFKA_BROKERS: "kafka:9092", CONFLUENCE_BASE_URL: "http://127.0.0.1:8090", LOG_LEVEL: debug}
  indexer:
    image: ck:local
    command: [index]
    environment: [KAFKA_BROKERS=kafka:9092, FOLLOW=true, INDEX_PATH]
    healthcheck: {test: [CMD, /usr/local/bin/confluence-kafka, search, ok]}
`},
		{name: "misspelled variable", services: `
  crawler:
    <<: *app
    command: crawl
    environment: {KAFKA_BROKER: "kafka:9092"}
`, want: []string{`service crawler: environment KAFKA_BROKER: "crawl" reads no such variable`}},
		{name: "variable of another subcommand", services: `
  crawler:
    <<: *app
    command: crawl
    environment: {KAFKA_BROKERS: "kafka:9092", FOLLOW: "true"}
`, want: []string{`service crawler: environment FOLLOW: "crawl" reads no such variable`}},
		{name: "list form with a flag-style name", services: `
  search:
    <<: *app
    command: serve
    environment: [INDEX_PATH=/x/index.db, listen=0.0.0.0:8080]
`, want: []string{`service search: environment listen: "serve" reads no such variable`}},
		{name: "wrong name in a merged anchor", services: `
  indexer:
    <<: *app
    command: index
    environment:
      <<: {KAFKA_BROKERS: "kafka:9092", TOPIC_PREFIXES: "c."}
      FOLLOW: "true"
`, want: []string{`service indexer: environment TOPIC_PREFIXES: "index" reads no such variable`}},
		{name: "service reusing the built image", services: `
  indexer:
    <<: *app
    command: index
  search:
    image: ck:local
    command: serve
    environment: {PORT: "8080"}
`, want: []string{`service search: environment PORT: "serve" reads no such variable`}},
		{name: "unknown subcommand", services: `
  crawler:
    <<: *app
    command: crawler
    environment: {KAFKA_BROKERS: "kafka:9092"}
`, want: []string{`service crawler: command: "crawler" is not a subcommand`}},
		{name: "flags in command", services: `
  indexer:
    <<: *app
    command: index --follow
`, want: []string{`service indexer: command ["index" "--follow"]: want exactly one word, the subcommand`}},
		{name: "no command", services: `
  indexer:
    <<: *app
`, want: []string{`service indexer: command []: want exactly one word, the subcommand`}},
		{name: "entrypoint replaced", services: `
  crawler:
    <<: *app
    entrypoint: [sh, -c]
    command: crawl
`, want: []string{`service crawler: sets entrypoint: the image's entrypoint is the binary`}},
		{name: "healthcheck with an unknown subcommand", services: `
  indexer:
    <<: *app
    command: index
    healthcheck: {test: [CMD, /usr/local/bin/confluence-kafka, health]}
`, want: []string{`service indexer: healthcheck: "health" is not a subcommand`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkCompose(t.Context(), []byte(checkerHeader+tc.services))
			if err != nil {
				t.Fatalf("checkCompose() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("checkCompose() problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(path.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestComposeFileMatchesBinary(t *testing.T) {
	data := readRepoFile(t, "docker-compose.yml")
	problems, err := checkCompose(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("docker-compose.yml: %s", p)
	}
	f, err := parseCompose(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.ours()); got < 4 {
		t.Errorf("docker-compose.yml runs the binary in %d services %q, want at least 4", got, f.ours())
	}
}

// serviceRunning returns the name and settings of the service of ours whose
// command is sub.
func serviceRunning(t *testing.T, f composeFile, sub string) (string, composeService) {
	t.Helper()
	for _, name := range f.ours() {
		if s := f.Services[name]; slices.Equal(words(s.Command), []string{sub}) {
			return name, s
		}
	}
	t.Fatalf("docker-compose.yml: no service runs %q", sub)
	return "", composeService{}
}

// TestComposeStackHasEveryPart checks what issue #3 asks of the stack
// beyond valid names: a KRaft broker able to run transactions on one node,
// a simulated site the crawler can reach without leaving loopback, a
// following indexer, and a search endpoint on the indexer's volume.
func TestComposeStackHasEveryPart(t *testing.T) {
	f, err := parseCompose(readRepoFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("kafka", func(t *testing.T) { checkKafkaService(t, f) })
	t.Run("simulator reachable", func(t *testing.T) { checkSimulatorReachable(t, f) })
	t.Run("index volume", func(t *testing.T) { checkIndexVolume(t, f) })
}

func checkKafkaService(t *testing.T, f composeFile) {
	kafka, ok := f.Services["kafka"]
	if !ok {
		t.Fatal("docker-compose.yml: no kafka service")
	}
	version := pomKafkaVersion(t)
	if want := "apache/kafka:" + version; kafka.Image != want {
		t.Errorf("kafka image = %q, want %q (the version CI runs)", kafka.Image, want)
	}
	env := kafka.environment()
	want := map[string]string{
		"KAFKA_PROCESS_ROLES":                            "broker,controller",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
	}
	for name, value := range want {
		if env[name] != value {
			t.Errorf("kafka environment %s = %q, want %q", name, env[name], value)
		}
	}
	for _, sub := range []string{"stream", "index"} {
		name, s := serviceRunning(t, f, sub)
		if got := s.environment()["KAFKA_BROKERS"]; got != "kafka:9092" {
			t.Errorf("%s KAFKA_BROKERS = %q, want kafka:9092 (the advertised PLAINTEXT listener)", name, got)
		}
	}
}

// pomKafkaVersion returns the Kafka version CI pins in .ci/kafka/pom.xml.
func pomKafkaVersion(t *testing.T) string {
	t.Helper()
	pom := readRepoFile(t, ".ci/kafka/pom.xml")
	m := regexp.MustCompile(`<kafka\.version>([^<]+)</kafka\.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal(".ci/kafka/pom.xml: no kafka.version")
	}
	return string(m[1])
}

// checkSimulatorReachable pins how the stack lives with simulate's rule
// that it serves only on loopback: the crawler shares the simulator's
// network namespace and crawls that loopback address.
func checkSimulatorReachable(t *testing.T, f composeFile) {
	simName, sim := serviceRunning(t, f, "simulate")
	listen := sim.environment()["LISTEN"]
	host, port, err := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		t.Errorf("%s LISTEN = %q, want a loopback ip:port (simulate refuses others)", simName, listen)
	}
	crawlName, crawl := serviceRunning(t, f, "stream")
	if want := "service:" + simName; crawl.NetworkMode != want {
		t.Errorf("%s network_mode = %q, want %q to reach %s", crawlName, crawl.NetworkMode, want, listen)
	}
	base := crawl.environment()["CONFLUENCE_BASE_URL"]
	if want := "http://" + net.JoinHostPort(host, port); !strings.Contains(base, want) {
		t.Errorf("%s CONFLUENCE_BASE_URL = %q, want it to default to %s", crawlName, base, want)
	}
}

// checkIndexVolume checks that the indexer follows the topics and that the
// search endpoint reads the index file the indexer writes, on a named volume.
func checkIndexVolume(t *testing.T, f composeFile) {
	idxName, idx := serviceRunning(t, f, "index")
	if got := idx.environment()["FOLLOW"]; got != "true" {
		t.Errorf("%s FOLLOW = %q, want true", idxName, got)
	}
	srvName, srv := serviceRunning(t, f, "serve")
	indexPath := idx.environment()["INDEX_PATH"]
	if got := srv.environment()["INDEX_PATH"]; got != indexPath || indexPath == "" {
		t.Errorf("INDEX_PATH of %s = %q and of %s = %q, want the same file", idxName, indexPath, srvName, got)
	}
	for name, s := range map[string]composeService{idxName: idx, srvName: srv} {
		if !mountsNamedVolume(f, s, path.Dir(indexPath)) {
			t.Errorf("%s volumes = %q, want a named volume at %s", name, s.Volumes, path.Dir(indexPath))
		}
	}
}

func mountsNamedVolume(f composeFile, s composeService, dir string) bool {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if _, named := f.Volumes[parts[0]]; named && len(parts) >= 2 && parts[1] == dir {
			return true
		}
	}
	return false
}

// TestDockerfile checks the Dockerfile by reading it: the Go toolchain of
// go.mod, a static trimmed build of this command, a non-root user and the
// binary as entrypoint at the path the compose healthcheck runs.
func TestDockerfile(t *testing.T) {
	dockerfile := string(readRepoFile(t, "Dockerfile"))
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(readRepoFile(t, "go.mod")))
	if goVersion == nil {
		t.Fatal("go.mod: no go directive")
	}
	tests := []struct {
		name string
		re   string
	}{
		{"go version of go.mod", `(?m)^ARG GO_VERSION=` + regexp.QuoteMeta(goVersion[1]) + `$`},
		{"golang build stage", `(?m)^FROM .*golang:\$\{GO_VERSION\} AS build$`},
		{"static build", `CGO_ENABLED=0 `},
		{"trimmed paths", `go build -trimpath `},
		{"this command", `\./cmd/confluence-kafka\b`},
		{"non-root user", `(?m)^USER (65532|nonroot)(:\S+)?$`},
		{"entrypoint", `(?m)^ENTRYPOINT \["` + regexp.QuoteMeta(binaryPath) + `"\]$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !regexp.MustCompile(tc.re).MatchString(dockerfile) {
				t.Errorf("Dockerfile has no line matching %s", tc.re)
			}
		})
	}
}
