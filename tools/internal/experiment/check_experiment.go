package experiment

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/hashicorp/hcl/v2"
)

// knownTasks are the lm-eval tasks Forge checks metric names for.
var knownTasks = map[string][]string{
	"mmlu":      {"acc"},
	"gsm8k":     {"exact_match"},
	"hellaswag": {"acc", "acc_norm"},
}

// MMLUSubjects are MMLU's 57 subjects, as its file and lm-eval task names
// spell them; an mmlu task's subjects must be among them.
var MMLUSubjects = []string{
	"abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
	"college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
	"college_medicine", "college_physics", "computer_security", "conceptual_physics",
	"econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
	"global_facts", "high_school_biology", "high_school_chemistry",
	"high_school_computer_science", "high_school_european_history", "high_school_geography",
	"high_school_government_and_politics", "high_school_macroeconomics",
	"high_school_mathematics", "high_school_microeconomics", "high_school_physics",
	"high_school_psychology", "high_school_statistics", "high_school_us_history",
	"high_school_world_history", "human_aging", "human_sexuality", "international_law",
	"jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
	"medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
	"philosophy", "prehistory", "professional_accounting", "professional_law",
	"professional_medicine", "professional_psychology", "public_relations", "security_studies",
	"sociology", "us_foreign_policy", "virology", "world_religions",
}

// TaskData names the catalog datasets each known task reads offline (forge
// eval writes lm-eval task definitions over them): the scored split, and
// the split the shots are drawn from when it is another file. MMLU is one
// directory holding both (test/ and dev/).
var TaskData = map[string]struct{ Test, Fewshot string }{
	"mmlu":      {Test: "mmlu"},
	"gsm8k":     {Test: "gsm8k_test", Fewshot: "gsm8k_train"},
	"hellaswag": {Test: "hellaswag_val"},
}

func (k *checker) experiment(c *Config, e *Experiment) {
	d := e.DefRange
	if e.Engine == nil {
		k.errf(d.Ptr(), "Missing engine", "experiment %q needs an engine \"vllm\" { … } (or \"twin\") block.", e.Name)
	} else {
		k.engine(e)
	}
	if e.Workload == nil {
		k.errf(d.Ptr(), "Missing workload", "experiment %q needs a workload block (sharegpt, random or jsonl).", e.Name)
	} else {
		k.workload(e)
	}
	if e.Sweep == nil {
		k.errf(d.Ptr(), "Missing sweep", "experiment %q needs a sweep { concurrency = [...] prompts_per_level = N } block.", e.Name)
	} else {
		k.sweep(e.Sweep)
		k.search(e)
	}
	if s := e.SLO; s != nil {
		for _, f := range []struct {
			n string
			v *float64
		}{{"ttft_p99_ms", s.TTFTP99Ms}, {"tpot_p99_ms", s.TPOTP99Ms}, {"itl_p99_ms", s.ITLP99Ms}, {"e2el_p99_ms", s.E2ELP99Ms}} {
			if f.v != nil {
				k.positive(s.Body, s.DefRange, f.n, *f.v)
			}
		}
	}
	if e.Eval != nil {
		k.eval(c, e)
	}
	if e.Cost != nil {
		k.cost(e.Cost)
	}
	if e.Rehearsal != nil {
		k.rehearsal(c, e)
	}
}

