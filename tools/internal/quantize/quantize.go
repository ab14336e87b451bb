// Package quantize builds a quantized checkpoint from a catalog model with
// llm-compressor: Forge writes the recipe from the HCL quantization block and
// the calibration text from a pinned dataset, runs tools/py/awq_quantize.py in
// the pinned quant venv (requirements/quant.txt), and keeps the result in the
// model cache under its tree sha256 with a record of what made it.
package quantize

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
)

// Record is what a quantized checkpoint was made from and with (schema
// forge.quantize.record/v1), written beside the recipe in
// results/quantize/<model>/<sha256[:12]>/.
type Record struct {
	Schema       string            `json:"schema"`
	Model        string            `json:"model"`
	Checkpoint   Checkpoint        `json:"checkpoint"`
	From         From              `json:"from"`
	Method       string            `json:"method"`
	Bits         int               `json:"bits"`
	GroupSize    int               `json:"group_size"`
	ZeroPoint    bool              `json:"zero_point"`
	Format       string            `json:"format"`
	Kernel       string            `json:"kernel"`
	Ignore       []string          `json:"ignore"`
	Recipe       File              `json:"recipe"`
	Calibration  Calibration       `json:"calibration"`
	Versions     map[string]string `json:"versions"`
	Requirements File              `json:"requirements"`
	Seed         int               `json:"seed"`
	Seconds      float64           `json:"seconds"`
	ForgeVersion string            `json:"forge_version"`
	ForgeCommit  string            `json:"forge_commit"`
	CreatedAt    string            `json:"created_at"`
}

// Checkpoint names the result by its tree sha256.
type Checkpoint struct {
	SHA256 string `json:"sha256"`
	Dir    string `json:"dir"`
	Files  int    `json:"files"`
	Bytes  int64  `json:"bytes"`
}

// From is the model quantized.
type From struct {
	Name     string `json:"name"`
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
}

// File is a file with its sha256, relative to the record.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Calibration is the text AWQ's statistics came from.
type Calibration struct {
	Dataset string `json:"dataset"`
	SHA256  string `json:"sha256"`
	Samples int    `json:"samples"`
	SeqLen  int    `json:"seq_len"`
	Tokens  int    `json:"tokens"`
	File    File   `json:"file"`
}

// Options says what runs it and where things go.
type Options struct {
	Python       string // default .venv/quant/bin/python
	Script       string // default tools/py/awq_quantize.py
	Dequantize   string // default tools/py/awq_dequantize.py (format "dequantized")
	Requirements string // default requirements/quant.txt
	RecordRoot   string // default results/quantize
	Data         data.Options
	Log          io.Writer // the script's output; default discarded
}

