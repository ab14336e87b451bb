package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/observe"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/observability.md's generated panel reference")

// TestObservabilityDoc keeps docs/observability.md's panel reference equal
// to the panels of the reference experiment's dashboard, every optional
// panel shown: a GPU exporter, and prefix caching on.
func TestObservabilityDoc(t *testing.T) {
	p, err := loadPlan(Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}, "../../../experiments", "llama31_8b_awq_a5000", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Engine.EnablePrefixCaching = true
	o := observe.DefaultOptions()
	o.GPUExporter = "127.0.0.1:9400"
	want := observe.Markdown(observe.Rows(p, o))
	path := "../../../docs/observability.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, "<!-- panels:begin"), strings.Index(doc, observe.DocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: no panels:begin … %s markers", path, observe.DocEnd)
	}
	got := doc[i : j+len(observe.DocEnd)]
	if got == want {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(doc[:i]+want+doc[j+len(observe.DocEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's panel reference is stale; run go test ./tools/internal/cli -run TestObservabilityDoc -update", path)
}

// TestObserveCommands covers forge observe's argument handling and the
// config → check round trip on the twin experiment.
func TestObserveCommands(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "stack")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no subcommand", []string{"observe"}, ExitUsage, "config, check or up"},
		{"unknown subcommand", []string{"observe", "down"}, ExitUsage, `unknown subcommand "down"`},
		{"config wants a name", []string{"observe", "config"}, ExitUsage, "one experiment name"},
		{"unknown experiment", []string{"observe", "config", "nope", "--experiments", "../../../experiments"}, ExitProblems, `no experiment named "nope"`},
		{"bad scrape interval", []string{"observe", "config", "twin", "--experiments", "../../../experiments", "--scrape-interval", "soon"}, ExitUsage, "--scrape-interval"},
		{"config", []string{"observe", "config", "twin", "--experiments", "../../../experiments", "--out", out}, ExitOK, "prometheus.yml"},
		{"check the written stack", []string{"observe", "check", out}, ExitOK, `dashboard "forge-twin"`},
		{"check a missing stack", []string{"observe", "check", filepath.Join(dir, "none")}, ExitProblems, "no such file"},
		{"up needs prometheus", []string{"observe", "up", "twin", "--experiments", "../../../experiments", "--prometheus-bin", "no-such-prometheus", "--dir", filepath.Join(dir, "up")}, ExitProblems, "apt-get install prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, tt.args)
			if code := ExitCode(err); code != tt.code {
				t.Fatalf("exit %d, want %d (err %v; stderr %s)", code, tt.code, err, stderr.String())
			}
			all := stdout.String() + stderr.String()
			if err != nil {
				all += err.Error()
			}
			if !strings.Contains(all, tt.contains) {
				t.Errorf("output does not mention %q:\n%s", tt.contains, all)
			}
		})
	}
	// A dashboard on another datasource fails the check, naming the panel.
	dash := filepath.Join(out, observe.DashboardFile)
	b, err := os.ReadFile(dash)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"uid": "forge-prometheus"`, `"uid": "other"`, 1)
	if bad == string(b) {
		t.Fatal("the dashboard names no datasource uid")
	}
	if err := os.WriteFile(dash, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"observe", "check", out})
	if ExitCode(err) != ExitProblems || !strings.Contains(stderr.String(), `datasource uid "forge-prometheus"`) {
		t.Errorf("a panel on datasource uid other: exit %d, stderr %s", ExitCode(err), stderr.String())
	}
}