func (k *checker) engine(e *Experiment) {
	en := e.Engine
	b, d := en.Body, en.DefRange
	k.oneOf(b, d, "kind", en.Kind, []string{"vllm", "twin"})
	switch v := en.VersionOr(); {
	case v == "" && en.Kind == "vllm":
		k.errf(d.Ptr(), "Missing engine version", "engine \"vllm\" needs version = \"X.Y.Z\", the exact vLLM release to run.")
	case v != "" && !exactVersion.MatchString(v):
		k.errf(at(b, "version", d), "Engine version is not exact",
			"version = %q must be an exact release such as \"0.11.0\"; ranges, \"latest\" and partial versions make results irreproducible.", v)
	}
	k.positive(b, d, "max_model_len", float64(en.MaxModelLen))
	k.positive(b, d, "max_num_seqs", float64(en.MaxNumSeqs))
	if en.MaxNumBatchedTokens != nil && *en.MaxNumBatchedTokens < en.MaxNumSeqs {
		k.errf(at(b, "max_num_batched_tokens", d), "Token budget below max_num_seqs",
			"max_num_batched_tokens (%d) must be at least max_num_seqs (%d): every running sequence needs one token per step.", *en.MaxNumBatchedTokens, en.MaxNumSeqs)
	}
	if u := en.GPUMemoryUtilization; u <= 0 || u > 1 {
		k.errf(at(b, "gpu_memory_utilization", d), "Invalid memory fraction", "gpu_memory_utilization is a fraction of VRAM in (0, 1], got %v.", u)
	}
	k.oneOf(b, d, "kv_cache_dtype", en.KVDtype(), []string{"auto", "fp8", "fp8_e4m3", "fp8_e5m2"})
	k.oneOf(b, d, "dtype", en.ActDtype(), []string{"auto", "bfloat16", "float16", "float32"})
	if en.SeedOr0() < 0 {
		k.errf(at(b, "seed", d), "Invalid seed", "seed must not be negative.")
	}
	if p := en.ListenPort(); p < 1 || p > 65535 {
		k.errf(at(b, "port", d), "Invalid port", "port must be in 1..65535, got %d.", p)
	}
	tp := en.TP()
	if tp < 1 {
		k.errf(at(b, "tensor_parallel_size", d), "Invalid tensor parallel size", "tensor_parallel_size must be at least 1.")
		return
	}
	h, m := e.HW, e.M
	if h != nil && tp > h.GPUCount() {
		k.errf(at(b, "tensor_parallel_size", d), "Not enough GPUs", "tensor_parallel_size = %d but hardware %q has %d GPU(s).", tp, h.Name, h.GPUCount())
	}
	if m != nil && m.Architecture != nil && m.Architecture.KVHeads%tp != 0 && tp%m.Architecture.KVHeads != 0 {
		k.errf(at(b, "tensor_parallel_size", d), "Heads do not split", "tensor_parallel_size = %d does not divide the model's %d KV heads.", tp, m.Architecture.KVHeads)
	}
	if m != nil && m.Architecture != nil && m.Architecture.MaxPositionEmbeddings != nil && en.MaxModelLen > *m.Architecture.MaxPositionEmbeddings {
		k.errf(at(b, "max_model_len", d), "Context longer than the model's",
			"max_model_len = %d exceeds the model's max_position_embeddings = %d.", en.MaxModelLen, *m.Architecture.MaxPositionEmbeddings)
	}
	if m != nil {
		k.checkAWQKernel(m.Quantization, h, at(e.Body, "hardware", e.DefRange))
	}
	if m != nil && m.Quantization != nil && m.Quantization.Kernel == "awq" && en.ActDtype() == "bfloat16" {
		k.errf(at(b, "dtype", d), "AWQ kernel needs float16", "the awq kernel computes in float16 only; set dtype = \"float16\" or \"auto\".")
	}
	k.checkExtraArgs(en, m, h)
	if en.CPUKVCacheGiB != nil && *en.CPUKVCacheGiB < 1 {
		k.errf(at(b, "cpu_kvcache_gib", d), "Invalid KV cache size", "cpu_kvcache_gib is whole GiB (VLLM_CPU_KVCACHE_SPACE) and must be at least 1, got %d.", *en.CPUKVCacheGiB)
	}
	if en.CPUKVCacheGiB != nil && (h == nil || h.DeviceKind() != "cpu") {
		k.errf(at(b, "cpu_kvcache_gib", d), "CPU setting on a GPU", "cpu_kvcache_gib applies to vLLM's CPU build only; the hardware is not device = \"cpu\". Remove it, or use CPU hardware.")
	}
	if h != nil && h.DeviceKind() == "cpu" {
		if m != nil && m.Architecture != nil && en.MaxModelLen > 0 && en.CPUKVCache() >= 1 {
			k.cpuKV(e, m.Architecture)
		}
		return
	}
	if h != nil && m != nil && m.Architecture != nil && h.VRAMGiB > 0 && en.MaxModelLen > 0 && en.MaxNumSeqs > 0 && en.GPUMemoryUtilization > 0 && en.GPUMemoryUtilization <= 1 {
		k.memory(e, EstimateMemory(h, m, en))
	}
}

