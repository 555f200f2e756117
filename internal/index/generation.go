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

// Promote makes path name the generation gen, in one atomic step for anyone
// who opens path: a symbolic link to gen, relative so that the directory
// may move, is renamed over path. gen must be a file in path's directory.
//
// It returns the file that path named before when path was a link, for
// Remove once no Store has it open. It returns "" when path did not exist
// or was a regular file: the rename unlinked that file, and SQLite deletes
// its -wal and -shm files when its last connection closes.
func Promote(path, gen string) (previous string, err error) {
	dir := filepath.Dir(path)
	if filepath.Dir(gen) != dir {
		return "", fmt.Errorf("promote index %s: generation %s is not in %s", path, gen, dir)
	}
	if _, err := os.Stat(gen); err != nil {
		return "", fmt.Errorf("promote index %s: %w", path, err)
	}
	previous, err = linkTarget(path)
	if err != nil {
		return "", err
	}

	tmp := path + ".link"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("promote index %s: %w", path, err)
	}
	if err := os.Symlink(filepath.Base(gen), tmp); err != nil {
		return "", fmt.Errorf("promote index %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", errors.Join(fmt.Errorf("promote index %s: %w", path, err), os.Remove(tmp))
	}
	return previous, syncDir(dir)
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
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
