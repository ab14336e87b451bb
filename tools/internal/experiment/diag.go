package experiment

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

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
//
// Source excerpts and messages are printed with control characters
// replaced, so that a file holding escape sequences cannot drive the
// terminal that shows its errors.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	tw := hcl.NewDiagnosticTextWriter(w, printableFiles(files), width, color)
	for _, d := range diags {
		c := *d
		c.Summary, c.Detail = printable(d.Summary), printable(d.Detail)
		d := &c
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

// printableFiles copies files with each control byte but tab, newline and
// carriage return replaced by '?', byte for byte, so every range still
// points where it did.
func printableFiles(files map[string]*hcl.File) map[string]*hcl.File {
	out := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		if f == nil || !bytes.ContainsFunc(f.Bytes, isControl) {
			out[name] = f
			continue
		}
		b := bytes.Clone(f.Bytes)
		for i, c := range b {
			if isControl(rune(c)) {
				b[i] = '?'
			}
		}
		out[name] = &hcl.File{Body: f.Body, Bytes: b, Nav: f.Nav}
	}
	return out
}

func isControl(r rune) bool { return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f }

// printable replaces control characters in a message.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if isControl(r) || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
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
