package twin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func testConfig() Config {
	return Config{LinearParams: 7e9, OtherParams: 1e9, WeightBytes: 16e9, Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Vocab: 128256,
		BandwidthGBps: 1000, BF16TFLOPS: 100, TP: 1, MaxNumSeqs: 4, MaxBatchedTokens: 512, MaxModelLen: 2048, KVBlocks: 1000,
		KVBytesPerToken: 131072, Eff: DefaultEfficiency}
}

// TestScheduler checks the vLLM V1 rules on small cases.
func TestScheduler(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(*Config)
		reqs  [][2]int // prompt, max tokens
		check func(t *testing.T, e *Engine, seqs []*Seq, steps [][]int)
	}{
		{
			name: "chunked prefill fills the token budget, decodes first",
			reqs: [][2]int{{300, 3}, {300, 3}},
			check: func(t *testing.T, e *Engine, seqs []*Seq, steps [][]int) {
				// step 1: 300 + 212 of the second (budget 512); step 2: decode of #1 + 88 of #2.
				if got := fmt.Sprint(steps[0]); got != "[512]" {
					t.Errorf("step 1 tokens %s", got)
				}
				if len(seqs[0].Tokens) != 3 || len(seqs[1].Tokens) != 3 {
					t.Errorf("outputs %d %d", len(seqs[0].Tokens), len(seqs[1].Tokens))
				}
				if seqs[0].Tokens[0] >= seqs[1].Tokens[0] {
					t.Error("the first request should get its first token first")
				}
			},
		},
		{
			name: "max_num_seqs bounds the running set",
			reqs: [][2]int{{10, 5}, {10, 5}, {10, 5}, {10, 5}, {10, 5}, {10, 5}},
			check: func(t *testing.T, e *Engine, seqs []*Seq, steps [][]int) {
				if seqs[4].Admitted <= seqs[0].Admitted {
					t.Error("the fifth request was admitted with the first four")
				}
			},
		},
		{
			name: "preemption by recompute when blocks run out",
			cfg:  func(c *Config) { c.KVBlocks = 6 },
			reqs: [][2]int{{40, 30}, {40, 30}},
			check: func(t *testing.T, e *Engine, seqs []*Seq, steps [][]int) {
				if e.Stats().Preemptions == 0 {
					t.Error("no preemption with 6 blocks for two 70-token sequences")
				}
				for _, s := range seqs {
					if len(s.Tokens) != 30 || !s.Done() {
						t.Errorf("seq %d: %d tokens, done %v", s.ID, len(s.Tokens), s.Done())
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := NewEngine(cfg)
			var seqs []*Seq
			for _, r := range tt.reqs {
				seqs = append(seqs, e.Add(r[0], r[1]))
			}
			var steps [][]int
			for i := 0; i < 10000 && !e.Idle(); i++ {
				dur, _ := e.Step()
				if dur <= 0 {
					t.Fatal("a busy engine made no progress")
				}
				steps = append(steps, []int{e.stats.BatchedTokensLastStep})
			}
			if !e.Idle() {
				t.Fatal("engine never finished")
			}
			if s := e.Stats(); s.KVUsage != 0 || s.GenerationTokens == 0 {
				t.Errorf("after the run: %+v", s)
			}
			tt.check(t, e, seqs, steps)
		})
	}
}

// TestStepTimeRoofline: decode is memory-bound (weights once per step), so
// batch 1 and batch 8 cost about the same; a long prefill is compute-bound.
func TestStepTimeRoofline(t *testing.T) {
	c := testConfig()
	one := c.StepSeconds(Batch{DecodeCtx: []int{100}, Logits: 1})
	eight := c.StepSeconds(Batch{DecodeCtx: []int{100, 100, 100, 100, 100, 100, 100, 100}, Logits: 8})
	wantMem := 16e9/(1000e9*c.Eff.BF16MBU) + c.Eff.StepOverheadMs/1e3 + 32*c.Eff.LayerOverheadUs/1e6
	if d := one - wantMem; d < 0 || d > 0.001 {
		t.Errorf("batch-1 step %v, want about %v (weights / bandwidth)", one, wantMem)
	}
	if eight > one*1.1 {
		t.Errorf("batch 8 (%v) should cost about batch 1 (%v)", eight, one)
	}
	prefill := c.StepSeconds(Batch{PrefillLen: []int{2048}, PrefillCtx: []int{0}, Logits: 1})
	compute := 2 * 7e9 * 2048 / (100e12 * c.Eff.BF16MFU)
	if prefill < compute {
		t.Errorf("prefill %v below its compute time %v", prefill, compute)
	}
}

// TestServerFaults: injected faults reach a client as the failures they model.
func TestServerFaults(t *testing.T) {
	for _, tt := range []struct{ spec, want string }{{"error=1", "500"}, {"malformed=1", "broken"}} {
		f, err := ParseFaults(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig()
		run := NewRunner(cfg, 100)
		ctx, cancel := context.WithCancel(context.Background())
		go run.Run(ctx)
		srv := httptest.NewServer(NewServer(run, ServerConfig{Model: "m", VLLMVersion: "0.11.0", Faults: f}).Handler())
		resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"hello there","max_tokens":4,"stream":true}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(fmt.Sprint(resp.StatusCode)+string(body), tt.want) {
			t.Errorf("%s: status %d body %q", tt.spec, resp.StatusCode, body)
		}
		srv.Close()
		cancel()
	}
	for _, bad := range []string{"error=2", "nope=0.1", "stall=0.1:xs", "error=0.6,cut=0.6"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
}

// TestServerAPI: non-streaming answers carry usage; unknown models are 404.
func TestServerAPI(t *testing.T) {
	run := NewRunner(testConfig(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go run.Run(ctx)
	srv := httptest.NewServer(NewServer(run, ServerConfig{Model: "m", VLLMVersion: "0.11.0"}).Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"12345678"}],"max_tokens":5}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out.Usage.CompletionTokens != 5 {
		t.Errorf("usage %+v", out.Usage)
	}
	resp, _ = http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"x","prompt":"a"}`))
	if resp.StatusCode != 404 {
		t.Errorf("unknown model: %d", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"a","max_tokens":99999}`))
	if resp.StatusCode != 400 {
		t.Errorf("over-long request: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
