package schemas

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// dirs maps each testdata directory to the schema its documents must match.
// The plan schema is tested with the plan package that owns it.
var dirs = map[string]string{
	"bench-record":  BenchRecord,
	"bench-summary": BenchSummary,
	"eval-run":      EvalRun,
	"cost-report":   CostReport,
	"study":         Study,
	"run-state":     RunState,
	"text-record":   TextRecord,
}

// want is what an invalid document must produce: some finding at exactly
// pointer whose message contains message. The expectation lives here rather
// than in the file because additionalProperties: false forbids a "$comment".
type want struct{ pointer, message string }

var invalid = map[string]want{
	"text-record/no_tokenizers.json":         {"/tokenizers", "minItems"},
	"text-record/negative_chars.json":        {"/prompt_chars", "minimum"},
	"text-record/tokenizer_no_source.json":   {"/tokenizers/1", "missing property 'source'"},
	"bench-record/bad_level_kind.json":       {"/level/kind", "one of"},
	"bench-record/bad_token_source.json":     {"/token_source", "one of"},
	"bench-record/error_without_reason.json": {"", "missing property 'error'"},
	"bench-record/fractional_index.json":     {"/request_index", "want integer"},
	"bench-record/itl_not_number.json":       {"/itl_ms/2", "want number"},
	"bench-record/late_closed_loop.json":     {"/late", "must be false"},
	"bench-record/negative_queue_wait.json":  {"/queue_wait_ms", "minimum"},
	"bench-record/ok_without_tpot.json":      {"/tpot_ms", "want number"},
	"bench-record/ok_without_ttft.json":      {"/ttft_ms", "want number"},
	"bench-record/tpot_single_token.json":    {"/tpot_ms", "want null"},
	"bench-record/unknown_field.json":        {"", "'latency_ms' not allowed"},
	"bench-record/wrong_schema_name.json":    {"/schema", "forge.bench.record/v1"},

	"bench-summary/bad_dataset_sha.json":             {"/provenance/dataset_sha256", "pattern"},
	"bench-summary/bad_slo_key.json":                 {"/goodput/slo", "'ttft'"},
	"bench-summary/bad_started_at.json":              {"/started_at", "date-time"},
	"bench-summary/branch_revision.json":             {"/provenance/model_revision", "'main'"},
	"bench-summary/missing_provenance.json":          {"", "missing property 'provenance'"},
	"bench-summary/negative_counter.json":            {"/server/counters/vllm:prompt_tokens_total", "minimum"},
	"bench-summary/predict_source_not_flagged.json":  {"/predicted", "must be true"},
	"bench-summary/predicted_but_measured.json":      {"/source", "'predict'"},
	"bench-summary/stats_null_with_samples.json":     {"/ttft_ms/p99", "want number"},
	"bench-summary/stats_string.json":                {"/itl_ms/p999", "got string"},
	"bench-summary/stats_value_without_samples.json": {"/e2el_ms/mean", "want null"},

	"cost-report/bad_cheaper.json":                 {"/apis/0/cheaper", "one of"},
	"cost-report/goodput_level_without_index.json": {"/goodput/level", "missing property 'index'"},
	"cost-report/input_share_above_one.json":       {"/levels/1/input_share", "maximum"},
	"cost-report/negative_power_price.json":        {"/owned/usd_per_kwh", "minimum"},
	"cost-report/percent_utilization_key.json":     {"/levels/0/usd_per_1m_output_tokens", "'100%'"},
	"cost-report/price_without_source.json":        {"/price", "missing property 'source'"},
	"cost-report/undated_price.json":               {"/price/observed", "not valid date"},
	"cost-report/utilization_above_one.json":       {"/headline/utilization", "maximum"},
	"cost-report/zero_gpus.json":                   {"/gpu/count", "minimum"},
	"cost-report/score_as_permille.json":           {"/apis/0/scores/0/percent", "maximum"},

	"study/no_runs.json":     {"/runs", "minItems"},
	"study/empty_path.json":  {"/runs/0", "minLength"},
	"study/extra_field.json": {"", "'title' not allowed"},

	"run-state/unknown_state.json":        {"/state", "one of"},
	"run-state/zero_time_scale.json":      {"/time_scale", "exclusiveMinimum"},
	"run-state/level_without_counts.json": {"/levels/0", "missing properties"},

	"eval-run/bad_month.json":       {"/started_at", "month out of range"},
	"eval-run/branch_revision.json": {"/model/revision", "pattern"},
	"eval-run/no_tasks.json":        {"/tasks", "minItems"},
	"eval-run/other_harness.json":   {"/harness/name", "'lm-eval'"},
	"eval-run/stderr_string.json":   {"/tasks/0/stderr", "got string"},
	"eval-run/task_without_n.json":  {"/tasks/1", "missing property 'n'"},
	"eval-run/zero_limit.json":      {"/tasks/1/limit", "minimum"},
}

