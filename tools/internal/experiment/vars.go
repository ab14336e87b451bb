package experiment

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"github.com/zclconf/go-cty/cty/gocty"
)

// functions is the explicit list of functions experiments may call. It is a
// closed list, as in Packer and Nomad, so that an experiment evaluates the
// same everywhere: nothing reads files, the clock or the environment.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "pow": stdlib.PowFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "length": stdlib.LengthFunc, "range": stdlib.RangeFunc,
		"reverse": stdlib.ReverseListFunc, "sort": stdlib.SortFunc,
		"format": stdlib.FormatFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc,
		"trimspace": stdlib.TrimSpaceFunc,
		"coalesce":  stdlib.CoalesceFunc, "merge": stdlib.MergeFunc, "keys": stdlib.KeysFunc,
		"values": stdlib.ValuesFunc, "lookup": stdlib.LookupFunc,
	}
}

// FunctionNames lists the callable functions, sorted (for docs and tests).
func FunctionNames() []string {
	var out []string
	for n := range functions() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func decodeVariables(blocks []*hcl.Block, overrides map[string]string, names nameTable, diags hcl.Diagnostics) (map[string]cty.Value, hcl.Diagnostics) {
	vals := map[string]cty.Value{}
	declared := map[string]bool{}
	for _, blk := range blocks {
		var v Variable
		if !decodeBlock(blk, nil, &v, &v.Name, &v.DefRange, names, &diags) {
			continue
		}
		declared[v.Name] = true
		if raw, ok := overrides[v.Name]; ok {
			vals[v.Name] = parseOverride(raw)
			continue
		}
		if v.Default == nil {
			diags = append(diags, missingDefault(&v))
			continue
		}
		val, d := v.Default.Value(nil)
		diags = append(diags, d...)
		if val.IsNull() {
			diags = append(diags, missingDefault(&v))
			continue
		}
		vals[v.Name] = val
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !declared[k] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("--var %s=… sets a variable no file declares.%s Declare it with variable %q { default = … }.",
					k, suggest(k, sortedKeys(declared)), k)})
		}
	}
	return vals, diags
}

func missingDefault(v *Variable) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Variable has no value",
		Detail:  fmt.Sprintf("Variable %q has no default; add default = … or pass --var %s=VALUE.", v.Name, v.Name),
		Subject: v.DefRange.Ptr()}
}

// parseOverride reads a --var value as an HCL expression (numbers, lists,
// booleans) and falls back to a plain string, so `--var gpu=rtx_a5000` works.
func parseOverride(raw string) cty.Value {
	expr, d := hclsyntax.ParseExpression([]byte(raw), "--var", hcl.InitialPos)
	if !d.HasErrors() {
		if v, d := expr.Value(nil); !d.HasErrors() {
			return v
		}
	}
	return cty.StringVal(raw)
}

