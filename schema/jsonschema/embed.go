// Package jsonschema holds the JSON Schema (draft 2020-12) of every Confluence
// event payload, for consumers written in languages other than Go.
package jsonschema

import "embed"

// Files holds user.v1.json, space.v1.json and page.v1.json.
//
//go:embed *.json
var Files embed.FS
