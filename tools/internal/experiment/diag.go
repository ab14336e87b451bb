package experiment

import (
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// SortDiagnostics orders diagnostics by file, line and column so that output
// is stable and reads top to bottom; diagnostics without a location come first.
func SortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		default:
			return a.Start.Column < b.Start.Column
		}
	})
}

// WriteDiagnostics prints each diagnostic as a `file:line:col: severity: summary`
// line (greppable, clickable in editors) followed by hcl's own rendering with
// the source snippet and the detail that says what to do.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	tw := hcl.NewDiagnosticTextWriter(w, files, width, color)
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		var err error
		if d.Subject != nil {
			_, err = fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, sev, d.Summary)
		} else {
			_, err = fmt.Fprintf(w, "%s: %s\n", sev, d.Summary)
		}
		if err != nil {
			return err
		}
		if err := tw.WriteDiagnostic(d); err != nil {
			return err
		}
	}
	return nil
}

// Counts returns the number of errors and warnings.
func Counts(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// LoadReported loads the experiments under dir, writes every diagnostic
// (errors and warnings, with source excerpts) to w, and refuses the
// configuration when any is an error, so that no command runs on a half
// understood experiment.
func LoadReported(w io.Writer, dir string, vars map[string]string) (*Config, error) {
	cfg, diags := Load([]string{dir}, Options{Vars: vars})
	SortDiagnostics(diags)
	if cfg != nil {
		if err := WriteDiagnostics(w, cfg.Files, diags, 100, false); err != nil {
			return nil, err
		}
	} else {
		for _, d := range diags {
			fmt.Fprintf(w, "error: %s: %s\n", d.Summary, d.Detail)
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s has errors; fix them first (forge validate %s)", dir, dir)
	}
	return cfg, nil
}