// decodeLocals evaluates locals in dependency order; a local may use var and
// other locals. The order is a depth-first walk over each local's
// references, and each local is evaluated with only the locals it refers
// to in scope, so the work is linear in the locals and their references
// (20,000 locals validate in milliseconds). A cycle is reported once, by
// its path; locals that depend on one are not evaluated and not reported
// again, so the cause is what is printed.
func decodeLocals(blocks []*hcl.Block, vars map[string]cty.Value, diags hcl.Diagnostics) (map[string]cty.Value, hcl.Diagnostics) {
	attrs := map[string]*hcl.Attribute{}
	for _, blk := range blocks {
		as, d := blk.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedKeys(as) {
			a := as[name]
			if prev, ok := attrs[name]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate local %q", name),
					Detail: fmt.Sprintf("local.%s is already defined at %s; rename one of them.", name, prev.Range.String()), Subject: a.NameRange.Ptr()})
				continue
			}
			attrs[name] = a
		}
	}
	deps := func(a *hcl.Attribute) []string {
		var out []string
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if attr, ok := tr[1].(hcl.TraverseAttr); ok {
				if _, known := attrs[attr.Name]; known {
					out = append(out, attr.Name)
				}
			}
		}
		return out
	}
	const (
		unvisited = iota
		visiting
		visited
	)
	state := map[string]int{}
	broken := map[string]bool{} // in a cycle, or depending on one
	done := map[string]cty.Value{}
	var stack []string
	varsObj := objectOrEmpty(vars)
	var visit func(name string)
	visit = func(name string) {
		state[name] = visiting
		stack = append(stack, name)
		a := attrs[name]
		ds := deps(a)
		for _, d := range ds {
			switch state[d] {
			case visiting:
				i := slices.Index(stack, d)
				diags = append(diags, cycleDiagnostic(stack[i:], attrs[d]))
				for _, n := range stack[i:] {
					broken[n] = true
				}
			case unvisited:
				visit(d)
			}
			if broken[d] {
				broken[name] = true
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = visited
		if broken[name] {
			return
		}
		scope := map[string]cty.Value{}
		for _, d := range ds {
			scope[d] = done[d]
		}
		v, d := a.Expr.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"var": varsObj, "local": objectOrEmpty(scope)}, Functions: functions()})
		diags = append(diags, d...)
		done[name] = v
	}
	for _, name := range sortedKeys(attrs) {
		if state[name] == unvisited {
			visit(name)
		}
	}
	return done, diags
}

// cycleDiagnostic names a cycle once, by its path, shortened when long so
// that the message stays a line.
func cycleDiagnostic(cycle []string, first *hcl.Attribute) *hcl.Diagnostic {
	names := make([]string, 0, 9)
	for i, n := range cycle {
		if i == 6 && len(cycle) > 8 {
			names = append(names, fmt.Sprintf("… %d more", len(cycle)-7))
			n = cycle[len(cycle)-1]
		} else if i > 6 && len(cycle) > 8 {
			continue
		}
		names = append(names, "local."+n)
	}
	names = append(names, "local."+cycle[0])
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in locals",
		Detail:  fmt.Sprintf("%s: each depends on the next (%d locals). Break the cycle.", strings.Join(names, " → "), len(cycle)),
		Subject: first.Expr.Range().Ptr()}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objectVal turns a decoded catalog struct into a cty object of its
// attributes (and nested blocks), plus its name, so expressions such as
// hardware.rtx_a5000.vram_gib evaluate.
func objectVal(v any) cty.Value {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return cty.NullVal(cty.DynamicPseudoType)
		}
		rv = rv.Elem()
	}
	rt := rv.Type()
	attrs := map[string]cty.Value{}
	for i := 0; i < rt.NumField(); i++ {
		tag := rt.Field(i).Tag.Get("hcl")
		name, kind, _ := strings.Cut(tag, ",")
		if name == "" {
			continue
		}
		f := rv.Field(i)
		switch kind {
		case "label":
			attrs[name] = cty.StringVal(f.String())
		case "", "optional":
			if val, ok := scalarVal(f); ok {
				attrs[name] = val
			}
		case "block":
			if f.Kind() == reflect.Pointer && !f.IsNil() {
				attrs[name] = objectVal(f.Interface())
			}
		}
	}
	return cty.ObjectVal(attrs)
}

func scalarVal(f reflect.Value) (cty.Value, bool) {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return cty.NilVal, false
		}
		f = f.Elem()
	}
	switch f.Kind() {
	case reflect.String, reflect.Int, reflect.Int64, reflect.Float64, reflect.Bool:
		ty, err := gocty.ImpliedType(f.Interface())
		if err != nil {
			return cty.NilVal, false
		}
		val, err := gocty.ToCtyValue(f.Interface(), ty)
		return val, err == nil
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return cty.NilVal, false
		}
		val, err := gocty.ToCtyValue(f.Interface(), cty.List(cty.String))
		return val, err == nil
	}
	return cty.NilVal, false
}
