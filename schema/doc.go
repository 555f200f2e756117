// Package schema is the event contract between the Confluence producer and every
// consumer: the Go types of the user, space and page events, their Kafka keys,
// their CloudEvents 1.0 envelope in binary mode, and their JSON encoding.
//
// Each event is one Kafka record. The key is the site identity and the entity id
// (see [Key]), so one topic can hold several Confluence sites and an entity always
// lands on the same partition. The headers carry the CloudEvents attributes
// (ce_specversion, ce_id, ce_source, ce_type, ce_time, ce_subject, content-type)
// plus the extensions ce_schemaversion, ce_entityversion (the version number of
// a page on its upserts and deletions) and, on deletions, ce_deletereason. The
// value is the entity as JSON, or nil for a deletion: topics are compacted, so a
// tombstone removes the entity while its headers still tell every consumer why.
//
// Event ids are deterministic (see [EventID]): the same entity in the same version
// and state always gets the same ce_id, so a duplicate is recognisable anywhere
// downstream.
//
// The JSON Schema of every payload lives in the jsonschema directory of this
// package, for consumers written in other languages. A change to a payload that
// would break an old reader must raise [SchemaVersion].
package schema
