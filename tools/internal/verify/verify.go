// Package verify re-derives a results tree: every level summary from its raw
// JSONL records, every record's latency fields from its chunk times, and
// every cost report from the summaries and plan, then compares the bytes.
// A result anyone can recompute is a result anyone can check.
package verify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/runs"
)

// Difference is one field whose stored value is not what the files it came
// from give.
type Difference struct {
	File       string // the file holding the stored value
	Line       int    // line in a JSONL file, else 0
	Field      string // JSON pointer, or a record field
	Stored     string
	Recomputed string
	From       string // what the value was recomputed from
}

func (d Difference) String() string {
	loc := d.File
	if d.Line > 0 {
		loc += fmt.Sprintf(":%d", d.Line)
	}
	if d.Stored == "" && d.Recomputed == "" {
		return fmt.Sprintf("%s: %s: %s", loc, d.Field, d.From)
	}
	return fmt.Sprintf("%s: %s: stored %s, recomputed %s from %s", loc, d.Field, d.Stored, d.Recomputed, d.From)
}

// Counts says how much was checked.
type Counts struct {
	Runs, Summaries, Records, Costs int
}

// Tree verifies every run directory (one holding plan.json) under root.
func Tree(root string) ([]Difference, Counts, error) {
	var diffs []Difference
	var n Counts
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if _, err := os.Stat(filepath.Join(path, "plan.json")); err != nil {
			return nil
		}
		ds, err := Run(path, &n)
		diffs = append(diffs, ds...)
		if err != nil {
			return err
		}
		return filepath.SkipDir
	})
	if n.Runs == 0 && err == nil {
		err = fmt.Errorf("%s holds no run directory (one with a plan.json)", root)
	}
	return diffs, n, err
}

// Run verifies one run directory.
func Run(dir string, n *Counts) ([]Difference, error) {
	n.Runs++
	var diffs []Difference
	for _, sub := range []string{"bench", "predicted"} {
		paths, err := filepath.Glob(filepath.Join(dir, sub, "*.summary.json"))
		if err != nil {
			return diffs, err
		}
		for _, p := range paths {
			ds, err := summary(p, n)
			diffs = append(diffs, ds...)
			if err != nil {
				return diffs, err
			}
		}
	}
	costPath := filepath.Join(dir, cost.FileName)
	stored, err := os.ReadFile(costPath)
	if errors.Is(err, fs.ErrNotExist) {
		return diffs, nil
	} else if err != nil {
		return diffs, err
	}
	n.Costs++
	r, err := runs.LoadRun(dir)
	if err != nil {
		return diffs, err
	}
	_, again, err := cost.ForRun(r)
	if err != nil {
		return append(diffs, Difference{File: costPath, Field: "(whole file)", From: "cannot be recomputed: " + err.Error()}), nil
	}
	return append(diffs, compare(costPath, stored, again, "plan.json and the level summaries")...), nil
}

// summary recomputes one summary from the JSONL beside it.
func summary(path string, n *Counts) ([]Difference, error) {
	jsonl := strings.TrimSuffix(path, ".summary.json") + ".jsonl"
	stored, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s bench.Summary
	if err := json.Unmarshal(stored, &s); err != nil {
		return []Difference{{File: path, Field: "(whole file)", From: "not a summary: " + err.Error()}}, nil
	}
	records, diffs, err := readRecords(jsonl)
	if errors.Is(err, fs.ErrNotExist) {
		return []Difference{{File: path, Field: "(whole file)", From: "no records to recompute it from: " + filepath.Base(jsonl) + " is missing"}}, nil
	} else if err != nil {
		return nil, err
	}
	n.Summaries++
	n.Records += len(records)
	again, err := bench.EncodeSummary(bench.Resummarize(s, records))
	if err != nil {
		return diffs, err
	}
	return append(diffs, compare(path, stored, again, filepath.Base(jsonl))...), nil
}

// readRecords reads a JSONL file, checking each record on the way.
func readRecords(path string) ([]bench.Record, []Difference, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []bench.Record
	var diffs []Difference
	rd := bufio.NewReader(f)
	for line := 1; ; line++ {
		data, err := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(data)) > 0 {
			var r bench.Record
			if jerr := json.Unmarshal(data, &r); jerr != nil {
				diffs = append(diffs, Difference{File: path, Line: line, Field: "(record)", From: "not a record: " + jerr.Error()})
			} else {
				for _, msg := range bench.CheckRecord(r) {
					field, rest, _ := strings.Cut(msg, ": ")
					diffs = append(diffs, Difference{File: path, Line: line, Field: field, From: rest})
				}
				out = append(out, r)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, diffs, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}
