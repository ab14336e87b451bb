package plan

import (
	"fmt"
	"strings"
)

// Paths of the pinned tools when Nix is not used; the Makefile creates them.
const (
	forgeBin = "bin/forge"
	vllmBin  = ".venv/serve/bin/vllm"
	// vLLM's CPU build (the rehearsal): requirements/serve-cpu.txt.
	vllmCPUBin = ".venv/serve-cpu/bin/vllm"
)

// steps lists the commands of one run in order. {run_dir} is replaced by
// the run directory when the run starts.
func steps(p *Plan) []Step {
	base := fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	var out []Step
	switch p.Engine.Kind {
	case "vllm":
		serve := []string{"serve", "--config", "{run_dir}/" + VLLMConfigFile}
		serve = append(serve, p.Engine.ExtraArgs...)
		bin, shell, build := vllmBin, ".#serve", ""
		var env []string
		if p.Hardware.Device == "cpu" {
			bin, shell, build = vllmCPUBin, ".#serve-cpu", " (CPU build)"
			env = []string{fmt.Sprintf("VLLM_CPU_KVCACHE_SPACE=%d", p.Engine.CPUKVCacheGiB)}
		}
		out = append(out, Step{Name: "serve", Background: true,
			Description: fmt.Sprintf("start vLLM %s%s with the generated config; logs to {run_dir}/server.log", p.Engine.Version, build),
			Argv:        append([]string{bin}, serve...),
			Nix:         append([]string{"nix", "develop", shell, "--command", "vllm"}, serve...),
			Env:         env})
	case "twin":
		out = append(out, Step{Name: "serve", Background: true,
			Description: "start the embedded twin engine for this experiment",
			Argv:        []string{forgeBin, "twin", "--experiment", p.Experiment, "--listen", fmt.Sprintf("%s:%d", p.Engine.Host, p.Engine.Port)}})
	}
	out = append(out, Step{Name: "wait", Description: "wait until the server answers " + base + "/health",
		Argv: []string{forgeBin, "engine", "wait", "--url", base + "/health", "--timeout", "900s"}})
	out = append(out, Step{Name: "bench", Description: "run every sweep level, scraping /metrics before and after each",
		Argv: []string{forgeBin, "bench", "--plan", "{run_dir}/plan.json", "--out", "{run_dir}/bench"}})
	if p.Eval != nil && p.Engine.Kind == "vllm" {
		var names []string
		for _, t := range p.Eval.Tasks {
			names = append(names, fmt.Sprintf("%s %d-shot", t.Name, t.Shots))
		}
		out = append(out, Step{Name: "eval",
			Description: fmt.Sprintf("lm-eval (local-completions) on offline task definitions over the pinned data (%s) against the running server, into {run_dir}/eval", strings.Join(names, ", ")),
			Argv:        []string{forgeBin, "eval", "{run_dir}"},
			Nix:         []string{"nix", "develop", ".#eval", "--command", forgeBin, "eval", "{run_dir}"}})
	}
	out = append(out,
		Step{Name: "stop", Description: "stop the server (always, also after a failure)", Argv: []string{forgeBin, "engine", "stop", "{run_dir}"}},
		Step{Name: "cost", Description: "cost per 1M tokens from the measured throughput", Argv: []string{forgeBin, "cost", "{run_dir}"}},
		Step{Name: "chart", Description: "the canonical charts", Argv: []string{forgeBin, "chart", "{run_dir}"}},
		Step{Name: "report", Description: "report.md from the files above", Argv: []string{forgeBin, "report", "{run_dir}"}},
	)
	return out
}
