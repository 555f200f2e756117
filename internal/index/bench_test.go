package index

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parable/confluence-kafka/schema"
)

const benchBatch = 500

// benchBody is a storage-format body of about 2 KB with the usual markup.
var benchBody = strings.Repeat(`<h2>Step</h2><p>Check the <strong>api</strong> pods &amp; the queue lag.</p>`+
	`<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[kubectl get pods -n api]]>`+
	`</ac:plain-text-body></ac:structured-macro><ul><li>page on-call</li></ul>`, 7)

// benchEvents returns batch i: benchBatch new pages, so nothing is skipped.
func benchEvents(b *testing.B, i int) []schema.Event {
	b.Helper()
	evs := make([]schema.Event, benchBatch)
	for j := range evs {
		p := schema.Page{
			ID: fmt.Sprint(i*benchBatch + j), Kind: schema.KindPage, SpaceID: "65538", Status: "current",
			Title: fmt.Sprintf("Runbook %d for service %d", j, i), Body: benchBody, AuthorID: "u-1",
			WebURL:  "https://acme.atlassian.net/wiki/x/1",
			Version: schema.PageVersion{Number: 1, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		}
		m, err := testSite.PageUpserted(p)
		evs[j] = event(b, m, err)
	}
	return evs
}

// BenchmarkApply compares Store.Apply (decode, version check, text
// reduction, FTS indexing) with plain INSERT loops of the same pages, in
// batches of benchBatch per transaction.
func BenchmarkApply(b *testing.B) {
	b.Run("store_apply", func(b *testing.B) {
		s := openTest(b)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := benchEvents(b, i)
			b.StartTimer()
			if err := s.Apply(b.Context(), evs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("plain_insert", func(b *testing.B) {
		benchPlain(b, `CREATE TABLE plain (site TEXT, id TEXT, kind TEXT, space_id TEXT,
			author_id TEXT, title TEXT, web_url TEXT, version INTEGER, body TEXT)`,
			`INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	})
	b.Run("plain_insert_fts", func(b *testing.B) {
		benchPlain(b, `CREATE VIRTUAL TABLE plain USING fts5(site, id, kind, space_id,
			author_id, title, web_url, version, body)`,
			`INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	})
}

// benchPlain inserts the benchmark pages, already decoded, with one prepared
// INSERT per row into a table created by ddl, on the Store's writer.
func benchPlain(b *testing.B, ddl, insert string) {
	s, err := Open(filepath.Join(b.TempDir(), "plain.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.Exec(ddl); err != nil {
		b.Fatal(err)
	}

	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pages := make([]schema.Page, 0, benchBatch)
		for _, ev := range benchEvents(b, i) {
			p, err := schema.Decode[schema.Page](ev)
			if err != nil {
				b.Fatal(err)
			}
			pages = append(pages, p)
		}
		b.StartTimer()
		if err := insertPlain(b, s, insert, pages); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
}

func insertPlain(b *testing.B, s *Store, insert string, pages []schema.Page) error {
	tx, err := s.w.BeginTx(b.Context(), nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.Prepare(insert)
	if err != nil {
		return err
	}
	for _, p := range pages {
		_, err := st.Exec(p.Site, p.ID, p.Kind, p.SpaceID, p.AuthorID, p.Title, p.WebURL, p.Version.Number, p.Body)
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}
