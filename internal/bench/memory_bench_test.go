package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
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
}

// BenchmarkCrawlMemory measures the producer process's memory during a full
// crawl of 10,000 and of 100,000 pages. Each iteration crawls in a child
// process, so the simulated site and the kfake broker, which live in this
// process, are not counted. The figures must not grow with the number of
// pages. Run with -benchtime=1x: one crawl per size is enough for a peak.
//
// With BENCH_HEAP_PROFILES=dir set, the child writes a heap profile to dir
// each time its live heap reaches a new high, for `go tool pprof`.
func BenchmarkCrawlMemory(b *testing.B) {
	for _, pages := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("pages=%d", pages), func(b *testing.B) {
			env := startSite(b, pages)
			seeds, _ := kafkatest.Brokers(b)
			want := env.site.Expected()
			var peak childResult
			var rss int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				topics := freshTopics(b, seeds)
				b.StartTimer()

				res, maxRSS, err := runCrawlChild(b.Context(), env.url, seeds, topics)
				if err != nil {
					b.Fatal(err)
				}
				if got := int(res.PageEvents); got != want.Pages+want.BlogPosts {
					b.Fatalf("child crawl committed %d page events, want %d", got, want.Pages+want.BlogPosts)
				}
				peak = maxResult(peak, res)
				rss = max(rss, maxRSS)
			}
			const mb = 1 << 20
			b.ReportMetric(float64(peak.PeakHeap)/mb, "peak-heap-MB")
			b.ReportMetric(float64(peak.PeakLive)/mb, "peak-live-MB")
			b.ReportMetric(float64(peak.PeakTotal)/mb, "peak-runtime-MB")
			b.ReportMetric(float64(rss)/mb, "peak-RSS-MB")
			b.ReportMetric(float64(want.Pages+want.BlogPosts)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// runCrawlChild crawls the site at url in a child process and returns its
// report and its peak resident set size in bytes.
func runCrawlChild(ctx context.Context, url string, seeds []string, topics schema.Topics) (childResult, int64, error) {
	prefix := strings.TrimSuffix(topics.Users, "users")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childURLEnv+"="+url,
		childBrokersEnv+"="+strings.Join(seeds, ","), childPrefixEnv+"="+prefix)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, 0, fmt.Errorf("crawl child: %w\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res childResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return childResult{}, 0, fmt.Errorf("decode crawl child report %q: %w", stdout.Bytes(), err)
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return res, 0, fmt.Errorf("crawl child: no rusage on this platform")
	}
	// Linux reports ru_maxrss in KiB.
	return res, usage.Maxrss << 10, nil
}

func maxResult(a, b childResult) childResult {
	return childResult{
		PageEvents: max(a.PageEvents, b.PageEvents),
		Seconds:    max(a.Seconds, b.Seconds),
		GCs:        max(a.GCs, b.GCs),
		PeakHeap:   max(a.PeakHeap, b.PeakHeap),
		PeakLive:   max(a.PeakLive, b.PeakLive),
		PeakTotal:  max(a.PeakTotal, b.PeakTotal),
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
		s.writeProfile(live)
	}
	s.peak.PeakHeap = max(s.peak.PeakHeap, samples[0].Value.Uint64())
	s.peak.PeakLive = max(s.peak.PeakLive, live)
	s.peak.PeakTotal = max(s.peak.PeakTotal, samples[2].Value.Uint64())
	s.peak.GCs = samples[3].Value.Uint64()
}

// writeProfile writes the heap profile as of the last GC, named after the
// live heap it was taken at.
func (s *sampler) writeProfile(live uint64) {
	f, err := os.Create(fmt.Sprintf("%s/heap-%012d.pprof", s.profiles, live))
	if err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
	}
}
