package observe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCheckFixtures runs Check on every dashboard under testdata/check.
// Each fixture lists what Check must find in its top-level "__expect" key
// (Decode ignores it): every entry is a substring of exactly one finding,
// and every finding is matched by one entry.
func TestCheckFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "check", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixtures the brief asks for must all be there.
	for _, want := range []string{"valid", "panel-other-uid", "target-other-uid", "undefined-variable", "builtins",
		"no-targets", "empty-expr", "duplicate-id", "duplicate-title", "gridpos-off-grid", "missing-cost-row",
		"rows-out-of-order", "collapsed-row-nested", "query-variable-no-datasource"} {
		if !slices.Contains(paths, filepath.Join("testdata", "check", want+".json")) {
			t.Errorf("fixture %s.json is missing", want)
		}
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Expect *[]string `json:"__expect"`
			}
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Expect == nil {
				t.Fatalf(`%s has no "__expect" key`, path)
			}
			d, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			got := Check(d, DatasourceUID)
			used := make([]bool, len(got))
			for _, want := range *meta.Expect {
				matched := -1
				for i, f := range got {
					if !used[i] && strings.Contains(f.String(), want) {
						matched = i
						break
					}
				}
				if matched < 0 {
					t.Errorf("no finding contains %q", want)
					continue
				}
				used[matched] = true
			}
			for i, f := range got {
				if !used[i] {
					t.Errorf("unexpected finding: %s", f)
				}
			}
		})
	}
}

// TestDecodeMalformed: malformed JSON is an error, unknown keys are not.
func TestDecodeMalformed(t *testing.T) {
	for _, c := range []struct {
		in      string
		wantErr bool
	}{
		{`{"uid": "a", "title": "b", "grafanaAddsThis": {"x": 1}}`, false},
		{`{"uid": "a", "title": }`, true},
		{`{"panels": "not a list"}`, true},
		{``, true},
		{`{"uid": "a", "title": "b"} junk`, true},
		{`{"uid": "a", "title": "b"} {}`, true},
	} {
		d, err := Decode([]byte(c.in))
		if (err != nil) != c.wantErr {
			t.Errorf("Decode(%q): error %v, want error = %v", c.in, err, c.wantErr)
		}
		if err == nil && (d.UID != "a" || d.Title != "b") {
			t.Errorf("Decode(%q) = uid %q title %q", c.in, d.UID, d.Title)
		}
	}
}

func TestVariables(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{"up", nil},
		{"$a", []string{"a"}},
		{"${a}", []string{"a"}},
		{"${a:regex}", []string{"a"}},
		{"[[a]]", []string{"a"}},
		{"$a_b1", []string{"a_b1"}},
		{"$b + ${a} + [[b]] + ${a:csv} + $a", []string{"a", "b"}},
		{`rate(x{m=~"$model"}[$__rate_interval])`, []string{"__rate_interval", "model"}},
		{"rate(x[[[__interval]]])", []string{"__interval"}},
		{"cost_usd", nil},
	} {
		got := Variables(c.expr)
		if !slices.Equal(got, c.want) {
			t.Errorf("Variables(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestExpand(t *testing.T) {
	vals := map[string]string{"a": "x", "b": "y.z", "__rate_interval": "1m"}
	for _, c := range []struct {
		expr, want string
		missing    []string // names the error must mention; nil: no error
	}{
		{"$a", "x", nil},
		{"${a}", "x", nil},
		{"${a:regex}", "x", nil},
		{"[[a]]", "x", nil},
		{"$a-$a-${a}", "x-x-x", nil},
		{`sum(rate(m{l=~"$b"}[$__rate_interval]))`, `sum(rate(m{l=~"y.z"}[1m]))`, nil},
		{"no variables", "no variables", nil},
		{"$c", "", []string{"$c"}},
		{"$ab + $a", "", []string{"$ab"}},
		{"${c} + [[d]] + $a", "", []string{"$c", "$d"}},
	} {
		got, err := Expand(c.expr, vals)
		if c.missing == nil {
			if err != nil || got != c.want {
				t.Errorf("Expand(%q) = %q, %v; want %q", c.expr, got, err, c.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("Expand(%q) = %q, want an error naming %q", c.expr, got, c.missing)
			continue
		}
		for _, m := range c.missing {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("Expand(%q): error %q does not name %s", c.expr, err, m)
			}
		}
		if strings.Contains(err.Error(), "$a,") || strings.HasSuffix(err.Error(), "$a") {
			t.Errorf("Expand(%q): error %q names $a, which has a value", c.expr, err)
		}
	}
}

func TestValues(t *testing.T) {
	d := Dashboard{Templating: Templating{List: []Variable{
		{Name: "model", Type: "query", Current: Current{"m1", "m1"}},
		{Name: "price", Type: "constant", Query: "0.5"}, // no current: the query is the value
		{Name: "budget", Type: "constant", Query: "9", Current: Current{"10", "10"}},
	}}}
	for _, c := range []struct {
		name      string
		overrides map[string]string
		want      map[string]string
	}{
		{"current values", nil, map[string]string{"model": "m1", "price": "0.5", "budget": "10"}},
		{"overrides win", map[string]string{"model": "m2", "__rate_interval": "20s"},
			map[string]string{"model": "m2", "price": "0.5", "budget": "10", "__rate_interval": "20s"}},
	} {
		got := Values(d, c.overrides)
		if len(got) != len(c.want) {
			t.Errorf("%s: Values = %v, want %v", c.name, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: Values[%s] = %q, want %q", c.name, k, got[k], v)
			}
		}
	}
}

// TestQueries lists nested targets too, in dashboard order.
func TestQueries(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "check", "collapsed-row-nested.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range Queries(d) {
		got = append(got, q.Panel+"/"+q.RefID+": "+q.Expr)
	}
	want := []string{
		`Running/A: sum(vllm:num_requests_running{model_name=~"$model"})`,
		`Tokens/A: sum(rate(vllm:generation_tokens_total{model_name=~"$model"}[5m]))`,
		`Price/A: vector($budget)`,
		`Budget/A: vector($price)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Queries =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDashboardUID: the uid is forge-EXPERIMENT while it fits Grafana's
// limit; longer names are cut and told apart by a hash, and Check flags a
// uid over the limit.
func TestDashboardUID(t *testing.T) {
	long1 := strings.Repeat("llama31_8b_awq_", 4) + "a5000"
	long2 := strings.Repeat("llama31_8b_awq_", 4) + "l4"
	for _, c := range []struct{ name, want string }{
		{"twin", "forge-twin"},
		{strings.Repeat("x", MaxUID-len("forge-")), "forge-" + strings.Repeat("x", MaxUID-len("forge-"))},
	} {
		if got := DashboardUID(c.name); got != c.want {
			t.Errorf("DashboardUID(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	u1, u2 := DashboardUID(long1), DashboardUID(long2)
	if len(u1) != MaxUID || len(u2) != MaxUID || u1 == u2 || !strings.HasPrefix(u1, "forge-llama31") {
		t.Errorf("long names give %q and %q; want two distinct %d-character uids starting forge-llama31", u1, u2, MaxUID)
	}
	d := Dashboard{UID: "forge-" + long1, Title: "t"}
	found := false
	for _, f := range Check(d, DatasourceUID) {
		found = found || strings.Contains(f.What, "longer than Grafana's 40 characters")
	}
	if !found {
		t.Errorf("Check does not flag the %d-character uid %q", len(d.UID), d.UID)
	}
}
