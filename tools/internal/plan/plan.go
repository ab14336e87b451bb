// Package plan turns one validated experiment into a fully resolved,
// self-contained plan: every default made explicit, every catalog reference
// inlined, the engine's config file and the exact commands of each step
// written out, and a content hash over the whole. Later stages read the plan,
// never the HCL, so a result can always be traced to what was asked for.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/experiment"
)

// Plan is the resolved experiment. Field order is the JSON order.
type Plan struct {
	Schema       string            `json:"schema"`
	Hash         string            `json:"hash"`
	ForgeVersion string            `json:"forge_version"`
	Experiment   string            `json:"experiment"`
	Description  string            `json:"description,omitempty"`
	Rehearsal    *Rehearsal        `json:"rehearsal,omitempty"`
	Source       Source            `json:"source"`
	Hardware     Hardware          `json:"hardware"`
	Model        Model             `json:"model"`
	Engine       Engine            `json:"engine"`
	Memory       experiment.Memory `json:"memory"`
	Workload     Workload          `json:"workload"`
	Sweep        Sweep             `json:"sweep"`
	SLO          *SLO              `json:"slo,omitempty"`
	Eval         *Eval             `json:"eval,omitempty"`
	Cost         *Cost             `json:"cost,omitempty"`
	Placeholders map[string]string `json:"placeholders"`
	Steps        []Step            `json:"steps"`
}

// Rehearsal marks the CPU rehearsal of a study experiment: the study's plan
// with only the model, hardware, counts and these exceptions changed.
type Rehearsal struct {
	Of         string                 `json:"of"`
	Exceptions []experiment.Exception `json:"exceptions"`
}

// Source locates the experiment block the plan came from.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Hardware is the machine and what it costs.
type Hardware struct {
	Name              string   `json:"name"`
	GPU               string   `json:"gpu"`
	Device            string   `json:"device"`
	Count             int      `json:"count"`
	VRAMGiB           float64  `json:"vram_gib"`
	BandwidthGBps     float64  `json:"bandwidth_gbps"`
	BF16TFLOPS        float64  `json:"bf16_tflops"`
	ComputeCapability string   `json:"compute_capability,omitempty"`
	TDPWatts          *float64 `json:"tdp_watts,omitempty"`
	Price             Price    `json:"price"`
	Owned             *Owned   `json:"owned,omitempty"`
}

// Price is a rental price with its source and the day it was read.
type Price struct {
	Provider   string  `json:"provider"`
	USDPerHour float64 `json:"usd_per_hour"`
	Source     string  `json:"source"`
	Observed   string  `json:"observed"`
}

// Owned is the cost of bought hardware.
type Owned struct {
	CapexUSD           float64 `json:"capex_usd"`
	AmortizationMonths int     `json:"amortization_months"`
	Watts              float64 `json:"watts"`
	USDPerKWh          float64 `json:"usd_per_kwh"`
	Source             string  `json:"source"`
	Observed           string  `json:"observed"`
}

// Model is the pinned checkpoint.
type Model struct {
	Name          string        `json:"name"`
	Repo          string        `json:"repo"`
	Revision      string        `json:"revision"`
	Dtype         string        `json:"dtype"`
	ServedName    string        `json:"served_name"`
	License       string        `json:"license,omitempty"`
	Parameters    int64         `json:"parameters"`
	WeightsGiB    float64       `json:"weights_gib"`
	WeightsSource string        `json:"weights_source"`
	Architecture  Architecture  `json:"architecture"`
	Quantization  *Quantization `json:"quantization,omitempty"`
	Path          string        `json:"path,omitempty"`
	Source        *ModelSource  `json:"source,omitempty"`
}

// ModelSource is the pinned archive a converted checkpoint comes from
// (forge model prepare); Path above is where the converted directory lives.
type ModelSource struct {
	Format       string `json:"format"`
	URL          string `json:"url"`
	SHA256       string `json:"sha256"`
	SizeBytes    int64  `json:"size_bytes"`
	Member       string `json:"member"`
	MemberSHA256 string `json:"member_sha256"`
	License      string `json:"license,omitempty"`
}

// Architecture is the transformer's dimensions.
type Architecture struct {
	Layers                int  `json:"layers"`
	Hidden                int  `json:"hidden"`
	Intermediate          int  `json:"intermediate"`
	Heads                 int  `json:"heads"`
	KVHeads               int  `json:"kv_heads"`
	HeadDim               int  `json:"head_dim"`
	Vocab                 int  `json:"vocab"`
	TieEmbeddings         bool `json:"tie_embeddings"`
	MaxPositionEmbeddings *int `json:"max_position_embeddings,omitempty"`
}

// Quantization is the AWQ recipe.
type Quantization struct {
	Method      string       `json:"method"`
	Bits        int          `json:"bits"`
	GroupSize   int          `json:"group_size"`
	ZeroPoint   bool         `json:"zero_point"`
	Version     string       `json:"version"`
	Kernel      string       `json:"kernel"`
	Ignore      []string     `json:"ignore"`
	Format      string       `json:"format"`
	From        string       `json:"from,omitempty"`
	Calibration *Calibration `json:"calibration,omitempty"`
}

