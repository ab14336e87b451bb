// This file is the twin's step-time model: a roofline. One scheduler step
// takes the longer of its compute (FLOPs at a calibrated share of the GPU's
// peak BF16 throughput, MFU) and its memory traffic (weights, KV read and
// written, at a calibrated share of peak bandwidth, MBU), plus fixed per-step
// and per-layer overheads (StepSeconds). Its inputs are the model and
// hardware of a plan (Config, ConfigFromPlan) and the calibration
// coefficients (Efficiency, DefaultEfficiency); the scheduler that decides
// what each step holds is in engine.go.

// Package twin is Forge's engine model of vLLM V1: a deterministic
// discrete-event simulation of its scheduler (continuous batching,
// max_num_seqs, a token budget per step with chunked prefill, decodes
// first, 16-token KV blocks, preemption by recompute) whose step times come
// from a roofline of the declared hardware and model. The same engine runs
// behind a real OpenAI-compatible server (real time, optionally scaled) and
// in virtual time for `forge predict`. docs/twin.md has the equations.
package twin

import (
	"math"

	"github.com/forge-bench/forge/tools/internal/plan"
)

// Efficiency holds the calibration coefficients: the share of peak memory
// bandwidth (MBU) and of peak BF16 tensor throughput (MFU) that a step
// achieves, per weight precision, and fixed per-step and per-layer costs.
type Efficiency struct {
	BF16MBU, BF16MFU    float64
	Int4MBU, Int4MFU    float64
	StepOverheadMs      float64
	LayerOverheadUs     float64
	PrefillStepOverhead float64 // extra ms per step that carries prefill tokens
}

// DefaultEfficiency is calibrated on the batch-1 decode anchors of
// docs/twin.md (Llama 3.1 8B on an A100 80GB PCIe under vLLM: TPOT 11.96 ms
// BF16, 6.64 ms W4A16) and on the compute-bound prefill of a dense GEMM.
var DefaultEfficiency = Efficiency{
	BF16MBU: 0.80, BF16MFU: 0.55,
	Int4MBU: 0.58, Int4MFU: 0.50,
	StepOverheadMs: 1.0, LayerOverheadUs: 10, PrefillStepOverhead: 0.5,
}

// Config is everything the engine needs, taken from a plan.
type Config struct {
	// Model
	LinearParams, OtherParams float64
	WeightBytes               float64
	Layers, Hidden, Heads     int
	KVHeads, HeadDim, Vocab   int
	Int4                      bool
	// Hardware (per GPU) and parallelism
	BandwidthGBps, BF16TFLOPS float64
	TP                        int
	// Scheduler
	MaxNumSeqs, MaxBatchedTokens, MaxModelLen int
	KVBlocks                                  int
	KVBytesPerToken                           float64 // per GPU
	Eff                                       Efficiency
}

// ConfigFromPlan builds the engine configuration from a resolved plan.
func ConfigFromPlan(p *plan.Plan, eff Efficiency) Config {
	a := p.Model.Architecture
	h, q, kv := float64(a.Hidden), float64(a.Heads*a.HeadDim), float64(a.KVHeads*a.HeadDim)
	linear := (h*q + 2*h*kv + q*h + 3*h*float64(a.Intermediate)) * float64(a.Layers)
	other := float64(p.Model.Parameters) - linear
	return Config{
		LinearParams: linear, OtherParams: other, WeightBytes: p.Model.WeightsGiB * (1 << 30),
		Layers: a.Layers, Hidden: a.Hidden, Heads: a.Heads, KVHeads: a.KVHeads, HeadDim: a.HeadDim, Vocab: a.Vocab,
		Int4:          p.Model.Quantization != nil && p.Model.Quantization.Bits == 4,
		BandwidthGBps: p.Hardware.BandwidthGBps, BF16TFLOPS: p.Hardware.BF16TFLOPS, TP: max(p.Engine.TensorParallelSize, 1),
		MaxNumSeqs: p.Engine.MaxNumSeqs, MaxBatchedTokens: p.Engine.MaxNumBatchedTokens, MaxModelLen: p.Engine.MaxModelLen,
		KVBlocks: int(p.Memory.KVBlocks), KVBytesPerToken: float64(p.Memory.KVBytesPerToken), Eff: eff,
	}
}

// Batch describes one scheduler step: the context length of each decoding
// sequence, and for each prefill chunk its length and the tokens before it.
type Batch struct {
	DecodeCtx  []int
	PrefillLen []int
	PrefillCtx []int
	Logits     int // sequences that sample a token this step
}

// StepSeconds is the roofline time of one step: the slower of compute and
// memory traffic at the calibrated efficiencies, plus fixed overheads.
//
//	FLOPs = 2·linear·T + 2·hidden·vocab·logits + attention
//	attention = 4·layers·heads·head_dim·(Σ decode ctx + Σ chunk·(prior + chunk/2))
//	bytes = weights + KV read (Σ decode ctx + Σ prior) ·kv + KV written T·kv
//
// all per GPU (divided by tensor_parallel_size).
func (c Config) StepSeconds(b Batch) float64 {
	tokens := float64(len(b.DecodeCtx))
	var attn, kvRead float64
	for _, ctx := range b.DecodeCtx {
		attn += float64(ctx)
		kvRead += float64(ctx)
	}
	for i, n := range b.PrefillLen {
		tokens += float64(n)
		prior := float64(b.PrefillCtx[i])
		attn += float64(n) * (prior + float64(n)/2)
		kvRead += prior
	}
	if tokens == 0 {
		return 0
	}
	tp := float64(c.TP)
	flops := (2*c.LinearParams*tokens + 2*float64(c.Hidden*c.Vocab*b.Logits) +
		4*float64(c.Layers*c.Heads*c.HeadDim)*attn) / tp
	bytes := c.WeightBytes/tp + (kvRead+tokens)*c.KVBytesPerToken
	mbu, mfu := c.Eff.BF16MBU, c.Eff.BF16MFU
	if c.Int4 {
		mbu, mfu = c.Eff.Int4MBU, c.Eff.Int4MFU
	}
	compute := flops / (c.BF16TFLOPS * 1e12 * mfu)
	memory := bytes / (c.BandwidthGBps * 1e9 * mbu)
	over := c.Eff.StepOverheadMs/1e3 + float64(c.Layers)*c.Eff.LayerOverheadUs/1e6
	if len(b.PrefillLen) > 0 {
		over += c.Eff.PrefillStepOverhead / 1e3
	}
	return math.Max(compute, memory) + over
}
