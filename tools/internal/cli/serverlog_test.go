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

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// startFixture lays out a working directory with one CPU experiment on
// vLLM and a fake `.venv/serve-cpu/bin/vllm` that prints a recorded vLLM
// failure log and exits 1, as the real one does when it cannot start.
func startFixture(t *testing.T, failureLog string, port int) {
	t.Helper()
	dir := t.TempDir()
	recorded, err := filepath.Abs(filepath.Join("..", "engine", "testdata", failureLog))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	hcl := fmt.Sprintf(`
hardware "box" {
  gpu            = "CPU only"
  device         = "cpu"
  vram_gib       = 16
  bandwidth_gbps = 20
  bf16_tflops    = 0.4
  price {
    provider     = "fixture"
    usd_per_hour = 0.1
    source       = "https://example.com/pricing"
    observed     = "2026-11-01"
  }
}

model "tiny" {
  repo     = "org/tiny"
  revision = "%s"
  dtype    = "bfloat16"
  source "gguf" {
    url           = "https://example.com/tiny.whl"
    sha256        = "%s"
    size_bytes    = 1
    member        = "tiny.gguf"
    member_sha256 = "%s"
  }
  architecture {
    layers       = 2
    hidden       = 64
    intermediate = 128
    heads        = 2
    kv_heads     = 1
    head_dim     = 32
    vocab        = 1000
  }
}

experiment "fails" {
  hardware = hardware.box
  model    = model.tiny
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 512
    max_num_seqs           = 2
    gpu_memory_utilization = 0.9
    cpu_kvcache_gib        = 1
    port                   = %d
  }
  workload "random" {
    input_tokens  = 16
    output_tokens = 16
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 2
  }
}
`, strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64), port)
	if err := os.MkdirAll("experiments", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("experiments", "fails.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(".venv", "serve-cpu", "bin", "vllm")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\ncat %q\nexit 1\n", recorded)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestRunStartFailure: a vLLM that cannot start gives an error naming the
// cause read from its log, the log file and line, and what to do; a port
// already taken is reported before anything starts.
func TestRunStartFailure(t *testing.T) {
	for _, c := range []struct {
		name, log string
		holdPort  bool
		want      []string
	}{
		{"bad flag", "vllm-0.11.0-cpu-fail-badflag.log", false, []string{"vllm did not start", "bad-argument", "server.log:", "unrecognized arguments", "what to do:"}},
		{"out of memory", "vllm-0.11.0-cpu-fail-oom.log", false, []string{"out-of-memory", "server.log:", "Cannot allocate memory"}},
		{"port in use in the log", "vllm-0.11.0-cpu-fail-port.log", false, []string{"port-in-use", "Address already in use"}},
		{"port held before start", "vllm-0.11.0-cpu-fail-port.log", true, []string{"already in use", "set port in the engine block"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			if c.holdPort {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
			}
			startFixture(t, c.log, port)
			var out, errb bytes.Buffer
			err := Run(context.Background(), Env{Stdout: &out, Stderr: &errb},
				[]string{"run", "fails", "--experiments", "experiments", "--results", "results", "--run-id", "r1", "--health-timeout", "60s"})
			if ExitCode(err) != ExitProblems {
				t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitProblems)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, statErr := os.Stat(filepath.Join("results", "fails", "r1", "plan.json")); statErr != nil {
				t.Errorf("the plan written before the start is gone: %v", statErr)
			}
		})
	}
}

// TestParityVerdict: a count that differs fails the run (the clients did not
// send the same work); timing rows outside tolerance are reported, saying
// whether the clients' overheads above the server agree.
func TestParityVerdict(t *testing.T) {
	count := vllmbench.Row{Level: "concurrency-1", Metric: "total_input_tokens", Forge: 100, VLLM: 99}
	timing := vllmbench.Row{Level: "concurrency-2", Metric: "ttft_ms.mean", Forge: 300, VLLM: 200}
	overhead := vllmbench.Row{Level: "concurrency-2", Metric: "ttft_ms.mean − server", Forge: 9, VLLM: 2, Unit: "ms"}
	for _, c := range []struct {
		name           string
		counts, timing []vllmbench.Row
		wantErr        string
		wantMsg        string
	}{
		{"all within", nil, nil, "", ""},
		{"server speed only", nil, []vllmbench.Row{timing}, "", "overhead over the server's own metrics agrees"},
		{"client overhead differs", nil, []vllmbench.Row{timing, overhead}, "", "1 of them client overheads"},
		{"count differs", []vllmbench.Row{count}, []vllmbench.Row{timing}, "total_input_tokens: Forge 100, vLLM 99", "1 timing comparison"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var errb bytes.Buffer
			err := pipeline.ParityVerdict(pipeline.Out{Stdout: &bytes.Buffer{}, Stderr: &errb}, "run", c.counts, c.timing)
			if (err == nil) != (c.wantErr == "") || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want %q", err, c.wantErr)
			}
			if c.wantMsg == "" && errb.Len() > 0 || !strings.Contains(errb.String(), c.wantMsg) {
				t.Errorf("stderr %q, want %q", errb.String(), c.wantMsg)
			}
		})
	}
}