// cpuKV checks that vLLM's CPU KV cache holds one max_model_len sequence;
// vLLM refuses to start otherwise. Bytes per token: K and V for every layer
// and KV head, in the activation dtype (2 bytes for bfloat16/float16).
func (k *checker) cpuKV(e *Experiment, a *Architecture) {
	en := e.Engine
	per := int64(2 * a.Layers * a.KVHeads * a.HeadDim * 2)
	if en.ActDtype() == "float32" {
		per *= 2
	}
	tokens := int64(en.CPUKVCache()) << 30 / per
	if tokens < int64(en.MaxModelLen) {
		k.errf(at(en.Body, "cpu_kvcache_gib", en.DefRange), "KV cache smaller than one sequence",
			"cpu_kvcache_gib = %d holds %d tokens (%d B/token), fewer than max_model_len = %d, so vLLM refuses to start. Raise cpu_kvcache_gib or lower max_model_len.",
			en.CPUKVCache(), tokens, per, en.MaxModelLen)
	}
}

// memory reports VRAM infeasibility with the numbers behind it.
func (k *checker) memory(e *Experiment, mem Memory) {
	en := e.Engine
	rng := at(en.Body, "gpu_memory_utilization", en.DefRange)
	split := fmt.Sprintf("budget %.2f GiB (%.0f GiB × gpu_memory_utilization %.2f) = weights %.2f GiB + overhead %.2f GiB + KV cache %.2f GiB",
		mem.BudgetGiB, e.HW.VRAMGiB, en.GPUMemoryUtilization, mem.WeightsGiB, mem.OverheadGiB, mem.KVCacheGiB)
	switch {
	case mem.KVCacheGiB <= 0:
		k.errf(rng, "Model does not fit in VRAM",
			"%s of %s does not fit on %s: %s. Use a quantized model, more GPUs (tensor_parallel_size), or a larger GPU.", e.M.Name, e.M.Repo, e.HW.GPU, split)
	case mem.KVTokens < int64(en.MaxModelLen):
		k.errf(at(en.Body, "max_model_len", en.DefRange), "KV cache smaller than one sequence",
			"The KV cache holds %d tokens (%d B/token), fewer than max_model_len = %d, so vLLM refuses to start: %s. Lower max_model_len, use kv_cache_dtype = \"fp8\", or raise gpu_memory_utilization.",
			mem.KVTokens, mem.KVBytesPerToken, en.MaxModelLen, split)
	case mem.KVTokens < mem.RequiredTokens && !en.Overcommit():
		fit := mem.KVTokens / int64(en.MaxModelLen)
		k.errf(at(en.Body, "max_num_seqs", en.DefRange), "KV cache too small for max_num_seqs × max_model_len",
			"max_num_seqs %d × max_model_len %d = %d tokens need %.2f GiB of KV cache (%d B/token), but only %.2f GiB (%d tokens) is left: %s. Lower max_num_seqs to %d or max_model_len to %d, use kv_cache_dtype = \"fp8\", or set kv_overcommit = true to accept preemption when long sequences coincide.",
			en.MaxNumSeqs, en.MaxModelLen, mem.RequiredTokens, float64(mem.RequiredTokens*mem.KVBytesPerToken)/gib, mem.KVBytesPerToken,
			mem.KVCacheGiB, mem.KVTokens, split, fit, mem.KVTokens/int64(en.MaxNumSeqs))
	}
}

