package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// runParity compares Forge's level summaries with imported vllm bench serve
// ones, pairing levels by kind and value. The markdown table goes to stdout
// (and --out), rows as JSON to --json; warnings and the verdict to stderr.
// Any row outside its tolerance exits 1, after everything is written.
func runParity(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "parity", "FORGE_BENCH_DIR VLLM_DIR [--out FILE.md] [--json FILE.json]")
	outMD := fs.String("out", "", "also write the markdown table to this file")
	outJSON := fs.String("json", "", "write the rows as JSON to this file (no \"schema\" field: keep it out of results/, which forge validate checks)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("parity wants two directories: FORGE_BENCH_DIR (forge bench --out) and VLLM_DIR (forge import vllm-bench --out), got %d argument(s)", len(pos))
	}
	rows, err := parity(env, pos[0], pos[1], *outMD, *outJSON)
	if err != nil {
		return err
	}
	if bad := outside(rows); bad > 0 {
		return problems("parity: %d of %d comparisons outside tolerance (marked **no**)", bad, len(rows))
	}
	return nil
}

// writeParity compares a run's bench directory with its imported vLLM
// summaries, prints the table and writes it to mdPath (forge run --parity).
// It returns the rows outside tolerance, split into counts (completed
// requests, input and output tokens: the two clients must agree exactly, or
// they did not send the same work) and timings (noisy on a shared machine,
// judged by a person with the table).
func writeParity(env Env, forgeDir, vllmDir, mdPath string) (counts, timings []vllmbench.Row, err error) {
	rows, err := parity(env, forgeDir, vllmDir, mdPath, "")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		switch {
		case r.Within:
		case vllmbench.IsCount(r.Metric):
			counts = append(counts, r)
		default:
			timings = append(timings, r)
		}
	}
	return counts, timings, nil
}

// parity loads both directories, compares them with the default
// tolerances, writes the table to stdout and to mdPath, the rows to
// jsonPath (either path may be empty), and the verdict to stderr.
func parity(env Env, forgeDir, vllmDir, mdPath, jsonPath string) ([]vllmbench.Row, error) {
	forge, err := loadSummaries(forgeDir, "forge", "FORGE_BENCH_DIR")
	if err != nil {
		return nil, err
	}
	vllm, err := loadSummaries(vllmDir, vllmbench.Source, "VLLM_DIR")
	if err != nil {
		return nil, err
	}
	rows, unpaired, err := vllmbench.CompareSets(forge, vllm, vllmbench.DefaultTolerances())
	if err != nil {
		return nil, problems("parity: %v", err)
	}
	for _, u := range unpaired {
		fmt.Fprintf(env.Stderr, "parity: level %s: not compared\n", u)
	}
	if len(rows) == 0 {
		return nil, problems("parity: no load level is in both %s and %s", forgeDir, vllmDir)
	}
	md := vllmbench.Markdown(rows)
	if _, err := env.Stdout.Write(md); err != nil {
		return nil, err
	}
	if mdPath != "" {
		if err := os.WriteFile(mdPath, md, 0o644); err != nil {
			return nil, problems("parity: %v", err)
		}
	}
	if jsonPath != "" {
		data, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return nil, problems("parity: %v", err)
		}
		if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
			return nil, problems("parity: %v", err)
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Level] = true
	}
	levels := len(seen)
	if bad := outside(rows); bad > 0 {
		fmt.Fprintf(env.Stderr, "parity: %d of %d comparisons over %d level(s) outside tolerance\n", bad, len(rows), levels)
	} else {
		fmt.Fprintf(env.Stderr, "parity: all %d comparisons over %d level(s) within tolerance\n", len(rows), levels)
	}
	return rows, nil
}

func outside(rows []vllmbench.Row) int {
	n := 0
	for _, r := range rows {
		if !r.Within {
			n++
		}
	}
	return n
}

// loadSummaries reads every *.summary.json of dir, each checked against the
// summary schema and required to come from the expected source.
func loadSummaries(dir, source, what string) ([]bench.Summary, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, problems("parity: %s %s is not a directory", what, dir)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.summary.json"))
	if err != nil {
		return nil, problems("parity: %v", err)
	}
	if len(paths) == 0 {
		return nil, problems("parity: %s %s has no *.summary.json", what, dir)
	}
	var out []bench.Summary
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, problems("parity: %v", err)
		}
		findings, err := schemas.ValidateJSON(schemas.BenchSummary, data)
		if err != nil {
			return nil, problems("parity: %s: %v", p, err)
		}
		if len(findings) > 0 {
			msgs := make([]string, len(findings))
			for i, f := range findings {
				msgs[i] = f.Pointer + ": " + f.Message
			}
			return nil, problems("parity: %s is not a valid %s: %s", p, schemas.BenchSummary, strings.Join(msgs, "; "))
		}
		var s bench.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, problems("parity: %s: %v", p, err)
		}
		if s.Source != source {
			hint := ""
			if s.Source == vllmbench.Source || source == vllmbench.Source && s.Source == "forge" {
				hint = "; are FORGE_BENCH_DIR and VLLM_DIR swapped?"
			}
			return nil, problems("parity: %s: source is %q, but %s holds %q summaries%s", p, s.Source, what, source, hint)
		}
		out = append(out, s)
	}
	return out, nil
}
