package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A rebuilt index is written to a new file, a generation, next to the index
// path; Promote then points the index path at it with a symbolic link. An
// open SQLite database must never be renamed or replaced: its -wal and -shm
// files are named after the path it was opened with. Linking avoids both.
// SQLite resolves symbolic links before naming those files, so every
// process that opens the index path after the switch shares the
// generation's WAL, and processes that still have the previous file open
// keep using theirs.

// NextPath returns the path of a new generation of the index at path: path,
// a dot and the UTC time now to the nanosecond, such as
// "data/index.db.20260301T120000.000000001Z". It creates nothing.
func NextPath(path string, now time.Time) string {
	return path + "." + now.UTC().Format("20060102T150405.000000000Z")
}

// Retired is what Promote replaced: the previous index file and the side
// files SQLite keeps next to it, to delete with Remove once no Store has
// the previous file open.
type Retired struct {
	// Path is the previous generation, or "" when the index path was a
	// regular file (the rename already unlinked it) or did not exist.
	Path string

	files []string // Path if set, and the -wal, -shm and -journal files
}

// Remove deletes the retired files. SQLite does not delete the -wal and
// -shm files of a database that was unlinked while open, so they are
// deleted here even when the file itself is gone. A process that still has
// the previous file open keeps reading it through its open descriptors.
func (r Retired) Remove() error {
	var errs []error
	for _, f := range r.files {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Promote makes path name the generation gen, in one atomic step for anyone
// who opens path: a symbolic link to gen, relative so that the directory
// may move, is renamed over path. gen must be a file in path's directory.
// It returns what the link replaced.
func Promote(path, gen string) (Retired, error) {
	dir := filepath.Dir(path)
	if filepath.Dir(gen) != dir {
		return Retired{}, fmt.Errorf("promote index %s: generation %s is not in %s", path, gen, dir)
	}
	if _, err := os.Stat(gen); err != nil {
		return Retired{}, fmt.Errorf("promote index %s: %w", path, err)
	}
	previous, err := linkTarget(path)
	if err != nil {
		return Retired{}, err
	}

	tmp := path + ".link"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Retired{}, fmt.Errorf("promote index %s: %w", path, err)
	}
	if err := os.Symlink(filepath.Base(gen), tmp); err != nil {
		return Retired{}, fmt.Errorf("promote index %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Retired{}, errors.Join(fmt.Errorf("promote index %s: %w", path, err), os.Remove(tmp))
	}
	return retired(path, previous), syncDir(dir)
}

// retired lists the files to delete after path, which named previous (""
// for a regular file), was pointed elsewhere.
func retired(path, previous string) Retired {
	if previous == "" {
		return Retired{files: sideFiles(path)}
	}
	return Retired{Path: previous, files: append([]string{previous}, sideFiles(previous)...)}
}

func sideFiles(path string) []string {
	return []string{path + "-wal", path + "-shm", path + "-journal"}
}

// Resolve returns the file the index path names: the generation it links
// to, or path itself when it is a regular file or missing.
func Resolve(path string) (string, error) {
	target, err := linkTarget(path)
	if err != nil || target == "" {
		return path, err
	}
	return target, nil
}

// Remove deletes an index file that no Store has open, with the -wal, -shm
// and -journal files SQLite may have left next to it. Missing files are
// not an error.
func Remove(path string) error {
	return retired("", path).Remove()
}

// linkTarget returns the file the symbolic link at path points to, or ""
// when path is missing or not a link.
func linkTarget(path string) (string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("index %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", nil
	}
	target, err := os.Readlink(path)
	if err != nil {
		return "", fmt.Errorf("index %s: %w", path, err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	return target, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return errors.Join(d.Sync(), d.Close())
}
