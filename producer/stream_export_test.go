package producer

import "time"

// SetClock replaces the clock of p, for tests that control time.
func SetClock(p *Producer, now func() time.Time) {
	p.now = now
}
