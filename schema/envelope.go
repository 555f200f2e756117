package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// SpecVersion is the CloudEvents specification version of every envelope.
const SpecVersion = "1.0"

// SchemaVersion is the version of the payloads this package writes. It is carried
// in the ce_schemaversion header. Readers accept every version up to their own.
const SchemaVersion = 1

// ContentType is the content type of every non-empty event value.
const ContentType = "application/json"

// Header names of the CloudEvents binary mode for Kafka, and our extensions.
const (
	HeaderSpecVersion   = "ce_specversion"
	HeaderID            = "ce_id"
	HeaderSource        = "ce_source"
	HeaderType          = "ce_type"
	HeaderTime          = "ce_time"
	HeaderSubject       = "ce_subject"
	HeaderSchemaVersion = "ce_schemaversion"
	HeaderDeleteReason  = "ce_deletereason"
	HeaderEntityVersion = "ce_entityversion"
	HeaderContentType   = "content-type"
)

// ErrNotCloudEvent reports a record whose headers are not a CloudEvents 1.0
// envelope in binary mode.
var ErrNotCloudEvent = errors.New("record is not a binary-mode cloudevent")

// Envelope is the CloudEvents metadata of one event.
type Envelope struct {
	// ID is the ce_id: unique per source, deterministic for our own events.
	ID string
	// Source is the ce_source: for Confluence events, the site's base URL.
	Source string
	// Type is the ce_type, such as [TypePageUpserted].
	Type string
	// Subject is the ce_subject: for Confluence events, the entity id.
	Subject string
	// Time is the ce_time of the event.
	Time time.Time
	// SchemaVersion is the payload's version; zero for events of other services
	// that do not set it.
	SchemaVersion int
	// DeleteReason says why a deletion happened; empty for other events.
	DeleteReason string
	// EntityVersion is the entity's version number for versioned entities
	// (pages and blog posts), on upserts and on deletions; empty otherwise
	// or when unknown. Consumers order events of one key by it.
	EntityVersion string
	// ContentType is the value's content type; empty for a tombstone.
	ContentType string
}

// Headers returns the envelope as Kafka record headers in binary mode.
func (e Envelope) Headers() []kgo.RecordHeader {
	h := []kgo.RecordHeader{
		{Key: HeaderSpecVersion, Value: []byte(SpecVersion)},
		{Key: HeaderID, Value: []byte(e.ID)},
		{Key: HeaderSource, Value: []byte(e.Source)},
		{Key: HeaderType, Value: []byte(e.Type)},
		{Key: HeaderTime, Value: []byte(e.Time.UTC().Format(time.RFC3339Nano))},
	}
	if e.Subject != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderSubject, Value: []byte(e.Subject)})
	}
	if e.SchemaVersion > 0 {
		v := fmt.Sprint(e.SchemaVersion)
		h = append(h, kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(v)})
	}
	if e.DeleteReason != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderDeleteReason, Value: []byte(e.DeleteReason)})
	}
	if e.EntityVersion != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderEntityVersion, Value: []byte(e.EntityVersion)})
	}
	if e.ContentType != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderContentType, Value: []byte(e.ContentType)})
	}
	return h
}

// ParseEnvelope reads a binary-mode envelope from record headers. It requires
// ce_specversion 1.0, ce_id, ce_source and ce_type, and wraps ErrNotCloudEvent
// when one is missing.
func ParseEnvelope(headers []kgo.RecordHeader) (Envelope, error) {
	var e Envelope
	var spec string
	for _, h := range headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderSpecVersion:
			spec = v
		case HeaderID:
			e.ID = v
		case HeaderSource:
			e.Source = v
		case HeaderType:
			e.Type = v
		case HeaderSubject:
			e.Subject = v
		case HeaderDeleteReason:
			e.DeleteReason = v
		case HeaderEntityVersion:
			e.EntityVersion = v
		case HeaderContentType:
			e.ContentType = v
		case HeaderTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return Envelope{}, fmt.Errorf("parse %s %q: %w", HeaderTime, v, err)
			}
			e.Time = t
		case HeaderSchemaVersion:
			if _, err := fmt.Sscan(v, &e.SchemaVersion); err != nil {
				return Envelope{}, fmt.Errorf("parse %s %q: %w", HeaderSchemaVersion, v, err)
			}
		}
	}
	if spec != SpecVersion {
		return Envelope{}, fmt.Errorf("%s %q: %w", HeaderSpecVersion, spec, ErrNotCloudEvent)
	}
	if e.ID == "" || e.Source == "" || e.Type == "" {
		return Envelope{}, fmt.Errorf("missing ce_id, ce_source or ce_type: %w", ErrNotCloudEvent)
	}
	return e, nil
}

// Key returns the Kafka key of an entity: the site identity and the entity id
// joined by a slash, such as "acme.atlassian.net/98305". Content ids and account
// ids are unique within a site, so the key is unique within a topic.
func Key(site, id string) []byte {
	return []byte(site + "/" + id)
}

// SplitKey is the inverse of [Key].
func SplitKey(key []byte) (site, id string, ok bool) {
	return strings.Cut(string(key), "/")
}

// EventID returns the deterministic ce_id of an event: a hash of the site, the
// entity kind, the entity id, its version and its state (upserted or deleted).
// Two events with the same inputs describe the same change.
func EventID(site string, entity Entity, id, version string, state State) string {
	h := sha256.New()
	for _, part := range []string{site, string(entity), id, version, string(state)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