// Calibration is the AWQ calibration data.
type Calibration struct {
	Dataset string `json:"dataset"`
	Samples int    `json:"samples"`
	SeqLen  int    `json:"seq_len"`
}

// Engine holds every engine setting with defaults resolved, and for vLLM the
// config file it will be started with.
type Engine struct {
	Kind                 string         `json:"kind"`
	Version              string         `json:"version"`
	Host                 string         `json:"host"`
	Port                 int            `json:"port"`
	MaxModelLen          int            `json:"max_model_len"`
	MaxNumSeqs           int            `json:"max_num_seqs"`
	MaxNumBatchedTokens  int            `json:"max_num_batched_tokens"`
	GPUMemoryUtilization float64        `json:"gpu_memory_utilization"`
	EnablePrefixCaching  bool           `json:"enable_prefix_caching"`
	KVCacheDtype         string         `json:"kv_cache_dtype"`
	Dtype                string         `json:"dtype"`
	Seed                 int            `json:"seed"`
	TensorParallelSize   int            `json:"tensor_parallel_size"`
	KVOvercommit         bool           `json:"kv_overcommit"`
	CPUKVCacheGiB        int            `json:"cpu_kvcache_gib,omitempty"`
	ExtraArgs            []string       `json:"extra_args"`
	ConfigFile           string         `json:"config_file,omitempty"`
	Config               map[string]any `json:"config,omitempty"`
	ConfigYAML           string         `json:"config_yaml,omitempty"`
}

// Workload is what is sent.
type Workload struct {
	Kind         string   `json:"kind"`
	API          string   `json:"api"`
	Seed         int      `json:"seed"`
	InputTokens  *int     `json:"input_tokens,omitempty"`
	OutputTokens *int     `json:"output_tokens,omitempty"`
	IgnoreEOS    bool     `json:"ignore_eos"`
	Dataset      *Dataset `json:"dataset,omitempty"`
}

// Level is one load level of the sweep.
type Level struct {
	Index int     `json:"index"`
	Kind  string  `json:"kind"`
	Value float64 `json:"value"`
}

// Sweep is the ordered list of levels and how each is run.
type Sweep struct {
	Levels          []Level  `json:"levels"`
	PromptsPerLevel int      `json:"prompts_per_level"`
	Warmup          int      `json:"warmup"`
	Burstiness      float64  `json:"burstiness"`
	MaxConcurrency  *int     `json:"max_concurrency,omitempty"`
	MaxDurationS    *float64 `json:"max_duration_s,omitempty"`
	// Search, when set, makes Levels the start and the max of a find-max
	// search (bench.FindMax) rather than the levels to run.
	Search *Search `json:"search,omitempty"`
}

// Search is a find-max search's bounds (defaults written in).
type Search struct {
	Kind      string   `json:"kind"`
	Start     float64  `json:"start"`
	Max       float64  `json:"max"`
	Step      float64  `json:"step"`
	MaxProbes int      `json:"max_probes"`
	BudgetS   *float64 `json:"budget_s,omitempty"`
}

// SLO thresholds in milliseconds.
type SLO struct {
	TTFTP99Ms *float64 `json:"ttft_p99_ms,omitempty"`
	TPOTP99Ms *float64 `json:"tpot_p99_ms,omitempty"`
	ITLP99Ms  *float64 `json:"itl_p99_ms,omitempty"`
	E2ELP99Ms *float64 `json:"e2el_p99_ms,omitempty"`
}

// Eval is the quality evaluation.
type Eval struct {
	Baseline      string `json:"baseline,omitempty"`
	Limit         *int   `json:"limit,omitempty"`
	NumConcurrent int    `json:"num_concurrent"`
	Tasks         []Task `json:"tasks"`
	// Tokenizer is what lm-eval counts and sends tokens with.
	Tokenizer EvalTokenizer `json:"tokenizer"`
	// MaxLength is lm-eval's max_length: the engine's max_model_len less
	// the one token a log-likelihood request generates, so that the
	// longest prompt lm-eval keeps is one the server accepts.
	MaxLength int `json:"max_length"`
	// PromptLogprobsGiB is the memory vLLM takes, outside what its
	// profiling reserves, to return the log-probabilities of one prompt
	// chunk of max_num_batched_tokens tokens (experiment.PromptLogprobsGiB);
	// HeadroomGiB is what gpu_memory_utilization leaves free on the GPU.
	// forge validate fails when the first does not fit in the second.
	PromptLogprobsGiB float64 `json:"prompt_logprobs_gib"`
	HeadroomGiB       float64 `json:"headroom_gib,omitempty"`
}

// EvalTokenizer is the tokenizer lm-eval loads: the pinned model's own files
// (a local checkpoint directory, or the hub repository at the pinned
// revision), adding BOS as the model's tokenizer does. lm-eval sends token
// ids (tokenized_requests), which the server takes as they are, so the
// context length lm-eval slices the echoed log-probabilities by is the one
// the server scored, BOS included; prompts sent as text would get a BOS
// from the server that lm-eval did not count (docs/methodology.md).
type EvalTokenizer struct {
	Backend  string `json:"backend"`
	Source   string `json:"source"`
	Revision string `json:"revision,omitempty"`
	AddBOS   bool   `json:"add_bos_token"`
}