func TestTestdata(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		name := dirs[dir]
		for _, class := range []string{"valid", "invalid"} {
			paths, err := filepath.Glob(filepath.Join("testdata", dir, class, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			if least := map[string]int{"valid": 2, "invalid": 3}[class]; len(paths) < least {
				t.Errorf("testdata/%s/%s: %d files, want at least %d", dir, class, len(paths), least)
			}
			for _, path := range paths {
				key := dir + "/" + filepath.Base(path)
				t.Run(class+"/"+key, func(t *testing.T) {
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					got, err := ValidateJSON(name, data)
					if err != nil {
						t.Fatalf("ValidateJSON: %v", err)
					}
					if class == "valid" {
						if len(got) != 0 {
							t.Errorf("valid document has findings:\n%s", render(got))
						}
						return
					}
					seen[key] = true
					w, ok := invalid[key]
					if !ok {
						t.Fatalf("no expectation for %s in the invalid table; findings:\n%s", key, render(got))
					}
					if !slices.ContainsFunc(got, func(f Finding) bool {
						return f.Pointer == w.pointer && strings.Contains(f.Message, w.message)
					}) {
						t.Errorf("want a finding at %q containing %q; got:\n%s", w.pointer, w.message, render(got))
					}
				})
			}
		}
	}
	for key := range invalid {
		if !seen[key] {
			t.Errorf("invalid table names %s, which is not in testdata", key)
		}
	}
}

func render(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Pointer + ": " + f.Message + "\n")
	}
	return b.String()
}