func (k *checker) workload(e *Experiment) {
	w := e.Workload
	b, d := w.Body, w.DefRange
	k.oneOf(b, d, "kind", w.Kind, []string{"sharegpt", "random", "jsonl"})
	k.oneOf(b, d, "api", w.APIKind(), []string{"completions", "chat"})
	if w.SeedOr0() < 0 {
		k.errf(at(b, "seed", d), "Invalid seed", "seed must not be negative.")
	}
	switch w.Kind {
	case "sharegpt", "jsonl":
		if w.DS == nil && isNullExpr(w.Dataset) {
			k.errf(d.Ptr(), "Missing dataset", "workload %q needs dataset = dataset.<name>.", w.Kind)
		}
		if w.DS != nil && w.DS.Format != w.Kind {
			k.errf(at(b, "dataset", d), "Dataset format mismatch", "workload %q needs a dataset of format %q; dataset.%s has format %q.", w.Kind, w.Kind, w.DS.Name, w.DS.Format)
		}
	case "random":
		if w.InputTokens == nil || w.OutputTokens == nil {
			k.errf(d.Ptr(), "Missing lengths", "a random workload needs input_tokens and output_tokens.")
			return
		}
		k.positive(b, d, "input_tokens", float64(*w.InputTokens))
		k.positive(b, d, "output_tokens", float64(*w.OutputTokens))
		if en := e.Engine; en != nil && *w.InputTokens+*w.OutputTokens > en.MaxModelLen {
			k.errf(at(b, "output_tokens", d), "Request longer than the context",
				"input_tokens + output_tokens = %d exceeds max_model_len = %d; vLLM would reject every request.", *w.InputTokens+*w.OutputTokens, en.MaxModelLen)
		}
	}
}

func isNullExpr(x hcl.Expression) bool {
	if x == nil {
		return true
	}
	v, d := x.Value(nil)
	return !d.HasErrors() && v.IsNull()
}

func (k *checker) sweep(s *Sweep) {
	b, d := s.Body, s.DefRange
	if len(s.Concurrency) == 0 && len(s.Rates) == 0 {
		k.errf(d.Ptr(), "Empty sweep", "give concurrency = [...] (closed loop) or rates = [...] (requests per second, open loop).")
	}
	if len(s.Concurrency) > 0 && len(s.Rates) > 0 {
		k.errf(at(b, "rates", d), "Both concurrency and rates", "a sweep is one load curve: give concurrency = [...] (closed loop) or rates = [...] (open loop), not both; for both curves, write two experiments.")
	}
	// The bounds forge bench holds every flag to (bench.Config.Validate).
	for _, c := range s.Concurrency {
		if c > bench.MaxStreams {
			k.errf(at(b, "concurrency", d), "Concurrency too high", "concurrency %d is above %d streams, the most one client can hold (each is a connection with its buffers; one address has about 28,000 ephemeral ports per server).", c, bench.MaxStreams)
			break
		}
	}
	for _, r := range s.Rates {
		if r > bench.MaxRate {
			k.errf(at(b, "rates", d), "Rate too high", "rate %g is above %g requests/s, beyond any server and the pacer's clock.", r, bench.MaxRate)
			break
		}
	}
	if s.PromptsPerLevel+s.WarmupOr0() > bench.MaxPromptsPerLevel {
		k.errf(at(b, "prompts_per_level", d), "Too many prompts", "prompts_per_level %d (warmup %d) is above %d: every prompt of a level is generated and held before it starts.", s.PromptsPerLevel, s.WarmupOr0(), bench.MaxPromptsPerLevel)
	}
	conc := make([]float64, len(s.Concurrency))
	for i, c := range s.Concurrency {
		conc[i] = float64(c)
	}
	k.ascending(b, d, "concurrency", conc)
	k.ascending(b, d, "rates", s.Rates)
	k.positive(b, d, "prompts_per_level", float64(s.PromptsPerLevel))
	if s.WarmupOr0() < 0 {
		k.errf(at(b, "warmup", d), "Invalid warmup", "warmup must not be negative.")
	}
	if s.Burstiness != nil {
		k.positive(b, d, "burstiness", *s.Burstiness)
	}
	if s.MaxConcurrency != nil {
		k.positive(b, d, "max_concurrency", float64(*s.MaxConcurrency))
	}
	if s.MaxDurationS != nil {
		k.positive(b, d, "max_duration_s", *s.MaxDurationS)
	}
}

