package engine

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// CheckStartup reads the healthy server's startup log, checks what vLLM
// resolved against the plan (device, quantization kernel, max_num_seqs,
// max_num_batched_tokens, max_model_len, KV cache), prints each finding to
// w and returns the record that goes into every summary's provenance; nil
// for the twin, which has no log.
func (e *Engine) CheckStartup(p *plan.Plan, dir string, w io.Writer) *provenance.Startup {
	if e.LogPath == "" {
		return nil
	}
	text, err := os.ReadFile(e.LogPath)
	if err != nil {
		fmt.Fprintf(w, "startup log: %v\n", err)
		return nil
	}
	s := ParseLog(string(text))
	want := Expect{Device: p.Hardware.Device, MaxModelLen: p.Engine.MaxModelLen,
		MaxNumSeqs: p.Engine.MaxNumSeqs, MaxNumBatchedTokens: p.Engine.MaxNumBatchedTokens}
	if q := p.Model.Quantization; q != nil {
		want.Quantization = q.Method
		if p.Hardware.Device == "gpu" {
			want.Kernel = q.Kernel
		}
	}
	rel, err := filepath.Rel(dir, e.LogPath)
	if err != nil {
		rel = e.LogPath
	}
	out := &provenance.Startup{LogFile: filepath.ToSlash(rel), Platform: s.Platform, AttentionBackend: s.AttentionBackend,
		QuantKernel: s.QuantKernel, MaxModelLen: s.MaxModelLen, MaxNumSeqs: s.MaxNumSeqs,
		MaxNumBatchedTokens: s.MaxNumBatchedTokens, KVCacheTokens: s.KVCacheTokens, KVBlocks: s.KVBlocks,
		MaxConcurrency: s.MaxConcurrency, Findings: []string{}}
	for _, f := range Check(s, want) {
		msg := fmt.Sprintf("%s: want %q, log says %q: %s", f.Field, f.Want, f.Got, f.Message)
		if f.Line > 0 {
			msg = fmt.Sprintf("%s:%d: %s", rel, f.Line, msg)
		}
		out.Findings = append(out.Findings, msg)
		fmt.Fprintf(w, "startup check: %s\n", msg)
	}
	fmt.Fprintf(w, "startup: platform %s, attention %s, kernel %s, max_num_seqs %s, max_num_batched_tokens %s, KV cache %s tokens\n",
		cmp.Or(s.Platform, "?"), cmp.Or(s.AttentionBackend, "?"), cmp.Or(s.QuantKernel, "none"), intStr(s.MaxNumSeqs), intStr(s.MaxNumBatchedTokens), intStr(s.KVCacheTokens))
	return out
}

func intStr(v *int) string {
	if v == nil {
		return "(not logged)"
	}
	return fmt.Sprint(*v)
}
