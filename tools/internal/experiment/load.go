package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Config is everything declared across a set of HCL files.
type Config struct {
	Files       map[string]*hcl.File // for rendering diagnostics with source snippets
	Variables   map[string]cty.Value
	Locals      map[string]cty.Value
	Hardware    []*Hardware
	Models      []*Model
	Datasets    []*Dataset
	APIs        []*API
	Experiments []*Experiment
}

// Options tune loading. The zero value is ready to use.
type Options struct {
	Vars            map[string]string // --var name=value overrides (value parsed as HCL, else a string)
	Now             time.Time         // reference date for price staleness; zero means time.Now()
	PriceMaxAgeDays int               // older prices warn; zero means 180
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().UTC()
	}
	return o.Now
}

func (o Options) maxAge() int {
	if o.PriceMaxAgeDays <= 0 {
		return 180
	}
	return o.PriceMaxAgeDays
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "hardware", LabelNames: []string{"name"}},
	{Type: "model", LabelNames: []string{"name"}},
	{Type: "dataset", LabelNames: []string{"name"}},
	{Type: "api", LabelNames: []string{"name"}},
	{Type: "experiment", LabelNames: []string{"name"}},
}}

// Files expands paths (files or directories, searched recursively) into the
// sorted list of .hcl files they hold, so that load order never depends on the OS.
func Files(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (give an .hcl file or a directory of them)", p, err)
		}
		if !info.IsDir() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".hcl") && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Load parses and decodes the files, resolves every reference and runs every
// semantic check, accumulating all problems into one hcl.Diagnostics.
func Load(paths []string, opts Options) (*Config, hcl.Diagnostics) {
	files, err := Files(paths)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read experiments", Detail: err.Error()}}
	}
	if len(files) == 0 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No experiment files",
			Detail: fmt.Sprintf("No .hcl files under %s; give a file or a directory that holds experiments.", strings.Join(paths, ", "))}}
	}
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	var bodies []hcl.Body
	for _, f := range files {
		file, d := parser.ParseHCLFile(f)
		diags = append(diags, d...)
		if file != nil {
			bodies = append(bodies, file.Body)
		}
	}
	cfg := &Config{Files: parser.Files()}
	if diags.HasErrors() {
		return cfg, diags // syntax first: a partial body only gives follow-on errors
	}
	diags = append(diags, cfg.decode(bodies, opts)...)
	return cfg, diags
}

// LoadSource decodes in-memory sources (filename → text); used by tests and fuzzing.
func LoadSource(srcs map[string]string, opts Options) (*Config, hcl.Diagnostics) {
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	var bodies []hcl.Body
	for _, n := range names {
		file, d := parser.ParseHCL([]byte(srcs[n]), n)
		diags = append(diags, d...)
		if file != nil {
			bodies = append(bodies, file.Body)
		}
	}
	cfg := &Config{Files: parser.Files()}
	if diags.HasErrors() {
		return cfg, diags
	}
	diags = append(diags, cfg.decode(bodies, opts)...)
	return cfg, diags
}

// blocksByType splits the top-level blocks of all files, in file order.
func blocksByType(bodies []hcl.Body) (map[string][]*hcl.Block, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := map[string][]*hcl.Block{}
	for _, b := range bodies {
		content, d := b.Content(topSchema)
		diags = append(diags, d...)
		if content == nil {
			continue
		}
		for _, blk := range content.Blocks {
			out[blk.Type] = append(out[blk.Type], blk)
		}
	}
	return out, diags
}