// LimitOf is the documents task t is limited to: its own limit, else the
// eval block's; nil for the whole task.
func (e *Eval) LimitOf(t Task) *int {
	if t.Limit != nil {
		return t.Limit
	}
	return e.Limit
}

// Task is one lm-eval task.
type Task struct {
	Name   string `json:"name"`
	Shots  int    `json:"shots"`
	Metric string `json:"metric"`
	Filter string `json:"filter,omitempty"`
	Limit  *int   `json:"limit,omitempty"`
	// Subjects is an MMLU subset (all subjects when empty).
	Subjects []string   `json:"subjects,omitempty"`
	Data     []TaskData `json:"data,omitempty"`
}

// TaskData is a pinned file a task reads: role "test" (the scored
// documents) or "fewshot" (where the shots come from).
type TaskData struct {
	Role    string  `json:"role"`
	Dataset Dataset `json:"dataset"`
}

// Cost is what to price and compare.
type Cost struct {
	Formula           string    `json:"formula"`
	Utilization       []float64 `json:"utilization"`
	BudgetUSDPerMonth *float64  `json:"budget_usd_per_month,omitempty"`
	// ExpectedTokensPerMonth is the volume the user expects to serve;
	// the report prices it each way.
	ExpectedTokensPerMonth *float64 `json:"expected_tokens_per_month,omitempty"`
	Ops                    *Ops     `json:"ops,omitempty"`
	Compare                []API    `json:"compare"`
}

// Ops is the monthly cost of running the server beyond one GPU's rent.
type Ops struct {
	EngineerHoursPerMonth float64 `json:"engineer_hours_per_month"`
	USDPerEngineerHour    float64 `json:"usd_per_engineer_hour"`
	RedundantGPUs         int     `json:"redundant_gpus"`
	Source                string  `json:"source,omitempty"`
}

// API is a commercial endpoint's price.
type API struct {
	Name                string   `json:"name"`
	Provider            string   `json:"provider"`
	Model               string   `json:"model"`
	BaseURL             string   `json:"base_url"`
	USDPer1MInput       float64  `json:"usd_per_1m_input"`
	USDPer1MOutput      float64  `json:"usd_per_1m_output"`
	USDPer1MCachedInput *float64 `json:"usd_per_1m_cached_input,omitempty"`
	Source              string   `json:"source"`
	Observed            string   `json:"observed"`
	Scores              []Score  `json:"scores"`
	Unscored            string   `json:"unscored,omitempty"`
	// Tokenizer is how the API counts billed tokens (textcount names);
	// "" when the catalog does not say. TokenizerFactor scales that count
	// (an estimate, from TokenizerSource); 0 means 1.
	Tokenizer       string  `json:"tokenizer,omitempty"`
	TokenizerFactor float64 `json:"tokenizer_factor,omitempty"`
	TokenizerSource string  `json:"tokenizer_source,omitempty"`
}

// Score is an API model's score on one of the study's tasks, with the
// settings it was measured under (experiment.Score).
type Score struct {
	Task     string  `json:"task"`
	Percent  float64 `json:"percent"`
	Shots    int     `json:"shots"`
	Metric   string  `json:"metric"`
	Format   string  `json:"format"`
	Origin   string  `json:"origin"`
	Source   string  `json:"source"`
	Observed string  `json:"observed"`
	Note     string  `json:"note,omitempty"`
}

// Step is one command of the run. Argv is what runs without Nix (pinned
// project-local venvs, bin/forge); Nix, when set, is the same command inside
// the flake's dev shell, used when `nix` is on PATH.
type Step struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Argv        []string `json:"argv"`
	Nix         []string `json:"nix,omitempty"`
	Env         []string `json:"env,omitempty"`
	Background  bool     `json:"background,omitempty"`
}

// CostFormula is the headline formula, carried into every plan and cost file.
const CostFormula = "usd_per_1m_tokens = gpu_hourly_usd * 1e6 / (3600 * throughput_tokens_per_s * utilization)"

// Encode renders the plan as canonical JSON: fixed field order, two-space
// indent, trailing newline, HTML left unescaped, and the hash filled in over
// the same rendering with an empty hash. The output is byte-identical for the
// same inputs.
func Encode(p *Plan) ([]byte, error) {
	p.Hash = ""
	raw, err := marshal(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	p.Hash = "sha256:" + hex.EncodeToString(sum[:])
	return marshal(p)
}

func marshal(p *Plan) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Validate checks encoded plan JSON against schemas/plan.schema.json.
func Validate(data []byte) error {
	findings, err := schemas.ValidateJSON(schemas.Plan, data)
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		var b bytes.Buffer
		for _, f := range findings {
			fmt.Fprintf(&b, "\n  %s: %s", f.Pointer, f.Message)
		}
		return fmt.Errorf("plan does not match %s:%s", schemas.Plan, b.String())
	}
	return nil
}

func forgeVersion() string { return buildinfo.Version }
