package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// TestInterruptResume: a run stopped after its first level (the first
// Ctrl-C) is incomplete: forge cost refuses it, --allow-incomplete prices
// it with the banner in cost.json and report.md, `forge cost results/EXP`
// finds no complete run; forge run --resume keeps the finished level,
// runs the rest at the run's own time scale, and the run verifies and is
// then the latest. The experiment's port is held by another program the
// whole time: the in-process twin takes a free one.
func TestInterruptResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs live twin sweeps")
	}
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	exps := copyTree(t, "../../../experiments")
	exp := strings.Replace(fmt.Sprintf(tinyExperiment, held.Addr().(*net.TCPAddr).Port), "prompts_per_level = 6", "prompts_per_level = 60", 1)
	if err := os.WriteFile(filepath.Join(exps, "tiny.hcl"), []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	dir := filepath.Join(res, "tiny", "cut")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(dir, "bench", "00-concurrency-1.summary.json")); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var out, errb bytes.Buffer
	err = Run(ctx, Env{Stdout: &out, Stderr: &errb}, []string{"run", "tiny", "--experiments", exps, "--results", res, "--run-id", "cut", "--time-scale", "20"})
	cancel()
	if err == nil {
		t.Fatalf("an interrupted run succeeded\n%s", errb.String())
	}
	if !strings.Contains(errb.String(), "the twin listens on") {
		t.Errorf("no note that the twin took another port:\n%s", errb.String())
	}
	st, _ := rundir.Dir(dir).ReadState()
	if st.State != rundir.Incomplete || st.Levels[0].State != rundir.Complete || st.Levels[1].State == rundir.Complete {
		t.Fatalf("state after the interruption: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.CostFile)); err == nil {
		t.Error("cost.json written for an interrupted run")
	}
	for _, c := range []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{[]string{"cost", dir}, ExitProblems, "run is not complete"},
		{[]string{"cost", filepath.Join(res, "tiny")}, ExitProblems, "none complete"},
		{[]string{"report", dir}, ExitProblems, "run is not complete"},
		{[]string{"chart", dir}, ExitProblems, "run is not complete"},
		{[]string{"cost", "--allow-incomplete", dir}, ExitOK, "INCOMPLETE RUN"},
		{[]string{"report", "--allow-incomplete", dir}, ExitOK, "report:"},
	} {
		o, e, err := runErr(c.args...)
		if code := ExitCode(err); code != c.code || !strings.Contains(fmt.Sprint(o, e, err), c.want) {
			t.Errorf("forge %s: exit %d, want %d and %q\n%s%s", strings.Join(c.args, " "), code, c.code, c.want, o, e)
		}
	}
	for _, f := range []string{rundir.CostFile, rundir.ReportFile} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if !strings.Contains(string(b), "INCOMPLETE RUN") || !strings.Contains(string(b), "01-concurrency-2") {
			t.Errorf("%s lacks the banner naming the unfinished level", f)
		}
	}
	if _, _, err := runErr("run", "tiny", "--experiments", exps, "--results", res, "--run-id", "cut"); ExitCode(err) != ExitUsage || !strings.Contains(fmt.Sprint(err), "already exists") {
		t.Errorf("a rerun into the same run id: %v, want exit 2 and a refusal", err)
	}

	keep, _ := os.ReadFile(filepath.Join(dir, "bench", "00-concurrency-1.jsonl"))
	o, e, code := run(t, "run", "--resume", dir, "--experiments", exps, "--results", res)
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, o, e)
	}
	if strings.Contains(e, "resuming at the run's own time scale") {
		t.Errorf("a resume without --time-scale warned about the time scale:\n%s", e)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "bench", "00-concurrency-1.jsonl")); !bytes.Equal(keep, again) {
		t.Error("resume re-ran a complete level")
	}
	if st, _ := rundir.Dir(dir).ReadState(); st.State != rundir.Complete || len(st.Resumed) != 1 || st.TimeScale != 20 {
		t.Errorf("state after resume: %+v", st)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, rundir.CostFile)); strings.Contains(string(b), "INCOMPLETE") {
		t.Error("cost.json still carries the banner after the run completed")
	}
	if o, e, code := run(t, "verify", res); code != ExitOK {
		t.Errorf("verify after resume: exit %d\n%s%s", code, o, e)
	}
	if o, _, code := run(t, "cost", filepath.Join(res, "tiny")); code != ExitOK || !strings.Contains(o, dir) {
		t.Errorf("forge cost results/tiny does not pick the completed run:\n%s", o)
	}
	if _, _, err := runErr("run", "--resume", dir, "--experiments", exps); err == nil || !strings.Contains(err.Error(), "already complete") {
		t.Errorf("resume of a complete run: %v", err)
	}
	// A changed plan is refused: its levels would mix two plans.
	if err := os.WriteFile(filepath.Join(exps, "tiny.hcl"), []byte(strings.Replace(exp, "ttft_p99_ms = 2000", "ttft_p99_ms = 1000", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	st.State = rundir.Incomplete
	if err := rundir.Dir(dir).WriteState(st); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runErr("run", "--resume", dir, "--experiments", exps); err == nil || !strings.Contains(err.Error(), "plan changed") {
		t.Errorf("resume with a changed plan: %v", err)
	}
}

// TestStepsAreCommands: every Forge command a plan's steps list exists
// (its argv with --help exits 0), for every committed experiment.
func TestStepsAreCommands(t *testing.T) {
	names := experimentNames(t)
	for _, name := range names {
		p, err := planFor(Env{Stdout: &discard{}, Stderr: &discard{}}, "", "../../../experiments", name, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Steps {
			if s.Argv[0] != "bin/forge" {
				continue
			}
			args := append(append([]string(nil), s.Argv[1:]...), "--help")
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "{run_dir}", "results/x/y")
			}
			if o, e, code := run(t, args...); code != ExitOK {
				t.Errorf("%s step %s: forge %s: exit %d\n%s%s", name, s.Name, strings.Join(args, " "), code, o, e)
			}
		}
	}
}

// TestSameRequestsPredictedAndMeasured: for every committed experiment the
// twin's prediction and the benchmark carry one request sequence (warmup
// excluded from the measured requests of both).
//
// The reference study's ShareGPT subset comes, pinned by sha256, from the
// workplace's ../shared/datasets beside the repository (CI has it) into a
// fresh cache.
func TestSameRequestsPredictedAndMeasured(t *testing.T) {
	seed, err := filepath.Abs("../../../../shared/datasets")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FORGE_DATA_SEED", seed)
	t.Setenv("FORGE_DATA_CACHE", t.TempDir())
	for _, name := range experimentNames(t) {
		p, err := planFor(Env{Stdout: &discard{}, Stderr: &discard{}}, "", "../../../experiments", name, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := pipeline.BenchConfig(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cfg.Warmup) != p.Sweep.Warmup || len(cfg.Prompts) != p.Sweep.PromptsPerLevel {
			t.Errorf("%s: %d warmup and %d measured requests, want %d and %d", name, len(cfg.Warmup), len(cfg.Prompts), p.Sweep.Warmup, p.Sweep.PromptsPerLevel)
		}
		if p.Hardware.Device == "cpu" {
			continue // no prediction for vLLM's CPU build
		}
		_, sums, err := pipeline.Predict(context.Background(), p, "t")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range sums {
			if got := s.Provenance.RequestSequenceSHA256; got == nil || *got != cfg.SequenceSHA256 {
				t.Errorf("%s %s: predicted sequence %v, measured %s", name, s.Level.Kind, got, cfg.SequenceSHA256)
			}
		}
	}
}

func experimentNames(t *testing.T) []string {
	t.Helper()
	o, e, code := run(t, "validate", "../../../experiments")
	if code != ExitOK {
		t.Fatalf("validate: %s%s", o, e)
	}
	files, _ := filepath.Glob("../../../experiments/*.hcl")
	var names []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "experiment \""); ok {
				names = append(names, rest[:strings.Index(rest, "\"")])
			}
		}
	}
	if len(names) < 4 {
		t.Fatalf("found only %v", names)
	}
	return names
}
