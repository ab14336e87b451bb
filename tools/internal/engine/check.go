package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// Expect is what the plan intended the server to run with. Zero values mean
// "no expectation".
type Expect struct {
	Device              string // "cpu", "gpu", "cuda", "rocm", ...
	Quantization        string // e.g. "awq"; satisfied by any method of that family ("awq_marlin")
	Kernel              string // e.g. "awq_marlin"; "" = no expectation
	MaxModelLen         int
	MaxNumSeqs          int
	MaxNumBatchedTokens int
}

// Finding is one difference between the plan and the started server.
type Finding struct {
	Field   string // a Startup field name (the keys of Startup.Lines)
	Want    string
	Got     string // "" when the log does not state it
	Line    int    // log line of Got; 0 when absent
	Message string // what it means and what to do
}

// Check compares a parsed startup log with the plan's expectations. It also
// reports, whatever the expectations, a KV cache too small to hold one
// max_model_len request and layers that fell back to unoptimized kernels.
func Check(s Startup, e Expect) []Finding {
	var out []Finding
	add := func(field, want, got, msg string) {
		out = append(out, Finding{Field: field, Want: want, Got: got, Line: s.Lines[field], Message: msg})
	}

	if e.Device != "" {
		switch {
		case s.Platform == "":
			add(FieldPlatform, e.Device, "", "the log does not say which platform vLLM detected "+
				"(\"Automatically detected platform ...\" or device_config=...); check that the log is complete "+
				"and that the right vLLM build (CPU or CUDA wheel) was launched")
		case !deviceMatches(e.Device, s.Platform):
			add(FieldPlatform, e.Device, s.Platform, fmt.Sprintf(
				"vLLM detected platform %q but the plan targets %q: the installed vLLM build or the visible "+
					"devices do not match the plan (a CPU wheel on a GPU host, CUDA_VISIBLE_DEVICES empty, or no "+
					"driver); install the matching vLLM build or fix device visibility, or the benchmark measures "+
					"the wrong hardware", s.Platform, e.Device))
		}
	}

	if e.Quantization != "" {
		_, stated := s.Lines[FieldQuantization]
		switch {
		case s.Quantization == "" && stated:
			add(FieldQuantization, e.Quantization, "None", fmt.Sprintf(
				"the engine runs unquantized (quantization=None) but the plan expects %s weights: the checkpoint "+
					"is not a %s checkpoint (no quantization_config in config.json); point --model at the "+
					"quantized checkpoint", e.Quantization, e.Quantization))
		case s.Quantization == "":
			add(FieldQuantization, e.Quantization, "", "the log does not show the engine config's quantization=...; "+
				"the server may not have reached engine initialization")
		case !quantMatches(e.Quantization, s.Quantization):
			add(FieldQuantization, e.Quantization, s.Quantization, fmt.Sprintf(
				"the engine resolved quantization=%s, not the %s the plan expects; check --quantization and the "+
					"checkpoint's quantization_config", s.Quantization, e.Quantization))
		}
	}

	if e.Kernel != "" {
		out = append(out, checkKernel(s, e.Kernel)...)
	} else if s.KernelFallback != "" {
		add(FieldKernelFallback, "", s.KernelFallback, "some layers fell back to unoptimized quantized "+
			"kernels; their GEMMs run much slower than Marlin")
	}

	checkInt := func(field string, want int, got *int, flag, unknown string) {
		if want <= 0 {
			return
		}
		if got == nil {
			add(field, strconv.Itoa(want), "", unknown)
			return
		}
		if *got != want {
			add(field, strconv.Itoa(want), strconv.Itoa(*got), fmt.Sprintf(
				"the server resolved %s=%d but the plan says %d; pass %s %d (or fix the plan) so the "+
					"benchmark runs the configuration it reports", strings.TrimPrefix(flag, "--"), *got, want, flag, want))
		}
	}
	checkInt(FieldMaxModelLen, e.MaxModelLen, s.MaxModelLen, "--max-model-len",
		"the log does not show the resolved max model len (\"Using max model len N\" / max_seq_len=N); "+
			"the server may have failed before resolving its config")
	checkInt(FieldMaxNumSeqs, e.MaxNumSeqs, s.MaxNumSeqs, "--max-num-seqs",
		"max_num_seqs is not among the log's non-default args, so vLLM used its platform default "+
			"(0.11: 256 on GPUs under 70 GiB, 1024 above, 128 on CPU) instead of the plan's value; "+
			"pass --max-num-seqs explicitly")
	checkInt(FieldMaxNumBatchedTokens, e.MaxNumBatchedTokens, s.MaxNumBatchedTokens, "--max-num-batched-tokens",
		"the log shows neither \"Chunked prefill is enabled with max_num_batched_tokens=N\" nor the flag; "+
			"pass --max-num-batched-tokens explicitly")

	if s.MaxConcurrency != nil && *s.MaxConcurrency < 1 {
		want := "1"
		if s.ConcurrencyReqTokens != nil {
			want = fmt.Sprintf(">= 1 (one %d-token request)", *s.ConcurrencyReqTokens)
		}
		add(FieldMaxConcurrency, want, strconv.FormatFloat(*s.MaxConcurrency, 'f', 2, 64),
			"the KV cache cannot hold even one request of max_model_len tokens: long requests will be "+
				"preempted or never scheduled; give the KV cache more memory (--gpu-memory-utilization on GPU, "+
				"VLLM_CPU_KVCACHE_SPACE on CPU) or lower --max-model-len")
	} else if s.MaxConcurrency == nil && s.KVCacheTokens != nil && s.MaxModelLen != nil && *s.KVCacheTokens < *s.MaxModelLen {
		add(FieldKVCacheTokens, ">= "+strconv.Itoa(*s.MaxModelLen), strconv.Itoa(*s.KVCacheTokens),
			"the KV cache holds fewer tokens than one max_model_len request; give the KV cache more memory "+
				"or lower --max-model-len")
	}
	return out
}

