package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/proc"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// TestMain lets the test binary be forge itself when FORGE_TEST_MAIN is
// set: the lifecycle tests run it as `forge run` in a process of its own
// (to send it signals) and as the twin behind a fake vLLM.
func TestMain(m *testing.M) {
	if os.Getenv("FORGE_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fakeVLLMExperiment is a vLLM experiment on a GPU, so forge run starts
// .venv/serve/bin/vllm as a child process group, as on a rented GPU.
const fakeVLLMExperiment = `experiment "fake" {
  hardware = hardware.rtx_a5000
  model    = model.llama31_8b_instruct_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 512
    max_num_seqs           = 4
    gpu_memory_utilization = 0.9
    port                   = %d
  }
  workload "random" {
    input_tokens  = 64
    output_tokens = 64
    ignore_eos    = true
  }
  sweep {
    concurrency       = [2, 4]
    prompts_per_level = 400
  }
}
`

// fakeVLLM lays out a working directory with the experiments and a fake
// `.venv/serve/bin/vllm`: a shell that ignores SIGTERM, SIGINT and SIGHUP
// (as a wedged engine does) and runs, in its process group, a sleep and
// the twin (this test binary) serving the run's plan in real time. Only
// SIGKILL of the whole group ends it.
func fakeVLLM(t *testing.T) (port int) {
	t.Helper()
	exps := copyTree(t, "../../../experiments")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	t.Chdir(t.TempDir())
	if err := os.Rename(exps, "experiments"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("experiments", "fake.hcl"), []byte(fmt.Sprintf(fakeVLLMExperiment, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(".venv", "serve", "bin", "vllm")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// argv: serve --config RUN_DIR/vllm.yaml ...
	script := fmt.Sprintf(`#!/bin/sh
trap '' TERM INT HUP
dir=$(dirname "$3")
sleep 300 &
FORGE_TEST_MAIN=1 %q twin --plan "$dir/plan.json" --listen 127.0.0.1:%d &
while :; do wait; sleep 1; done
`, self, port)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return port
}

// waitRecords waits until the run's first level has n records and returns
// the engine's process group from its pidfile.
func waitRecords(t *testing.T, runDir string, n int, done <-chan struct{}) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatal("forge run ended before the sweep was under way")
		default:
		}
		if lines(filepath.Join(runDir, "bench", "00-concurrency-2.jsonl")) >= n {
			pgid, err := proc.ReadPidfile(filepath.Join(runDir, rundir.Pidfile))
			if err != nil {
				t.Fatal(err)
			}
			return pgid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %d records in %s within 60 s", n, runDir)
	return 0
}

func lines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// TestEngineDiesMidLevel: the engine (a real child process group) is
// killed in the middle of a level. forge run stops the sweep within one
// request timeout (here: seconds), exits non-zero, prices nothing, and the
// run's state and report name the cause.
func TestEngineDiesMidLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forge run against a fake vLLM")
	}
	fakeVLLM(t)
	runDir := filepath.Join("results", "fake", "died")
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := run(t, "run", "fake", "--run-id", "died", "--health-timeout", "60s")
		done <- result{o, e, c}
	}()
	pgid := waitRecords(t, runDir, 5, nil)
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	killed := time.Now()
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("forge run did not end within 60 s of the engine's death")
	}
	t.Logf("forge run ended %s after the engine was killed", time.Since(killed).Round(time.Millisecond))
	if r.code == ExitOK {
		t.Fatalf("exit 0 after the engine died\n%s\n%s", r.out, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(runDir, rundir.CostFile)); err == nil {
		t.Error("cost.json written for a run whose engine died")
	}
	if lines(filepath.Join(runDir, "bench", "01-concurrency-4.jsonl")) > 0 {
		t.Error("the sweep went on to the next level after the engine died")
	}
	st, err := rundir.Dir(runDir).ReadState()
	if err != nil {
		t.Fatal(err)
	}
	if st.State != rundir.Failed || !strings.Contains(st.Cause, "engine died") || st.Levels[0].State != rundir.Failed {
		t.Errorf("state %+v, want failed with the engine's death as the cause and level 0 failed", st)
	}
	report, _ := os.ReadFile(filepath.Join(runDir, rundir.ReportFile))
	if !strings.Contains(string(report), "FAILED RUN: the engine died") {
		t.Errorf("report.md does not name the failure:\n%.600s", report)
	}
	if _, _, code := run(t, "cost", runDir); code == ExitOK {
		t.Error("forge cost priced the failed run")
	}
	if !gone(pgid) {
		t.Error("the engine's process group is still alive")
	}
}

// gone waits up to 5 s for a process group to disappear: its orphaned
// members are zombies until init reaps them, and kill(-pgid, 0) still
// finds a zombie.
func gone(pgid int) bool {
	for i := 0; i < 50 && proc.Alive(pgid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	return !proc.Alive(pgid)
}

// TestSignalsLeaveNoEngine: whatever signals forge run gets — two Ctrl-C
// one second apart, one SIGTERM, one SIGHUP — no process of the engine's
// group survives it, though the engine ignores SIGTERM. After a SIGKILL,
// which Forge cannot handle, `forge engine stop RUN_DIR` ends the engine
// from its pidfile.
func TestSignalsLeaveNoEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forge run against a fake vLLM")
	}
	fakeVLLM(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		sigs []syscall.Signal
	}{
		{"two SIGINTs", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}},
		{"SIGHUP", []syscall.Signal{syscall.SIGHUP}},
		// The one signal Forge cannot handle: the engine outlives it, and
		// the pidfile and `forge engine stop` clean up.
		{"SIGKILL", []syscall.Signal{syscall.SIGKILL}},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := strings.ReplaceAll(c.name, " ", "-")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, self, "run", "fake", "--run-id", id, "--health-timeout", "60s")
			cmd.Env = append(os.Environ(), "FORGE_TEST_MAIN=1")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			pgid := waitRecords(t, filepath.Join("results", "fake", id), 3, exited)
			// Whatever the test finds, nothing it started outlives it.
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			})
			for i, s := range c.sigs {
				if i > 0 {
					time.Sleep(time.Second)
				}
				_ = cmd.Process.Signal(s)
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("forge run still running 20 s after %s\n%s", c.name, out.String())
			}
			runDir := filepath.Join("results", "fake", id)
			if c.sigs[0] == syscall.SIGKILL {
				if !proc.Alive(pgid) {
					t.Fatal("the engine died with a SIGKILLed Forge; nothing left for engine stop to do")
				}
				if st, _ := rundir.Dir(runDir).ReadState(); st.State != rundir.Incomplete || !strings.Contains(st.Cause, "stopped while the run was running") {
					t.Errorf("state of a run whose Forge was killed: %+v", st)
				}
				if o, e, code := run(t, "engine", "stop", runDir, "--grace", "1s"); code != ExitOK || !strings.Contains(o, "stopped process group") {
					t.Errorf("forge engine stop: exit %d\n%s%s", code, o, e)
				}
			}
			if !gone(pgid) {
				syscall.Kill(-pgid, syscall.SIGKILL)
				t.Fatalf("after %s the engine's process group %d is still alive\n%s", c.name, pgid, out.String())
			}
			if cmd.ProcessState.Success() {
				t.Errorf("forge run exited 0 after %s", c.name)
			}
		})
	}
}
