package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/parable/confluence-kafka/internal/config"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/metrics"
	"github.com/parable/confluence-kafka/internal/status"
	"github.com/parable/confluence-kafka/producer"
)

// siteSpec is one site to crawl, from the configuration file's sites or
// from the confluence-* flags.
type siteSpec struct {
	name   string
	origin string // "config file sites[i]" or "flags"
	cfg    confluence.Config
	tokens string // where the token comes from, for printing

	transactionalID  string
	checkpointEvents int
	spaceConcurrency int

	err error // why the site's token could not be read
}

// siteSpecs returns the sites of the configuration file, or the one site of
// the confluence-* flags when the file lists none. It returns none when
// neither names a site. Giving both is an error: it would be unclear which
// settings apply to which site.
func siteSpecs(site *confluenceFlags, file *config.File) ([]siteSpec, error) {
	if file == nil || len(file.Sites) == 0 {
		if site.baseURL == "" {
			return nil, nil
		}
		return []siteSpec{{name: "", origin: "flags", cfg: site.config(), tokens: site.tokenSource()}}, nil
	}
	if site.baseURL != "" {
		return nil, fmt.Errorf("%w: confluence-base-url %q and the sites of config file %s: "+
			"set the sites in one place", errUsage, site.baseURL, file.Path)
	}
	specs := make([]siteSpec, len(file.Sites))
	for i, s := range file.Sites {
		cfg, err := file.Confluence(i, os.LookupEnv)
		specs[i] = siteSpec{
			name: s.Label(), origin: fmt.Sprintf("config file sites[%d]", i), cfg: cfg,
			tokens: s.TokenSource(), transactionalID: s.TransactionalID,
			checkpointEvents: s.Checkpoint.Events, spaceConcurrency: s.SpaceConcurrency, err: err,
		}
		if err != nil {
			specs[i].err = fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return specs, nil
}

// siteSpecs returns the main job's sites.
func (j *mainJob) siteSpecs() ([]siteSpec, error) {
	return siteSpecs(&j.site, j.kafka.file.file)
}

// tokenSource says where the flags' credentials come from, without them.
func (c *confluenceFlags) tokenSource() string {
	switch {
	case c.bearerToken != "":
		return "bearer token from confluence-bearer-token"
	case c.apiToken != "":
		return "API token from confluence-api-token"
	}
	return "none"
}

// print writes the spec, without secrets.
func (s siteSpec) print(w io.Writer) {
	fmt.Fprintf(w, "  - name: %s\n    from: %s\n    base_url: %s\n", orDerived(s.name), s.origin, s.cfg.BaseURL)
	if s.cfg.Email != "" {
		fmt.Fprintf(w, "    email: %s\n", s.cfg.Email)
	}
	fmt.Fprintf(w, "    credentials: %s\n", s.tokens)
	fmt.Fprintf(w, "    requests_per_second: %s\n    transactional_id: %s\n    checkpoint events: %s\n",
		orDefault(s.cfg.RequestsPerSecond), orDerived(s.transactionalID), orDefault(s.checkpointEvents))
	if s.err != nil {
		fmt.Fprintf(w, "    error: %v\n", s.err)
	}
}

func orDefault[T comparable](v T) string {
	var zero T
	if v == zero {
		return "default"
	}
	return fmt.Sprint(v)
}

func orDerived(v string) string {
	if v == "" {
		return "(derived from the site)"
	}
	return v
}

// siteRun is one site of a fleet: its own client (budget, breaker, retries)
// and its progress.
type siteRun struct {
	spec    siteSpec
	client  *confluence.Client
	tracker *status.Site
	obs     *metrics.Site
}

// fleet is the sites of one deployment. Each crawls with its own client and
// producer (transactional id, checkpoint), so one site's trouble never
// stalls another.
type fleet struct {
	runs []*siteRun
	ob   *observer
	base *http.Transport // shared connection pool; budgets stay per site
}

// newFleet builds a client per site, wired to the observer's metrics and
// progress board. Close it when done.
func newFleet(specs []siteSpec, ob *observer, logger *slog.Logger) (*fleet, error) {
	f := &fleet{ob: ob, base: http.DefaultTransport.(*http.Transport).Clone()}
	f.base.MaxIdleConnsPerHost = 64
	for _, spec := range specs {
		if spec.err != nil {
			f.close()
			return nil, spec.err
		}
		r, err := f.add(spec, logger)
		if err != nil {
			f.close()
			return nil, err
		}
		f.runs = append(f.runs, r)
	}
	return f, nil
}

func (f *fleet) add(spec siteSpec, logger *slog.Logger) (*siteRun, error) {
	probe, err := confluence.New(spec.cfg, nil) // validates and derives the identity
	if err != nil {
		return nil, fmt.Errorf("%w: site %s (%s): %s", errUsage, orDerived(spec.name), spec.origin, settingNames(err, spec.origin))
	}
	identity := probe.Site()
	probe.Close()
	if spec.name == "" {
		spec.name = identity
	}
	r := &siteRun{spec: spec, tracker: f.ob.board.Add(spec.name, identity), obs: f.ob.metrics.Site(spec.name)}
	cfg := spec.cfg
	cfg.Transport = r.obs.Transport(f.base)
	cfg.Observer = fanOut{r.obs, breakerOnly{r.tracker}}
	cfg.OnWait = func(reason string, d time.Duration) {
		r.obs.OnWait(reason, d)
		r.tracker.OnWait(reason, d)
	}
	if r.client, err = newConfluenceClient(cfg, logger.With("site_name", spec.name)); err != nil {
		return nil, err
	}
	return r, nil
}

func (f *fleet) close() {
	for _, r := range f.runs {
		r.client.Close()
	}
	f.base.CloseIdleConnections()
}

// crawl crawls every site at once, each with its own producer, and returns
// when all have ended: a site that fails (a 401, say) is reported while the
// others go on. The error names each site that did not complete.
func (f *fleet) crawl(ctx context.Context, kafka *cluster, k *kafkaFlags, logger *slog.Logger) error {
	errs := make([]error, len(f.runs))
	var wg sync.WaitGroup
	for i, r := range f.runs {
		wg.Go(func() { errs[i] = f.crawlSite(ctx, r, kafka, k, logger) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// crawlSite runs one full crawl of one site.
func (f *fleet) crawlSite(ctx context.Context, r *siteRun, kafka *cluster, k *kafkaFlags, logger *slog.Logger) error {
	logger = logger.With("site_name", r.spec.name)
	topics := k.topics()
	cp, err := producer.LoadCheckpoint(ctx, kafka.clientOptions(), topics.State, r.client.Site())
	if err != nil {
		r.tracker.Finish(err, ctx.Err() != nil)
		return fmt.Errorf("site %s: %w", r.spec.name, err)
	}
	p, err := producer.New(producer.Config{
		Brokers:           kafka.seeds,
		ClientOptions:     append(kafka.opts[:len(kafka.opts):len(kafka.opts)], f.ob.metrics.KafkaHooks("producer", r.spec.name)),
		Topics:            topics,
		MaxRecordBytes:    k.maxMessageBytes,
		TransactionalID:   r.spec.transactionalID,
		TransactionEvents: r.spec.checkpointEvents,
		SpaceConcurrency:  r.spec.spaceConcurrency,
	}, status.Track(r.client, r.tracker), logger)
	if err != nil {
		return fmt.Errorf("%w: site %s: %v", errUsage, r.spec.name, err)
	}
	defer p.Close()
	r.tracker.Start(p.Stats(), cp)
	res, err := p.Crawl(ctx)
	if err != nil {
		err = r.spec.explain(err)
	}
	r.tracker.Finish(err, ctx.Err() != nil)
	for _, s := range res.Skipped {
		logger.Warn("space not crawled", "space_id", s.ID, "space_key", s.Key, "reason", s.Reason)
	}
	if err != nil {
		// Not logged here: the progress shows it now, the caller returns it
		// once every site has ended.
		return fmt.Errorf("site %s: %w", r.spec.name, err)
	}
	return nil
}

// explain turns a crawl error a person must act on into instructions that
// name the site's own settings.
func (s siteSpec) explain(err error) error {
	if s.origin == "flags" || !errors.Is(err, confluence.ErrUnauthorized) {
		return explain(err)
	}
	return fmt.Errorf("confluence rejected the credentials: check the email and the %s of %s, "+
		"and that the token is not expired: %w", s.tokens, s.origin, err)
}

// fanOut passes the client's observations to the metrics and the progress.
type fanOut []confluence.Observer

var _ confluence.Observer = fanOut{}

func (f fanOut) Retried(method, path string, attempt, status int, wait time.Duration) {
	for _, o := range f {
		o.Retried(method, path, attempt, status, wait)
	}
}

func (f fanOut) BreakerChanged(state string) {
	for _, o := range f {
		o.BreakerChanged(state)
	}
}

// breakerOnly passes breaker changes to a site's progress; retries show in
// the metrics only.
type breakerOnly struct{ *status.Site }

func (breakerOnly) Retried(string, string, int, int, time.Duration) {}
