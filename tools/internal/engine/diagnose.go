package engine

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// FailureKind classifies why a vLLM server failed to start.
type FailureKind string

const (
	KindBadArgument   FailureKind = "bad-argument"    // argparse rejected a flag or its value
	KindPortInUse     FailureKind = "port-in-use"     // the listen address is taken
	KindOutOfMemory   FailureKind = "out-of-memory"   // weights or KV cache do not fit (GPU or host memory)
	KindModelNotFound FailureKind = "model-not-found" // model path / repo id / its config cannot be found or read
	KindUnsupported   FailureKind = "unsupported"     // dtype or quantization not supported by the device or checkpoint
	KindUnknown       FailureKind = "unknown"         // a traceback none of the rules recognise
)

// Failure is the diagnosed cause of a failed start.
type Failure struct {
	Kind    FailureKind
	Line    int    // 1-based log line of Excerpt
	Excerpt string // the matching line, ANSI codes stripped
	Hint    string // what to do
}

type failRule struct {
	kind FailureKind
	re   *regexp.Regexp
	hint func(m []string) string
}

func fixed(s string) func([]string) string { return func([]string) string { return s } }

// failRules are tried in order on each line; the first rule that matches a
// line classifies it.
var failRules = []failRule{
	// argparse (vllm/utils/__init__.py FlexibleArgumentParser):
	// "vllm: error: unrecognized arguments: --no-such-flag 1"
	{KindBadArgument, regexp.MustCompile(`error: unrecognized arguments: (.*)`), func(m []string) string {
		return fmt.Sprintf("vllm serve does not accept %q in this version: remove or rename the flag "+
			"(compare with `vllm serve --help` of the installed vLLM) or put it in the config file under its "+
			"0.11 name", m[1])
	}},
	{KindBadArgument, regexp.MustCompile(`error: argument (\S+): (.*)`), func(m []string) string {
		return fmt.Sprintf("the value given to %s is invalid (%s): fix it in the config file / command line", m[1], m[2])
	}},
	{KindBadArgument, regexp.MustCompile(`error: the following arguments are required: (.*)`), func(m []string) string {
		return "missing required argument(s) " + m[1] + ": add them to the command line or config file"
	}},
	// OSError from socket.bind in entrypoints/openai/api_server.py create_server_socket
	{KindPortInUse, regexp.MustCompile(`\[Errno 98\]|Address already in use`), fixed(
		"another process is already listening on the server's host:port: stop it (find it with " +
			"`ss -ltnp`) or choose a free --port; a previous vLLM run that did not exit is the usual culprit")},
	// v1/core/kv_cache_utils.py:699
	{KindOutOfMemory, regexp.MustCompile(`No available memory for the cache blocks`), fixed(
		"nothing is left for the KV cache after loading the weights: on a GPU raise --gpu-memory-utilization, " +
			"free the GPU from other processes, or use a smaller/quantized model; on the CPU backend set " +
			"VLLM_CPU_KVCACHE_SPACE to a positive number of GiB (0 leaves no KV cache)")},
	// v1/core/kv_cache_utils.py:717-724
	{KindOutOfMemory, regexp.MustCompile(`cache is needed, which is larger than the available KV cache memory(?:.*estimated maximum model length is (\d+))?`), func(m []string) string {
		h := "one max_model_len request does not fit in the KV cache: lower --max-model-len"
		if m[1] != "" {
			h += " to at most " + m[1]
		}
		return h + ", or give the KV cache more memory (--gpu-memory-utilization on GPU, VLLM_CPU_KVCACHE_SPACE on CPU)"
	}},
	{KindOutOfMemory, regexp.MustCompile(`CUDA out of memory|OutOfMemoryError|CUDA error: out of memory`), fixed(
		"the GPU ran out of memory: lower --gpu-memory-utilization if other processes share the GPU, lower " +
			"--max-model-len / --max-num-seqs / --max-num-batched-tokens, use a quantized checkpoint, or add " +
			"--tensor-parallel-size; check `nvidia-smi` for leftover processes")},
	// torch's DefaultCPUAllocator (c10/core/impl/alloc_cpu.cpp) when the CPU
	// backend allocates its KV cache of VLLM_CPU_KVCACHE_SPACE GiB
	// (v1/worker/gpu_model_runner.py _allocate_kv_cache_tensors)
	{KindOutOfMemory, regexp.MustCompile(`Cannot allocate memory|can't allocate memory|std::bad_alloc|MemoryError`), fixed(
		"host memory could not be allocated: on the CPU backend VLLM_CPU_KVCACHE_SPACE (GiB) is larger than the " +
			"free RAM; set it below the free memory (check `free -g`) leaving room for the weights, or lower " +
			"--max-model-len / --max-num-seqs")},
	// huggingface_hub validation of a path that is not a directory
	{KindModelNotFound, regexp.MustCompile(`HFValidationError|Repo id must be in the form|Invalid repository ID or local directory`), fixed(
		"the model is neither an existing local directory nor a valid Hugging Face repo id: check the model " +
			"path in the config (it must be a directory holding config.json) or use namespace/name for a hub model")},
	{KindModelNotFound, regexp.MustCompile(`RepositoryNotFoundError|Repository Not Found|404 Client Error|is not a local folder and is not a valid model identifier`), fixed(
		"the hub repo does not exist (or is private): check the repo id, or log in / set HF_TOKEN for a private repo")},
	{KindModelNotFound, regexp.MustCompile(`GatedRepoError|401 Client Error|Access to model .* is restricted`), fixed(
		"the model is gated: accept its licence on Hugging Face and set HF_TOKEN, or pre-download it and serve the local path")},
	{KindModelNotFound, regexp.MustCompile(`does not appear to have a file named|Can't load the configuration of|No such file or directory`), fixed(
		"a file the model needs (config.json, tokenizer or weights) is missing: check the model directory is " +
			"complete and readable, or re-download it")},
	// config/__init__.py:263 (_get_quantization_config)
	{KindUnsupported, regexp.MustCompile(`The quantization method (\S+) is not supported for the current GPU\. Minimum capability: (\d+)\. Current capability: (\d+)`), func(m []string) string {
		return fmt.Sprintf("%s needs compute capability %s but this GPU has %s: use a quantization this GPU supports "+
			"(e.g. plain awq/gptq instead of the Marlin variants) or a newer GPU", m[1], m[2], m[3])
	}},
	// config/__init__.py:269
	{KindUnsupported, regexp.MustCompile(`(\S+) is not supported for quantization method (\S+)\. Supported dtypes: (.*)`), func(m []string) string {
		return fmt.Sprintf("dtype %s cannot be used with %s quantization: pass --dtype with one of %s (usually half)", m[1], m[2], m[3])
	}},
	// platforms/interface.py:350
	{KindUnsupported, regexp.MustCompile(`(\S+) quantization is currently not supported in (\S+)\.`), func(m []string) string {
		return fmt.Sprintf("%s quantization does not run on %s: use an unquantized (or %s-supported) checkpoint, "+
			"or run on a device that supports it", m[1], m[2], m[2])
	}},
	// model_executor/model_loader/weight_utils.py get_quant_config
	{KindUnsupported, regexp.MustCompile(`Cannot find the config file for (\w+)`), func(m []string) string {
		return fmt.Sprintf("--quantization %s was given but the checkpoint has no %s quantization config "+
			"(quantization_config in config.json or quant_config.json): it is not a %s checkpoint; drop "+
			"--quantization or point --model at a %s-quantized checkpoint", m[1], m[1], m[1], m[1])
	}},
	// config/model.py:953
	{KindUnsupported, regexp.MustCompile(`Quantization method specified in the model config \((\S*)\) does not match the quantization method specified in the .quantization. argument \((\S*)\)`), func(m []string) string {
		return fmt.Sprintf("the checkpoint is %s-quantized but --quantization %s was given: drop --quantization "+
			"or pass the checkpoint's method", m[1], m[2])
	}},
	// config/model.py:961
	{KindUnsupported, regexp.MustCompile(`Unknown quantization method: (\S+)`), func(m []string) string {
		return "vLLM 0.11 has no quantization method " + strings.TrimSuffix(m[1], ".") + ": check the spelling of --quantization"
	}},
	// platforms/cuda.py:509
	{KindUnsupported, regexp.MustCompile(`Bfloat16 is only supported on GPUs with compute capability`), fixed(
		"this GPU has no bfloat16 support (compute capability < 8.0): pass --dtype half")},
	// config/model.py:1715
	{KindUnsupported, regexp.MustCompile(`Unknown dtype: (.*)`), func(m []string) string {
		return "vLLM does not know dtype " + m[1] + ": use auto, half, float16, bfloat16, float or float32"
	}},
	{KindUnsupported, regexp.MustCompile(`FlashAttention only supports Ampere GPUs or newer`), fixed(
		"the FlashAttention backend needs compute capability >= 8.0: unset VLLM_ATTENTION_BACKEND or choose " +
			"another backend (e.g. XFORMERS / FLEX_ATTENTION)")},
}

