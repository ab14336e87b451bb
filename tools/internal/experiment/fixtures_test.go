package experiment

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// fixtureNow makes staleness deterministic: catalog prices (2026-01-10) are
// fresh, the fixture's 2025-01-01 price is stale.
var fixtureNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var marker = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)

// expectations reads `# ERROR: <summary>` / `# WARNING: <summary>` markers
// into a "line" → ["SEVERITY: summary"] map.
func expectations(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if m := marker.FindStringSubmatch(sc.Text()); m != nil {
			key := fmt.Sprintf("%s:%d", filepath.Base(path), line)
			want[key] = append(want[key], m[1]+": "+m[2])
		}
	}
	return want
}

func actual(diags hcl.Diagnostics, file string) map[string][]string {
	got := map[string][]string{}
	for _, d := range diags {
		key := "(no location)"
		if d.Subject != nil {
			if filepath.Base(d.Subject.Filename) != file {
				key = d.Subject.Filename + fmt.Sprintf(":%d", d.Subject.Start.Line)
			} else {
				key = fmt.Sprintf("%s:%d", file, d.Subject.Start.Line)
			}
		}
		sev := "ERROR"
		if d.Severity == hcl.DiagWarning {
			sev = "WARNING"
		}
		got[key] = append(got[key], sev+": "+d.Summary)
	}
	return got
}

// TestDiagnosticsFixtures loads each fixture with the shared catalog and
// requires exactly the marked diagnostics, line by line.
func TestDiagnosticsFixtures(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/diagnostics/*.hcl")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, fx := range fixtures {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			_, diags := Load([]string{"testdata/catalog", fx}, Options{Now: fixtureNow})
			want := expectations(t, fx)
			got := actual(diags, filepath.Base(fx))
			keys := map[string]bool{}
			for k := range want {
				keys[k] = true
			}
			for k := range got {
				keys[k] = true
			}
			var ks []string
			for k := range keys {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				w, g := want[k], got[k]
				sort.Strings(w)
				sort.Strings(g)
				if strings.Join(w, " | ") != strings.Join(g, " | ") {
					t.Errorf("%s:\n  want %q\n  got  %q", k, w, g)
				}
			}
			if t.Failed() {
				for _, d := range diags {
					t.Logf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
				}
			}
		})
	}
}

// TestValidFixtures must load without any diagnostic.
func TestValidFixtures(t *testing.T) {
	fixtures, _ := filepath.Glob("testdata/valid/*.hcl")
	if len(fixtures) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, fx := range fixtures {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			cfg, diags := Load([]string{"testdata/catalog", fx}, Options{Now: fixtureNow})
			for _, d := range diags {
				t.Errorf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
			}
			if cfg == nil || len(cfg.Experiments) == 0 {
				t.Fatal("no experiment decoded")
			}
		})
	}
}

// TestCommittedExperiments keeps experiments/ free of errors.
func TestCommittedExperiments(t *testing.T) {
	cfg, diags := Load([]string{"../../../experiments"}, Options{})
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Errorf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
		}
	}
	for _, name := range []string{"twin", "llama31_8b_bf16_a5000", "llama31_8b_awq_a5000"} {
		if cfg.ExperimentByName(name) == nil {
			t.Errorf("experiment %q missing from experiments/", name)
		}
	}
}

// TestRootCauseFirst: for a syntax error or a block that does not decode,
// the errors printed begin with the cause, the `# ERROR:` markers of the
// fixture in line order, and no follow-on error is printed before it.
func TestRootCauseFirst(t *testing.T) {
	fixtures, _ := filepath.Glob("testdata/rootcause/*.hcl")
	if len(fixtures) == 0 {
		t.Fatal("no root-cause fixtures")
	}
	for _, fx := range fixtures {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			_, diags := Load([]string{"testdata/catalog", fx}, Options{Now: fixtureNow})
			SortDiagnostics(diags)
			var printed []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil {
					printed = append(printed, fmt.Sprintf("%s:%d: ERROR: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Summary))
				}
			}
			want := expectations(t, fx)
			var lines []string
			for k := range want {
				lines = append(lines, k)
			}
			sort.Slice(lines, func(i, j int) bool { return lineOf(lines[i]) < lineOf(lines[j]) })
			var markers []string
			for _, k := range lines {
				for _, m := range want[k] {
					markers = append(markers, k+": "+m)
				}
			}
			if len(printed) < len(markers) || strings.Join(printed[:len(markers)], "\n") != strings.Join(markers, "\n") {
				t.Errorf("errors printed:\n  %s\nwant them to begin with:\n  %s", strings.Join(printed, "\n  "), strings.Join(markers, "\n  "))
			}
		})
	}
}

func lineOf(key string) int {
	_, n, _ := strings.Cut(key, ":")
	var line int
	fmt.Sscan(n, &line)
	return line
}
