package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/engine"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// startFailure explains a server that never became healthy: the cause read
// from its log (bad flag, port in use, out of memory, model not found ...),
// the line, what to do, and the log's path.
func startFailure(p *plan.Plan, srv *server, waitErr error) error {
	if srv.logPath == "" {
		return problems("%s: %v", p.Engine.Kind, waitErr)
	}
	srv.stop() // flush and close the log before reading it
	what := waitErr.Error()
	if errors.Is(waitErr, errExited) && srv.err != nil {
		what = fmt.Sprintf("%s (%v)", what, srv.err)
	}
	text, err := os.ReadFile(srv.logPath)
	if err != nil {
		return problems("%s: %s; server log %s: %v", p.Engine.Kind, what, srv.logPath, err)
	}
	if f, ok := engine.Diagnose(string(text)); ok {
		return problems("%s did not start: %s\n  cause (%s): %s:%d: %s\n  what to do: %s",
			p.Engine.Kind, what, f.Kind, srv.logPath, f.Line, f.Excerpt, f.Hint)
	}
	return problems("%s did not start: %s; the log names no known cause, read %s", p.Engine.Kind, what, srv.logPath)
}

// checkStartup reads the healthy server's startup log, checks what vLLM
// resolved against the plan (device, quantization kernel, max_num_seqs,
// max_num_batched_tokens, max_model_len, KV cache), prints each finding and
// returns the record that goes into every summary's provenance.
func checkStartup(env Env, p *plan.Plan, logPath, runDir string) *bench.Startup {
	text, err := os.ReadFile(logPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "startup log: %v\n", err)
		return nil
	}
	s := engine.ParseLog(string(text))
	e := engine.Expect{Device: p.Hardware.Device, MaxModelLen: p.Engine.MaxModelLen,
		MaxNumSeqs: p.Engine.MaxNumSeqs, MaxNumBatchedTokens: p.Engine.MaxNumBatchedTokens}
	if q := p.Model.Quantization; q != nil {
		e.Quantization = q.Method
		if p.Hardware.Device == "gpu" {
			e.Kernel = q.Kernel
		}
	}
	rel, err := filepath.Rel(runDir, logPath)
	if err != nil {
		rel = logPath
	}
	out := &bench.Startup{LogFile: filepath.ToSlash(rel), Platform: s.Platform, AttentionBackend: s.AttentionBackend,
		QuantKernel: s.QuantKernel, MaxModelLen: s.MaxModelLen, MaxNumSeqs: s.MaxNumSeqs,
		MaxNumBatchedTokens: s.MaxNumBatchedTokens, KVCacheTokens: s.KVCacheTokens, KVBlocks: s.KVBlocks,
		MaxConcurrency: s.MaxConcurrency, Findings: []string{}}
	for _, f := range engine.Check(s, e) {
		msg := fmt.Sprintf("%s: want %q, log says %q: %s", f.Field, f.Want, f.Got, f.Message)
		if f.Line > 0 {
			msg = fmt.Sprintf("%s:%d: %s", rel, f.Line, msg)
		}
		out.Findings = append(out.Findings, msg)
		fmt.Fprintf(env.Stderr, "startup check: %s\n", msg)
	}
	fmt.Fprintf(env.Stderr, "startup: platform %s, attention %s, kernel %s, max_num_seqs %s, max_num_batched_tokens %s, KV cache %s tokens\n",
		or(s.Platform, "?"), or(s.AttentionBackend, "?"), or(s.QuantKernel, "none"), intStr(s.MaxNumSeqs), intStr(s.MaxNumBatchedTokens), intStr(s.KVCacheTokens))
	return out
}

func intStr(v *int) string {
	if v == nil {
		return "(not logged)"
	}
	return fmt.Sprint(*v)
}