// search checks a find-max sweep: two loads of one kind (the start and the
// max), whole concurrencies, an SLO to search against, and bounds.
func (k *checker) search(e *Experiment) {
	sr := e.Sweep.Search
	if sr == nil {
		return
	}
	b, d := sr.Body, sr.DefRange
	if n := len(e.Sweep.Concurrency) + len(e.Sweep.Rates); n != 2 || len(e.Sweep.Concurrency) == 1 {
		k.errf(d.Ptr(), "Search needs a start and a max", "a sweep with a search block gives two loads of one kind, the first probe and the highest allowed: concurrency = [1, 64] or rates = [0.5, 32]; it has %d concurrency and %d rate value(s).", len(e.Sweep.Concurrency), len(e.Sweep.Rates))
	}
	if e.SLO == nil {
		k.errf(d.Ptr(), "Search without an SLO", "find-max searches for the highest load meeting the SLO: add an slo { ttft_p99_ms = … } block to experiment %q.", e.Name)
	}
	if sr.Step != nil {
		k.positive(b, d, "step", *sr.Step)
		if len(e.Sweep.Concurrency) > 0 && *sr.Step != math.Trunc(*sr.Step) {
			k.errf(at(b, "step", d), "Fractional concurrency step", "step = %v: a concurrency search moves by whole requests.", *sr.Step)
		}
	}
	if sr.MaxProbes != nil && (*sr.MaxProbes < 1 || *sr.MaxProbes > 64) {
		k.errf(at(b, "max_probes", d), "Invalid probe count", "max_probes = %d must be between 1 and 64.", *sr.MaxProbes)
	}
	if sr.BudgetS != nil {
		k.positive(b, d, "budget_s", *sr.BudgetS)
	}
}

// ascending requires positive, strictly increasing levels: charts and the
// goodput search read them in order, and a repeated level measures nothing new.
func (k *checker) ascending(b hcl.Body, d hcl.Range, name string, vals []float64) {
	for i, v := range vals {
		rng := atElem(b, name, i, d)
		switch {
		case v <= 0:
			k.errf(rng, "Sweep level must be positive", "%s[%d] = %v; every level must be greater than zero.", name, i, v)
		case i > 0 && v == vals[i-1]:
			k.errf(rng, "Duplicate sweep level", "%s[%d] = %v repeats the previous level; list each level once.", name, i, v)
		case i > 0 && v < vals[i-1]:
			sorted := append([]float64(nil), vals...)
			sort.Float64s(sorted)
			k.errf(rng, "Sweep not ascending", "%s must be in ascending order: %v comes after %v. Write %s = %v.", name, v, vals[i-1], name, sorted)
		}
	}
}

