package confluencesim

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrUnknownContent is returned by the change methods for an id that names
// no page or blog post, or one that was deleted.
var ErrUnknownContent = errors.New("unknown content id")

// EditPage publishes a new version of the page or blog post with the given
// id: the version number goes up by one, the version date becomes the
// later of Config.Now and one millisecond after the previous change, and
// the body gains a paragraph. It returns the new version number.
func (s *Site) EditPage(id string) (int, error) {
	var version int
	err := s.change(id, func(c content, o *override) {
		o.version = c.version + 1
		o.versionAt = s.nextChangeLocked()
		o.versionAuthor = s.users[(c.idx+o.version*7)%len(s.users)].accountID
		o.message, o.minorEdit = "edited by the simulator", false
		o.edits = c.edits + 1
		version = o.version
	})
	return version, err
}

// TrashPage moves the page or blog post to the trash: lists show it only
// when asked for status=trashed, and GET by id still answers 200 with
// status "trashed". As on a real site, trashing adds no version.
func (s *Site) TrashPage(id string) error {
	return s.change(id, func(_ content, o *override) {
		o.status = "trashed"
	})
}

// ArchivePage archives the page with the given id. The simulator models
// archiving as a new version (number up by one, dated like an edit, the
// body unchanged), so the modified-date listing shows it; lists without a
// status filter keep showing the page, with status "archived". Blog posts
// cannot be archived.
func (s *Site) ArchivePage(id string) error {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		if k, _, ok := s.decodeID(n); ok && k != kindPage {
			return fmt.Errorf("archive content %s: a blog post: %w", id, ErrUnknownContent)
		}
	}
	return s.change(id, func(c content, o *override) {
		o.version = c.version + 1
		o.versionAt = s.nextChangeLocked()
		o.message, o.minorEdit = "archived by the simulator", true
		o.status = "archived"
	})
}

// DeletePage purges the page or blog post: every endpoint answers as if it
// never existed.
func (s *Site) DeletePage(id string) error {
	return s.change(id, func(_ content, o *override) {
		o.deleted = true
	})
}

// change applies fn to the override of content id under the lock.
func (s *Site) change(id string, fn func(content, *override)) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("change content %q: %w", id, ErrUnknownContent)
	}
	k, i, ok := s.decodeID(n)
	if !ok {
		return fmt.Errorf("change content %s: %w", id, ErrUnknownContent)
	}
	c := s.derive(k, i)

	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.overrides[n]
	if o == nil {
		o = &override{version: c.version, versionAt: c.versionAt, versionAuthor: c.versionAuthor,
			message: c.versionMessage, minorEdit: c.minorEdit}
		s.overrides[n] = o
	}
	if o.deleted {
		return fmt.Errorf("change content %s: %w", id, ErrUnknownContent)
	}
	c.apply(o)
	fn(c, o)
	s.dropPermsLocked(fieldModified)
	return nil
}

// nextChangeLocked returns a modification date later than every earlier
// one, so that sort=-modified-date always shows the latest change first.
func (s *Site) nextChangeLocked() time.Time {
	t := s.cfg.Now().UTC().Truncate(time.Millisecond)
	if !t.After(s.lastChange) {
		t = s.lastChange.Add(time.Millisecond)
	}
	s.lastChange = t
	return t
}
