package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/kafkatest"
)

// Environment of the status page check: CHROMIUM is the browser binary
// (.ci/run installs Debian's chromium and sets it); STATUS_PAGE_SCREENSHOT,
// if set, is where to save a screenshot of the page as the browser shows it.
const (
	envChromium   = "CHROMIUM"
	envScreenshot = "STATUS_PAGE_SCREENSHOT"
)

// chromiumFlags keep headless Chromium off the network except for the page
// it is given, and free of any state from earlier runs.
func chromiumFlags(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
}

// TestStatusPageInChromium runs the main job against a simulated site whose
// last space never answers, so the crawl stays in progress; it loads the
// status page in headless Chromium and checks what the browser shows.
func TestStatusPageInChromium(t *testing.T) {
	browser := os.Getenv(envChromium)
	if browser == "" {
		t.Skipf("%s is not set: no browser to load the status page in", envChromium)
	}
	site, err := confluencesim.New(confluencesim.Config{Seed: 31, Spaces: 4, Pages: 400, BlogPosts: 20, Users: 30})
	if err != nil {
		t.Fatal(err)
	}
	spaces := site.SpaceIDs()
	stuck := spaces[len(spaces)-1]
	site.InjectFault(confluencesim.Match{Route: "GET /wiki/api/v2/spaces/{id}/pages", SpaceID: stuck},
		confluencesim.Fault{Delay: time.Hour})
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	seeds, _ := kafkatest.Brokers(t)

	url, stop := startMainJob(t, "--confluence-base-url", srv.URL, "--confluence-email", "crawler@example.com",
		"--confluence-api-token", "t", "--kafka-brokers", strings.Join(seeds, ","),
		"--topic-prefix", kafkatest.TopicName(t, "statuspage")+".", "--topic-partitions", "2",
		"--confluence-request-timeout", "10m", "--index-path", filepath.Join(t.TempDir(), "index.db"),
		"--metrics-listen", "127.0.0.1:0", "--progress", "off", "--log-level", "error")
	defer stop()
	waitFor(t, "every space but the stuck one to be crawled", func() bool {
		return strings.Contains(fetch(t, url+"?format=json"), fmt.Sprintf(`"spacesDone":%d`, len(spaces)-1))
	})

	dom := runChromium(t, browser, "--dump-dom", url)
	for _, want := range []string{
		`<title>confluence-kafka status</title>`,
		`data-state="crawling"`,
		fmt.Sprintf(`<td class="num spaces">%d/%d</td>`, len(spaces)-1, len(spaces)),
		`<td class="breaker">closed</td>`,
		`<table id="lag">`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("Chromium shows no %q in the status page:\n%s", want, dom)
		}
	}
	if m := regexp.MustCompile(`<td class="num pages">(\d+)</td>`).FindStringSubmatch(dom); m == nil || m[1] == "0" {
		t.Errorf("Chromium shows pages %v, want a count above zero", m)
	}
	if shot := os.Getenv(envScreenshot); shot != "" {
		runChromium(t, browser, "--screenshot="+shot, "--window-size=1100,520", "--hide-scrollbars", url)
	}
}

// startMainJob runs the main job in the background and returns the status
// page URL it prints, and a function that stops the job and waits for it.
func startMainJob(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"run"}, args...), w, io.Discard)
		w.CloseWithError(fmt.Errorf("run ended: %v", err))
		done <- err
	}()
	stop := func() {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, out) }() // unblock the job's last writes
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("main job: %v", err)
		}
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "status page at "); ok {
			url, _, _ := strings.Cut(rest, ",")
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return url, stop
		}
	}
	stop()
	t.Fatalf("the main job printed no status page address: %v", sc.Err())
	return "", nil
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runChromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, append(chromiumFlags(t), args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", browser, args, err, stderr.String())
	}
	return string(out)
}
