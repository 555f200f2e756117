package producer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/parable/confluence-kafka/internal/confluence"
)

// relist lists every space and user and publishes those whose content
// differs from what was published last. Neither listing has a modification
// date to stop at, so this is a full listing: ceil(spaces/limit) requests,
// the user search, and one users-bulk request per 250 accounts.
func (pl *Poller) relist(ctx context.Context, res *PollResult) error {
	t := &txn{}
	now := pl.p.now()
	err := pl.src.ListSpaces(ctx, func(list []confluence.Space) error {
		for _, s := range list {
			if err := pl.takeSpace(t, s, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("relist spaces: %w", err)
	}
	users, err := pl.listUsers(ctx)
	if err != nil {
		return err
	}
	if err := pl.takeUsers(t, users, now); err != nil {
		return err
	}
	if err := pl.commit(ctx, t, res, nil); err != nil {
		return err
	}
	res.Relisted = true
	return nil
}

// listUsers finds every account, those of the user search and those
// published before (closed accounts leave the search), and resolves them
// with users-bulk, whose answer carries the account status.
func (pl *Poller) listUsers(ctx context.Context) ([]confluence.User, error) {
	ids := map[string]bool{}
	for id := range pl.known.users {
		ids[id] = true
	}
	var found []confluence.User
	err := pl.src.SearchUsers(ctx, func(users []confluence.User) error {
		for _, u := range users {
			ids[u.AccountID] = true
		}
		found = append(found, users...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("relist users: %w", err)
	}
	all := slices.Sorted(maps.Keys(ids))
	resolved, err := pl.src.FetchUsers(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("relist users: fetch %d users: %w", len(all), err)
	}
	return bulkFirst(found, resolved), nil
}

// resolveAuthors publishes the accounts that published content names and
// the topics do not hold yet, with one users-bulk request per 250 of them.
// Accounts the site does not resolve are not asked for again.
func (pl *Poller) resolveAuthors(ctx context.Context, t *txn, ids []string) error {
	var fresh []string
	for _, id := range ids {
		if _, ok := pl.known.users[id]; ok || id == "" {
			continue
		}
		pl.known.users[id] = "" // marks it asked for; a commit failure stops the stream anyway
		fresh = append(fresh, id)
	}
	if len(fresh) == 0 {
		return nil
	}
	users, err := pl.src.FetchUsers(ctx, fresh)
	if err != nil {
		return fmt.Errorf("fetch %d users: %w", len(fresh), err)
	}
	return pl.takeUsers(t, users, pl.p.now())
}

// takeUsers adds to t the users whose content differs from what was
// published last.
func (pl *Poller) takeUsers(t *txn, users []confluence.User, now time.Time) error {
	events, err := pl.p.userEvents(users, now)
	if err != nil {
		return err
	}
	for i, e := range events {
		id, eventID := users[i].AccountID, e.msg.Envelope.ID
		if pl.known.users[id] == eventID {
			continue
		}
		t.events = append(t.events, e)
		t.after = append(t.after, func() { pl.known.users[id] = eventID })
	}
	return nil
}

// takeSpace adds s to t when its content differs from what was published
// last. A new space is swept from then on.
func (pl *Poller) takeSpace(t *txn, s confluence.Space, now time.Time) error {
	msg, err := pl.p.site.SpaceUpserted(spaceEntity(s), now)
	if err != nil {
		return err
	}
	id, eventID := s.ID, msg.Envelope.ID
	if pl.known.spaces[id] == eventID {
		return nil
	}
	t.events = append(t.events, outgoing{topic: pl.p.cfg.Topics.Spaces, msg: msg})
	t.after = append(t.after, func() { pl.known.spaces[id] = eventID })
	return nil
}

// userEvents returns the events of users, in order.
func (p *Producer) userEvents(users []confluence.User, now time.Time) ([]outgoing, error) {
	events := make([]outgoing, 0, len(users))
	for _, u := range users {
		msg, err := p.site.UserUpserted(userEntity(u), now)
		if err != nil {
			return nil, err
		}
		events = append(events, outgoing{topic: p.cfg.Topics.Users, msg: msg})
	}
	return events, nil
}

// bulkFirst returns the users of resolved, then those of found that
// resolved lacks: users-bulk answers with more fields than the search.
func bulkFirst(found, resolved []confluence.User) []confluence.User {
	have := make(map[string]bool, len(resolved))
	for _, u := range resolved {
		have[u.AccountID] = true
	}
	out := slices.Clone(resolved)
	for _, u := range found {
		if !have[u.AccountID] {
			have[u.AccountID] = true
			out = append(out, u)
		}
	}
	return out
}
