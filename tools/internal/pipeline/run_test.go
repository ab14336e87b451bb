package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// twinPlan builds the plan of a small twin experiment over the committed
// catalog (two levels, 12 requests each, one warmup).
func twinPlan(t *testing.T, slo int) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../../experiments/catalog")); err != nil {
		t.Fatal(err)
	}
	exp := fmt.Sprintf(`experiment "small" {
  hardware = hardware.rtx_a5000
  model    = model.llama31_8b_instruct_awq
  engine "twin" {
    version       = "0.11.0"
    max_model_len = 512
    max_num_seqs  = 4
    port          = 1
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 64
    output_tokens = 8
    ignore_eos    = true
  }
  sweep {
    concurrency       = [1, 2]
    prompts_per_level = 12
    warmup            = 1
  }
  slo {
    ttft_p99_ms = %d
  }
  cost {
    utilization = [1.0]
    compare     = [api.gpt_4o]
  }
}
`, slo)
	if err := os.WriteFile(filepath.Join(dir, "small.hcl"), []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := experiment.Load([]string{dir}, experiment.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, err := plan.Build(cfg, cfg.ExperimentByName("small"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Encode(p); err != nil { // sets the hash
		t.Fatal(err)
	}
	return p
}

func opts(root string) (Options, *bytes.Buffer) {
	var errb bytes.Buffer
	return Options{Out: Out{Stdout: &bytes.Buffer{}, Stderr: &errb}, ResultsRoot: root, TimeScale: 50}, &errb
}

// TestRunStates: a complete run is priced and its prediction and bench
// share one request sequence; a run stopped by its context is incomplete,
// unpriced, with a report carrying its banner; resuming it with another
// plan is refused, with the same plan completes it; an existing run
// directory is never reused.
func TestRunStates(t *testing.T) {
	p := twinPlan(t, 2000)
	root := t.TempDir()

	o, _ := opts(root)
	o.RunID = "full"
	res, err := Run(context.Background(), p, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.State != rundir.Complete || len(res.Summaries) != 2 {
		t.Fatalf("state %+v, %d summaries", res.State, len(res.Summaries))
	}
	r, err := rundir.LoadRun(string(res.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Predicted) != 2 {
		t.Fatalf("%d predicted levels", len(r.Predicted))
	}
	for i := range r.Summaries {
		a, b := r.Summaries[i].Provenance.RequestSequenceSHA256, r.Predicted[i].Provenance.RequestSequenceSHA256
		if a == nil || b == nil || *a != *b {
			t.Errorf("level %d: bench sequence %v, predicted %v", i, a, b)
		}
	}
	if _, err := os.Stat(res.Dir.Path(rundir.CostFile)); err != nil {
		t.Error("a complete run has no cost.json")
	}
	if _, err := Run(context.Background(), p, o); !errors.Is(err, rundir.ErrExists) {
		t.Errorf("a second run into %s: %v, want ErrExists", res.Dir, err)
	}

	// Ctrl-C right after the first level: the second never starts.
	ctx, cancel := context.WithCancel(context.Background())
	o, _ = opts(root)
	o.RunID = "cut"
	o.Measured = func(*Result) {}
	o.InFlight = func() int { return 0 }
	o.LevelDone = func(l rundir.Level) {
		if l.Name == "00-concurrency-1" {
			cancel()
		}
	}
	res, err = Run(ctx, p, o)
	cancel()
	if !errors.Is(err, ErrIncomplete) || res.State.State != rundir.Incomplete || res.State.Levels[0].State != rundir.Complete || res.State.Levels[1].State != "missing" {
		t.Fatalf("interrupted run: %v, state %+v", err, res.State)
	}
	if _, err := os.Stat(res.Dir.Path(rundir.CostFile)); err == nil {
		t.Error("an incomplete run was priced")
	}
	if b, _ := os.ReadFile(res.Dir.Path(rundir.ReportFile)); !strings.Contains(string(b), "INCOMPLETE RUN") {
		t.Error("the incomplete run's report has no banner")
	}

	other := twinPlan(t, 1000)
	o, _ = opts(root)
	o.Resume = string(res.Dir)
	if _, err := Run(context.Background(), other, o); err == nil || !strings.Contains(err.Error(), "plan changed") {
		t.Errorf("resume with another plan: %v", err)
	}
	res, err = Run(context.Background(), p, o)
	if err != nil || res.State.State != rundir.Complete || len(res.State.Resumed) != 1 {
		t.Fatalf("resume: %v, state %+v", err, res.State)
	}
	if d, ok, _, _ := rundir.Latest(filepath.Join(root, "small")); !ok || d.ID() != "cut" {
		t.Errorf("latest complete run %s, want the resumed one (started later)", d)
	}
}
