package experiment

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// catalogKinds are the roots an experiment may refer to.
var catalogKinds = []string{"hardware", "model", "dataset", "api"}

func (c *Config) catalogNames(kind string) []string {
	var out []string
	switch kind {
	case "hardware":
		for _, h := range c.Hardware {
			out = append(out, h.Name)
		}
	case "model":
		for _, m := range c.Models {
			out = append(out, m.Name)
		}
	case "dataset":
		for _, d := range c.Datasets {
			out = append(out, d.Name)
		}
	case "api":
		for _, a := range c.APIs {
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

// resolve turns the reference expressions of every experiment into pointers
// to catalog entries, reporting undeclared names with a suggestion.
func (c *Config) resolve(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range c.Experiments {
		for _, req := range []struct {
			kind string
			expr hcl.Expression
		}{{"hardware", e.Hardware}, {"model", e.Model}} {
			if isNullExpr(req.expr) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing " + req.kind,
					Detail:  fmt.Sprintf("experiment %q needs %s = %s.", e.Name, req.kind, fmt.Sprintf("%s.%s", req.kind, firstOr(c.catalogNames(req.kind), "<name>"))),
					Subject: e.DefRange.Ptr()})
			}
		}
		if name, d := c.ref(e.Hardware, "hardware", ctx); d != nil {
			diags = append(diags, d)
		} else if name != "" {
			e.HW = c.HardwareByName(name)
		}
		if name, d := c.ref(e.Model, "model", ctx); d != nil {
			diags = append(diags, d)
		} else if name != "" {
			e.M = c.ModelByName(name)
		}
		if r := e.Rehearsal; r != nil {
			if name, d := c.ref(r.Hardware, "hardware", ctx); d != nil {
				diags = append(diags, d)
			} else if name != "" {
				r.HW = c.HardwareByName(name)
			}
			if name, d := c.ref(r.Model, "model", ctx); d != nil {
				diags = append(diags, d)
			} else if name != "" {
				r.M = c.ModelByName(name)
			}
		}
		if w := e.Workload; w != nil && !isNullExpr(w.Dataset) {
			if name, d := c.ref(w.Dataset, "dataset", ctx); d != nil {
				diags = append(diags, d)
			} else if name != "" {
				w.DS = c.DatasetByName(name)
			}
		}
		if cost := e.Cost; cost != nil && cost.Compare != nil {
			diags = append(diags, c.resolveAPIs(cost, ctx)...)
		}
	}
	return diags
}

func (c *Config) resolveAPIs(cost *Cost, ctx *hcl.EvalContext) hcl.Diagnostics {
	if isNullExpr(cost.Compare) {
		return nil
	}
	exprs, d := hcl.ExprList(cost.Compare)
	if d.HasErrors() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid compare list",
			Detail:  "compare must be a list of API references, e.g. compare = [api.gpt_4o, api.claude_sonnet].",
			Subject: cost.Compare.Range().Ptr()}}
	}
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, x := range exprs {
		name, d := c.ref(x, "api", ctx)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		if seen[name] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate API in compare",
				Detail: fmt.Sprintf("api.%s is listed twice; list each API once.", name), Subject: x.Range().Ptr()})
			continue
		}
		seen[name] = true
		cost.APIs = append(cost.APIs, c.APIByName(name))
	}
	return diags
}

// ref resolves one reference. A plain traversal (hardware.x) is checked
// statically, which gives precise messages; any other expression is
// evaluated and must yield a catalog object of the right kind.
func (c *Config) ref(expr hcl.Expression, kind string, ctx *hcl.EvalContext) (string, *hcl.Diagnostic) {
	if isNullExpr(expr) {
		return "", nil
	}
	rng := expr.Range().Ptr()
	example := fmt.Sprintf("%s.%s", kind, firstOr(c.catalogNames(kind), "<name>"))
	if tr, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
		root := tr.RootName()
		if len(tr) != 2 {
			return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " reference",
				Detail: fmt.Sprintf("Refer to a %s as %s.", kind, example), Subject: rng}
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " reference",
				Detail: fmt.Sprintf("Refer to a %s as %s.", kind, example), Subject: rng}
		}
		if root != kind {
			detail := fmt.Sprintf("Expected a %s reference such as %s, got %s.%s.", kind, example, root, attr.Name)
			if !contains(catalogKinds, root) {
				detail += suggest(root, []string{kind})
			}
			return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Wrong kind of reference", Detail: detail, Subject: rng}
		}
		names := c.catalogNames(kind)
		if !contains(names, attr.Name) {
			return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Reference to undeclared %s", kind),
				Detail: fmt.Sprintf("No %s named %q is declared.%s Declared: %s.", kind, attr.Name,
					suggest(attr.Name, names), listOrNone(names)),
				Subject: rng}
		}
		return attr.Name, nil
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags[0]
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute("name") {
		return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " reference",
			Detail: fmt.Sprintf("This must refer to a declared %s, e.g. %s.", kind, example), Subject: rng}
	}
	name := v.GetAttr("name")
	if name.Type() != cty.String || !contains(c.catalogNames(kind), name.AsString()) {
		return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " reference",
			Detail: fmt.Sprintf("This evaluates to something that is not a declared %s; use %s.", kind, example), Subject: rng}
	}
	return name.AsString(), nil
}

// suggest returns ` Did you mean "x"?` for the closest name within a small
// edit distance, or "" when nothing is close.
func suggest(got string, names []string) string {
	best, bestDist := "", 1<<30
	for _, n := range names {
		d := levenshtein.Distance(got, n, nil)
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	limit := len(got)/3 + 1
	if best == "" || bestDist > limit && !strings.HasPrefix(best, got) && !strings.HasPrefix(got, best) {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstOr(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	return list[0]
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// HardwareByName returns the hardware entry or nil.
func (c *Config) HardwareByName(n string) *Hardware {
	for _, h := range c.Hardware {
		if h.Name == n {
			return h
		}
	}
	return nil
}

// ModelByName returns the model entry or nil.
func (c *Config) ModelByName(n string) *Model {
	for _, m := range c.Models {
		if m.Name == n {
			return m
		}
	}
	return nil
}

// DatasetByName returns the dataset entry or nil.
func (c *Config) DatasetByName(n string) *Dataset {
	for _, d := range c.Datasets {
		if d.Name == n {
			return d
		}
	}
	return nil
}

// APIByName returns the API entry or nil.
func (c *Config) APIByName(n string) *API {
	for _, a := range c.APIs {
		if a.Name == n {
			return a
		}
	}
	return nil
}

// ExperimentByName returns the experiment or nil.
func (c *Config) ExperimentByName(n string) *Experiment {
	for _, e := range c.Experiments {
		if e.Name == n {
			return e
		}
	}
	return nil
}

// ExperimentNames lists declared experiments, sorted.
func (c *Config) ExperimentNames() []string {
	var out []string
	for _, e := range c.Experiments {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}

// Suggest is suggest for other packages: ` Did you mean "x"?` or "".
func Suggest(got string, names []string) string { return suggest(got, names) }

// SuggestClause is Suggest as a clause to append after a message:
// "; did you mean …?", or "" when nothing is close.
func SuggestClause(got string, names []string) string {
	if s := suggest(got, names); s != "" {
		return "; " + strings.ToLower(strings.TrimSpace(s)[:1]) + strings.TrimSpace(s)[1:]
	}
	return ""
}
