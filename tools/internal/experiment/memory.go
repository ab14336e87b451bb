package experiment

// Memory is the VRAM budget of one GPU as vLLM splits it: weights, a runtime
// overhead (CUDA context, allocator, activation peak), and the KV cache in
// 16-token blocks. Figures are an estimate made before renting anything; the
// real split is printed by vLLM at start-up and recorded by later stages.
type Memory struct {
	BudgetGiB       float64 `json:"budget_gib"`
	WeightsGiB      float64 `json:"weights_gib"`
	WeightsSource   string  `json:"weights_source"`
	OverheadGiB     float64 `json:"overhead_gib"`
	KVCacheGiB      float64 `json:"kv_cache_gib"`
	KVBytesPerToken int64   `json:"kv_bytes_per_token"`
	KVTokens        int64   `json:"kv_tokens"`
	KVBlocks        int64   `json:"kv_blocks"`
	RequiredTokens  int64   `json:"required_tokens"`
	FullLengthSeqs  int64   `json:"full_length_seqs"`
}

const (
	gib = 1 << 30
	// BlockSize is vLLM's default KV block size in tokens.
	BlockSize = 16
	// fixedOverheadGiB covers the CUDA context, cuBLAS workspaces and the
	// allocator's slack that vLLM counts as non-torch memory.
	fixedOverheadGiB = 1.0
)

// ParamCounts returns (linear, other) parameter counts of a Llama-style
// decoder: linear layers are what AWQ quantizes; embeddings, lm_head and norms stay.
func (a *Architecture) ParamCounts() (linear, other int64) {
	h, q, kv := int64(a.Hidden), int64(a.Heads*a.HeadDim), int64(a.KVHeads*a.HeadDim)
	perLayer := h*q + 2*h*kv + q*h + 3*h*int64(a.Intermediate)
	linear = perLayer * int64(a.Layers)
	other = int64(a.Vocab)*h + int64(2*a.Layers+1)*h
	if !boolOr(a.TieEmbeddings, false) {
		other += int64(a.Vocab) * h
	}
	return linear, other
}

func dtypeBytes(dtype string) float64 {
	if dtype == "float32" {
		return 4
	}
	return 2
}

// WeightBytes is the checkpoint's size in device memory: the declared
// weights_gib when given, otherwise computed from the architecture, with AWQ
// linears at bits/8 bytes plus one fp16 scale (and a packed zero) per group.
func (m *Model) WeightBytes() (float64, string) {
	if m.WeightsGiB != nil {
		return *m.WeightsGiB * gib, "declared"
	}
	if m.Architecture == nil {
		return 0, "unknown"
	}
	linear, other := m.Architecture.ParamCounts()
	b := dtypeBytes(m.Dtype)
	if q := m.Quantization; q != nil && q.Method == "awq" && q.GroupSize > 0 && q.Kernel != "dense" {
		perGroup := 2.0
		if q.ZeroPoint {
			perGroup += float64(q.Bits) / 8
		}
		return float64(linear)*float64(q.Bits)/8 + float64(linear)/float64(q.GroupSize)*perGroup + float64(other)*b, "computed"
	}
	return float64(linear+other) * b, "computed"
}

// KVBytesPerToken is 2 (K and V) · layers · kv_heads · head_dim · bytes, per GPU.
func KVBytesPerToken(m *Model, e *Engine) int64 {
	a := m.Architecture
	if a == nil {
		return 0
	}
	b := int64(dtypeBytes(m.Dtype))
	switch kv := e.KVDtype(); {
	case kv == "fp8" || kv == "fp8_e4m3" || kv == "fp8_e5m2":
		b = 1
	case kv == "auto" && e.ActDtype() == "float32":
		b = 4
	}
	return 2 * int64(a.Layers) * int64(a.KVHeads) * int64(a.HeadDim) * b / int64(e.TP())
}

// EstimateMemory sizes the KV cache the way vLLM does after its profiling run:
// budget = vram × gpu_memory_utilization, minus weights and overhead.
func EstimateMemory(h *Hardware, m *Model, e *Engine) Memory {
	tp := float64(e.TP())
	weights, src := m.WeightBytes()
	var act float64
	if a := m.Architecture; a != nil {
		// Peak activations of one scheduled batch plus fp32 logits for each sequence.
		act = float64(e.BatchedTokens(h))*float64(4*a.Hidden+2*a.Intermediate)*2/tp +
			float64(e.MaxNumSeqs)*float64(a.Vocab)*4
	}
	mem := Memory{
		BudgetGiB:       h.VRAMGiB * e.GPUMemoryUtilization,
		WeightsGiB:      weights / tp / gib,
		WeightsSource:   src,
		OverheadGiB:     fixedOverheadGiB + act/gib,
		KVBytesPerToken: KVBytesPerToken(m, e),
		RequiredTokens:  int64(e.MaxNumSeqs) * int64(e.MaxModelLen),
	}
	mem.KVCacheGiB = mem.BudgetGiB - mem.WeightsGiB - mem.OverheadGiB
	if mem.KVCacheGiB > 0 && mem.KVBytesPerToken > 0 {
		mem.KVBlocks = int64(mem.KVCacheGiB*gib) / (mem.KVBytesPerToken * BlockSize)
		mem.KVTokens = mem.KVBlocks * BlockSize
		if e.MaxModelLen > 0 {
			mem.FullLengthSeqs = mem.KVTokens / int64(e.MaxModelLen)
		}
	}
	return mem
}
