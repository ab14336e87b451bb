package bench

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/provenance"
)

// fullDisk passes left bytes to w and then fails, having written the part
// of the failing write that still fit: what a disk filling up does.
type fullDisk struct {
	w    io.Writer
	left int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= d.left {
		d.left -= len(p)
		return d.w.Write(p)
	}
	n, _ := d.w.Write(p[:d.left])
	d.left = 0
	return n, &os.PathError{Op: "write", Path: "records", Err: syscall.ENOSPC}
}

// dirNames lists dir, sorted, hidden files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

var lostRE = regexp.MustCompile(`^level (\S+): writing records failed after (\d+) of (\d+): .*no space left on device; (\d+) record\(s\) not written$`)

// TestWriteFailureStopsLevel: when the disk fills, the level stops sending
// at once (only the requests already in flight finish), the sweep stops,
// the error counts the records lost, the JSONL holds whole lines only and
// no summary or temporary file is left.
func TestWriteFailureStopsLevel(t *testing.T) {
	const conc, prompts200 = 4, 200
	for _, lvl := range []Level{{Kind: "concurrency", Value: conc}, {Kind: "rate", Value: 400}} {
		t.Run(lvl.Kind, func(t *testing.T) {
			srv := newScripted(t, script{ttft: 3 * time.Millisecond, gap: time.Millisecond, tokens: 4, prompt: 3})
			cfg := baseConfig(t, srv.URL, "completions", lvl, Level{Kind: lvl.Kind, Value: lvl.Value, Index: 1})
			cfg.Prompts, cfg.MaxConcurrency = prompts(prompts200, 4), conc
			cfg.wrapRecords = func(w io.Writer) io.Writer { return &fullDisk{w: w, left: 2500} }
			_, err := Run(context.Background(), cfg)
			if err == nil {
				t.Fatal("a full disk went unnoticed")
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("the write error is not wrapped: %v", err)
			}
			t.Log(err)
			m := lostRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error %q does not say what was lost", err)
			}
			kept, total, lost := atoi(m[2]), atoi(m[3]), atoi(m[4])
			if m[1] != LevelName(lvl) || kept+lost != total || lost < 1 || kept == 0 {
				t.Errorf("error %q: level, or kept %d + lost %d != %d", err, kept, lost, total)
			}
			// Every request sent finished and was counted; beyond the batch
			// whose write failed (at most a completion wave of conc records
			// here), only those in flight with it went out.
			if sent := int(srv.requests.Load()); sent != total || sent > kept+2*conc || sent == prompts200 {
				t.Errorf("%d requests sent, %d records, %d written: dispatch did not stop at the failure", sent, total, kept)
			}
			name := LevelName(lvl) + ".jsonl"
			if got := dirNames(t, cfg.Out); strings.Join(got, " ") != name {
				t.Errorf("files left: %v, want only %s (no summary, no temporary file, no next level)", got, name)
			}
			if recs := readRecords(t, filepath.Join(cfg.Out, name)); len(recs) != kept {
				t.Errorf("%d whole records in the JSONL, error says %d", len(recs), kept)
			}
			if b, _ := os.ReadFile(filepath.Join(cfg.Out, name)); len(b) == 0 || b[len(b)-1] != '\n' {
				t.Errorf("the JSONL ends mid-line")
			}
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestRecordFileSyncFailure: a failed fsync is returned by the next write
// and by close, counting only the records an fsync covered as kept.
func TestRecordFileSyncFailure(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "l.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	rf := newRecordFile(f, f, func() error {
		if failing.Load() {
			return syscall.EIO
		}
		return nil
	})
	write := func() error { return rf.write(Record{Schema: "x", Status: "ok"}) }
	for i := 0; i < 2; i++ {
		if err := write(); err != nil {
			t.Fatal(err)
		}
	}
	rf.syncNow()
	if err := write(); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	rf.syncNow()
	if err := write(); !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "fsync") {
		t.Errorf("write after a failed fsync: %v", err)
	}
	if kept, err := rf.close(); kept != 2 || !errors.Is(err, syscall.EIO) {
		t.Errorf("close: %d kept, %v; want 2 and the fsync error", kept, err)
	}
}

