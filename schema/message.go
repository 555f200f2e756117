package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnsupportedSchemaVersion reports an event written with a newer payload
// version than this package reads.
var ErrUnsupportedSchemaVersion = errors.New("unsupported schema version")

// Message is one event ready for Kafka: its key, its value (nil for a deletion)
// and its envelope.
type Message struct {
	Key      []byte
	Value    []byte
	Envelope Envelope
}

// Record returns m as a record for topic.
func (m Message) Record(topic string) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: m.Key, Value: m.Value, Headers: m.Envelope.Headers()}
}

// Site identifies the Confluence site that events come from, and builds them.
type Site struct {
	// ID is the site's identity in keys and payloads, such as
	// "acme.atlassian.net". It must not contain a slash.
	ID string
	// URL is the site's base URL, used as the ce_source of its events, such as
	// "https://acme.atlassian.net/wiki".
	URL string
}

// UserUpserted returns the event for the current state of u, observed at at.
func (s Site) UserUpserted(u User, at time.Time) (Message, error) {
	u.Site = s.ID
	return s.upserted(EntityUser, u.AccountID, "", u, at)
}

// SpaceUpserted returns the event for the current state of sp, observed at at.
func (s Site) SpaceUpserted(sp Space, at time.Time) (Message, error) {
	sp.Site = s.ID
	return s.upserted(EntitySpace, sp.ID, "", sp, at)
}

// PageUpserted returns the event for p at its version. Its ce_time is the time
// of that version.
func (s Site) PageUpserted(p Page) (Message, error) {
	p.Site = s.ID
	if p.BodyBytes == 0 {
		p.BodyBytes = len(p.Body)
	}
	version := strconv.Itoa(p.Version.Number)
	m, err := s.upserted(EntityPage, p.ID, version, p, p.Version.CreatedAt)
	m.Envelope.EntityVersion = version
	return m, err
}

// Deleted returns the tombstone for the entity id: a nil value with the deleted
// type and the reason in its headers. version is the last version known, or
// empty when unknown.
func (s Site) Deleted(e Entity, id, version, reason string, at time.Time) Message {
	return Message{
		Key: Key(s.ID, id),
		Envelope: Envelope{
			ID:            EventID(s.ID, e, id, version, StateDeleted),
			Source:        s.URL,
			Type:          EventType(e, StateDeleted),
			Subject:       id,
			Time:          at,
			SchemaVersion: SchemaVersion,
			DeleteReason:  reason,
			EntityVersion: version,
		},
	}
}

// upserted encodes v. An empty version means "the content itself": the id then
// derives from a hash of the encoded value, so an unchanged entity keeps its id.
func (s Site) upserted(e Entity, id, version string, v any, at time.Time) (Message, error) {
	// Storage-format bodies are XHTML: escaping <, > and & as \u003c would add
	// five bytes to each and make values harder to read for nothing.
	value, err := json.Append(nil, v, 0)
	if err != nil {
		return Message{}, fmt.Errorf("encode %s %s: %w", e, id, err)
	}
	if version == "" {
		sum := sha256.Sum256(value)
		version = hex.EncodeToString(sum[:8])
	}
	return Message{
		Key:   Key(s.ID, id),
		Value: value,
		Envelope: Envelope{
			ID:            EventID(s.ID, e, id, version, StateUpserted),
			Source:        s.URL,
			Type:          EventType(e, StateUpserted),
			Subject:       id,
			Time:          at,
			SchemaVersion: SchemaVersion,
			ContentType:   ContentType,
		},
	}, nil
}

// Event is one decoded record: its envelope, key and raw value.
type Event struct {
	Envelope
	Key   []byte
	Value []byte
}

// ParseRecord reads the envelope of r. It fails with ErrNotCloudEvent when r has
// no binary-mode envelope.
func ParseRecord(r *kgo.Record) (Event, error) {
	env, err := ParseEnvelope(r.Headers)
	if err != nil {
		return Event{}, err
	}
	return Event{Envelope: env, Key: r.Key, Value: r.Value}, nil
}

// IsDeletion reports whether e is a tombstone.
func (e Event) IsDeletion() bool {
	return e.Value == nil
}

// Entity returns the Confluence entity and state named by e's type; ok is false
// for events that are not Confluence events.
func (e Event) Entity() (entity Entity, state State, ok bool) {
	rest, ok := strings.CutPrefix(e.Type, TypePrefix)
	if !ok {
		return "", "", false
	}
	name, st, ok := strings.Cut(rest, ".")
	return Entity(name), State(st), ok
}

// Decode unmarshals the value of e into a T, such as [Page]. It fails for a
// tombstone and for a schema version newer than [SchemaVersion].
func Decode[T any](e Event) (T, error) {
	var v T
	if e.IsDeletion() {
		return v, fmt.Errorf("decode %s %s: event is a deletion", e.Type, e.Subject)
	}
	if e.SchemaVersion > SchemaVersion {
		return v, fmt.Errorf("decode %s %s: version %d: %w",
			e.Type, e.Subject, e.SchemaVersion, ErrUnsupportedSchemaVersion)
	}
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", e.Type, e.Subject, err)
	}
	return v, nil
}
