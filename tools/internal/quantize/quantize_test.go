package quantize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func write(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sq quotes s for POSIX sh.
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncBuffer is an Options.Log the script's stdout and stderr copiers may
// write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func awq(zeroPoint bool, ignore []string) *plan.Quantization {
	return &plan.Quantization{Method: "awq", Bits: 4, GroupSize: 64, ZeroPoint: zeroPoint, Ignore: ignore, From: "base"}
}

func TestRecipe(t *testing.T) {
	// Written by hand from the layout of an llm-compressor 0.14 recipe: a
	// stage with AWQ's smoothing, then a QuantizationModifier whose one
	// config group targets every Linear layer, 4-bit int weights in groups
	// of 64, asymmetric since zero_point is set (symmetric = !zero_point),
	// activations untouched (W4A16).
	const golden = `# llm-compressor recipe written by Forge from model "tiny-awq", quantization "awq"
# (W4A16, group 64, zero point true, from base).
quant_stage:
  quant_modifiers:
    AWQModifier:
      duo_scaling: true
    QuantizationModifier:
      ignore: ["lm_head"]
      config_groups:
        group_0:
          targets: [Linear]
          weights:
            num_bits: 4
            type: int
            symmetric: false
            strategy: group
            group_size: 64
            dynamic: false
            observer: minmax
          input_activations: null
          output_activations: null
`
	t.Run("golden", func(t *testing.T) {
		got, err := Recipe(plan.Model{Name: "tiny-awq", Quantization: awq(true, []string{"lm_head"})})
		if err != nil {
			t.Fatal(err)
		}
		if got != golden {
			t.Errorf("Recipe =\n%s\nwant\n%s", got, golden)
		}
	})
	// gopkg.in/yaml.v3 is not in go.mod, so the variants are checked line
	// by line, indentation included (it is what places a key in the tree).
	for _, c := range []struct {
		name          string
		q             *plan.Quantization
		want, notWant []string
	}{
		{"zero point: asymmetric", awq(true, []string{"lm_head"}),
			[]string{"    AWQModifier:", `      ignore: ["lm_head"]`, "            num_bits: 4", "            group_size: 64",
				"            symmetric: false", "            strategy: group", "          targets: [Linear]", "          input_activations: null"},
			[]string{"            symmetric: true"}},
		{"no zero point: symmetric", awq(false, []string{"lm_head"}),
			[]string{"            symmetric: true", "# (W4A16, group 64, zero point false, from base)."},
			[]string{"            symmetric: false"}},
		{"8 bits, group 128", &plan.Quantization{Method: "awq", Bits: 8, GroupSize: 128, From: "base"},
			[]string{"            num_bits: 8", "            group_size: 128", "# (W8A16, group 128, zero point false, from base)."},
			[]string{"            num_bits: 4"}},
		{"nothing ignored: an empty flow list", awq(true, nil), []string{"      ignore: []"}, nil},
		{"two ignored, each quoted", awq(true, []string{"lm_head", `model.a"b`}), []string{`      ignore: ["lm_head", "model.a\"b"]`}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Recipe(plan.Model{Name: "tiny-awq", Quantization: c.q})
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(got, "\n")
			for _, w := range c.want {
				if !slices.Contains(lines, w) {
					t.Errorf("recipe lacks the line %q:\n%s", w, got)
				}
			}
			for _, w := range c.notWant {
				if slices.Contains(lines, w) {
					t.Errorf("recipe has the line %q:\n%s", w, got)
				}
			}
		})
	}
	for _, c := range []struct {
		name string
		q    *plan.Quantization
	}{
		{"no quantization block", nil},
		{"method gptq", &plan.Quantization{Method: "gptq", Bits: 4, GroupSize: 128}},
		{"method empty", &plan.Quantization{Bits: 4, GroupSize: 128}},
	} {
		t.Run("refuses "+c.name, func(t *testing.T) {
			got, err := Recipe(plan.Model{Name: "tiny", Quantization: c.q})
			if err == nil || !strings.Contains(err.Error(), `model tiny has no quantization "awq" block`) {
				t.Errorf("Recipe = %q, %v; want an error naming the model", got, err)
			}
			if got != "" {
				t.Errorf("Recipe wrote %q along with its error", got)
			}
		})
	}
}

