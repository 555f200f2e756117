package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parable/confluence-kafka/internal/confluencesim"
)

// simRoutes are the routes of the simulated site a fault can name, as
// confluencesim counts them. A route added to the simulator must be added
// here too; TestSimRoutesAreServed checks that each one is served.
var simRoutes = []string{
	"GET /wiki/api/v2/spaces",
	"GET /wiki/api/v2/spaces/{id}",
	"GET /wiki/api/v2/spaces/{id}/pages",
	"GET /wiki/api/v2/spaces/{id}/blogposts",
	"GET /wiki/api/v2/pages",
	"GET /wiki/api/v2/pages/{id}",
	"GET /wiki/api/v2/blogposts",
	"GET /wiki/api/v2/blogposts/{id}",
	"POST /wiki/api/v2/users-bulk",
	"GET /wiki/rest/api/search/user",
	"GET /wiki/rest/api/user/current",
}

// faultUsage is the help text of the --fault flag.
const faultUsage = "inject a fault, as ROUTE:OPTIONS; repeat the flag, or separate faults with ';'. " +
	"ROUTE is * or a route such as 'GET /wiki/api/v2/spaces/{id}/pages'. OPTIONS, comma-separated: " +
	"status=N, retry-after=SECONDS, near-limit, header=NAME:VALUE, delay=DURATION, reset, html, " +
	"truncate=BYTES, empty-next, space=ID, content=ID, after=N, count=N (0: always). Example: " +
	"'GET /wiki/api/v2/spaces/{id}/pages:status=429,retry-after=30,count=3'"

// simFault is one parsed --fault value.
type simFault struct {
	spec  string
	match confluencesim.Match
	fault confluencesim.Fault
}

// faultFlags is the repeatable --fault flag: every value adds faults.
type faultFlags []simFault

var _ flag.Value = (*faultFlags)(nil)

func (f *faultFlags) String() string {
	if f == nil {
		return ""
	}
	specs := make([]string, len(*f))
	for i, sf := range *f {
		specs[i] = sf.spec
	}
	return strings.Join(specs, "; ")
}

// Set parses one value, which may hold several faults separated by ';'.
func (f *faultFlags) Set(value string) error {
	for spec := range strings.SplitSeq(value, ";") {
		if spec = strings.TrimSpace(spec); spec == "" {
			continue
		}
		sf, err := parseFault(spec)
		if err != nil {
			return err
		}
		*f = append(*f, sf)
	}
	return nil
}

// parseFault reads ROUTE:OPTIONS.
func parseFault(spec string) (simFault, error) {
	route, opts, ok := strings.Cut(spec, ":")
	if !ok {
		return simFault{}, fmt.Errorf("fault %q: want ROUTE:OPTIONS, such as '*:status=500,count=2'", spec)
	}
	route = strings.TrimSpace(route)
	if route == "*" {
		route = ""
	}
	if route != "" && !slices.Contains(simRoutes, route) {
		return simFault{}, fmt.Errorf("fault %q: unknown route %q; want * or one of: %s",
			spec, route, strings.Join(simRoutes, ", "))
	}
	sf := simFault{spec: spec, match: confluencesim.Match{Route: route}}
	for opt := range strings.SplitSeq(opts, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(opt), "=")
		if err := sf.set(key, value); err != nil {
			return simFault{}, fmt.Errorf("fault %q: %s: %w", spec, strings.TrimSpace(opt), err)
		}
	}
	if f := sf.fault; f.Status == 0 && f.Delay == 0 && !f.Reset && !f.HTML200 &&
		f.Truncate == 0 && !f.EmptyPageWithNext && f.Headers == nil {
		return simFault{}, fmt.Errorf("fault %q: names no behaviour (status, retry-after, near-limit, header, "+
			"delay, reset, html, truncate or empty-next)", spec)
	}
	return sf, nil
}

// set applies one option.
func (sf *simFault) set(key, value string) error {
	f := &sf.fault
	var err error
	switch key {
	case "status":
		f.Status, err = faultInt(value, 100, 599)
	case "retry-after":
		_, err = faultInt(value, 0, 1<<31-1)
		sf.header("Retry-After", value)
	case "near-limit":
		sf.header("X-RateLimit-NearLimit", "true")
	case "header":
		name, v, ok := strings.Cut(value, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return errors.New("want header=NAME:VALUE")
		}
		sf.header(strings.TrimSpace(name), strings.TrimSpace(v))
	case "delay":
		f.Delay, err = time.ParseDuration(value)
		if err == nil && (f.Delay <= 0 || f.Delay > time.Hour) {
			err = errors.New("want a duration in (0s, 1h]")
		}
	case "truncate":
		f.Truncate, err = faultInt(value, 1, 1<<30)
	case "after":
		f.After, err = faultInt(value, 0, 1<<30)
	case "count":
		f.Count, err = faultInt(value, 0, 1<<30)
	case "space":
		sf.match.SpaceID, err = numericID(value)
	case "content":
		sf.match.ContentID, err = numericID(value)
	default:
		return sf.setFlag(key, value)
	}
	return err
}

// setFlag applies an option that takes no value.
func (sf *simFault) setFlag(key, value string) error {
	if value != "" {
		return fmt.Errorf("unknown option %q, or %s takes no value", key+"="+value, key)
	}
	switch key {
	case "reset":
		sf.fault.Reset = true
	case "html":
		sf.fault.HTML200 = true
	case "empty-next":
		sf.fault.EmptyPageWithNext = true
	default:
		return fmt.Errorf("unknown option %q", key)
	}
	return nil
}

func (sf *simFault) header(name, value string) {
	if sf.fault.Headers == nil {
		sf.fault.Headers = http.Header{}
	}
	sf.fault.Headers.Set(name, value)
}

// faultInt parses an integer in lo..hi.
func faultInt(value string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want an integer in %d..%d", lo, hi)
	}
	return n, nil
}

// numericID checks a numeric space or content id.
func numericID(value string) (string, error) {
	if _, err := strconv.ParseUint(value, 10, 63); err != nil {
		return "", errors.New("want a numeric id")
	}
	return value, nil
}
