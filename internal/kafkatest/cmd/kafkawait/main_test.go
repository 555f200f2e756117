package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parable/confluence-kafka/internal/kafkatest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		brokers func(t *testing.T) []string
		// timeout bounds the run; it is not a speed check.
		timeout time.Duration
		wantErr bool
	}{
		{name: "fake cluster answers", brokers: fakeBrokers, timeout: time.Minute},
		{name: "nothing listening", brokers: closedPort, timeout: 300 * time.Millisecond, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers := tt.brokers(t)
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()

			err := run(ctx, config{brokers: brokers, interval: 20 * time.Millisecond})
			if (err != nil) != tt.wantErr {
				t.Errorf("run(%v) = %v, want error %v", brokers, err, tt.wantErr)
			}
		})
	}
}

func TestRunStopsWhenProcessExits(t *testing.T) {
	pid := reapedPID(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	err := run(ctx, config{brokers: closedPort(t), interval: 20 * time.Millisecond, pid: pid})
	if err == nil || ctx.Err() != nil {
		t.Errorf("run(pid %d) = %v with ctx error %v, want an error before the deadline",
			pid, err, ctx.Err())
	}
}

func TestAlive(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{name: "this process", pid: os.Getpid(), want: true},
		{name: "reaped child", pid: reapedPID(t), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := alive(tt.pid); got != tt.want {
				t.Errorf("alive(%d) = %v, want %v", tt.pid, got, tt.want)
			}
		})
	}
}

func fakeBrokers(t *testing.T) []string {
	return kafkatest.Fake(t).ListenAddrs()
}

// closedPort returns a loopback address that nothing listens on.
func closedPort(t *testing.T) []string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v, want no error", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("Close() = %v, want no error", err)
	}
	return []string{addr}
}

// reapedPID runs a child to completion and returns its pid, which then names
// no process.
func reapedPID(t *testing.T) int {
	t.Helper()

	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}