// shareGPT has six conversations: three usable first turns ("first
// prompt", the quoted two-line one, "third") and, between them, one with an
// empty value, one with a blank value, one with no conversations key and one
// with an empty list, all of which CalibrationText skips.
const shareGPT = `[
  {"id": "a", "conversations": [{"from": "human", "value": "first prompt"}, {"from": "gpt", "value": "a reply"}]},
  {"id": "b", "conversations": [{"from": "human", "value": ""}]},
  {"id": "c"},
  {"id": "d", "conversations": [{"from": "human", "value": "  \n "}]},
  {"id": "e", "conversations": [{"from": "human", "value": "second \"quoted\" prompt\non two lines"}]},
  {"id": "f", "conversations": []},
  {"id": "g", "conversations": [{"from": "human", "value": "third"}]}
]`

// The JSON lines of the first two usable prompts, escaped by hand.
const firstTwo = `{"text":"first prompt"}` + "\n" + `{"text":"second \"quoted\" prompt\non two lines"}` + "\n"

func TestCalibrationText(t *testing.T) {
	for _, c := range []struct {
		name, content string
		n             int
		want, err     string
	}{
		{"first two, in file order, empties skipped", shareGPT, 2, firstTwo, ""},
		{"all three", shareGPT, 3, firstTwo + `{"text":"third"}` + "\n", ""},
		{"none", shareGPT, 0, "", ""},
		{"one more than there are", shareGPT, 4, "", "holds 3 prompts, calibration asks for 4"},
		{"only empties", `[{"id": "b", "conversations": [{"from": "human", "value": ""}]}, {"id": "c"}]`, 1, "", "holds 0 prompts, calibration asks for 1"},
		{"not JSON", `[{"id": "a", "conversations": [`, 1, "", "not ShareGPT JSON"},
		{"an object, not a list", `{"id": "a"}`, 1, "", "not ShareGPT JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sharegpt.json")
			write(t, path, c.content, 0o644)
			var out bytes.Buffer
			err := CalibrationText(path, c.n, &out)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want one naming %s and containing %q", err, path, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != c.want {
				t.Errorf("calibration text =\n%s\nwant\n%s", out.String(), c.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if err := CalibrationText(filepath.Join(t.TempDir(), "absent.json"), 1, &bytes.Buffer{}); !os.IsNotExist(err) {
			t.Errorf("err = %v, want a not-exist error", err)
		}
	})
}

func TestLastJSON(t *testing.T) {
	for _, c := range []struct {
		name, out string
		tokens    int
		versions  map[string]string
		err       string
	}{
		{"the last JSON line wins", "loading\n{\"tokens\": 1, \"versions\": {\"torch\": \"old\"}}\nsaved\n  {\"tokens\": 7, \"versions\": {\"torch\": \"2.9\"}}  \n",
			7, map[string]string{"torch": "2.9"}, ""},
		{"no JSON line", "loading\nsaved\n", 0, nil, "no JSON line on stdout"},
		{"nothing printed", "", 0, nil, "no JSON line on stdout"},
		{"a last line that is not JSON", "{\"tokens\": 7, \"versions\": {\"torch\": \"2.9\"}}\n{progress 50%\n", 0, nil, "invalid character"},
		{"no versions", "{\"tokens\": 7}\n", 0, nil, "names no versions"},
		{"empty versions", "{\"tokens\": 7, \"versions\": {}}\n", 0, nil, "names no versions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := lastJSON([]byte(c.out))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("lastJSON = %+v, %v; want an error containing %q", r, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Tokens != c.tokens || !maps.Equal(r.Versions, c.versions) {
				t.Errorf("lastJSON = %+v, want tokens %d, versions %v", r, c.tokens, c.versions)
			}
		})
	}
}

// What the fake quantizer writes, and the fake dequantizer's config.json.
const (
	fakeConfig  = `{"format":"pack-quantized"}` // 27 bytes: 1 + 8 ("format" quoted) + 1 + 16 ("pack-quantized" quoted) + 1
	fakeWeights = "W4A16 packed weights"        // 20 bytes: 5 + 1 + 6 + 1 + 7
	denseConfig = `{"format":"dense"}`          // 18 bytes: 1 + 8 + 1 + 7 ("dense" quoted) + 1
)