func (c *Config) decode(bodies []hcl.Body, opts Options) hcl.Diagnostics {
	blocks, diags := blocksByType(bodies)
	names := newNameTable()

	// Phase 0: variables and locals.
	c.Variables, diags = decodeVariables(blocks["variable"], opts.Vars, names, diags)
	c.Locals, diags = decodeLocals(blocks["locals"], c.Variables, diags)
	base := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": objectOrEmpty(c.Variables), "local": objectOrEmpty(c.Locals)},
		Functions: functions(),
	}

	// Phase 1: the catalog, with only var and local in scope.
	for _, blk := range blocks["hardware"] {
		var v Hardware
		if decodeBlock(blk, base, &v, &v.Name, &v.DefRange, names, &diags) {
			c.Hardware = append(c.Hardware, &v)
		}
	}
	for _, blk := range blocks["model"] {
		var v Model
		if decodeBlock(blk, base, &v, &v.Name, &v.DefRange, names, &diags) {
			c.Models = append(c.Models, &v)
		}
	}
	for _, blk := range blocks["dataset"] {
		var v Dataset
		if decodeBlock(blk, base, &v, &v.Name, &v.DefRange, names, &diags) {
			c.Datasets = append(c.Datasets, &v)
		}
	}
	for _, blk := range blocks["api"] {
		var v API
		if decodeBlock(blk, base, &v, &v.Name, &v.DefRange, names, &diags) {
			c.APIs = append(c.APIs, &v)
		}
	}

	// Phase 2: experiments, with the catalog in scope.
	full := base.NewChild()
	full.Variables = map[string]cty.Value{
		"hardware": catalogObject(c.Hardware, func(h *Hardware) string { return h.Name }),
		"model":    catalogObject(c.Models, func(m *Model) string { return m.Name }),
		"dataset":  catalogObject(c.Datasets, func(d *Dataset) string { return d.Name }),
		"api":      catalogObject(c.APIs, func(a *API) string { return a.Name }),
	}
	var failed []hcl.Range // experiment blocks that did not decode cleanly
	for _, blk := range blocks["experiment"] {
		var v Experiment
		before := len(diags)
		if decodeBlock(blk, full, &v, &v.Name, &v.DefRange, names, &diags) {
			c.Experiments = append(c.Experiments, &v)
		}
		if diags[before:].HasErrors() {
			failed = append(failed, hcl.RangeBetween(blk.DefRange, blk.Body.MissingItemRange()))
		}
	}
	diags = append(diags, withoutCascades(c.resolve(full), diags, failed)...)
	diags = append(diags, withoutCascades(c.check(opts), diags, failed)...)
	return diags
}

// withoutCascades drops semantic diagnostics that follow from a decode
// error, so that the cause is what is printed: those about a value that
// already failed to decode (its zero value would only produce a second,
// misleading error on the same spot, e.g. "must be positive" after "number
// required"), and those about an experiment block that did not decode
// cleanly ("Missing engine" after "Duplicate engine block").
func withoutCascades(semantic, decode hcl.Diagnostics, failed []hcl.Range) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range semantic {
		cascade := false
		for _, e := range decode {
			if d.Subject != nil && e.Subject != nil && e.Severity == hcl.DiagError && d.Subject.Overlaps(*e.Subject) {
				cascade = true
				break
			}
		}
		for _, r := range failed {
			if d.Subject != nil && d.Severity == hcl.DiagError && r.Overlaps(*d.Subject) {
				cascade = true
			}
		}
		if !cascade {
			out = append(out, d)
		}
	}
	return out
}

// decodeBlock decodes one labelled top-level block, recording its name so
// that duplicates across files are reported with both locations.
func decodeBlock(blk *hcl.Block, ctx *hcl.EvalContext, target any, name *string, def *hcl.Range, names nameTable, diags *hcl.Diagnostics) bool {
	label := blk.Labels[0]
	if !hclsyntax.ValidIdentifier(label) {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid " + blk.Type + " name",
			Detail:  fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter, so it can be referred to as %s.<name>.", label, blk.Type),
			Subject: blk.LabelRanges[0].Ptr(),
		})
		return false
	}
	if len(label) > MaxNameLength {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Name too long",
			Detail:  fmt.Sprintf("%s names are at most %d characters (this one has %d): a name becomes a results directory, with suffixes, within the file system's 255 bytes.", blk.Type, MaxNameLength, len(label)),
			Subject: blk.LabelRanges[0].Ptr(),
		})
		return false
	}
	if d := names.add(blk.Type, label, blk.LabelRanges[0]); d != nil {
		*diags = append(*diags, d)
		return false
	}
	*diags = append(*diags, gohcl.DecodeBody(blk.Body, ctx, target)...)
	*name = label
	*def = blk.DefRange
	return true
}

// MaxNameLength bounds a block's name.
const MaxNameLength = 100

// nameTable remembers where each (kind, name) was first declared.
type nameTable map[string]hcl.Range

func newNameTable() nameTable { return nameTable{} }

func (t nameTable) add(kind, name string, rng hcl.Range) *hcl.Diagnostic {
	key := kind + "." + name
	if first, ok := t[key]; ok {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate %s %q", kind, name),
			Detail:  fmt.Sprintf("A %s named %q is already declared at %s. Names must be unique across all files; rename or remove one of them.", kind, name, first.String()),
			Subject: rng.Ptr(),
		}
	}
	t[key] = rng
	return nil
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// catalogObject exposes catalog entries to expressions as kind.name objects.
func catalogObject[T any](items []*T, name func(*T) string) cty.Value {
	m := map[string]cty.Value{}
	for _, it := range items {
		m[name(it)] = objectVal(it)
	}
	return objectOrEmpty(m)
}