func TestNames(t *testing.T) {
	got := Names()
	want := []string{BenchRecord, BenchSummary, CostReport, EvalRetention, EvalRun, Plan, QuantizeRecord, RunState, Study, TextRecord}
	if !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

// TestCompile makes sure every named schema compiles, and that each file
// declares the name it is registered under, so a document's "schema" field
// and the schema checking it can never disagree.
func TestCompile(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			if _, err := Validate(name, map[string]any{}); err != nil {
				t.Fatalf("compile: %v", err)
			}
			data, err := files.ReadFile(fileOf[name])
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Schema     string `json:"$schema"`
				ID         string `json:"$id"`
				Properties struct {
					Schema struct {
						Const string `json:"const"`
					} `json:"schema"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatal(err)
			}
			if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema = %q, want draft 2020-12", s.Schema)
			}
			if wantID := "urn:forge:" + strings.TrimSuffix(fileOf[name], ".schema.json"); s.ID != wantID {
				t.Errorf("$id = %q, want %q", s.ID, wantID)
			}
			if s.Properties.Schema.Const != name {
				t.Errorf("properties.schema.const = %q, want %q", s.Properties.Schema.Const, name)
			}
		})
	}
}

func TestUnknownName(t *testing.T) {
	for _, name := range []string{"", "forge.bench.record/v2", "bench-record.schema.json"} {
		if _, err := Validate(name, map[string]any{}); err == nil {
			t.Errorf("Validate(%q) succeeded, want an unknown-schema error", name)
		}
	}
}

func TestValidateJSONSyntaxError(t *testing.T) {
	for _, in := range []string{"", "{", `{"schema": "forge.plan/v1"} {}`, "nul"} {
		if _, err := ValidateJSON(Plan, []byte(in)); err == nil {
			t.Errorf("ValidateJSON(%q) succeeded, want a parse error", in)
		}
	}
}

// TestFindings pins the shape of findings: RFC 6901 escaping, leaves only,
// stable order, and no type-mismatch noise from the unchosen anyOf branch.
func TestFindings(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []Finding
	}{
		{
			name: "escaped pointer",
			doc:  `{"failures_by_reason": {"http/5~3": -1}}`,
			want: []Finding{{"/failures_by_reason/http~15~03", "minimum: got -1, want 0"}},
		},
		{
			name: "sorted additional properties",
			doc:  `{"zeta": 1, "alpha": 2, "mid": 3}`,
			want: []Finding{{"", "additional properties 'alpha', 'mid', 'zeta' not allowed"}},
		},
		{
			name: "pattern-keyed map",
			doc:  `{"goodput": {"request_rate": null, "slo": {"ttft": 1, "tpot_ms": -1}}}`,
			want: []Finding{
				{"/goodput/slo", "additional properties 'ttft' not allowed"},
				{"/goodput/slo/tpot_ms", "minimum: got -1, want 0"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateJSON(BenchSummary, []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			// Drop the root "missing properties" finding these partial docs cause.
			got = slices.DeleteFunc(got, func(f Finding) bool {
				return f.Pointer == "" && strings.HasPrefix(f.Message, "missing properties")
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%swant:\n%s", render(got), render(tt.want))
			}
		})
	}

	// A bad level object under "null or level" reports only the object's fault.
	got, err := ValidateJSON(CostReport, []byte(`{"goodput": {"level": {"kind": "rate", "value": 1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if f.Pointer == "/goodput/level" && strings.Contains(f.Message, "want null") {
			t.Errorf("unexpected finding from the null branch: %v", f)
		}
	}
}

func TestValidAfterDecode(t *testing.T) {
	// Validate must accept what encoding/json produces too (float64 numbers),
	// since callers may hold a document decoded without UseNumber.
	data, err := os.ReadFile(filepath.Join("testdata", "bench-record", "valid", "ok_closed_loop.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	got, err := Validate(BenchRecord, doc)
	if err != nil || len(got) != 0 {
		t.Fatalf("Validate = %v, %v; want no findings", got, err)
	}
}

// TestFlattenTree checks flatten on hand-built error trees, for error kinds
// our own schemas avoid but another schema might use.
func TestFlattenTree(t *testing.T) {
	leaf := func(loc []string, k jsonschema.ErrorKind) *jsonschema.ValidationError {
		return &jsonschema.ValidationError{InstanceLocation: loc, ErrorKind: k}
	}
	node := func(loc []string, k jsonschema.ErrorKind, causes ...*jsonschema.ValidationError) *jsonschema.ValidationError {
		return &jsonschema.ValidationError{InstanceLocation: loc, ErrorKind: k, Causes: causes}
	}
	tests := []struct {
		name string
		tree *jsonschema.ValidationError
		want []Finding
	}{
		{
			name: "propertyNames keeps the object's pointer",
			tree: node(nil, &kind.Schema{Location: "urn:x"},
				node([]string{"a", "b/c"}, &kind.PropertyNames{Property: "X"},
					node(nil, &kind.Schema{Location: "urn:x"}, leaf(nil, &kind.Pattern{Got: "X", Want: "^[a-z]+$"})))),
			want: []Finding{{"/a/b~1c", "invalid propertyName 'X': 'X' does not match pattern '^[a-z]+$'"}},
		},
		{
			name: "anyOf keeps every branch when all fail on type",
			tree: node([]string{"v"}, &kind.AnyOf{},
				leaf([]string{"v"}, &kind.Type{Got: "string", Want: []string{"null"}}),
				leaf([]string{"v"}, &kind.Type{Got: "string", Want: []string{"object"}})),
			want: []Finding{{"/v", "got string, want null"}, {"/v", "got string, want object"}},
		},
		{
			name: "oneOf drops type-only branches",
			tree: node([]string{"v"}, &kind.OneOf{},
				leaf([]string{"v"}, &kind.Type{Got: "object", Want: []string{"null"}}),
				node([]string{"v"}, &kind.Reference{URL: "urn:x"}, leaf([]string{"v"}, &kind.Required{Missing: []string{"k"}}))),
			want: []Finding{{"/v", "missing property 'k'"}},
		},
		{
			name: "duplicates collapse, order is by pointer then message",
			tree: node(nil, &kind.AllOf{},
				leaf([]string{"b"}, &kind.Const{Got: 1, Want: 2}),
				leaf([]string{"a"}, &kind.Const{Got: 1, Want: 2}),
				leaf([]string{"b"}, &kind.Const{Got: 1, Want: 2}),
				leaf(nil, &kind.Required{Missing: []string{"z"}})),
			want: []Finding{{"", "missing property 'z'"}, {"/a", "value must be 2"}, {"/b", "value must be 2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flatten(tt.tree); !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%swant:\n%s", render(got), render(tt.want))
			}
		})
	}
}

// TestAvoidedKeywords keeps out keywords whose error locations jsonschema
// v6.0.3 gets wrong (santhosh-tekuri/jsonschema#258, #269): a finding that
// points at the wrong value is worse than none.
func TestAvoidedKeywords(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, kw := range []string{`"propertyNames"`, `"contentSchema"`} {
			if strings.Contains(string(data), kw) {
				t.Errorf("%s uses %s; use patternProperties with additionalProperties: false instead", e.Name(), kw)
			}
		}
	}
}

// TestHouseRules checks the conventions of the schemas this package owns
// (plan.schema.json belongs to the plan package): every declared property
// is described, and every object with declared properties says whether
// others are allowed. Conditional branches (if/then/else/not) only refine
// properties declared elsewhere and are skipped.
func TestHouseRules(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == fileOf[Plan] {
			continue
		}
		data, err := files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(v any, at string)
		walk = func(v any, at string) {
			switch v := v.(type) {
			case []any:
				for i, x := range v {
					walk(x, at+"/"+strconv.Itoa(i))
				}
			case map[string]any:
				if props, ok := v["properties"].(map[string]any); ok {
					if _, ok := v["additionalProperties"]; !ok {
						t.Errorf("%s#%s: properties without additionalProperties", e.Name(), at)
					}
					for name, p := range props {
						if d, _ := p.(map[string]any)["description"].(string); d == "" {
							t.Errorf("%s#%s/properties/%s: no description", e.Name(), at, name)
						}
					}
				}
				for k, x := range v {
					switch k {
					case "if", "then", "else", "not":
						continue
					}
					walk(x, at+"/"+k)
				}
			}
		}
		walk(doc, "")
	}
}
