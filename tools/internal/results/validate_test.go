package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forge-bench/forge/schemas"
)

// fixture returns a valid document from the schemas package's testdata, the
// single source of examples for each schema, compacted onto one line so it
// can also serve as a JSONL record.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "schemas", "testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// edit returns doc with top-level fields replaced (or removed when nil).
func edit(t *testing.T, doc string, fields map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestValidateTree(t *testing.T) {
	record := fixture(t, "bench-record/valid/ok_closed_loop.json")
	failed := fixture(t, "bench-record/valid/timeout_open_loop.json")
	summary := fixture(t, "bench-summary/valid/measured.json")
	cost := fixture(t, "cost-report/valid/rented_and_owned.json")
	eval := fixture(t, "eval-run/valid/full.json")
	// A completed request must have a TTFT.
	badRecord := edit(t, record, map[string]any{"ttft_ms": json.RawMessage("null")})

	tests := []struct {
		name  string
		files map[string]string // path under root → content
		want  []string          // Problem.String() with root stripped
	}{
		{
			name: "empty tree",
		},
		{
			name: "valid run, other files ignored",
			files: map[string]string{
				"exp/run1/bench/c001.jsonl":        record + "\n\n" + failed + "\n",
				"exp/run1/bench/c001.summary.json": summary,
				"exp/run1/cost.json":               cost,
				"exp/run1/eval/lm-eval.json":       eval,
				"exp/run1/report.md":               "# not JSON",
				"exp/run1/charts/ttft.svg":         "<svg/>",
				"exp/run1/bench/c001.jsonl.bak":    "{",
				"exp/run1/empty.jsonl":             "",
			},
		},
		{
			name: "last line without newline, CRLF and blank lines",
			files: map[string]string{
				"r.jsonl": "\r\n" + record + "\r\n   \n" + badRecord,
			},
			want: []string{"r.jsonl:4: /ttft_ms: got null, want number"},
		},
		{
			name: "findings carry file, line and pointer",
			files: map[string]string{
				"run/bench/c1.jsonl": record + "\n" + badRecord + "\n" + `{"schema": "forge.bench.record/v1"` + "\n",
				"run/cost.json":      edit(t, cost, map[string]any{"gpu": map[string]any{"name": "A5000", "count": 0}}),
			},
			want: []string{
				"run/bench/c1.jsonl:2: /ttft_ms: got null, want number",
				"run/bench/c1.jsonl:3: invalid JSON: unexpected EOF",
				"run/cost.json: /gpu/count: minimum: got 0, want 1",
			},
		},
		{
			name: "documents that name no usable schema",
			files: map[string]string{
				"a_array.json":     `[1, 2]`,
				"b_empty.json":     ``,
				"c_garbage.json":   `{"schema": forge}`,
				"d_noschema.json":  `{"run_id": "x"}`,
				"e_number.json":    `{"schema": 1}`,
				"f_unknown.json":   `{"schema": "forge.bench.record/v9"}`,
				"g_trailing.json":  `{"schema": "forge.bench.record/v1"} {}`,
				"h_lines.jsonl":    "[]\nnull\n\"s\"\n",
				"i_wrong_kind.txt": `{"schema": 1}`,
			},
			want: []string{
				"a_array.json: document is not a JSON object, so it names no schema",
				"b_empty.json: invalid JSON: EOF",
				"c_garbage.json: invalid JSON: invalid character 'o' in literal false (expecting 'a')",
				`d_noschema.json: no top-level "schema" field naming the schema to check against`,
				`e_number.json: /schema: "schema" must be a string naming a schema, got number`,
				`f_unknown.json: /schema: schemas: unknown schema "forge.bench.record/v9" (known: ` + strings.Join(schemas.Names(), ", ") + `)`,
				"g_trailing.json: invalid JSON: invalid character after top-level value",
				"h_lines.jsonl:1: document is not a JSON object, so it names no schema",
				"h_lines.jsonl:2: document is not a JSON object, so it names no schema",
				"h_lines.jsonl:3: document is not a JSON object, so it names no schema",
			},
		},
		{
			name: "a record in a .json file and a summary in a .jsonl line are both checked by name",
			files: map[string]string{
				"one.json":   badRecord,
				"many.jsonl": summary + "\n" + edit(t, summary, map[string]any{"provenance": nil}) + "\n",
			},
			want: []string{
				"many.jsonl:2: missing property 'provenance'",
				"one.json: /ttft_ms: got null, want number",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tt.files {
				path := filepath.Join(root, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			problems, err := ValidateTree(root)
			if err != nil {
				t.Fatalf("ValidateTree: %v", err)
			}
			var got []string
			for _, p := range problems {
				s := p.String()
				if !strings.HasPrefix(s, root+string(filepath.Separator)) {
					t.Errorf("problem file %q is not under root %q", p.File, root)
				}
				got = append(got, filepath.ToSlash(strings.TrimPrefix(s, root+string(filepath.Separator))))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestValidateTreeMissingRoot(t *testing.T) {
	if _, err := ValidateTree(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("ValidateTree on a missing root succeeded, want an error")
	}
}

func TestValidateTreeSingleFile(t *testing.T) {
	// A root that is a file is walked as a tree of one.
	path := filepath.Join(t.TempDir(), "cost.json")
	if err := os.WriteFile(path, []byte(`{"schema": "nope"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := ValidateTree(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].File != path {
		t.Fatalf("problems = %v, want one for %s", problems, path)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a/b.json", Pointer: "/x/0", Message: "bad"}, "a/b.json: /x/0: bad"},
		{Problem{File: "a/b.jsonl", Line: 7, Pointer: "/x", Message: "bad"}, "a/b.jsonl:7: /x: bad"},
		{Problem{File: "a/b.jsonl", Line: 7, Message: "missing property 'y'"}, "a/b.jsonl:7: missing property 'y'"},
		{Problem{File: "c.json", Message: "invalid JSON: EOF"}, "c.json: invalid JSON: EOF"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