func (k *checker) eval(c *Config, e *Experiment) {
	ev := e.Eval
	b, d := ev.Body, ev.DefRange
	if ev.Baseline != nil {
		switch base := *ev.Baseline; {
		case base == e.Name:
			k.errf(at(b, "baseline", d), "Experiment is its own baseline", "baseline must name another experiment (the unquantized one).")
		case c.ExperimentByName(base) == nil:
			k.errf(at(b, "baseline", d), "Unknown baseline experiment", "No experiment named %q is declared.%s", base, suggest(base, c.ExperimentNames()))
		}
	}
	if ev.Limit != nil {
		k.positive(b, d, "limit", float64(*ev.Limit))
	}
	if ev.NumConcurrent != nil {
		k.positive(b, d, "num_concurrent", float64(*ev.NumConcurrent))
	}
	k.evalServer(e)
	if len(ev.Tasks) == 0 {
		k.errf(d.Ptr(), "No eval tasks", "add at least one task \"mmlu\" { shots = 5 metric = \"acc\" } block, or remove the eval block.")
	}
	seen := map[string]bool{}
	for _, t := range ev.Tasks {
		if seen[t.Name] {
			k.errf(t.DefRange.Ptr(), "Duplicate task", "task %q is listed twice in this eval block.", t.Name)
		}
		seen[t.Name] = true
		if t.Shots < 0 {
			k.errf(at(t.Body, "shots", t.DefRange), "Invalid shots", "shots must not be negative.")
		}
		if t.Limit != nil {
			k.positive(t.Body, t.DefRange, "limit", float64(*t.Limit))
		}
		if len(t.Subjects) > 0 {
			k.taskSubjects(t)
		}
		metrics, known := knownTasks[t.Name]
		if !known {
			k.warnf(t.DefRange.Ptr(), "Unchecked eval task", "task %q is not one Forge checks (%s); its metric name is passed to lm-eval unverified.%s",
				t.Name, listOrNone(sortedKeys(knownTasks)), suggest(t.Name, sortedKeys(knownTasks)))
			continue
		}
		k.oneOf(t.Body, t.DefRange, "metric", t.Metric, metrics)
	}
}

func (k *checker) cost(cst *Cost) {
	b, d := cst.Body, cst.DefRange
	if len(cst.Utilization) == 0 {
		k.errf(at(b, "utilization", d), "No utilization", "give at least one utilization, e.g. utilization = [1.0, 0.8].")
	}
	seen := map[float64]bool{}
	for i, u := range cst.Utilization {
		rng := atElem(b, "utilization", i, d)
		if u <= 0 || u > 1 {
			k.errf(rng, "Invalid utilization", "utilization[%d] = %v must be in (0, 1]: the share of the rented hours that serve traffic.", i, u)
		}
		if seen[u] {
			k.errf(rng, "Duplicate utilization", "utilization %v is listed twice.", u)
		}
		seen[u] = true
	}
	if cst.BudgetUSDPerMonth != nil && *cst.BudgetUSDPerMonth < 0 {
		k.errf(at(b, "budget_usd_per_month", d), "Negative budget", "budget_usd_per_month must not be negative.")
	}
	if v := cst.ExpectedTokensPerMonth; v != nil && (*v <= 0 || *v > 1e15) {
		k.errf(at(b, "expected_tokens_per_month", d), "Invalid volume", "expected_tokens_per_month = %v must be a positive token count a month (input and output), e.g. 50e6.", *v)
	}
	if o := cst.Ops; o != nil {
		for _, f := range []struct {
			n string
			v float64
		}{{"engineer_hours_per_month", o.EngineerHoursPerMonth}, {"usd_per_engineer_hour", o.USDPerEngineerHour}} {
			if f.v < 0 {
				k.errf(at(o.Body, f.n, o.DefRange), "Negative operations cost", "%s must not be negative, got %v.", f.n, f.v)
			}
		}
		if o.RedundantGPUs != nil && *o.RedundantGPUs < 0 {
			k.errf(at(o.Body, "redundant_gpus", o.DefRange), "Negative redundancy", "redundant_gpus is the number of spare GPUs (N+1: 1) and must not be negative, got %d.", *o.RedundantGPUs)
		}
	}
}

