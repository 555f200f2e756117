package producer

import (
	"sync/atomic"

	"github.com/parable/confluence-kafka/schema"
)

// Stats counts what a producer committed. Its fields are safe to read while a
// crawl runs.
type Stats struct {
	Users        atomic.Int64 // user events
	Spaces       atomic.Int64 // space events
	Pages        atomic.Int64 // page events (kind page)
	BlogPosts    atomic.Int64 // page events of kind blogpost
	Deletions    atomic.Int64 // tombstones of any entity
	Degraded     atomic.Int64 // page events published without their body
	Transactions atomic.Int64 // committed transactions
}

// add counts one committed event.
func (s *Stats) add(e outgoing) {
	if e.degraded {
		s.Degraded.Add(1)
	}
	switch e.msg.Envelope.Type {
	case schema.TypeUserUpserted:
		s.Users.Add(1)
	case schema.TypeSpaceUpserted:
		s.Spaces.Add(1)
	case schema.TypePageUpserted:
		if e.blogPost {
			s.BlogPosts.Add(1)
		} else {
			s.Pages.Add(1)
		}
	case schema.TypeUserDeleted, schema.TypeSpaceDeleted, schema.TypePageDeleted:
		s.Deletions.Add(1)
	}
}
