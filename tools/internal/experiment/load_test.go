package experiment

import (
	"math"
	"os"
	"strings"
	"testing"
)

func catalogSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/catalog/catalog.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const baseExperiment = `
experiment "e" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 16
    gpu_memory_utilization = 0.9
    %s
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt
  }
  sweep {
    concurrency       = [1, 4]
    prompts_per_level = 8
  }
  %s
}
`

func load(t *testing.T, src string, opts Options) (*Config, []string) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = fixtureNow
	}
	cfg, diags := LoadSource(map[string]string{"catalog.hcl": catalogSource(t), "test.hcl": src}, opts)
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.Summary+": "+d.Detail)
	}
	return cfg, msgs
}

// TestDecode checks what the decoder builds from inline HCL.
func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		opts  Options
		check func(t *testing.T, e *Experiment)
	}{
		{
			name: "defaults resolved",
			src:  strings.Replace(strings.Replace(baseExperiment, "%s", "", 1), "%s", "", 1),
			check: func(t *testing.T, e *Experiment) {
				if e.HW == nil || e.HW.Name != "a5000" || e.M == nil || e.M.Name != "llama8b_awq" {
					t.Fatalf("references not resolved: %+v %+v", e.HW, e.M)
				}
				en := e.Engine
				if en.TP() != 1 || en.ListenPort() != 8000 || en.KVDtype() != "auto" || en.PrefixCaching() || en.BatchedTokens(e.HW) != 2048 {
					t.Errorf("engine defaults: tp=%d port=%d kv=%s prefix=%v batched=%d", en.TP(), en.ListenPort(), en.KVDtype(), en.PrefixCaching(), en.BatchedTokens(e.HW))
				}
				if e.Workload.DS == nil || e.Workload.DS.Name != "sharegpt" || e.Workload.APIKind() != "completions" {
					t.Errorf("workload: %+v", e.Workload)
				}
				if got := e.Sweep.Concurrency; len(got) != 2 || got[0] != 1 || got[1] != 4 {
					t.Errorf("sweep: %v", got)
				}
			},
		},
		{
			name: "variables, locals and functions",
			src: `variable "levels" { default = [1, 2] }
locals {
  base  = 4
  steps = concat(var.levels, [local.base * 2])
  name  = upper("x")
}
` + strings.Replace(strings.Replace(strings.Replace(baseExperiment, "[1, 4]", "local.steps", 1), "%s", "", 1), "%s", "", 1),
			check: func(t *testing.T, e *Experiment) {
				if got := e.Sweep.Concurrency; len(got) != 3 || got[2] != 8 {
					t.Errorf("concurrency from locals = %v, want [1 2 8]", got)
				}
			},
		},
		{
			name: "--var overrides a default",
			src:  `variable "n" { default = 8 }` + strings.Replace(strings.Replace(strings.Replace(baseExperiment, "prompts_per_level = 8", "prompts_per_level = var.n", 1), "%s", "", 1), "%s", "", 1),
			opts: Options{Vars: map[string]string{"n": "32"}},
			check: func(t *testing.T, e *Experiment) {
				if e.Sweep.PromptsPerLevel != 32 {
					t.Errorf("prompts_per_level = %d, want 32", e.Sweep.PromptsPerLevel)
				}
			},
		},
		{
			name: "catalog attributes usable in expressions",
			src:  strings.Replace(strings.Replace(strings.Replace(baseExperiment, "max_num_seqs           = 16", "max_num_seqs = floor(hardware.a5000.vram_gib)", 1), "%s", "", 1), "%s", "", 1),
			check: func(t *testing.T, e *Experiment) {
				if e.Engine.MaxNumSeqs != 24 {
					t.Errorf("max_num_seqs = %d, want 24", e.Engine.MaxNumSeqs)
				}
			},
		},
		{
			name: "cost compare resolved in order",
			src: strings.Replace(strings.Replace(baseExperiment, "%s", "", 1), "%s", `cost {
    utilization = [1.0, 0.8]
    compare     = [api.gpt_4o]
  }`, 1),
			check: func(t *testing.T, e *Experiment) {
				if len(e.Cost.APIs) != 1 || e.Cost.APIs[0].Name != "gpt_4o" || e.Cost.APIs[0].USDPer1MOutput != 10 {
					t.Errorf("compare: %+v", e.Cost.APIs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, msgs := load(t, tt.src, tt.opts)
			if len(msgs) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", strings.Join(msgs, "\n"))
			}
			e := cfg.ExperimentByName("e")
			if e == nil {
				t.Fatal("experiment e not decoded")
			}
			tt.check(t, e)
		})
	}
}

