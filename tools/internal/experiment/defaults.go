package experiment

// Defaults are resolved here once so that the validator, the memory estimate
// and the plan all see the same value; the plan then writes every setting
// explicitly so a change of vLLM's own defaults cannot change a benchmark.

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func strOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// GPUCount is the number of GPUs in the machine (default 1).
func (h *Hardware) GPUCount() int { return intOr(h.Count, 1) }

// DeviceKind is "gpu" (the default) or "cpu" (vLLM's CPU build, the rehearsal).
func (h *Hardware) DeviceKind() string { return strOr(h.Device, "gpu") }

// CPUKVCache is the KV cache size in GiB that vLLM's CPU build reserves
// (VLLM_CPU_KVCACHE_SPACE, whole GiB); 4 when not set, as vLLM's default.
func (e *Engine) CPUKVCache() int { return intOr(e.CPUKVCacheGiB, 4) }

// ServedModelName is the name clients send; by default the repository.
func (m *Model) ServedModelName() string { return strOr(m.ServedName, m.Repo) }

// BatchedTokens is max_num_batched_tokens, defaulting as vLLM V1's API server
// does: 8192 on GPUs with at least 70 GiB, 2048 below.
func (e *Engine) BatchedTokens(h *Hardware) int {
	if e.MaxNumBatchedTokens != nil {
		return *e.MaxNumBatchedTokens
	}
	if h != nil && h.VRAMGiB >= 70 {
		return 8192
	}
	return 2048
}

// PrefixCaching defaults to off: warmup and repeated prompts would otherwise
// hit the cache and flatter TTFT (vLLM's own default is on).
func (e *Engine) PrefixCaching() bool { return boolOr(e.EnablePrefixCaching, false) }

// KVDtype is kv_cache_dtype, default "auto" (the model's dtype).
func (e *Engine) KVDtype() string { return strOr(e.KVCacheDtype, "auto") }

// ActDtype is dtype, default "auto" (the checkpoint's dtype).
func (e *Engine) ActDtype() string { return strOr(e.Dtype, "auto") }

// SeedOr0 is the engine's sampling seed, default 0.
func (e *Engine) SeedOr0() int { return intOr(e.Seed, 0) }

// TP is tensor_parallel_size, default 1.
func (e *Engine) TP() int { return intOr(e.TensorParallelSize, 1) }

// ListenPort is the port the server binds on 127.0.0.1, default 8000.
func (e *Engine) ListenPort() int { return intOr(e.Port, 8000) }

// Overcommit reports whether the user accepted a KV cache smaller than
// max_num_seqs full-length sequences.
func (e *Engine) Overcommit() bool { return boolOr(e.KVOvercommit, false) }

// VersionOr returns the engine version or "".
func (e *Engine) VersionOr() string { return strOr(e.Version, "") }

// APIKind is "completions" (vLLM bench's default) or "chat".
func (w *Workload) APIKind() string { return strOr(w.API, "completions") }

// SeedOr0 is the sampling seed of the workload, default 0.
func (w *Workload) SeedOr0() int { return intOr(w.Seed, 0) }

// IgnoreEOSOr is ignore_eos, default false.
func (w *Workload) IgnoreEOSOr() bool { return boolOr(w.IgnoreEOS, false) }

// WarmupOr0 is the number of warmup requests per level, default 0.
func (s *Sweep) WarmupOr0() int { return intOr(s.Warmup, 0) }

// BurstinessOr1 is the gamma shape of open-loop arrivals; 1 is Poisson.
func (s *Sweep) BurstinessOr1() float64 { return floatOr(s.Burstiness, 1) }

// NumConcurrentOr1 is lm-eval's num_concurrent, default 1.
func (e *Eval) NumConcurrentOr1() int { return intOr(e.NumConcurrent, 1) }
