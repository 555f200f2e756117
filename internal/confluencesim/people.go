package confluencesim

import (
	"errors"
	"fmt"
)

// ErrUnknownUser is returned by ChangeUser for an account id the site does
// not have.
var ErrUnknownUser = errors.New("unknown account id")

// UserChange is a change to an account made with ChangeUser. Empty fields
// leave the account's value as it is.
type UserChange struct {
	// DisplayName replaces the display name (and the public name).
	DisplayName string
	// Email replaces the email, making it visible.
	Email string
	// HideEmail hides the email, as the user's privacy settings do; it wins
	// over Email.
	HideEmail bool
	// AccountStatus replaces the status: "active", "inactive" or "closed".
	// A closed account leaves the user search but still resolves through
	// POST /users-bulk.
	AccountStatus string
}

// ChangeUser changes the account with the given id. Changes accumulate: a
// later change overrides only the fields it sets. Neither the user search
// nor the account's content shows a modification date for it, as on a real
// site.
func (s *Site) ChangeUser(accountID string, ch UserChange) error {
	u, ok := s.userByID[accountID]
	if !ok {
		return fmt.Errorf("change user %q: %w", accountID, ErrUnknownUser)
	}
	switch ch.AccountStatus {
	case "", "active", "inactive", "closed":
	default:
		return fmt.Errorf("change user %s: account status %q: want active, inactive or closed",
			accountID, ch.AccountStatus)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userEdits == nil {
		s.userEdits = map[int]UserChange{}
	}
	prev := s.userEdits[u]
	if ch.DisplayName != "" {
		prev.DisplayName = ch.DisplayName
	}
	if ch.Email != "" {
		prev.Email, prev.HideEmail = ch.Email, false
	}
	if ch.HideEmail {
		prev.Email, prev.HideEmail = "", true
	}
	if ch.AccountStatus != "" {
		prev.AccountStatus = ch.AccountStatus
	}
	s.userEdits[u] = prev
	return nil
}

// RenameSpace gives the space with the given id a new name. Its pages keep
// their titles, the homepage's included.
func (s *Site) RenameSpace(spaceID, name string) error {
	sk, ok := s.spaceIndex(spaceID)
	if !ok {
		return fmt.Errorf("rename space %q: %w", spaceID, ErrUnknownSpace)
	}
	if name == "" {
		return fmt.Errorf("rename space %s: the name is empty", spaceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaceNames == nil {
		s.spaceNames = map[int]string{}
	}
	s.spaceNames[sk] = name
	return nil
}

// user returns account u with the changes of ChangeUser applied.
func (s *Site) user(u int) user {
	usr := s.users[u]
	s.mu.RLock()
	ch, ok := s.userEdits[u]
	s.mu.RUnlock()
	if !ok {
		return usr
	}
	if ch.DisplayName != "" {
		usr.displayName, usr.publicName = ch.DisplayName, ch.DisplayName
	}
	if ch.Email != "" {
		usr.email = ch.Email
	}
	if ch.HideEmail {
		usr.email = ""
	}
	if ch.AccountStatus != "" {
		usr.accountStatus = ch.AccountStatus
	}
	return usr
}

// spaceName returns the current name of space k.
func (s *Site) spaceName(k int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if name, ok := s.spaceNames[k]; ok {
		return name
	}
	return s.spaces[k].name
}