func (o *Options) defaults() {
	if o.Python == "" {
		o.Python = ".venv/quant/bin/python"
	}
	if o.Script == "" {
		o.Script = filepath.Join("tools", "py", "awq_quantize.py")
	}
	if o.Dequantize == "" {
		o.Dequantize = filepath.Join("tools", "py", "awq_dequantize.py")
	}
	if o.Requirements == "" {
		o.Requirements = filepath.Join("requirements", "quant.txt")
	}
	if o.RecordRoot == "" {
		o.RecordRoot = filepath.Join("results", "quantize")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Result tells what Run did.
type Result struct {
	Dir, SHA256, RecordPath string
	Cached                  bool
}

// Recipe is the llm-compressor recipe of an AWQ block: AWQ's smoothing
// (AWQModifier, its mappings llm-compressor's own for the model's
// architecture) followed by the quantization it searches scales for
// (QuantizationModifier: one config group over every Linear layer but the
// ignored ones, 4-bit integer weights in groups, asymmetric when zero_point
// is set, activations left in 16 bits: W4A16). llm-compressor 0.14 split the
// two; 0.7 took the quantization inside AWQModifier.
func Recipe(m plan.Model) (string, error) {
	q := m.Quantization
	if q == nil || q.Method != "awq" {
		return "", fmt.Errorf("model %s has no quantization \"awq\" block", m.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# llm-compressor recipe written by Forge from model %q, quantization \"awq\"\n", m.Name)
	fmt.Fprintf(&b, "# (W%dA16, group %d, zero point %t, from %s).\n", q.Bits, q.GroupSize, q.ZeroPoint, q.From)
	b.WriteString("quant_stage:\n  quant_modifiers:\n    AWQModifier:\n")
	b.WriteString("      duo_scaling: true\n")
	b.WriteString("    QuantizationModifier:\n")
	b.WriteString("      ignore: [" + quoteList(q.Ignore) + "]\n")
	b.WriteString("      config_groups:\n        group_0:\n          targets: [Linear]\n          weights:\n")
	fmt.Fprintf(&b, "            num_bits: %d\n            type: int\n            symmetric: %t\n", q.Bits, !q.ZeroPoint)
	fmt.Fprintf(&b, "            strategy: group\n            group_size: %d\n            dynamic: false\n            observer: minmax\n", q.GroupSize)
	b.WriteString("          input_activations: null\n          output_activations: null\n")
	return b.String(), nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// CalibrationText writes the first n prompts of a ShareGPT file (the first
// turn of each conversation, in file order) as {"text": ...} lines.
func CalibrationText(sharegpt string, n int, w io.Writer) error {
	b, err := os.ReadFile(sharegpt)
	if err != nil {
		return err
	}
	var convs []struct {
		Conversations []struct {
			Value string `json:"value"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal(b, &convs); err != nil {
		return fmt.Errorf("%s: not ShareGPT JSON: %w", sharegpt, err)
	}
	enc := json.NewEncoder(w)
	got := 0
	for _, c := range convs {
		if got == n {
			break
		}
		if len(c.Conversations) == 0 || strings.TrimSpace(c.Conversations[0].Value) == "" {
			continue
		}
		if err := enc.Encode(map[string]string{"text": c.Conversations[0].Value}); err != nil {
			return err
		}
		got++
	}
	if got < n {
		return fmt.Errorf("%s holds %d prompts, calibration asks for %d", sharegpt, got, n)
	}
	return nil
}

// Run quantizes base into m's checkpoint. A checkpoint already in the cache
// with m's revision is kept (Cached); one that comes out with another sha256
// is kept under that sha256 and reported, never served under m's name.
func Run(ctx context.Context, m, base plan.Model, calib plan.Dataset, o Options) (Result, error) {
	o.defaults()
	q := m.Quantization
	if q == nil || q.From == "" || q.Calibration == nil {
		return Result{}, fmt.Errorf("model %s: quantization needs from and a calibration block", m.Name)
	}
	recordDir := filepath.Join(o.RecordRoot, m.Name, short(m.Revision))
	if sum, err := data.TreeSHA256(m.Path); err == nil && sum == m.Revision && fileExists(filepath.Join(recordDir, "quantize.json")) {
		return Result{Dir: m.Path, SHA256: sum, RecordPath: filepath.Join(recordDir, "quantize.json"), Cached: true}, nil
	}
	if base.Path == "" || !fileExists(filepath.Join(base.Path, "config.json")) {
		return Result{}, fmt.Errorf("model %s: the base checkpoint %s is not in the model cache (%s); prepare it first (forge model prepare on an experiment serving %s)", m.Name, base.Name, base.Path, base.Name)
	}
	for _, f := range []string{o.Python, o.Script, o.Dequantize} {
		if !fileExists(f) {
			return Result{}, fmt.Errorf("%s is missing: run `make venv-quant` (requirements/quant.txt) or `nix develop .#quant`", f)
		}
	}
	reqSum, err := data.FileSHA256(o.Requirements)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w (the quant venv's pins are part of the record)", o.Requirements, err)
	}
	calibPath, err := calib.Resolve(ctx, o.Data)
	if err != nil {
		return Result{}, fmt.Errorf("calibration dataset %s: %w", calib.Name, err)
	}
	cache := filepath.Dir(m.Path)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, err
	}
	work, err := os.MkdirTemp(cache, ".quantize-*")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)
	recipe, err := Recipe(m)
	if err != nil {
		return Result{}, err
	}
	recipePath := filepath.Join(work, "recipe.yaml")
	if err := os.WriteFile(recipePath, []byte(recipe), 0o644); err != nil {
		return Result{}, err
	}
	var calibBuf bytes.Buffer
	if err := CalibrationText(calibPath, q.Calibration.Samples, &calibBuf); err != nil {
		return Result{}, err
	}
	calibFile := filepath.Join(work, "calibration.jsonl")
	if err := os.WriteFile(calibFile, calibBuf.Bytes(), 0o644); err != nil {
		return Result{}, err
	}
	out := filepath.Join(work, "checkpoint")
	start := time.Now()
	var stdout bytes.Buffer
	log := &proc.SyncWriter{W: o.Log}
	offline := append([]string{"HF_HUB_OFFLINE=1", "HF_DATASETS_OFFLINE=1", "TRANSFORMERS_OFFLINE=1"}, SameOnEveryCPU...)
	err = proc.Run(ctx, proc.Spec{Name: "llm-compressor", Argv: []string{o.Python, o.Script, "--model", base.Path, "--recipe", recipePath,
		"--calibration", calibFile, "--samples", fmt.Sprint(q.Calibration.Samples), "--seq-len", fmt.Sprint(q.Calibration.SeqLen),
		"--out", out, "--seed", "0"}, Output: log, Stdout: io.MultiWriter(&stdout, log), Env: offline}, 10*time.Second)
	if err != nil {
		return Result{}, fmt.Errorf("model %s: %s %s failed (%v); its output is above", m.Name, o.Python, o.Script, err)
	}
	report, err := lastJSON(stdout.Bytes())
	if err != nil {
		return Result{}, fmt.Errorf("model %s: %s printed no result line: %w", m.Name, o.Script, err)
	}
	if q.Format == "dequantized" {
		// vLLM's CPU build cannot serve packed W4A16 layers: store the same
		// AWQ-rounded weights dense (tools/py/awq_dequantize.py).
		dense := filepath.Join(work, "dense")
		if err := proc.Run(ctx, proc.Spec{Name: "dequantize", Argv: []string{o.Python, o.Dequantize, out, dense}, Output: log, Env: offline}, 10*time.Second); err != nil {
			return Result{}, fmt.Errorf("model %s: %s %s failed (%v); its output is above", m.Name, o.Python, o.Dequantize, err)
		}
		out = dense
	}
	got, err := data.TreeSHA256(out)
	if err != nil {
		return Result{}, err
	}
	dst := filepath.Join(cache, got)
	if err := os.RemoveAll(dst); err != nil {
		return Result{}, err
	}
	if err := os.Rename(out, dst); err != nil {
		return Result{}, err
	}
	rec := Record{Schema: schemas.QuantizeRecord, Model: m.Name, From: From{base.Name, base.Repo, base.Revision},
		Method: q.Method, Bits: q.Bits, GroupSize: q.GroupSize, ZeroPoint: q.ZeroPoint, Format: q.Format, Kernel: q.Kernel, Ignore: q.Ignore,
		Versions: report.Versions, Seed: 0, Seconds: round2(time.Since(start).Seconds()),
		ForgeVersion: buildinfo.Version, ForgeCommit: buildinfo.Commit, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	rec.Checkpoint.SHA256, rec.Checkpoint.Dir = got, filepath.ToSlash(dst)
	rec.Checkpoint.Files, rec.Checkpoint.Bytes, err = treeSize(dst)
	if err != nil {
		return Result{}, err
	}
	recordDir = filepath.Join(o.RecordRoot, m.Name, short(got))
	if err := os.MkdirAll(recordDir, 0o755); err != nil {
		return Result{}, err
	}
	for _, f := range []struct {
		src, name string
		into      *File
	}{{recipePath, "recipe.yaml", &rec.Recipe}, {calibFile, "raw/calibration.jsonl", &rec.Calibration.File}} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			return Result{}, err
		}
		// The calibration text is input data, not a Forge record: it goes
		// under raw/, which result validation skips.
		dst := filepath.Join(recordDir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return Result{}, err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return Result{}, err
		}
		sum, err := data.FileSHA256(f.src)
		if err != nil {
			return Result{}, err
		}
		*f.into = File{Path: f.name, SHA256: sum}
	}
	rec.Calibration.Dataset, rec.Calibration.SHA256 = calib.Name, calib.SHA256
	rec.Calibration.Samples, rec.Calibration.SeqLen, rec.Calibration.Tokens = q.Calibration.Samples, q.Calibration.SeqLen, report.Tokens
	rec.Requirements = File{Path: filepath.ToSlash(o.Requirements), SHA256: reqSum}
	enc, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return Result{}, err
	}
	recordPath := filepath.Join(recordDir, "quantize.json")
	if err := os.WriteFile(recordPath, append(enc, '\n'), 0o644); err != nil {
		return Result{}, err
	}
	res := Result{Dir: dst, SHA256: got, RecordPath: recordPath}
	if got != m.Revision {
		return res, fmt.Errorf("model %s: the quantized checkpoint has sha256 %s, the catalog pins revision %s; it is kept in %s with its record %s. If the recipe or the quant pins changed on purpose, set revision = %q",
			m.Name, got, m.Revision, dst, recordPath, got)
	}
	return res, nil
}

// SameOnEveryCPU is the environment under which a CPU quantization gives
// the same bytes on any x86-64 host with AVX2, so that the checkpoint's
// sha256 pinned in the catalog is the one every machine builds. Without it
// the AWQ scale search took different float paths on different hosts: the
// stand-in built on an AVX-512-BF16 EPYC and on an AVX2 host came out with
// different checkpoints from the same inputs and versions. PyTorch's own
// kernels, oneDNN (bf16 matmuls) and MKL (fp32 BLAS) are each held to their
// AVX2 code path, and one thread, so no reduction is split by core count.
var SameOnEveryCPU = []string{"ATEN_CPU_CAPABILITY=avx2", "ONEDNN_MAX_CPU_ISA=AVX2", "MKL_CBWR=AVX2,STRICT",
	"OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1"}

// scriptReport is the JSON line awq_quantize.py prints last.
type scriptReport struct {
	Tokens   int               `json:"tokens"`
	Versions map[string]string `json:"versions"`
}

func lastJSON(out []byte) (scriptReport, error) {
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "{") {
			last = l
		}
	}
	var r scriptReport
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("reading the script's output: %w", err)
	}
	if last == "" {
		return r, fmt.Errorf("no JSON line on stdout")
	}
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return r, err
	}
	if len(r.Versions) == 0 {
		return r, fmt.Errorf("the result line names no versions")
	}
	return r, nil
}

func treeSize(dir string) (int, int64, error) {
	var n int
	var size int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			n++
			size += info.Size()
		}
		return nil
	})
	return n, size, err
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