var fakeVersions = map[string]string{"llmcompressor": "x", "compressed_tensors": "y", "transformers": "z", "torch": "t"}

// treeSHA is the tree sha256 by its definition (data.TreeSHA256): the
// sha256 of the sha256sum listing, paths sorted bytewise. config.json sorts
// before model.safetensors ('c' < 'm').
func treeSHA(config, weights string) string {
	listing := sum([]byte(config)) + "  config.json\n" + sum([]byte(weights)) + "  model.safetensors\n"
	return sum([]byte(listing))
}

// runFixture is a model cache holding the base checkpoint, a seed directory
// holding the calibration ShareGPT file, a requirements file, and a fake
// python standing in for the quant venv.
type runFixture struct {
	root, cache, recordRoot, calls string
	m, base                        plan.Model
	ds                             plan.Dataset
	opts                           Options
	log                            *syncBuffer
	compressed, dense              string // tree sha256 of what the fakes write
}

// fakePython writes a sh script that acts as awq_quantize.py when $1 is
// o.Script (parses --out and --calibration, writes config.json and
// model.safetensors, prints log lines, a stale JSON line and the result line)
// and as awq_dequantize.py when $1 is o.Dequantize (copies $2 to $3 with
// another config.json). mode "fail" exits 1 before writing, "nojson" prints
// no JSON line, "dequant-fail" makes the dequantizer exit 1. Every call is
// appended to calls.
func (f *runFixture) fakePython(t *testing.T, mode string) string {
	t.Helper()
	final := `{"tokens": 123, "versions": {"llmcompressor": "x", "compressed_tensors": "y", "transformers": "z", "torch": "t"}}`
	var jsonLines string
	if mode != "nojson" {
		jsonLines = "echo '{\"tokens\": 1, \"versions\": {\"llmcompressor\": \"stale\"}}'\necho saved\necho " + sq(final) + "\n"
	}
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %[1]s
if [ "$1" = %[2]s ]; then
  shift
  out=
  calib=
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out=$2 ;;
      --calibration) calib=$2 ;;
    esac
    shift
  done
  echo "loading base model"
  echo "calibrating" >&2
  [ %[4]s != fail ] || { echo "CUDA out of memory" >&2; exit 1; }
  [ -n "$out" ] && [ -f "$calib" ] || { echo "bad arguments" >&2; exit 2; }
  mkdir -p "$out" || exit 2
  printf '%%s' %[5]s > "$out/config.json" || exit 2
  printf '%%s' %[6]s > "$out/model.safetensors" || exit 2
  cp "$calib" %[8]s || exit 2
%[7]s  exit 0
fi
if [ "$1" = %[3]s ]; then
  [ %[4]s != dequant-fail ] || { echo "dequantize broke" >&2; exit 1; }
  cp -R "$2" "$3" || exit 2
  printf '%%s' %[9]s > "$3/config.json" || exit 2
  echo dequantized
  exit 0
