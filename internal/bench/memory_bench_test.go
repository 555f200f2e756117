package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/parable/confluence-kafka/internal/kafkatest"
	"github.com/parable/confluence-kafka/schema"
)

// The child process of BenchmarkCrawlMemory is this test binary started
// again with childEnv set; TestMain hands it to runChild. Its settings come
// in the environment too, so no test flag parsing is involved.
const (
	childEnv         = "BENCH_CHILD_CRAWL"
	childURLEnv      = "BENCH_CHILD_SITE_URL"
	childBrokersEnv  = "BENCH_CHILD_BROKERS"
	childPrefixEnv   = "BENCH_CHILD_TOPIC_PREFIX"
	childProfilesEnv = "BENCH_HEAP_PROFILES"
)

// sampleEvery is how often the child reads its memory metrics. A peak
// between two samples is missed, but live heap only changes at the end of a
// GC cycle, and a crawl lasts seconds.
const sampleEvery = 2 * time.Millisecond

// childResult is what the child prints on its last line of stdout.
type childResult struct {
	PageEvents int64   `json:"pageEvents"`
	Seconds    float64 `json:"seconds"`
	GCs        uint64  `json:"gcs"`
	// PeakHeap is the largest heap seen, live objects and garbage not yet
	// swept (runtime/metrics /memory/classes/heap/objects:bytes).
	PeakHeap uint64 `json:"peakHeap"`
	// PeakLive is the largest live heap marked by a GC (/gc/heap/live:bytes):
	// the memory the crawl holds on to.
	PeakLive uint64 `json:"peakLive"`
	// PeakTotal is the most memory the Go runtime had mapped
	// (/memory/classes/total:bytes).
	PeakTotal uint64 `json:"peakTotal"`
	// PeakRSS is the process's resident set high-water mark (VmHWM).
	PeakRSS uint64 `json:"peakRSS"`
	// Retained is the live heap after the crawl and a forced GC: what a
	// crawl leaves behind.
	Retained uint64 `json:"retained"`
}

