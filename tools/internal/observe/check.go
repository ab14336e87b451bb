package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Finding is one problem of a dashboard, located by panel.
type Finding struct {
	Where string // "dashboard", "variable model", "panel 7 \"Preemptions\"", …
	What  string
}

func (f Finding) String() string { return f.Where + ": " + f.What }

// RequiredRows are the rows every Forge dashboard has, in this order.
var RequiredRows = []string{"System", "Business", "Cost"}

// builtins are Grafana's global variables a query may use unset.
var builtins = map[string]bool{"__rate_interval": true, "__interval": true, "__interval_ms": true, "__range": true,
	"__range_s": true, "__range_ms": true, "__from": true, "__to": true, "__dashboard": true}

// varRef matches Grafana's variable syntaxes: $name, ${name}, ${name:fmt}, [[name]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// Query is one target of one panel.
type Query struct {
	PanelID int
	Panel   string
	RefID   string
	Expr    string
}

// MaxUID is the longest dashboard uid Grafana accepts.
const MaxUID = 40

// Decode reads a dashboard JSON file strictly: an unknown key is not an
// error (Grafana adds many), but malformed JSON is.
func Decode(b []byte) (Dashboard, error) {
	var d Dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("not a dashboard JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return d, fmt.Errorf("not a dashboard JSON: more after the dashboard object")
	}
	return d, nil
}

// Check finds what would make the dashboard wrong in Grafana: panels or
// targets on another datasource than uid, variables used but not defined,
// panels without a query, duplicate ids or titles, panels off the grid,
// and missing rows. It returns every finding, in dashboard order.
func Check(d Dashboard, uid string) []Finding {
	var out []Finding
	add := func(where, format string, args ...any) {
		out = append(out, Finding{where, fmt.Sprintf(format, args...)})
	}
	if d.UID == "" || d.Title == "" {
		add("dashboard", "uid and title must be set")
	}
	if len(d.UID) > MaxUID {
		add("dashboard", "uid %q is longer than Grafana's %d characters", d.UID, MaxUID)
	}
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		where := "variable " + v.Name
		if v.Name == "" {
			add("variable", "a templating variable has no name")
			continue
		}
		if defined[v.Name] {
			add(where, "defined twice")
		}
		defined[v.Name] = true
		switch v.Type {
		case "query":
			if v.Datasource == nil || v.Datasource.UID != uid {
				add(where, "query variable must use datasource uid %q, has %s", uid, dsString(v.Datasource))
			}
			if strings.TrimSpace(v.Query) == "" {
				add(where, "query variable has an empty query")
			}
		case "constant", "custom", "interval", "textbox":
			if v.Query == "" {
				add(where, "%s variable has no value", v.Type)
			}
		case "datasource":
		default:
			add(where, "unknown variable type %q", v.Type)
		}
	}
	ids, titles := map[int]bool{}, map[string]bool{}
	var rows []string
	for _, p := range flatten(d.Panels) {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] {
			add(where, "panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" {
			add(where, "panel has no title")
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			add(where, "gridPos %+v is off Grafana's 24-column grid", p.GridPos)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		if titles[p.Title] {
			add(where, "title used twice")
		}
		titles[p.Title] = true
		if p.Datasource == nil || p.Datasource.UID != uid {
			add(where, "panel must use datasource uid %q, has %s", uid, dsString(p.Datasource))
		}
		if len(p.Targets) == 0 {
			add(where, "panel has no query")
		}
		refs := map[string]bool{}
		for _, t := range p.Targets {
			tw := where + " target " + t.RefID
			if t.RefID == "" || refs[t.RefID] {
				add(tw, "refId must be set and unique within the panel")
			}
			refs[t.RefID] = true
			if t.Datasource != nil && t.Datasource.UID != uid {
				add(tw, "target uses datasource %s, not uid %q", dsString(t.Datasource), uid)
			}
			if strings.TrimSpace(t.Expr) == "" {
				add(tw, "empty query")
			}
			for _, name := range Variables(t.Expr) {
				if !defined[name] && !builtins[name] {
					add(tw, "uses $%s, which no templating variable defines", name)
				}
			}
		}
	}
	if !hasInOrder(rows, RequiredRows) {
		add("dashboard", "rows are %q; want %q in that order", rows, RequiredRows)
	}
	return out
}

// flatten lists top-level panels and those nested in collapsed rows.
func flatten(ps []GPanel) []GPanel {
	var out []GPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

func hasInOrder(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func dsString(d *Datasource) string {
	if d == nil {
		return "none"
	}
	return fmt.Sprintf("%s/%q", d.Type, d.UID)
}

// Variables lists the variable names an expression uses, sorted, once each.
func Variables(expr string) []string {
	seen := map[string]bool{}
	for _, m := range varRef.FindAllStringSubmatch(expr, -1) {
		seen[m[1]+m[2]+m[3]] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Queries lists every target of every panel, in dashboard order.
func Queries(d Dashboard) []Query {
	var out []Query
	for _, p := range flatten(d.Panels) {
		for _, t := range p.Targets {
			out = append(out, Query{PanelID: p.ID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
		}
	}
	return out
}

// Values are what the variables of a dashboard stand for when its queries
// run outside Grafana: each variable's current value, then the given
// overrides (the builtins, e.g. __rate_interval).
func Values(d Dashboard, overrides map[string]string) map[string]string {
	vals := map[string]string{}
	for _, v := range d.Templating.List {
		vals[v.Name] = v.Current.Value
		if v.Type == "constant" && v.Current.Value == "" {
			vals[v.Name] = v.Query
		}
	}
	for k, v := range overrides {
		vals[k] = v
	}
	return vals
}

// Expand substitutes variables in a query as Grafana would; a variable
// with no value is an error naming it.
func Expand(expr string, vals map[string]string) (string, error) {
	var missing []string
	s := varRef.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		v, ok := vals[name]
		if !ok {
			missing = append(missing, "$"+name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return s, fmt.Errorf("no value for %s", strings.Join(missing, ", "))
	}
	return s, nil
}
