package status

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"
)

// PartitionLag is how far a consumer group is behind on one partition.
type PartitionLag struct {
	Group     string `json:"group"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the group's committed offset, -1 when it has none.
	Committed int64 `json:"committed"`
	// End is the partition's end offset.
	End int64 `json:"end"`
	Lag int64 `json:"lag"`
}

// LagFunc returns the consumer lag to show, per partition.
type LagFunc func(ctx context.Context) ([]PartitionLag, error)

// Page serves the status page: per site progress, last checkpoint, breaker
// and waits, and the consumer lag, refreshing itself.
type Page struct {
	// Board holds the sites.
	Board *Board
	// Lag, if set, reports consumer lag; nil shows none.
	Lag LagFunc
	// Refresh is how often the page reloads itself. Zero means 2s.
	Refresh time.Duration
	// Logger receives lag errors at debug level; nil discards.
	Logger *slog.Logger
}

// pageData is what the template renders.
type pageData struct {
	Now     time.Time
	Refresh int
	Sites   []SiteStatus
	Lag     []PartitionLag
	LagErr  string
}

var _ http.Handler = (*Page)(nil)

// ServeHTTP serves the page as HTML, or as JSON for ?format=json or an
// Accept of application/json.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data := p.data(r.Context())
	if r.URL.Query().Get("format") == "json" || r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(data) // the client went away; nothing to do
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = pageTemplate.Execute(w, data) // as above
}

func (p *Page) data(ctx context.Context) pageData {
	refresh := p.Refresh
	if refresh <= 0 {
		refresh = 2 * time.Second
	}
	d := pageData{Now: p.Board.now(), Refresh: int(max(1, refresh.Round(time.Second)/time.Second)), Sites: p.Board.Snapshot()}
	if p.Lag == nil {
		return d
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	lag, err := p.Lag(ctx)
	if err != nil {
		d.LagErr = err.Error()
		if p.Logger != nil {
			p.Logger.Debug("consumer lag unavailable", "err", err)
		}
	}
	d.Lag = lag
	return d
}

var pageTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "none yet"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	},
	"spaces": spaces,
	"rate":   func(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) + " pages/s" },
}).Parse(pageHTML))