fi
echo "unexpected script $1" >&2
exit 2
`, sq(f.calls), sq(f.opts.Script), sq(f.opts.Dequantize), sq(mode), sq(fakeConfig), sq(fakeWeights), jsonLines,
		sq(filepath.Join(f.root, "seen-calibration.jsonl")), sq(denseConfig))
	path := filepath.Join(f.root, "bin", "python-"+mode)
	write(t, path, script, 0o755)
	return path
}

func newRunFixture(t *testing.T, format, mode string) *runFixture {
	t.Helper()
	root := t.TempDir()
	f := &runFixture{root: root, cache: filepath.Join(root, "models", "sha256"), recordRoot: filepath.Join(root, "results", "quantize"),
		calls: filepath.Join(root, "calls.log"), log: &syncBuffer{}}

	// The expected trees, built by hand with the files the fakes write; the
	// listing definition and data.TreeSHA256 must agree on them.
	for _, c := range []struct {
		config string
		into   *string
	}{{fakeConfig, &f.compressed}, {denseConfig, &f.dense}} {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "config.json"), c.config, 0o644)
		write(t, filepath.Join(dir, "model.safetensors"), fakeWeights, 0o644)
		got, err := data.TreeSHA256(dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := treeSHA(c.config, fakeWeights); got != want {
			t.Fatalf("data.TreeSHA256 = %s, the listing gives %s", got, want)
		}
		*c.into = got
	}

	baseRev := strings.Repeat("1a", 20) // a 40-hex Hugging Face commit
	f.base = plan.Model{Name: "base", Repo: "org/base", Revision: baseRev, Path: filepath.Join(f.cache, baseRev)}
	write(t, filepath.Join(f.base.Path, "config.json"), `{"model_type":"llama"}`, 0o644)

	seed := filepath.Join(root, "seed")
	write(t, filepath.Join(seed, "sharegpt", "mini.json"), shareGPT, 0o644)
	f.ds = plan.Dataset{Name: "sharegpt-mini", Format: "sharegpt", SHA256: sum([]byte(shareGPT)), Path: "sharegpt/mini.json"}

	rev := f.compressed
	if format == "dequantized" {
		rev = f.dense
	}
	f.m = plan.Model{Name: "tiny-awq", Repo: "org/tiny-awq", Revision: rev, Path: filepath.Join(f.cache, rev),
		Quantization: &plan.Quantization{Method: "awq", Bits: 4, GroupSize: 64, ZeroPoint: true, Kernel: "awq_marlin",
			Ignore: []string{"lm_head"}, Format: format, From: "base",
			Calibration: &plan.Calibration{Dataset: "sharegpt-mini", Samples: 2, SeqLen: 512}}}

	req := filepath.Join(root, "requirements", "quant.txt")
	write(t, req, "llmcompressor==x\ncompressed-tensors==y\n", 0o644)
	f.opts = Options{Script: filepath.Join(root, "py", "awq_quantize.py"), Dequantize: filepath.Join(root, "py", "awq_dequantize.py"),
		Requirements: req, RecordRoot: f.recordRoot, Log: f.log,
		Data: data.Options{CacheDir: filepath.Join(root, "data"), Seeds: []string{seed}, Offline: true}}
	write(t, f.opts.Script, "# stands in for awq_quantize.py\n", 0o644)
	write(t, f.opts.Dequantize, "# stands in for awq_dequantize.py\n", 0o644)
	f.opts.Python = f.fakePython(t, mode)
	return f
}

// cacheEntries lists the model cache, so a test can tell that no
// checkpoint and no work directory was left behind.
func (f *runFixture) cacheEntries(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(f.cache)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// checkRecord reads the record at path, validates it against its schema and
// compares every field this fixture determines.
func (f *runFixture) checkRecord(t *testing.T, path, sha string, bytes int64) Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := schemas.ValidateJSON(schemas.QuantizeRecord, b)
	if err != nil || len(findings) != 0 {
		t.Errorf("record does not validate: %v %+v\n%s", err, findings, b)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	q := f.m.Quantization
	dir := filepath.Dir(path)
	if want := filepath.Join(f.recordRoot, f.m.Name, sha[:12]); dir != want {
		t.Errorf("record in %s, want %s", dir, want)
	}
	if rec.Schema != "forge.quantize.record/v1" || rec.Model != "tiny-awq" || rec.Seed != 0 {
		t.Errorf("schema, model, seed = %q, %q, %d", rec.Schema, rec.Model, rec.Seed)
	}
	if want := (Checkpoint{SHA256: sha, Dir: filepath.ToSlash(filepath.Join(f.cache, sha)), Files: 2, Bytes: bytes}); rec.Checkpoint != want {
		t.Errorf("checkpoint = %+v, want %+v", rec.Checkpoint, want)
	}
	if want := (From{"base", "org/base", f.base.Revision}); rec.From != want {
		t.Errorf("from = %+v, want %+v", rec.From, want)
	}
	if rec.Method != "awq" || rec.Bits != 4 || rec.GroupSize != 64 || !rec.ZeroPoint || rec.Format != q.Format || rec.Kernel != "awq_marlin" ||
		!slices.Equal(rec.Ignore, []string{"lm_head"}) {
		t.Errorf("quantization fields = %s %d %d %t %s %s %v", rec.Method, rec.Bits, rec.GroupSize, rec.ZeroPoint, rec.Format, rec.Kernel, rec.Ignore)
	}
	recipe, err := Recipe(f.m)
	if err != nil {
		t.Fatal(err)
	}
	if want := (File{"recipe.yaml", sum([]byte(recipe))}); rec.Recipe != want {
		t.Errorf("recipe = %+v, want %+v", rec.Recipe, want)
	}
	if got := read(t, filepath.Join(dir, "recipe.yaml")); got != recipe {
		t.Errorf("recipe.yaml beside the record =\n%s\nwant\n%s", got, recipe)
	}
	if got := read(t, filepath.Join(dir, "raw", "calibration.jsonl")); got != firstTwo {
		t.Errorf("raw/calibration.jsonl beside the record =\n%s\nwant\n%s", got, firstTwo)
	}
	if want := (Calibration{Dataset: "sharegpt-mini", SHA256: sum([]byte(shareGPT)), Samples: 2, SeqLen: 512, Tokens: 123,
		File: File{"raw/calibration.jsonl", sum([]byte(firstTwo))}}); rec.Calibration != want {
		t.Errorf("calibration = %+v, want %+v", rec.Calibration, want)
	}
	if !maps.Equal(rec.Versions, fakeVersions) {
		t.Errorf("versions = %v, want %v (the last JSON line's, not the stale one)", rec.Versions, fakeVersions)
	}
	if want := (File{filepath.ToSlash(f.opts.Requirements), sum([]byte("llmcompressor==x\ncompressed-tensors==y\n"))}); rec.Requirements != want {
		t.Errorf("requirements = %+v, want %+v", rec.Requirements, want)
	}
	if rec.ForgeVersion != buildinfo.Version || rec.ForgeCommit != buildinfo.Commit {
		t.Errorf("forge = %s %s, want %s %s", rec.ForgeVersion, rec.ForgeCommit, buildinfo.Version, buildinfo.Commit)
	}
	if created, err := time.Parse(time.RFC3339, rec.CreatedAt); err != nil || time.Since(created) > time.Hour || rec.Seconds < 0 {
		t.Errorf("created_at %q (%v), seconds %v", rec.CreatedAt, err, rec.Seconds)
	}
	return rec
}

func TestRun(t *testing.T) {
	ctx := context.Background()

	t.Run("compressed-tensors, then cached, then rebuilt when tampered", func(t *testing.T) {
		f := newRunFixture(t, "compressed-tensors", "ok")
		res, err := Run(ctx, f.m, f.base, f.ds, f.opts)
		if err != nil {
			t.Fatalf("Run: %v\nlog:\n%s", err, f.log.String())
		}
		wantRecord := filepath.Join(f.recordRoot, "tiny-awq", f.compressed[:12], "quantize.json")
		if want := (Result{Dir: filepath.Join(f.cache, f.compressed), SHA256: f.compressed, RecordPath: wantRecord}); res != want {
			t.Errorf("Run = %+v, want %+v", res, want)
		}
		if got := read(t, filepath.Join(res.Dir, "config.json")); got != fakeConfig {
			t.Errorf("config.json = %q, want %q", got, fakeConfig)
		}
		// 27 + 20 bytes, see the constants.
		f.checkRecord(t, res.RecordPath, f.compressed, 47)
		if got, want := f.cacheEntries(t), slices.Sorted(slices.Values([]string{f.base.Revision, f.compressed})); !slices.Equal(got, want) {
			t.Errorf("model cache holds %v, want the base and the result only (no work directory)", got)
		}
		// What the script was given: the base checkpoint, the samples and
		// sequence length of the block, seed 0, and the calibration text.
		calls := read(t, f.calls)
		for _, w := range []string{f.opts.Script + " --model " + f.base.Path + " --recipe ", " --samples 2 --seq-len 512 ", " --seed 0"} {
			if !strings.Contains(calls, w) {
				t.Errorf("the fake was called as %q, want %q in it", calls, w)
			}
		}
		if strings.Contains(calls, f.opts.Dequantize) {
			t.Errorf("compressed-tensors ran the dequantizer: %q", calls)
		}
		if got := read(t, filepath.Join(f.root, "seen-calibration.jsonl")); got != firstTwo {
			t.Errorf("the script was given calibration text %q, want %q", got, firstTwo)
		}
		if log := f.log.String(); !strings.Contains(log, "loading base model") || !strings.Contains(log, "calibrating") {
			t.Errorf("Log lacks the script's stdout or stderr:\n%s", log)
		}

		// Cached: a python that fails and leaves a mark must not run.
		marker := filepath.Join(f.root, "called")
		failing := filepath.Join(f.root, "bin", "failing-python")
		write(t, failing, "#!/bin/sh\ntouch "+sq(marker)+"\nexit 7\n", 0o755)
		o := f.opts
		o.Python = failing
		again, err := Run(ctx, f.m, f.base, f.ds, o)
		if want := (Result{Dir: f.m.Path, SHA256: f.compressed, RecordPath: wantRecord, Cached: true}); err != nil || again != want {
			t.Errorf("second Run = %+v, %v; want %+v", again, err, want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the cached Run called python")
		}

		// A tampered checkpoint under the pinned name is not cached: it is
		// quantized again and replaced.
		write(t, filepath.Join(f.m.Path, "config.json"), "tampered", 0o644)
		rebuilt, err := Run(ctx, f.m, f.base, f.ds, f.opts)
		if err != nil || rebuilt.Cached || rebuilt.SHA256 != f.compressed {
			t.Errorf("Run over a tampered checkpoint = %+v, %v; want a fresh build", rebuilt, err)
		}
		if got, err := data.TreeSHA256(f.m.Path); err != nil || got != f.compressed {
			t.Errorf("after the rebuild %s has sha256 %s (%v), want %s", f.m.Path, got, err, f.compressed)
		}
	})

	t.Run("revision mismatch: kept under its own sha256, with its record", func(t *testing.T) {
		f := newRunFixture(t, "compressed-tensors", "ok")
		zeros := strings.Repeat("0", 64)
		f.m.Revision, f.m.Path = zeros, filepath.Join(f.cache, zeros)
		res, err := Run(ctx, f.m, f.base, f.ds, f.opts)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("set revision = %q", f.compressed)) ||
			!strings.Contains(err.Error(), "the catalog pins revision "+zeros) {
			t.Fatalf("err = %v, want one telling to set revision = %q", err, f.compressed)
		}
		wantRecord := filepath.Join(f.recordRoot, "tiny-awq", f.compressed[:12], "quantize.json")
		if want := (Result{Dir: filepath.Join(f.cache, f.compressed), SHA256: f.compressed, RecordPath: wantRecord}); res != want {
			t.Errorf("Run = %+v, want %+v", res, want)
		}
		if _, err := os.Stat(f.m.Path); !os.IsNotExist(err) {
			t.Errorf("something sits under the pinned name %s: %v", f.m.Path, err)
		}
		if _, err := os.Stat(filepath.Join(f.recordRoot, "tiny-awq", zeros[:12])); !os.IsNotExist(err) {
			t.Errorf("a record directory was made for the pinned revision: %v", err)
		}
		f.checkRecord(t, wantRecord, f.compressed, 47)
	})

	t.Run("dequantized", func(t *testing.T) {
		f := newRunFixture(t, "dequantized", "ok")
		if f.dense == f.compressed {
			t.Fatal("the fixture's dense and compressed trees hash alike")
		}
		res, err := Run(ctx, f.m, f.base, f.ds, f.opts)
		if err != nil {
			t.Fatalf("Run: %v\nlog:\n%s", err, f.log.String())
		}
		if res.SHA256 != f.dense || res.Dir != filepath.Join(f.cache, f.dense) || res.Cached {
			t.Errorf("Run = %+v, want the dense tree %s", res, f.dense)
		}
		if got := read(t, filepath.Join(res.Dir, "config.json")); got != denseConfig {
			t.Errorf("served config.json = %q, want the dequantizer's %q", got, denseConfig)
		}
		if got := read(t, filepath.Join(res.Dir, "model.safetensors")); got != fakeWeights {
			t.Errorf("model.safetensors = %q, want %q", got, fakeWeights)
		}
		if _, err := os.Stat(filepath.Join(f.cache, f.compressed)); !os.IsNotExist(err) {
			t.Errorf("the packed checkpoint was kept in the cache too: %v", err)
		}
		calls := read(t, f.calls)
		if !strings.Contains(calls, f.opts.Dequantize+" ") || !strings.Contains(calls, string(filepath.Separator)+"dense") {
			t.Errorf("the dequantizer was not called with a dense output: %q", calls)
		}
		// 18 + 20 bytes, see the constants.
		if rec := f.checkRecord(t, res.RecordPath, f.dense, 38); rec.Format != "dequantized" {
			t.Errorf("record format %q", rec.Format)
		}
		if !strings.Contains(f.log.String(), "dequantized\n") {
			t.Errorf("Log lacks the dequantizer's output:\n%s", f.log.String())
		}
	})

	for _, c := range []struct {
		name, format, mode string
		edit               func(t *testing.T, f *runFixture)
		want               []string
	}{
		{"python exits 1", "compressed-tensors", "fail", nil, []string{"model tiny-awq: ", "awq_quantize.py failed (exit status 1)"}},
		{"no result line", "compressed-tensors", "nojson", nil, []string{"awq_quantize.py printed no result line: no JSON line on stdout"}},
		{"dequantizer exits 1", "dequantized", "dequant-fail", nil, []string{"awq_dequantize.py failed (exit status 1)"}},
		{"base checkpoint not prepared", "compressed-tensors", "ok",
			func(t *testing.T, f *runFixture) {
				if err := os.Remove(filepath.Join(f.base.Path, "config.json")); err != nil {
					t.Fatal(err)
				}
			}, []string{"the base checkpoint base is not in the model cache", "prepare it first", "serving base"}},
		{"base without a path", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.base.Path = "" },
			[]string{"the base checkpoint base is not in the model cache", "prepare it first"}},
		{"python missing", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.opts.Python = filepath.Join(f.root, "no-venv", "python") },
			[]string{filepath.Join("no-venv", "python") + " is missing", "make venv-quant"}},
		{"quantize script missing", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.opts.Script = filepath.Join(f.root, "py", "absent.py") },
			[]string{"absent.py is missing", "make venv-quant"}},
		{"calibration dataset sha256 differs", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.ds.SHA256 = strings.Repeat("d", 64) },
			[]string{"calibration dataset sharegpt-mini: ", "sha256 mismatch"}},
		{"fewer prompts than samples", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.m.Quantization.Calibration.Samples = 4 },
			[]string{"holds 3 prompts, calibration asks for 4"}},
		{"no calibration block", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.m.Quantization.Calibration = nil },
			[]string{"model tiny-awq: quantization needs from and a calibration block"}},
		{"no from", "compressed-tensors", "ok", func(_ *testing.T, f *runFixture) { f.m.Quantization.From = "" },
			[]string{"quantization needs from and a calibration block"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newRunFixture(t, c.format, c.mode)
			if c.edit != nil {
				c.edit(t, f)
			}
			res, err := Run(ctx, f.m, f.base, f.ds, f.opts)
			if err == nil {
				t.Fatalf("Run = %+v, want an error", res)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to contain %q", err, w)
				}
			}
			if _, err := os.Stat(f.m.Path); !os.IsNotExist(err) {
				t.Errorf("a failed Run left a checkpoint under the pinned name: %v", err)
			}
			if _, err := os.Stat(f.recordRoot); !os.IsNotExist(err) {
				t.Errorf("a failed Run wrote a record: %v", err)
			}
			if es, err := os.ReadDir(f.cache); err == nil {
				for _, e := range es {
					if strings.HasPrefix(e.Name(), ".quantize-") {
						t.Errorf("work directory %s left in the cache", e.Name())
					}
				}
			}
		})
	}

	// The requirements file is hashed only after the checkpoint is in place,
	// so this failure leaves it (with recipe.yaml and calibration.jsonl but no
	// quantize.json) and a later Run with the file quantizes again, the
	// record missing.
	t.Run("requirements missing", func(t *testing.T) {
		f := newRunFixture(t, "compressed-tensors", "ok")
		o := f.opts
		o.Requirements = filepath.Join(f.root, "absent.txt")
		if _, err := Run(ctx, f.m, f.base, f.ds, o); err == nil || !strings.Contains(err.Error(), o.Requirements+": ") {
			t.Fatalf("err = %v, want one naming %s", err, o.Requirements)
		}
		if _, err := os.Stat(filepath.Join(f.recordRoot, "tiny-awq", f.compressed[:12], "quantize.json")); !os.IsNotExist(err) {
			t.Errorf("a record was written without the requirements' sha256: %v", err)
		}
		res, err := Run(ctx, f.m, f.base, f.ds, f.opts)
		if err != nil || res.Cached {
			t.Fatalf("Run with the requirements = %+v, %v; want a fresh build", res, err)
		}
		f.checkRecord(t, res.RecordPath, f.compressed, 47)
	})
}