// ruleKeys[i] holds literals of which failRules[i] needs at least one on a
// line (nil: no prefilter): most lines skip most regexps with a substring
// search.
var ruleKeys = func() [][]string {
	keys := make([][]string, len(failRules))
	for i, r := range failRules {
		keys[i] = literalKeys(r.re)
	}
	return keys
}()

// literalKeys returns literals of which every match of re contains at
// least one: for each alternative of the pattern, its longest literal piece.
// It returns nil when some alternative has no literal of 4+ bytes.
func literalKeys(re *regexp.Regexp) []string {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	alts := []*syntax.Regexp{t}
	if t.Op == syntax.OpAlternate {
		alts = t.Sub
	}
	var keys []string
	for _, a := range alts {
		lit := longestLiteral(a)
		if len(lit) < 4 {
			return nil
		}
		keys = append(keys, lit)
	}
	return keys
}

func longestLiteral(t *syntax.Regexp) string {
	lit := func(t *syntax.Regexp) string {
		if t.Op == syntax.OpLiteral && t.Flags&syntax.FoldCase == 0 {
			return string(t.Rune)
		}
		return ""
	}
	if t.Op != syntax.OpConcat {
		return lit(t)
	}
	best := ""
	for _, s := range t.Sub {
		if l := lit(s); len(l) > len(best) {
			best = l
		}
	}
	return best
}