// TestDecodeErrors checks that bad input is reported with the right message.
func TestDecodeErrors(t *testing.T) {
	exp := func(engine, extra string) string {
		return strings.Replace(strings.Replace(baseExperiment, "%s", engine, 1), "%s", extra, 1)
	}
	tests := []struct {
		name string
		src  string
		opts Options
		want []string // substrings, each must appear in some diagnostic
	}{
		{"undeclared var override", exp("", ""), Options{Vars: map[string]string{"nope": "1"}}, []string{"Undeclared variable"}},
		{"variable without default", `variable "v" {}` + exp("", ""), Options{}, []string{`Variable "v" has no default`}},
		{"typo in reference suggests", strings.Replace(exp("", ""), "hardware.a5000", "hardware.a500", 1), Options{}, []string{`Did you mean "a5000"?`}},
		{"undeclared root variable", strings.Replace(exp("", ""), "hardware.a5000", "hardwar.a5000", 1), Options{}, []string{"Wrong kind of reference", `Did you mean "hardware"?`}},
		{"zero-shot negative", exp("", `eval {
    task "mmlu" {
      shots  = -1
      metric = "acc"
    }
  }`), Options{}, []string{"shots must not be negative"}},
		{"eval without tasks", exp("", "eval {}"), Options{}, []string{"No eval tasks"}},
		{"duplicate api in compare", exp("", `cost {
    utilization = [1.0]
    compare     = [api.gpt_4o, api.gpt_4o]
  }`), Options{}, []string{"Duplicate API in compare"}},
		{"compare not a list", exp("", `cost {
    utilization = [1.0]
    compare     = api.gpt_4o
  }`), Options{}, []string{"Invalid compare list"}},
		{"fp8 fits where auto does not", strings.Replace(exp("kv_cache_dtype = \"fp8\"", ""), "max_num_seqs           = 16", "max_num_seqs = 64", 1), Options{}, nil},
		{"auto KV does not fit 64 × 2048", strings.Replace(exp("", ""), "max_num_seqs           = 16", "max_num_seqs = 64", 1), Options{}, []string{"KV cache too small", "Lower max_num_seqs to"}},
		{"overcommit accepted", strings.Replace(exp("kv_overcommit = true", ""), "max_num_seqs           = 16", "max_num_seqs = 64", 1), Options{}, nil},
		{"invalid block label", `hardware "9bad" {}`, Options{}, []string{"Invalid hardware name"}},
		{"duplicate names across files", `api "gpt_4o" {
  provider = "x"
  model = "x"
  base_url = "https://x"
  usd_per_1m_input = 1
  usd_per_1m_output = 1
  source = "x"
  observed = "2026-01-01"
}`, Options{}, []string{`Duplicate api "gpt_4o"`, "already declared at catalog.hcl:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, msgs := load(t, tt.src, tt.opts)
			all := strings.Join(msgs, "\n")
			if tt.want == nil && len(msgs) > 0 {
				t.Fatalf("want no diagnostics, got:\n%s", all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("want a diagnostic containing %q, got:\n%s", w, all)
				}
			}
		})
	}
}

// TestMemory checks the VRAM model against hand-computed figures.
func TestMemory(t *testing.T) {
	cfg, msgs := load(t, strings.Replace(strings.Replace(baseExperiment, "%s", "", 1), "%s", "", 1), Options{})
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	bf16, awq := cfg.ModelByName("llama8b"), cfg.ModelByName("llama8b_awq")
	linear, other := bf16.Architecture.ParamCounts()
	// Llama 3.1 8B: 32 layers × (2·4096² + 2·4096·1024 + 3·4096·14336) linear
	// parameters; 2·128256·4096 embedding + lm_head, 65·4096 norm weights.
	if linear != 6_979_321_856 || other != 1_050_939_392 || linear+other != 8_030_261_248 {
		t.Errorf("params: linear %d other %d", linear, other)
	}
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"bf16 weights GiB", mustWeights(bf16) / gib, 8_030_261_248 * 2.0 / gib},
		// AWQ: 0.5 B per linear weight + (2 B scale + 0.5 B zero) per 128 weights; the rest fp16.
		{"awq weights GiB", mustWeights(awq) / gib, (6_979_321_856*0.5 + 6_979_321_856/128.0*2.5 + 1_050_939_392*2) / gib},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	e := cfg.ExperimentByName("e")
	if got := KVBytesPerToken(bf16, e.Engine); got != 128*1024 {
		t.Errorf("KV bytes/token bf16 = %d, want 131072 (2·32·8·128·2)", got)
	}
	fp8 := *e.Engine
	kv := "fp8"
	fp8.KVCacheDtype = &kv
	if got := KVBytesPerToken(bf16, &fp8); got != 64*1024 {
		t.Errorf("KV bytes/token fp8 = %d, want 65536", got)
	}
	mem := EstimateMemory(e.HW, awq, e.Engine)
	if math.Abs(mem.BudgetGiB-21.6) > 1e-9 {
		t.Errorf("budget = %v, want 24 × 0.9", mem.BudgetGiB)
	}
	if mem.KVBlocks*BlockSize != mem.KVTokens || mem.KVTokens <= 0 {
		t.Errorf("KV tokens %d not a whole number of %d-token blocks (%d)", mem.KVTokens, BlockSize, mem.KVBlocks)
	}
	left := (mem.BudgetGiB - mem.WeightsGiB - mem.OverheadGiB) * gib
	if got := float64(mem.KVBlocks); got != math.Floor(left/float64(131072*BlockSize)) {
		t.Errorf("KV blocks = %v, want floor(%v / 2 MiB)", got, left)
	}
	if mem.RequiredTokens != 16*2048 || mem.FullLengthSeqs != mem.KVTokens/2048 {
		t.Errorf("required %d full %d", mem.RequiredTokens, mem.FullLengthSeqs)
	}
}

func mustWeights(m *Model) float64 {
	w, _ := m.WeightBytes()
	return w
}

// TestVersionAtLeast covers the release comparison behind the flag table.
func TestVersionAtLeast(t *testing.T) {
	tests := []struct {
		v, min string
		want   bool
	}{
		{"0.11.0", "0.11.0", true}, {"0.11.2", "0.11.0", true}, {"0.10.2", "0.11.0", false},
		{"1.0.0", "0.17.0", true}, {"0.9.10", "0.9.2", true}, {"0.11.0.post1", "0.11.0", true},
		{"", "0.1.0", false}, {"latest", "0.1.0", false},
	}
	for _, tt := range tests {
		if got := versionAtLeast(tt.v, tt.min); got != tt.want {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", tt.v, tt.min, got, tt.want)
		}
	}
}
