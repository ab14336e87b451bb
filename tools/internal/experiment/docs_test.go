package experiment

import (
	"bufio"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// decoderAttributes walks the gohcl tags of the block structs and returns
// block path → attribute names the decoder accepts, e.g.
// "experiment.engine" → [max_model_len, …].
func decoderAttributes() map[string][]string {
	out := map[string][]string{}
	var walk func(path string, t reflect.Type)
	walk = func(path string, t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		out[path] = []string{}
		for i := 0; i < t.NumField(); i++ {
			name, kind, _ := strings.Cut(t.Field(i).Tag.Get("hcl"), ",")
			switch {
			case name == "":
			case kind == "" || kind == "optional":
				out[path] = append(out[path], name)
			case kind == "block":
				walk(path+"."+name, t.Field(i).Type)
			}
		}
		sort.Strings(out[path])
	}
	for _, b := range []struct {
		name string
		v    any
	}{{"variable", Variable{}}, {"hardware", Hardware{}}, {"model", Model{}}, {"dataset", Dataset{}}, {"api", API{}}, {"experiment", Experiment{}}} {
		walk(b.name, reflect.TypeOf(b.v))
	}
	return out
}

var (
	sectionRe = regexp.MustCompile("^#+ .*`([a-z_.]+)`")
	rowRe     = regexp.MustCompile("^\\| `([a-z0-9_]+)`")
)

// documented reads docs/experiments.md: a heading naming a block path in
// backticks opens its section; table rows starting with a backticked name
// are the attributes documented for it.
func documented(t *testing.T) (map[string][]string, string) {
	t.Helper()
	f, err := os.Open("../../../docs/experiments.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	var all strings.Builder
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		if strings.HasPrefix(line, "#") {
			section = ""
			if m := sectionRe.FindStringSubmatch(line); m != nil {
				section = m[1]
				out[section] = []string{}
			}
			continue
		}
		if m := rowRe.FindStringSubmatch(line); m != nil && section != "" {
			out[section] = append(out[section], m[1])
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, all.String()
}

// TestDocsCoverDecoder fails when docs/experiments.md omits a block or an
// attribute the decoder accepts, or documents one it does not.
func TestDocsCoverDecoder(t *testing.T) {
	want := decoderAttributes()
	got, text := documented(t)
	for path, attrs := range want {
		doc, ok := got[path]
		if !ok {
			t.Errorf("docs/experiments.md has no section for block `%s`", path)
			continue
		}
		if strings.Join(doc, ",") != strings.Join(attrs, ",") {
			t.Errorf("block `%s`: docs list %v, decoder accepts %v", path, doc, attrs)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok && path != "locals" {
			t.Errorf("docs/experiments.md documents block `%s`, which the decoder does not accept", path)
		}
	}
	for _, fn := range FunctionNames() {
		if !strings.Contains(text, "`"+fn+"`") {
			t.Errorf("docs/experiments.md does not list function `%s`", fn)
		}
	}
}
