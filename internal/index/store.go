// Package index is the reference search index of Confluence content: an
// embedded SQLite database (modernc.org/sqlite, pure Go) with an FTS5 table
// over page titles and bodies.
//
// [Store.Apply] turns schema events into rows idempotently, so replaying a
// topic, or receiving a duplicate, leaves the index as it was:
//
//   - pages keep their highest version: an older or equal version never
//     overwrites a newer one, in any arrival order;
//   - users and spaces are last-write-wins in the order they are applied;
//   - a tombstone removes the entity from search and from the counts, but a
//     deleted page remembers the version it was deleted at, so a stale
//     upsert arriving later does not bring it back.
//
// One process writes through a single connection; readers use a separate
// pool, which WAL journaling lets run alongside the writer.
package index

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is an open index. Its methods are safe for concurrent use; writes are
// serialised on one connection.
type Store struct {
	w   *sql.DB // the single writer
	r   *sql.DB // readers
	log *slog.Logger
}

// schemaSQL creates the tables. Rows of deleted entities stay as markers with
// deleted = 1: for pages the marker keeps the version of the deletion.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS users (
	site         TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	deleted      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (site, account_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spaces (
	site    TEXT NOT NULL,
	id      TEXT NOT NULL,
	key     TEXT NOT NULL DEFAULT '',
	name    TEXT NOT NULL DEFAULT '',
	deleted INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pages (
	pk        INTEGER PRIMARY KEY,
	site      TEXT NOT NULL,
	id        TEXT NOT NULL,
	kind      TEXT NOT NULL DEFAULT '',
	space_id  TEXT NOT NULL DEFAULT '',
	author_id TEXT NOT NULL DEFAULT '',
	title     TEXT NOT NULL DEFAULT '',
	web_url   TEXT NOT NULL DEFAULT '',
	version   INTEGER NOT NULL,
	deleted   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (site, id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS pages_fts USING fts5(
	title, body, tokenize = 'unicode61 remove_diacritics 2'
);
`

// Open opens the index at path, creating the file and its tables when
// missing. path must name a file: the writer and the readers share it. A nil
// logger discards logs. Close the Store when done.
func Open(path string, logger *slog.Logger) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open index %q: path must be a file name without '?' or '#'", path)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	w, err := openDB(path, "_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(schemaSQL); err != nil {
		return nil, errors.Join(fmt.Errorf("create index schema in %s: %w", path, err), w.Close())
	}

	r, err := openDB(path, "_pragma=query_only(1)")
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	return &Store{w: w, r: r, log: logger.With("index", path)}, nil
}

// Close closes both connection pools. It does not wait for running queries
// beyond what database/sql does.
func (s *Store) Close() error {
	return errors.Join(s.w.Close(), s.r.Close())
}

func openDB(path, params string) (*sql.DB, error) {
	// busy_timeout lets a reader wait out a checkpoint instead of failing.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&" + params
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		return nil, errors.Join(fmt.Errorf("open index %s: %w", path, err), db.Close())
	}
	return db, nil
}