// taskSubjects checks an MMLU subset: MMLU's own subject names, each once.
func (k *checker) taskSubjects(t *Task) {
	rng := at(t.Body, "subjects", t.DefRange)
	if t.Name != "mmlu" {
		k.errf(rng, "Subjects outside MMLU", "subjects selects MMLU subjects; task %q has none.", t.Name)
		return
	}
	k.mmluSubjects(rng, t.Subjects)
}

// mmluSubjects checks MMLU subject names, each once, reporting at rng.
func (k *checker) mmluSubjects(rng *hcl.Range, subjects []string) {
	seen := map[string]bool{}
	for _, s := range subjects {
		switch {
		case !slices.Contains(MMLUSubjects, s):
			k.errf(rng, "Unknown MMLU subject", "%q is not one of MMLU's 57 subjects.%s", s, suggest(s, MMLUSubjects))
		case seen[s]:
			k.errf(rng, "Duplicate MMLU subject", "%q is listed twice.", s)
		}
		seen[s] = true
	}
}

// PromptLogprobsGiB is the transient memory vLLM needs to return prompt
// log-probabilities for one chunk of `tokens` prompt tokens: the chunk's
// logits in bf16 (2 B), their log-softmax in float32 (4 B) and the boolean
// rank mask over the vocabulary (1 B), per token and vocabulary entry
// (vLLM's gpu_model_runner prompt-logprobs path, Sampler.compute_logprobs
// and gather_logprobs). Its memory profiling computes logits for one token
// per sequence only, so gpu_memory_utilization reserves none of this.
func PromptLogprobsGiB(tokens, vocab int) float64 {
	return float64(tokens) * float64(vocab) * 7 / (1 << 30)
}

// evalServer rejects an eval the engine cannot serve. lm-eval scores
// through the server's prompt log-probabilities with the model's own
// tokenizer: the twin has neither. And returning prompt log-probabilities
// takes memory vLLM's profiling does not reserve (plan.PromptLogprobsGiB),
// which must fit in what gpu_memory_utilization leaves free, or the eval
// dies of out-of-memory after the benchmark's GPU hours are spent.
func (k *checker) evalServer(e *Experiment) {
	en := e.Engine
	if en == nil {
		return
	}
	if en.Kind == "twin" {
		k.errf(e.Eval.DefRange.Ptr(), "Eval without a tokenizer",
			"lm-eval scores a model with its own tokenizer through the server's prompt log-probabilities; the twin engine simulates timing and has neither a tokenizer nor a model to score. Evaluate on an engine \"vllm\" experiment (the rehearsal runs real vLLM on a CPU), or remove the eval block.")
		return
	}
	h, m := e.HW, e.M
	if h == nil || m == nil || m.Architecture == nil || h.DeviceKind() == "cpu" {
		return
	}
	tokens := en.BatchedTokens(h)
	need := PromptLogprobsGiB(tokens, m.Architecture.Vocab)
	free := h.VRAMGiB * (1 - en.GPUMemoryUtilization)
	at := at(en.Body, "gpu_memory_utilization", en.DefRange)
	switch {
	case need > free:
		k.errf(at, "No room for prompt log-probabilities",
			"the eval's prompt log-probabilities take up to %.2f GiB per step (%d tokens × %d vocabulary × 7 B), outside what vLLM reserves; gpu_memory_utilization = %.2f leaves %.2f GiB of %v GiB free. Lower gpu_memory_utilization or max_num_batched_tokens.",
			need, tokens, m.Architecture.Vocab, en.GPUMemoryUtilization, free, h.VRAMGiB)
	case need > 0.8*free:
		k.warnf(at, "Little room for prompt log-probabilities",
			"the eval's prompt log-probabilities take up to %.2f GiB per step (%d tokens × %d vocabulary × 7 B); gpu_memory_utilization = %.2f leaves %.2f GiB free, less than 25 %% to spare for allocator fragmentation.",
			need, tokens, m.Architecture.Vocab, en.GPUMemoryUtilization, free)
	}
}
