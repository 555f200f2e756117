package status

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Line formats a site's figures as one progress line, such as
//
//	acme  crawling  spaces 3/20  pages 1234  56.2 pages/s  checkpoint 2s ago
func Line(s SiteStatus, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-9s spaces %s  pages %d  %.1f pages/s", s.Name, s.State, spaces(s), s.Pages, s.PagesPerSecond)
	if !s.LastCheckpoint.IsZero() {
		fmt.Fprintf(&b, "  checkpoint %s ago", now.Sub(s.LastCheckpoint).Round(time.Second))
	}
	if s.Breaker != "" && s.Breaker != "closed" {
		fmt.Fprintf(&b, "  breaker %s", s.Breaker)
	}
	switch {
	case s.Wait != "":
		b.WriteString("  " + s.Wait)
	case s.Error != "":
		b.WriteString("  " + s.Error)
	}
	return b.String()
}

func spaces(s SiteStatus) string {
	if s.SpacesTotal == 0 && s.State != StateCompleted {
		return fmt.Sprintf("%d/?", s.SpacesDone)
	}
	return fmt.Sprintf("%d/%d", s.SpacesDone, s.SpacesTotal)
}

// Terminal control sequences: move the cursor up n lines, and clear a line.
const (
	cursorUp  = "\x1b[%dA"
	clearLine = "\r\x1b[2K"
)

// Progress draws one live line per site on a terminal, redrawing them in
// place every Interval.
type Progress struct {
	// W is the terminal.
	W io.Writer
	// Board holds the sites to draw.
	Board *Board
	// Interval between redraws. Zero means one second.
	Interval time.Duration

	drawn int // lines drawn last time
}

// Run redraws until ctx ends, then draws the final state once more and
// returns. It blocks.
func (p *Progress) Run(ctx context.Context) {
	interval := p.Interval
	if interval == 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.draw()
		select {
		case <-ctx.Done():
			p.draw()
			return
		case <-t.C:
		}
	}
}

// draw writes the lines over the ones drawn before. Write errors are
// ignored: a progress display must never stop the crawl.
func (p *Progress) draw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, cursorUp, p.drawn)
	}
	sites := p.Board.Snapshot()
	now := p.Board.now()
	for _, s := range sites {
		b.WriteString(clearLine + Line(s, now) + "\n")
	}
	p.drawn = len(sites)
	_, _ = io.WriteString(p.W, b.String())
}

// LogProgress logs each site's figures at info level every interval until
// ctx ends: the progress report when no terminal shows live lines. It
// blocks.
func LogProgress(ctx context.Context, logger *slog.Logger, board *Board, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range board.Snapshot() {
			logger.Info("crawl progress", "site", s.Name, "state", string(s.State),
				"spaces_done", s.SpacesDone, "spaces_total", s.SpacesTotal, "pages", s.Pages,
				"pages_per_second", s.PagesPerSecond, "breaker", s.Breaker,
				"wait_reason", s.WaitReason, "wait", s.WaitLeft.Round(time.Second), "err", s.Error)
		}
	}
}
