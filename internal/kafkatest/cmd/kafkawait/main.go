// Command kafkawait blocks until a Kafka broker answers a metadata request
// with at least one broker and a controller, or a deadline passes.
//
// .ci/kafka/start.sh runs it to decide when a freshly started broker is
// ready:
//
//	kafkawait -brokers 127.0.0.1:19092 -timeout 120s -pid 12345
//
// With -pid, it gives up as soon as that process has exited, so a broker
// that dies during start-up fails fast instead of running out the clock.
// It exits 0 when ready and 1 otherwise.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type config struct {
	brokers  []string
	timeout  time.Duration
	interval time.Duration
	pid      int
}

func main() {
	var cfg config
	brokers := flag.String("brokers", "127.0.0.1:19092", "comma-separated seed brokers")
	flag.DurationVar(&cfg.timeout, "timeout", 120*time.Second, "give up after this long")
	flag.DurationVar(&cfg.interval, "interval", 250*time.Millisecond, "wait between attempts")
	flag.IntVar(&cfg.pid, "pid", 0, "stop waiting once this process has exited (0: no check)")
	flag.Parse()
	cfg.brokers = strings.Split(*brokers, ",")

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	err := run(ctx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kafkawait: %v\n", err)
		os.Exit(1)
	}
}

// run polls the brokers until one answers or ctx ends.
func run(ctx context.Context, cfg config) error {
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(cfg.brokers...))
	if err != nil {
		return fmt.Errorf("new client: %w", err)
	}
	defer adm.Close()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker %v not ready after %d attempts: %w",
				cfg.brokers, attempt-1, cmp.Or(err, ctx.Err()))
		case <-timer.C:
		}

		if cfg.pid > 0 && !alive(cfg.pid) {
			return fmt.Errorf("broker process %d exited", cfg.pid)
		}
		if err = ready(ctx, adm, cfg.interval); err == nil {
			return nil
		}
		timer.Reset(cfg.interval)
	}
}

// ready makes one metadata request, bounded so that a broker that accepts
// connections but never answers does not eat the whole deadline.
func ready(ctx context.Context, adm *kadm.Client, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, max(2*time.Second, 4*interval))
	defer cancel()

	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("fetch metadata: %w", err)
	}
	if len(md.Brokers) == 0 || md.Controller < 0 {
		return errors.New("metadata lists no broker or no controller yet")
	}

	fmt.Fprintf(os.Stderr, "kafkawait: cluster %s ready: %d broker(s), controller %d\n",
		md.Cluster, len(md.Brokers), md.Controller)
	return nil
}

// alive reports whether process pid still runs. Signal 0 checks that it
// exists; a child that exited but was not yet reaped by its parent (as when
// start.sh is still waiting on us) still exists as a zombie, so its state in
// /proc counts too.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// No /proc (not Linux): signal 0 is all we can know.
		return true
	}
	// The state letter follows the command name, which ends at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
