package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/parable/confluence-kafka/internal/confluencesim"
)

// simFlags describe the simulated site.
type simFlags struct {
	seed      int64
	spaces    int
	pages     int
	blogPosts int
	users     int
}

func (s *simFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&s.seed, "sim-seed", 1, "seed of the simulated site: the same seed and size give the same site")
	fs.IntVar(&s.spaces, "sim-spaces", 20, "spaces in the simulated site")
	fs.IntVar(&s.pages, "sim-pages", 2000, "pages in the simulated site")
	fs.IntVar(&s.blogPosts, "sim-blog-posts", -1, "blog posts in the simulated site (-1: a twentieth of the pages)")
	fs.IntVar(&s.users, "sim-users", 200, "users in the simulated site")
}

func (s *simFlags) config(email, token string) confluencesim.Config {
	c := confluencesim.Config{
		Seed: s.seed, Spaces: s.spaces, Pages: s.pages, Users: s.users,
		Email: email, APIToken: token,
	}
	if s.blogPosts >= 0 {
		c.BlogPosts = s.blogPosts
	}
	return c
}

// simServer is a simulated site served over HTTP on a loopback port.
type simServer struct {
	site *confluencesim.Site
	url  string
	srv  *http.Server
	done chan error
}

// startSim serves site on addr, which must be a loopback address.
func startSim(site *confluencesim.Site, addr string, logger *slog.Logger) (*simServer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen %q: %v", errUsage, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: listen %q: the simulated site serves only on loopback addresses", errUsage, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for simulated site: %w", err)
	}
	s := &simServer{
		site: site,
		url:  "http://" + ln.Addr().String(),
		srv:  &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	logger.Info("simulated site serving", "url", s.url)
	return s, nil
}

// close stops the server and waits for it.
func (s *simServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx) // a forced stop after the timeout is fine for a simulator
	<-s.done
}

// randomToken returns a fresh credential for the in-process simulated site.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "sim-" + hex.EncodeToString(b)
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", stderr)
	var sim simFlags
	var logs logFlags
	sim.register(fs)
	logs.register(fs)
	listen := fs.String("listen", "127.0.0.1:8090", "loopback address to serve on")
	email := fs.String("sim-email", "", "email the site accepts (empty: any credentials)")
	token := fs.String("sim-api-token", "", "API token the site accepts (empty: any credentials)")
	var faults faultFlags
	fs.Var(&faults, "fault", faultUsage)
	logger, err := parseCommand(fs, args, &logs, stderr)
	if err != nil {
		return err
	}
	site, err := confluencesim.New(sim.config(*email, *token))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, f := range faults {
		site.InjectFault(f.match, f.fault)
		logger.Info("fault injected", "fault", f.spec)
	}
	srv, err := startSim(site, *listen, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulated site at %s\n", srv.url)
	select {
	case <-ctx.Done():
		srv.close()
		return nil
	case err := <-srv.done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve simulated site: %w", err)
	}
}