func checkKernel(s Startup, want string) []Finding {
	got, field := s.QuantKernel, FieldQuantKernel
	if got == "" && s.Quantization != "" {
		// The engine config's quantization is the method vLLM resolved
		// (awq_marlin when it converted an AWQ checkpoint).
		got, field = s.Quantization, FieldQuantization
	}
	f := Finding{Field: field, Want: want, Got: got, Line: s.Lines[field]}
	switch {
	case got == "":
		f.Field, f.Line = FieldQuantKernel, 0
		f.Message = fmt.Sprintf("the log shows no quantized kernel selection (no \"The model is convertible to %s "+
			"during runtime. Using %s kernel.\" and no quantization in the engine config): the model is probably "+
			"running unquantized or the server did not start; check the checkpoint and --quantization", want, want)
	case strings.EqualFold(got, want):
		if s.KernelFallback == "" {
			return nil
		}
		return []Finding{{Field: FieldKernelFallback, Want: want, Got: s.KernelFallback, Line: s.Lines[FieldKernelFallback],
			Message: "the " + want + " kernel is selected, but some layers fell back to unoptimized kernels " +
				"(their shape or group size is not supported by Marlin); those layers run the slow GEMM path"}}
	case strings.HasSuffix(want, "_marlin") && got == strings.TrimSuffix(want, "_marlin"):
		f.Message = fmt.Sprintf("vLLM runs the plain %s GEMM kernel instead of %s: several times slower for "+
			"decode. Do not pass --quantization %s (let vLLM convert the checkpoint) or pass --quantization %s; "+
			"Marlin needs an NVIDIA GPU with compute capability >= 8.0", got, want, got, want)
	default:
		f.Message = fmt.Sprintf("vLLM selected the %s kernel, not the %s the plan expects; check --quantization, "+
			"the checkpoint's quantization_config and whether the GPU supports %s", got, want, want)
	}
	return []Finding{f}
}

func deviceMatches(want, platform string) bool {
	want, platform = strings.ToLower(want), strings.ToLower(platform)
	if want == platform {
		return true
	}
	switch want {
	case "gpu":
		return platform == "cuda" || platform == "rocm" || platform == "xpu"
	case "nvidia":
		return platform == "cuda"
	case "amd":
		return platform == "rocm"
	}
	return false
}

// quantMatches: the plan's "awq" is met by "awq", "awq_marlin" and vLLM ≥
// 0.25's "auto_awq" (one method for every AWQ kernel); an exact
// expectation ("awq_marlin") needs that method.
func quantMatches(want, got string) bool {
	want, got = strings.ToLower(want), strings.ToLower(got)
	return got == want || strings.HasPrefix(got, want+"_") || got == "auto_"+want
}
