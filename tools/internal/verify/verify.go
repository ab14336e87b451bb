// Package verify re-derives a results tree: every level summary from its raw
// JSONL records, every record's latency fields from its chunk times, and
// every cost report from the summaries and plan, then compares the bytes.
// A result anyone can recompute is a result anyone can check.
package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// Difference is one field whose stored value is not what the files it came
// from give.
type Difference struct {
	File       string // the file holding the stored value
	Line       int    // line in a JSONL file, else 0
	Field      string // JSON pointer, or a record field
	Stored     string
	Recomputed string // empty when the problem is not a recomputation's
	From       string // what the value was recomputed from, or what is wrong
}

func (d Difference) String() string {
	loc := d.File
	if d.Line > 0 {
		loc += fmt.Sprintf(":%d", d.Line)
	}
	if d.Stored == "" && d.Recomputed == "" {
		return fmt.Sprintf("%s: %s: %s", loc, d.Field, d.From)
	}
	if d.Recomputed == "" { // a stored value that is wrong by itself, not by recomputation
		return fmt.Sprintf("%s: %s = %s: %s", loc, d.Field, d.Stored, d.From)
	}
	return fmt.Sprintf("%s: %s: stored %s, recomputed %s from %s", loc, d.Field, d.Stored, d.Recomputed, d.From)
}

// Counts says how much was checked.
type Counts struct {
	Runs, Summaries, Records, Costs int
}

// Trees verifies several roots as Tree does, adding up what it checked.
// The error is the first root that could not be walked; the walk still
// goes through every root, so the differences are complete.
func Trees(roots []string) ([]Difference, Counts, error) {
	var all []Difference
	var total Counts
	var first error
	for _, root := range roots {
		diffs, n, err := Tree(root)
		all = append(all, diffs...)
		total.Runs, total.Summaries, total.Records, total.Costs = total.Runs+n.Runs, total.Summaries+n.Summaries, total.Records+n.Records, total.Costs+n.Costs
		if err != nil && first == nil {
			first = fmt.Errorf("verify %s: %w", root, err)
		}
	}
	return all, total, first
}

// Tree verifies every run directory (one holding plan.json) under root.
// Every problem becomes a Difference and the walk goes on past it, so one
// broken file cannot hide the others: a whole tree is checked in one go.
// Only a root that cannot be read, or that holds no run directory, is an
// error.
func Tree(root string) ([]Difference, Counts, error) {
	var diffs []Difference
	var n Counts
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			diffs = append(diffs, Difference{File: path, Field: "(directory)", From: "cannot be read: " + err.Error()})
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if !rundir.IsRun(path) {
			return nil
		}
		ds, err := Run(path, &n)
		diffs = append(diffs, ds...)
		if err != nil {
			if path == root {
				return err
			}
			diffs = append(diffs, Difference{File: path, Field: "(directory)", From: "cannot be read: " + err.Error()})
		}
		return filepath.SkipDir
	})
	if n.Runs == 0 && err == nil {
		err = fmt.Errorf("%s holds no run directory (one with a plan.json)", root)
	}
	return diffs, n, err
}

// Run verifies one run directory: its measured levels (bench/), its
// predicted ones (predicted/) and its cost report. Every problem is a
// Difference; the error is only for a dir that cannot be read at all.
func Run(dir string, n *Counts) ([]Difference, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	n.Runs++
	diffs := levels(filepath.Join(dir, rundir.BenchDir), true, n)
	diffs = append(diffs, levels(filepath.Join(dir, rundir.PredictedDir), false, n)...)
	return append(diffs, costReport(dir, n)...), nil
}

// costReport recomputes cost.json, when there is one, from the plan and
// the summaries.
func costReport(dir string, n *Counts) []Difference {
	costPath := filepath.Join(dir, rundir.CostFile)
	stored, err := os.ReadFile(costPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return []Difference{{File: costPath, Field: "(whole file)", From: "cannot be read: " + err.Error()}}
	}
	n.Costs++
	cannot := func(err error) []Difference {
		return []Difference{{File: costPath, Field: "(whole file)", From: "cannot be recomputed: " + err.Error()}}
	}
	r, err := rundir.LoadRun(dir)
	if err != nil {
		return cannot(err)
	}
	_, again, err := cost.ForRun(r)
	if err != nil {
		return cannot(err)
	}
	return compare(costPath, stored, again, "plan.json and the level summaries")
}