func matchRule(i int, msg string) []string {
	if keys := ruleKeys[i]; keys != nil {
		hit := false
		for _, k := range keys {
			if strings.Contains(msg, k) {
				hit = true
				break
			}
		}
		if !hit {
			return nil
		}
	}
	return failRules[i].re.FindStringSubmatch(msg)
}

var (
	// Final line of a python traceback: "OSError: [Errno 98] ...",
	// "huggingface_hub.errors.HFValidationError: ...".
	excLineRe = regexp.MustCompile(`^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)(?::|$)`)
	// pydantic puts the message of a ValidationError on the next line.
	pydanticValueRe = regexp.MustCompile(`^\s*Value error, `)
	// argparse's final message: "vllm: error: ...".
	argparseErrRe = regexp.MustCompile(`^\S+: error: `)
	// Wrapper exceptions that only point at the real cause above them.
	wrapperRe = regexp.MustCompile(`Engine core initialization failed|EngineCore failed to start|^SystemExit`)
)

// lineWeight ranks how authoritative a matching line is: the final
// exception line of a traceback (or argparse's error line) beats a line
// logged at ERROR level, which beats any other line.
func lineWeight(l logLine) int {
	switch {
	case excLineRe.MatchString(l.msg), pydanticValueRe.MatchString(l.msg), argparseErrRe.MatchString(l.msg):
		return 2
	case l.level == "ERROR" || l.level == "CRITICAL":
		return 1
	}
	return 0
}

// Diagnose classifies why a vLLM server failed to start from its log. Among
// the lines that a rule recognises it prefers final exception lines of
// tracebacks, and among those the last one. When no rule matches but the log
// holds a traceback, it returns KindUnknown with the last exception line that
// is not a mere wrapper ("Engine core initialization failed. See root cause
// above."). It returns false when the log shows no failure at all.
func Diagnose(text string) (Failure, bool) {
	lines := splitLog(text)
	var best *Failure
	bestWeight := -1
	var lastExc, lastAnyExc *logLine
	for i := range lines {
		l := &lines[i]
		if l.msg == "" {
			continue
		}
		w := lineWeight(*l)
		if w == 2 {
			lastAnyExc = l
			if !wrapperRe.MatchString(l.msg) {
				lastExc = l
			}
		}
		for j := range failRules {
			r := &failRules[j]
			m := matchRule(j, l.msg)
			if m == nil {
				continue
			}
			if w >= bestWeight {
				best = &Failure{Kind: r.kind, Line: l.num, Excerpt: l.text, Hint: r.hint(m)}
				bestWeight = w
			}
			break
		}
	}
	if best != nil {
		return *best, true
	}
	if lastExc == nil {
		lastExc = lastAnyExc
	}
	if lastExc != nil {
		return Failure{Kind: KindUnknown, Line: lastExc.num, Excerpt: lastExc.text,
			Hint: "vLLM raised an error none of the known causes match: read the traceback ending at this line " +
				"(the root cause of an engine-core failure is logged above the final RuntimeError)"}, true
	}
	return Failure{}, false
}
