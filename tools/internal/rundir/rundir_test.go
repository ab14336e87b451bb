package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	root := t.TempDir()
	st := State{State: Running, StartedAt: "2026-12-03T08:00:00Z", PlanHash: "h", TimeScale: 1, ForgePID: os.Getpid()}
	d, err := Create(root, "exp", "20261203T080000Z-abc", []byte("{}\n"), st)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{PlanFile, StateFile} {
		if _, err := os.Stat(d.Path(f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	for _, c := range []struct {
		id   string
		want string
	}{
		{"20261203T080000Z-abc", "already exists"},
		{"../../x", "no path separators"},
		{"a/b", "no path separators"},
		{"", "no path separators"},
		{strings.Repeat("x", 200), "at most 128"},
	} {
		_, err := Create(root, "exp", c.id, []byte("{}"), st)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Create(%q): %v, want %q", c.id, err, c.want)
		}
	}
	if _, err := Create(root, "exp", "20261203T080000Z-abc", []byte("{}"), st); !errors.Is(err, ErrExists) {
		t.Errorf("an existing run directory: %v, want ErrExists", err)
	}
}

// run writes a run directory with a state (nil: none) and optionally a cost.json.
func run(t *testing.T, root, id string, st *State, withCost bool) Dir {
	t.Helper()
	d := Dir(filepath.Join(root, id))
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Path(PlanFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st != nil {
		if err := d.WriteState(*st); err != nil {
			t.Fatal(err)
		}
	}
	if withCost {
		if err := os.WriteFile(d.Path(CostFile), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestReadState(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		name     string
		st       *State
		withCost bool
		want     string
		cause    string
	}{
		{"old run with cost", nil, true, Complete, "before Forge recorded states"},
		{"old run without cost", nil, false, Incomplete, "no cost.json"},
		{"running, Forge alive", &State{State: Running, ForgePID: os.Getpid()}, false, Running, ""},
		{"running, Forge gone", &State{State: Running, ForgePID: 1 << 30}, false, Incomplete, "stopped while the run was running"},
		{"failed", &State{State: Failed, Cause: "the engine died"}, false, Failed, "the engine died"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := run(t, root, strings.ReplaceAll(c.name, " ", "_"), c.st, c.withCost)
			got, err := d.ReadState()
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.want || !strings.Contains(got.Cause, c.cause) {
				t.Errorf("state %q cause %q, want %q with %q", got.State, got.Cause, c.want, c.cause)
			}
			r := &Run{Dir: string(d), State: got}
			err = r.Require(false)
			if (err == nil) != (c.want == Complete) || err != nil && !errors.Is(err, ErrNotComplete) {
				t.Errorf("Require: %v", err)
			}
			if err := r.Require(true); err != nil {
				t.Errorf("Require with allowIncomplete: %v", err)
			}
		})
	}
}

// TestLatest: the latest complete run by start time, whatever the names.
func TestLatest(t *testing.T) {
	root := t.TempDir()
	run(t, root, "b-old", &State{State: Complete, StartedAt: "2026-12-01T00:00:00Z"}, false)
	run(t, root, "a-new", &State{State: Complete, StartedAt: "2026-12-02T00:00:00Z"}, false)
	run(t, root, "z-newest-but-interrupted", &State{State: Incomplete, StartedAt: "2026-12-03T00:00:00Z"}, false)
	run(t, root, "y-failed", &State{State: Failed, StartedAt: "2026-12-04T00:00:00Z"}, false)
	d, ok, skipped, err := Latest(root)
	if err != nil || !ok || filepath.Base(string(d)) != "a-new" || skipped != 2 {
		t.Errorf("Latest = %s %v skipped %d %v, want a-new with 2 skipped", d, ok, skipped, err)
	}
	got, err := Resolve([]string{root})
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "a-new" {
		t.Errorf("Resolve = %v %v", got, err)
	}
	only := t.TempDir()
	run(t, only, "cut", &State{State: Incomplete}, false)
	if _, err := Resolve([]string{only}); err == nil || !strings.Contains(err.Error(), "none complete") {
		t.Errorf("Resolve of an experiment without a complete run: %v", err)
	}
}

func TestBanner(t *testing.T) {
	st := State{State: Incomplete, Cause: "interrupted", Levels: []Level{
		{Name: "00-concurrency-1", State: Complete, Completed: 8, Prompts: 8},
		{Name: "01-concurrency-4", State: Incomplete, Completed: 3, Failed: 1, Prompts: 8},
		{Name: "02-concurrency-16", State: "missing", Prompts: 8}}}
	want := "INCOMPLETE RUN: interrupted; levels not complete: 01-concurrency-4 incomplete (3 of 8 requests ok, 1 failed), 02-concurrency-16 missing (0 of 8 requests ok, 0 failed)"
	if got := st.Banner(); got != want {
		t.Errorf("Banner() = %q\nwant       %q", got, want)
	}
	if got := (State{State: Complete}).Banner(); got != "" {
		t.Errorf("a complete run has a banner: %q", got)
	}
}
