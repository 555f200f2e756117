package indexer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dumpQueries read every row of every table of the index, in a canonical
// order and without the pages' pk: the pk is a rowid that depends on the
// order pages arrived in, which differs between a live index and a
// rebuilt one. The FTS table is read through the page each row indexes.
var dumpQueries = map[string]string{
	"users":  `SELECT site, account_id, display_name, deleted FROM users ORDER BY site, account_id`,
	"spaces": `SELECT site, id, key, name, deleted FROM spaces ORDER BY site, id`,
	"pages": `SELECT site, id, kind, space_id, author_id, title, web_url, version, deleted
		FROM pages ORDER BY site, id`,
	"pages_fts": `SELECT p.site, p.id, f.title, f.body FROM pages_fts f
		LEFT JOIN pages p ON p.pk = f.rowid ORDER BY p.site, p.id`,
}

// dump returns the canonical content of the index file at path, one line
// per row. It fails the test when the file holds a table that dumpQueries
// does not read (besides FTS5's own shadow tables), so a new table cannot
// escape the comparison.
func dump(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, table := range tables(t, db) {
		if _, ok := dumpQueries[table]; !ok && !strings.HasPrefix(table, "pages_fts_") {
			t.Fatalf("index %s has table %s, which dump does not compare", path, table)
		}
	}
	var lines []string
	for _, table := range []string{"users", "spaces", "pages", "pages_fts"} {
		lines = append(lines, rows(t, db, table, dumpQueries[table])...)
	}
	return lines
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rs, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var names []string
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// rows returns each row of q as "table|col|col|...".
func rows(t *testing.T, db *sql.DB, table, q string) []string {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(table)
		for _, v := range vals {
			fmt.Fprintf(&b, "|%v", v)
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitCaughtUp waits until group has committed the last stable offset of
// every partition of topics.
func waitCaughtUp(t *testing.T, adm *kadm.Client, group string, topics []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		lag := groupLag(ctx, adm, group, topics)
		if lag == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s still %d records behind after 60s", group, lag)
		case <-tick.C:
		}
	}
}

// groupLag returns how many offsets group's commits are behind the last
// stable offsets of topics; -1 when they cannot be listed yet.
func groupLag(ctx context.Context, adm *kadm.Client, group string, topics []string) int64 {
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil || ends.Error() != nil {
		return -1
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil || committed.Error() != nil {
		return -1
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		at := int64(0)
		if ok && c.At > 0 {
			at = c.At
		}
		lag += max(o.Offset-at, 0)
	})
	return lag
}

// committedOffsets returns group's committed offsets of topics as
// "topic/partition=offset", sorted.
func committedOffsets(t *testing.T, adm *kadm.Client, group string, topics []string) []string {
	t.Helper()
	resp, err := adm.FetchOffsets(t.Context(), group)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("FetchOffsets(%s) = %v", group, err)
	}
	var out []string
	resp.Each(func(o kadm.OffsetResponse) {
		if slices.Contains(topics, o.Topic) {
			out = append(out, fmt.Sprintf("%s/%d=%d", o.Topic, o.Partition, o.At))
		}
	})
	slices.Sort(out)
	return out
}

// endOffsets returns the last stable offsets of topics in the form of
// committedOffsets.
func endOffsets(t *testing.T, adm *kadm.Client, topics []string) []string {
	t.Helper()
	ends, err := adm.ListCommittedOffsets(t.Context(), topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ends.Each(func(o kadm.ListedOffset) {
		out = append(out, fmt.Sprintf("%s/%d=%d", o.Topic, o.Partition, o.Offset))
	})
	slices.Sort(out)
	return out
}

// newAdmin returns an admin client of the cluster at seeds.
func newAdmin(t *testing.T, seeds []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}