// BenchmarkCrawlMemory measures the producer process's memory during a full
// crawl of 10,000 and of 100,000 pages. Each iteration crawls in a child
// process, so the simulated site and the kfake broker, which live in this
// process, are not counted. The figures must not grow with the number of
// pages. Run with -benchtime=1x: one crawl per size is enough for a peak.
//
// BENCH_MEMORY_PAGES=n1,n2,... measures other sizes instead. With
// BENCH_HEAP_PROFILES=dir set, the child writes a heap profile to dir
// each time its live heap reaches a new high, and heap-end.pprof after the
// crawl, for `go tool pprof`.
func BenchmarkCrawlMemory(b *testing.B) {
	for _, pages := range memorySizes(b) {
		b.Run(fmt.Sprintf("pages=%d", pages), func(b *testing.B) {
			env := startSite(b, pages)
			seeds, _ := kafkatest.Brokers(b)
			want := env.site.Expected()
			var peak childResult
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				topics := freshTopics(b, seeds)
				b.StartTimer()

				res, err := runCrawlChild(b.Context(), env.url, seeds, topics)
				if err != nil {
					b.Fatal(err)
				}
				if got := int(res.PageEvents); got != want.Pages+want.BlogPosts {
					b.Fatalf("child crawl committed %d page events, want %d", got, want.Pages+want.BlogPosts)
				}
				peak = maxResult(peak, res)
			}
			const mb = 1 << 20
			b.ReportMetric(float64(peak.PeakHeap)/mb, "peak-heap-MB")
			b.ReportMetric(float64(peak.PeakLive)/mb, "peak-live-MB")
			b.ReportMetric(float64(peak.PeakTotal)/mb, "peak-runtime-MB")
			b.ReportMetric(float64(peak.PeakRSS)/mb, "peak-RSS-MB")
			b.ReportMetric(float64(peak.Retained)/mb, "retained-MB")
			b.ReportMetric(float64(want.Pages+want.BlogPosts)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// memorySizes returns the site sizes to measure: 10,000 and 100,000 pages,
// or the comma-separated list in BENCH_MEMORY_PAGES, to look for a trend.
func memorySizes(b *testing.B) []int {
	raw := os.Getenv("BENCH_MEMORY_PAGES")
	if raw == "" {
		return []int{10_000, 100_000}
	}
	var sizes []int
	for f := range strings.SplitSeq(raw, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_MEMORY_PAGES=%q: %q is not a page count", raw, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// runCrawlChild crawls the site at url in a child process and returns its
// report.
//
// The child measures its own peak RSS: the rusage of a child started by
// os/exec is no use here, because Go starts children with vfork semantics
// and Linux folds the parent's high-water mark into the child's ru_maxrss
// at exec, so it reports this process's peak, kfake's data included.
func runCrawlChild(ctx context.Context, url string, seeds []string, topics schema.Topics) (childResult, error) {
	prefix := strings.TrimSuffix(topics.Users, "users")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childURLEnv+"="+url,
		childBrokersEnv+"="+strings.Join(seeds, ","), childPrefixEnv+"="+prefix)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("crawl child: %w\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res childResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return childResult{}, fmt.Errorf("decode crawl child report %q: %w", stdout.Bytes(), err)
	}
	return res, nil
}

func maxResult(a, b childResult) childResult {
	return childResult{
		PageEvents: max(a.PageEvents, b.PageEvents),
		Seconds:    max(a.Seconds, b.Seconds),
		GCs:        max(a.GCs, b.GCs),
		PeakHeap:   max(a.PeakHeap, b.PeakHeap),
		PeakLive:   max(a.PeakLive, b.PeakLive),
		PeakTotal:  max(a.PeakTotal, b.PeakTotal),
		PeakRSS:    max(a.PeakRSS, b.PeakRSS),
		Retained:   max(a.Retained, b.Retained),
	}
}

// runChild is the child process: one crawl with the product's defaults
// while a sampler records the memory peaks. It returns the exit code.
func runChild() int {
	client, err := newClient(os.Getenv(childURLEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Close()
	seeds := strings.Split(os.Getenv(childBrokersEnv), ",")
	topics := schema.NewTopics(os.Getenv(childPrefixEnv))

	s := startSampler(os.Getenv(childProfilesEnv))
	start := time.Now()
	stats, err := crawlOnce(context.Background(), client, seeds, topics)
	elapsed := time.Since(start)
	res := s.stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crawl:", err)
		return 1
	}
	res.PageEvents = stats.Pages.Load() + stats.BlogPosts.Load()
	res.Seconds = elapsed.Seconds()
	res.Retained = retainedHeap()
	if s.profiles != "" {
		s.writeProfile("end")
	}
	if res.PeakRSS, err = peakRSS(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}

// sampler reads the runtime's memory metrics on a ticker and keeps the
// highest values.
type sampler struct {
	profiles string
	done     chan struct{}
	wg       sync.WaitGroup
	peak     childResult
}

var sampledMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
}

func startSampler(profiles string) *sampler {
	s := &sampler{profiles: profiles, done: make(chan struct{})}
	s.wg.Go(s.run)
	return s
}

// stop ends sampling and returns the peaks, after one last sample.
func (s *sampler) stop() childResult {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

func (s *sampler) run() {
	samples := make([]metrics.Sample, len(sampledMetrics))
	for i, name := range sampledMetrics {
		samples[i].Name = name
	}
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s.sample(samples)
		select {
		case <-t.C:
		case <-s.done:
			s.sample(samples)
			return
		}
	}
}

func (s *sampler) sample(samples []metrics.Sample) {
	metrics.Read(samples)
	live := samples[1].Value.Uint64()
	if live > s.peak.PeakLive && s.profiles != "" {
		s.writeProfile(fmt.Sprintf("%012d", live))
	}
	s.peak.PeakHeap = max(s.peak.PeakHeap, samples[0].Value.Uint64())
	s.peak.PeakLive = max(s.peak.PeakLive, live)
	s.peak.PeakTotal = max(s.peak.PeakTotal, samples[2].Value.Uint64())
	s.peak.GCs = samples[3].Value.Uint64()
}

// writeProfile writes the heap profile as of the last GC to
// heap-<name>.pprof.
func (s *sampler) writeProfile(name string) {
	f, err := os.Create(fmt.Sprintf("%s/heap-%s.pprof", s.profiles, name))
	if err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
	}
}

// retainedHeap forces a GC and returns the live heap after it.
func retainedHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakRSS returns the process's resident set high-water mark, from the
// VmHWM line of /proc/self/status.
func peakRSS() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak rss: parse %q: %w", line, err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("peak rss: no VmHWM in /proc/self/status")
}
