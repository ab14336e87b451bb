package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The code map (README.md's "## Code map" section and docs/architecture.md)
// must name every package under tools/internal, and nothing that is gone.

const (
	internalDir  = "../internal"     // from tools/forge, the test's working directory
	readmePath   = "../../README.md" // its "## Code map" section only
	archPath     = "../../docs/architecture.md"
	codeMapTitle = "## Code map"
)

// pkgRef is a literal "tools/internal/<name>"; a path below it
// ("tools/internal/pipeline/run.go") names the package <name>.
var pkgRef = regexp.MustCompile(`tools/internal/([A-Za-z0-9_-]+)`)

// missing says what is wrong with mapText as a map of pkgs: every package
// it does not name, and every tools/internal/<name> it names that is not a
// package (a stale entry). Names must match exactly: "tools/internal/planner"
// does not name plan.
func missing(mapText string, pkgs []string) []string {
	named := map[string]bool{}
	for _, m := range pkgRef.FindAllStringSubmatch(mapText, -1) {
		named[m[1]] = true
	}
	exists := map[string]bool{}
	var out []string
	for _, p := range pkgs {
		exists[p] = true
		if !named[p] {
			out = append(out, "tools/internal/"+p+": not in the map")
		}
	}
	var stale []string
	for n := range named {
		if !exists[n] {
			stale = append(stale, "tools/internal/"+n+": in the map, but there is no such directory")
		}
	}
	sort.Strings(stale)
	return append(out, stale...)
}

// section is the text under the level-2 heading title, up to the next
// level-2 heading ("" when there is no such heading).
func section(text, title string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "## ") {
			if in {
				break
			}
			in = strings.TrimSpace(line) == title
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// internalPackages lists the directories under tools/internal, sorted.
func internalPackages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(internalDir)
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			pkgs = append(pkgs, e.Name())
		}
	}
	if len(pkgs) == 0 {
		t.Fatalf("no package directories under %s", internalDir)
	}
	return pkgs
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCodeMap(t *testing.T) {
	pkgs := internalPackages(t)
	readme := section(readText(t, readmePath), codeMapTitle)
	if readme == "" {
		t.Fatalf("%s has no %q section", filepath.Clean(readmePath), codeMapTitle)
	}
	maps := []struct{ name, text string }{
		{filepath.Clean(readmePath) + " (" + codeMapTitle + ")", readme},
		{filepath.Clean(archPath), readText(t, archPath)},
	}
	for _, m := range maps {
		for _, problem := range missing(m.text, pkgs) {
			t.Errorf("%s: %s", m.name, problem)
		}
	}
	for _, want := range []string{"tools/forge", "schemas/"} {
		if !strings.Contains(readme, want) {
			t.Errorf("%s (%s): %s is not in the map", filepath.Clean(readmePath), codeMapTitle, want)
		}
	}
}

func TestMissing(t *testing.T) {
	pkgs := []string{"bench", "plan"}
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"complete", "- `tools/internal/plan` — the plan\n- `tools/internal/bench` — the load generator (tools/internal/bench/sweep.go)\n", nil},
		{"missing package", "- `tools/internal/plan` — the plan\n", []string{"tools/internal/bench: not in the map"}},
		{"stale entry", "- `tools/internal/plan`\n- `tools/internal/bench`\n- `tools/internal/pin` — gone\n",
			[]string{"tools/internal/pin: in the map, but there is no such directory"}},
		{"prefix is not a match", "- `tools/internal/planner`\n- `tools/internal/bench`\n",
			[]string{"tools/internal/plan: not in the map", "tools/internal/planner: in the map, but there is no such directory"}},
	} {
		if got := missing(c.text, pkgs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: missing() = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSection(t *testing.T) {
	text := "# T\n## A\ntools/internal/x\n## Code map\n- tools/internal/plan\n\n## Read next\n- tools/internal/bench\n"
	if got, want := section(text, codeMapTitle), "- tools/internal/plan\n\n"; got != want {
		t.Errorf("section = %q, want %q", got, want)
	}
	if got := section(text, "## Nope"); got != "" {
		t.Errorf("section of an absent heading = %q, want empty", got)
	}
}
