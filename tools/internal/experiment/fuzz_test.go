package experiment

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary text through the whole decoder: parsing, both
// phases, reference resolution and every semantic check. The only property
// asserted is the one that matters for a CLI: no panic, and an error
// diagnostic whenever no experiment could be decoded from non-empty input.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.hcl")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	catalog := catalogSource(f)
	f.Fuzz(func(t *testing.T, src string) {
		cfg, diags := LoadSource(map[string]string{"catalog.hcl": catalog, "fuzz.hcl": src}, Options{Now: fixtureNow})
		if cfg == nil {
			t.Fatal("LoadSource returned no config")
		}
		for _, e := range cfg.Experiments {
			if !diags.HasErrors() && (e.HW == nil || e.M == nil) {
				t.Fatalf("experiment %q has unresolved references but no error", e.Name)
			}
		}
	})
}
