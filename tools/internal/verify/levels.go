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
	"sort"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
)

const (
	summaryExt = bench.SummaryExt
	recordsExt = bench.RecordsExt
)

// level is one level's files in a bench/ or predicted/ directory.
type level struct {
	stem             string // the path without extension
	summary, records bool   // which of the two files exist
}

// levels checks every level of one results directory (bench/ or
// predicted/; absent is fine): each summary against its records, each
// file against its pair, and for measured levels that all of them come
// from one run. A problem in one level never stops the others.
func levels(dir string, measured bool, n *Counts) []Difference {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return []Difference{{File: dir, Field: "(directory)", From: "cannot be read: " + err.Error()}}
	}
	byStem := map[string]*level{}
	get := func(stem string) *level {
		if byStem[stem] == nil {
			byStem[stem] = &level{stem: filepath.Join(dir, stem)}
		}
		return byStem[stem]
	}
	for _, e := range ents {
		// Hidden names are writers' temporary files, never results.
		switch name := e.Name(); {
		case strings.HasPrefix(name, "."):
		case strings.HasSuffix(name, summaryExt):
			get(strings.TrimSuffix(name, summaryExt)).summary = true
		case strings.HasSuffix(name, recordsExt):
			get(strings.TrimSuffix(name, recordsExt)).records = true
		}
	}
	stems := make([]string, 0, len(byStem))
	for s := range byStem {
		stems = append(stems, s)
	}
	sort.Strings(stems) // level order: names start with the index
	var diffs []Difference
	var sums []stored
	for _, stem := range stems {
		ds, s := checkLevel(*byStem[stem], n)
		diffs = append(diffs, ds...)
		if s != nil {
			sums = append(sums, *s)
		}
	}
	if measured {
		diffs = append(diffs, mixedRuns(sums)...)
	}
	return diffs
}

// stored is a summary as read from its file.
type stored struct {
	path string
	s    bench.Summary
}

// checkLevel verifies one level and returns its summary when it could be
// read, for the checks across levels.
func checkLevel(l level, n *Counts) ([]Difference, *stored) {
	sumPath, recPath := l.stem+summaryExt, l.stem+recordsExt
	var diffs []Difference
	var records []bench.Record
	if l.records {
		var ds []Difference
		records, ds = readRecords(recPath)
		diffs = append(diffs, ds...)
		n.Records += len(records)
	}
	if !l.summary {
		return append(diffs, Difference{File: recPath, Field: "(whole file)",
			From: "records without a summary: " + filepath.Base(sumPath) + " is missing (the level did not finish writing)"}), nil
	}
	data, s, bad := readSummary(sumPath)
	if bad != nil {
		return append(diffs, *bad), nil
	}
	if !l.records {
		return append(diffs, Difference{File: sumPath, Field: "(whole file)",
			From: "summary without records: " + filepath.Base(recPath) + " is missing, so nothing can be recomputed"}), &stored{sumPath, s}
	}
	n.Summaries++
	again, err := bench.EncodeSummary(bench.Resummarize(s, records))
	if err != nil {
		return append(diffs, Difference{File: sumPath, Field: "(whole file)", From: "cannot be recomputed: " + err.Error()}), &stored{sumPath, s}
	}
	return append(diffs, compare(sumPath, data, again, filepath.Base(recPath))...), &stored{sumPath, s}
}

// readSummary reads and parses a summary file; a file that cannot be read,
// is empty (a write cut short) or is not a summary is a Difference.
func readSummary(path string) ([]byte, bench.Summary, *Difference) {
	var s bench.Summary
	bad := func(msg string) *Difference { return &Difference{File: path, Field: "(whole file)", From: msg} }
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, s, bad("cannot be read: " + err.Error())
	}
	if len(data) == 0 {
		return nil, s, bad("empty (0 bytes): its write did not finish")
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, s, bad("not a summary: " + err.Error())
	}
	return data, s, nil
}

// mixedRuns reports measured levels that disagree on which run they belong
// to: a rerun into the same directory (after an interruption, or with a
// different time scale) leaves levels that each recompute cleanly but
// together are no one run's sweep. Each level file is named with its value.
func mixedRuns(sums []stored) []Difference {
	var diffs []Difference
	for _, f := range []struct {
		field string
		value func(bench.Summary) any
	}{
		{"/run_id", func(s bench.Summary) any { return s.RunID }},
		{"/provenance/plan_hash", func(s bench.Summary) any { return deref(s.Provenance.PlanHash) }},
		{"/provenance/time_scale", func(s bench.Summary) any { return deref(s.Provenance.TimeScale) }},
	} {
		var order []string
		files := map[string][]string{}
		for _, s := range sums {
			v := show(f.value(s.s))
			if files[v] == nil {
				order = append(order, v)
			}
			files[v] = append(files[v], strings.TrimSuffix(filepath.Base(s.path), summaryExt))
		}
		if len(order) < 2 {
			continue
		}
		var seen []string
		for _, v := range order {
			seen = append(seen, fmt.Sprintf("%s in %s", v, strings.Join(files[v], ", ")))
		}
		from := "mixed run directory: levels from different runs (" + strings.Join(seen, "; ") + ")"
		for _, s := range sums {
			diffs = append(diffs, Difference{File: s.path, Field: f.field, Stored: show(f.value(s.s)), From: from})
		}
	}
	return diffs
}

// deref is *p, or nil (shown as absent) for a nil p.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// readRecords reads a JSONL file, checking each record on the way. A line
// that is not a record, or a file that cannot be read, is a Difference;
// the records read before are kept.
func readRecords(path string) ([]bench.Record, []Difference) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []Difference{{File: path, Field: "(whole file)", From: "cannot be read: " + err.Error()}}
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
			return out, diffs
		}
		if err != nil {
			return out, append(diffs, Difference{File: path, Line: line, Field: "(whole file)", From: "cannot be read: " + err.Error()})
		}
	}
}
