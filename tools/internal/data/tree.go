package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// TreeSHA256 is the identity of a directory (a converted checkpoint, a
// dataset shipped as many files such as MMLU's 114 CSVs): the sha256 of its
// `sha256sum` listing, one "<sha256>  <path>\n" line per regular file, paths
// relative to dir with forward slashes, sorted bytewise. `cd DIR && find . -type f
// | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum` gives the same.
func TreeSHA256(dir string) (string, error) {
	files, err := treeFiles(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		sum, err := FileSHA256(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s  %s\n", sum, f)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// treeFiles lists the regular files under dir, relative, slash-separated,
// sorted bytewise; anything else (a link, a device) is an error.
func treeFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (links and devices are not part of a pinned tree)", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no files", dir)
	}
	sort.Strings(files)
	return files, nil
}

// ResolveTree is Resolve for a dataset that is a directory of files: f.SHA256
// is the directory's TreeSHA256 and f.Path its place in a seed directory. The
// tree is copied from a seed into the cache (<cache>/sha256/<sha>/<base>), or
// built from its archive (f.Archive: the member directory's files, or rows
// converted into the dataset's layout), and kept only when its identity
// matches. A tree is never downloaded from f.URL: that names the upstream
// source, whose files are not byte-for-byte these (the catalog says how
// they were derived).
func ResolveTree(ctx context.Context, f File, opts Options) (string, error) {
	opts = opts.Defaults()
	if len(f.SHA256) != 64 {
		return "", fmt.Errorf("dataset %s: sha256 %q is not 64 hex characters", f.Path, f.SHA256)
	}
	parent := filepath.Join(opts.CacheDir, "sha256", f.SHA256)
	dst := filepath.Join(parent, filepath.Base(f.Path))
	if sum, err := TreeSHA256(dst); err == nil && sum == f.SHA256 {
		return dst, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	var tried []string
	for _, seed := range opts.Seeds {
		src := filepath.Join(seed, filepath.FromSlash(f.Path))
		if st, err := os.Stat(src); err != nil || !st.IsDir() {
			continue
		}
		err := installTree(parent, dst, f.SHA256, func(tmp string) error { return copyTree(src, tmp, f.Include) })
		if err == nil {
			return dst, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", src, err))
	}
	if f.Archive != nil {
		err := installTree(parent, dst, f.SHA256, func(tmp string) error { return treeFromArchive(ctx, f, tmp, opts) })
		if err != nil {
			return "", fmt.Errorf("dataset %s (tree sha256 %s) from %s (%s): %w%s", f.Path, f.SHA256, f.Archive.URL, f.Archive.Member, err, joinTried(tried))
		}
		return dst, nil
	}
	return "", fmt.Errorf("dataset %s (tree sha256 %s) is not in %s or any seed directory (%s)%s; a directory dataset is not downloaded: copy the pinned files to %s/%s or set FORGE_DATA_SEED to a directory that holds them",
		f.Path, f.SHA256, opts.CacheDir, strings.Join(opts.Seeds, ", "), joinTried(tried), "<seed>", f.Path)
}

// installTree fills a temporary directory beside dst and renames it into
// place only when its identity is want.
func installTree(parent, dst, want string, fill func(tmp string) error) error {
	tmp, err := os.MkdirTemp(parent, ".partial-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	got, err := TreeSHA256(tmp)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("tree sha256 mismatch: got %s, want %s (different files; the pinned ones are needed)", got, want)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// copyTree copies the regular files of src into dst, only those under the
// include directories when there are any.
func copyTree(src, dst string, include []string) error {
	files, err := treeFiles(src)
	if err != nil {
		return err
	}
	for _, rel := range files {
		if !included(rel, include) {
			continue
		}
		if err := copyFile(filepath.Join(src, filepath.FromSlash(rel)), filepath.Join(dst, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// included says whether a tree's relative path lies under one of the
// include directories (all paths do when there are none).
func included(rel string, include []string) bool {
	if len(include) == 0 {
		return true
	}
	for _, dir := range include {
		if strings.HasPrefix(rel, strings.TrimSuffix(dir, "/")+"/") {
			return true
		}
	}
	return false
}