// TestWriteAtomic: a file is written whole or not at all, and no
// temporary file survives either way.
func TestWriteAtomic(t *testing.T) {
	data := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "00-concurrency-1.summary.json")
	if err := writeAtomic(path, data("whole\n")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("written file: %v %v", st, err)
	}
	// Disk full part-way: the old file stays as it was.
	full := func(w io.Writer) error {
		_, err := io.WriteString(&fullDisk{w: w, left: 3}, "replacement")
		return err
	}
	for _, c := range []struct {
		name, path string
		fill       func(io.Writer) error
	}{
		{"disk full, file existed", path, full},
		{"disk full, new file", filepath.Join(dir, "01-concurrency-2.summary.json"), full},
		{"fill fails", filepath.Join(dir, "02.jsonl"), func(io.Writer) error { return errors.New("encoding failed") }},
		{"rename fails", filepath.Join(dir, "sub"), data(strings.Repeat("x", 10000))},
		{"no directory", filepath.Join(dir, "missing", "f"), data("x")},
	} {
		if c.name == "rename fails" {
			if err := os.MkdirAll(filepath.Join(c.path, "inner"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		err := writeAtomic(c.path, c.fill)
		if err == nil || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %v does not name the file", c.name, err)
		}
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "whole\n" {
		t.Errorf("a failed rewrite touched the old file: %q %v", b, err)
	}
	if got := strings.Join(dirNames(t, dir), " "); got != "00-concurrency-1.summary.json sub" {
		t.Errorf("left behind: %s", got)
	}
}

// TestWriteLevels: each level gets its JSONL and summary under LevelName,
// as a live level writes them; a failure names the file and leaves no
// temporary file.
func TestWriteLevels(t *testing.T) {
	var lrs []LevelRun
	var sums []Summary
	for i, v := range []float64{1, 4} {
		lr := LevelRun{Level: Level{Kind: "concurrency", Value: v, Index: i}, NumPrompts: 3,
			Start: time.Unix(100, 0), End: time.Unix(101, 0)}
		for j := 0; j < 3; j++ {
			r := Measure(Timeline{Status: "ok", Usage: &Usage{PromptTokens: 5, CompletionTokens: 3},
				Content: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}}, 5, Counter{})
			r.Level, r.RequestIndex, r.ActualSendS, r.DoneS, r.Error = lr.Level, j, float64(j)/10, float64(j)/10+0.05, "<&>"
			lr.Records = append(lr.Records, r)
		}
		lrs, sums = append(lrs, lr), append(sums, lr.Summarize("r", "e", nil, provenance.Record{}))
	}
	dir := filepath.Join(t.TempDir(), "predicted")
	if err := WriteLevels(dir, lrs, sums); err != nil {
		t.Fatal(err)
	}
	want := "00-concurrency-1.jsonl 00-concurrency-1.summary.json 01-concurrency-4.jsonl 01-concurrency-4.summary.json"
	if got := strings.Join(dirNames(t, dir), " "); got != want {
		t.Fatalf("files %s, want %s", got, want)
	}
	for i, s := range sums {
		stem := filepath.Join(dir, LevelName(s.Level))
		if recs := readRecords(t, stem+".jsonl"); len(recs) != 3 || recs[2].Error != "<&>" {
			t.Errorf("level %d: records %+v", i, recs)
		}
		enc, _ := EncodeSummary(s)
		if b, _ := os.ReadFile(stem + ".summary.json"); string(b) != string(enc) {
			t.Errorf("level %d: summary is not EncodeSummary's", i)
		}
	}
	if err := WriteLevels(dir, lrs, sums[:1]); err == nil {
		t.Error("records and summaries of different lengths were accepted")
	}
	// A summary that cannot be written (its name taken by a directory).
	bad := t.TempDir()
	blocked := filepath.Join(bad, LevelName(sums[1].Level)+".summary.json")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteLevels(bad, lrs, sums); err == nil || !strings.Contains(err.Error(), blocked) {
		t.Errorf("error %v does not name %s", err, blocked)
	}
	for _, n := range dirNames(t, bad) {
		if strings.Contains(n, ".tmp-") {
			t.Errorf("temporary file left: %s", n)
		}
	}
}
