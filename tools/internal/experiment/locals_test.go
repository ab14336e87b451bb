package experiment

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// localsSource is a locals block of n locals: constants, or a chain in
// which each uses the one before.
func localsSource(n int, chained bool) string {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range n {
		switch {
		case chained && i > 0:
			fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i-1)
		default:
			fmt.Fprintf(&b, "  l%d = %d\n", i, i)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// BenchmarkLocals is issue 20's bound: 20,000 locals validate in well
// under a second (they took 55 s when evaluated pass after pass).
func BenchmarkLocals(b *testing.B) {
	for _, tt := range []struct {
		name    string
		n       int
		chained bool
	}{{"constant-20000", 20000, false}, {"chained-4000", 4000, true}, {"chained-20000", 20000, true}} {
		src := localsSource(tt.n, tt.chained)
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				cfg, diags := LoadSource(map[string]string{"l.hcl": src}, Options{})
				if diags.HasErrors() || len(cfg.Locals) != tt.n {
					b.Fatalf("%d locals, %v", len(cfg.Locals), diags)
				}
			}
		})
	}
}

// TestLocals: chained locals evaluate in dependency order whatever their
// order in the file, and a cycle is one short message naming its path.
func TestLocals(t *testing.T) {
	cfg, diags := LoadSource(map[string]string{"l.hcl": "locals {\n  c = local.b * 2\n  a = 1\n  b = local.a + local.a\n}\n"}, Options{})
	if diags.HasErrors() || cfg.Locals["c"].AsBigFloat().String() != "4" {
		t.Fatalf("locals out of order: %v %v", cfg.Locals, diags)
	}
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  l%d = local.l%d\n", i, (i+1)%50)
	}
	b.WriteString("  after = local.l3 # depends on the cycle: not reported again\n}\n")
	cfg, diags = LoadSource(map[string]string{"cycle.hcl": b.String()}, Options{})
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, cfg.Files, diags, 100, false); err != nil {
		t.Fatal(err)
	}
	if n := len(diags); n != 1 || diags[0].Summary != "Cycle in locals" {
		t.Fatalf("%d diagnostics, want one cycle:\n%s", n, out.String())
	}
	if out.Len() >= 1024 || !strings.Contains(out.String(), " → … 43 more → ") || !strings.Contains(out.String(), "(50 locals)") {
		t.Errorf("the cycle message is %d bytes (want under 1 KiB, naming the path):\n%s", out.Len(), out.String())
	}
}

// TestSnippetsEscapeControlBytes: a file holding escape sequences and
// bells prints none of them with its errors.
func TestSnippetsEscapeControlBytes(t *testing.T) {
	src := "experiment \"x\" {\n  hardware = \"\x1b[31mred\x07\"\n  nope\x1b]0;title\x07 = 1\n}\n"
	cfg, diags := LoadSource(map[string]string{"ctl.hcl": src}, Options{})
	if !diags.HasErrors() {
		t.Fatal("no error for a broken file")
	}
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, cfg.Files, diags, 100, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []byte{0x1b, 0x07} {
		if n := bytes.Count(out.Bytes(), []byte{c}); n > 0 {
			t.Errorf("%d raw %#x bytes printed:\n%q", n, c, out.String())
		}
	}
	if !strings.Contains(out.String(), "ctl.hcl:") {
		t.Errorf("no located error printed:\n%s", out.String())
	}
}
