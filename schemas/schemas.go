// Package schemas embeds Forge's JSON Schemas (draft 2020-12) so that the forge
// binary can validate plans and result files without the repository checked
// out, and turns the validator's nested error tree into flat findings that a
// command line can print one per line.
//
// The *.schema.json files in this directory are the source of truth; other
// tools (editors, CI, Python notebooks) can use them directly. They refer to
// each other by "$id" (urn:forge:<name>), never by path, so the same files
// resolve identically from the embedded copy and from disk.
package schemas

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.schema.json
var files embed.FS

// Schema names: the value of the top-level "schema" field of every document
// Forge writes. The "/v1" suffix is bumped on incompatible changes so that old
// result trees stay readable by name.
const (
	Plan           = "forge.plan/v1"
	BenchRecord    = "forge.bench.record/v1"
	BenchSummary   = "forge.bench.summary/v1"
	EvalRun        = "forge.eval.run/v1"
	EvalRetention  = "forge.eval.retention/v1"
	QuantizeRecord = "forge.quantize.record/v1"
	CostReport     = "forge.cost.report/v1"
	Study          = "forge.study/v1"
	RunState       = "forge.run.state/v1"
	TextRecord     = "forge.text.record/v1"
)

// fileOf maps each schema name to the embedded file defining it. Files not
// listed here (common.schema.json) only hold shared definitions.
var fileOf = map[string]string{
	Plan:           "plan.schema.json",
	BenchRecord:    "bench-record.schema.json",
	BenchSummary:   "bench-summary.schema.json",
	EvalRun:        "eval-run.schema.json",
	EvalRetention:  "eval-retention.schema.json",
	QuantizeRecord: "quantize-record.schema.json",
	CostReport:     "cost-report.schema.json",
	Study:          "study.schema.json",
	RunState:       "run-state.schema.json",
	TextRecord:     "text-record.schema.json",
}

// Names returns every schema name a document may declare, sorted.
func Names() []string {
	names := make([]string, 0, len(fileOf))
	for n := range fileOf {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	failed   map[string]error // compile error per schema name
)

// compileAll compiles every named schema once. Each name is compiled
// separately so that one broken schema does not stop the others from
// validating; its error is reported whenever that name is used.
func compileAll() {
	compiled = map[string]*jsonschema.Schema{}
	failed = map[string]error{}

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat() // date-time and date are assertions, not annotations

	// Nothing outside the embedded files may be loaded: a reference that
	// does not resolve here must fail the same way on every machine.
	c.UseLoader(embeddedOnly{})

	ids := map[string]string{} // file name → URL it was added under
	var loadErrs []error
	entries, _ := files.ReadDir(".") // cannot fail: "." is the embed root
	for _, e := range entries {
		id, err := addResource(c, e.Name())
		if err != nil {
			loadErrs = append(loadErrs, err)
			continue
		}
		ids[e.Name()] = id
	}
	for name, file := range fileOf {
		id, ok := ids[file]
		if !ok {
			failed[name] = fmt.Errorf("schemas: %s: %s not loaded: %w", name, file, errors.Join(loadErrs...))
			continue
		}
		sch, err := c.Compile(id)
		if err != nil {
			failed[name] = fmt.Errorf("schemas: compile %s (%s): %w", name, file, err)
			continue
		}
		compiled[name] = sch
	}
}

// embeddedOnly is the compiler's loader of last resort: every embedded file
// is already a resource, so anything it is asked for is a dangling reference.
type embeddedOnly struct{}

func (embeddedOnly) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not an embedded schema", url)
}

// addResource parses one embedded file and registers it under its "$id", so
// that references such as "urn:forge:common#/$defs/stats" resolve without any
// file system or network access. A file without "$id" is registered as
// urn:forge:<file name without .schema.json>.
func addResource(c *jsonschema.Compiler, file string) (string, error) {
	data, err := files.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("schemas: read %s: %w", file, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("schemas: parse %s: %w", file, err)
	}
	id := "urn:forge:" + strings.TrimSuffix(file, ".schema.json")
	if obj, ok := doc.(map[string]any); ok {
		if s, ok := obj["$id"].(string); ok && s != "" {
			id = s
		}
	}
	if err := c.AddResource(id, doc); err != nil {
		return "", fmt.Errorf("schemas: add %s as %s: %w", file, id, err)
	}
	return id, nil
}

// Validate checks doc against the named schema. doc must be a decoded JSON
// value as jsonschema.UnmarshalJSON produces it (numbers as json.Number, so
// integers stay exact). It returns the findings, sorted by pointer then
// message, and nil when doc is valid. The error is reserved for an unknown
// name or a schema that does not compile: problems with the document itself
// are findings.
func Validate(name string, doc any) ([]Finding, error) {
	once.Do(compileAll)
	sch, ok := compiled[name]
	if !ok {
		if err, ok := failed[name]; ok {
			return nil, err
		}
		return nil, fmt.Errorf("schemas: unknown schema %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	err := sch.Validate(doc)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("schemas: validate %s: %w", name, err)
	}
	return flatten(ve), nil
}

// ValidateJSON parses data and validates it like Validate. Malformed JSON is
// an error, not a finding, because there is no document to point into.
func ValidateJSON(name string, data []byte) ([]Finding, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("schemas: parse JSON: %w", err)
	}
	return Validate(name, doc)
}
