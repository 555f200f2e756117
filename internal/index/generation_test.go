package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNextPath(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 7, time.FixedZone("CET", 3600))
	want := filepath.Join("data", "index.db.20260301T110000.000000007Z")
	if got := NextPath(filepath.Join("data", "index.db"), at); got != want {
		t.Errorf("NextPath(data/index.db, %s) = %q, want %q", at, got, want)
	}
}

func TestPromote(t *testing.T) {
	tests := []struct {
		name         string
		before       func(t *testing.T, path string) // sets up path
		wantPrevious func(path string) string
	}{
		{"missing path", func(*testing.T, string) {}, func(string) string { return "" }},
		{"regular file", func(t *testing.T, path string) { writeFile(t, path) }, func(string) string { return "" }},
		{"link to an older generation", func(t *testing.T, path string) {
			writeFile(t, path+".old")
			if err := os.Symlink(filepath.Base(path)+".old", path); err != nil {
				t.Fatal(err)
			}
		}, func(path string) string { return path + ".old" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "index.db")
			tt.before(t, path)
			gen := path + ".new"
			writeFile(t, gen)

			retired, err := Promote(path, gen)
			if want := tt.wantPrevious(path); err != nil || retired.Path != want {
				t.Fatalf("Promote() = %q, %v; want %q, nil", retired.Path, err, want)
			}
			if got, err := Resolve(path); err != nil || got != gen {
				t.Errorf("Resolve() after Promote = %q, %v; want %q, nil", got, err, gen)
			}
			if target, _ := os.Readlink(path); target != filepath.Base(gen) {
				t.Errorf("link target = %q, want the relative %q", target, filepath.Base(gen))
			}
		})
	}
}

func TestPromoteRefusesAnotherDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	gen := filepath.Join(t.TempDir(), "index.db.new")
	writeFile(t, gen)
	if _, err := Promote(path, gen); err == nil || !strings.Contains(err.Error(), "not in") {
		t.Errorf("Promote(%s, %s) = %v, want an error: not in the same directory", path, gen, err)
	}
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("Promote() failed but created %s", path)
	}
}

// After Promote, opening the index path opens the generation, and SQLite
// names its WAL after the generation, not after the link.
func TestOpenThroughPromotedLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	gen := NextPath(path, time.Now())
	s, err := Open(gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyEach(t, s, pageEvent(t, "1", 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Promote(path, gen); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := counts(t, s).Pages; got != 1 {
		t.Errorf("Counts() through the link = %d pages, want 1", got)
	}
	applyEach(t, s, pageEvent(t, "2", 1))
	if _, err := os.Stat(gen + "-wal"); err != nil {
		t.Errorf("WAL of the generation: %v, want %s-wal to exist", err, gen)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Errorf("%s-wal exists: SQLite named the WAL after the link", path)
	}
}

// SQLite leaves the -wal and -shm files of a database unlinked while open:
// after Promote replaced a regular file that Stores had open, Remove of
// the Retired deletes them, and the link keeps working.
func TestRetiredRegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	old, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyEach(t, old, pageEvent(t, "1", 1))
	gen := NextPath(path, time.Now())
	s, err := Open(gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyEach(t, s, pageEvent(t, "1", 1), pageEvent(t, "2", 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	retired, err := Promote(path, gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := retired.Remove(); err != nil {
		t.Fatalf("Remove() = %v, want nil", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s%s still exists after Remove", path, suffix)
		}
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := counts(t, s).Pages; got != 2 {
		t.Errorf("Counts() through the link after Remove = %d pages, want 2", got)
	}
}

func TestRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db.old")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		writeFile(t, path+suffix)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove() = %v, want nil", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s%s still exists after Remove", path, suffix)
		}
	}
	if err := Remove(path); err != nil {
		t.Errorf("Remove() of missing files = %v, want nil", err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}
