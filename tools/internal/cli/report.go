package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/runs"
)

// studyFile lists the runs a chart set and report compare, so that both can
// be regenerated from results/ alone.
const studyFile = "study.json"

type study struct {
	Schema string   `json:"schema"`
	Runs   []string `json:"runs"`
}

// runChart draws the five charts for the given runs, or, with no runs,
// regenerates every chart set under results/ from its study.json.
func runChart(_ context.Context, env Env, args []string) error {
	return studyCommand(env, "chart", args, func(st *report.Study, out string) error {
		files, err := chart.Render(st.ChartSet(), filepath.Join(out, "charts"))
		if err != nil {
			return problems("%v", err)
		}
		fmt.Fprintf(env.Stdout, "charts: %d files in %s\n", len(files), filepath.Join(out, "charts"))
		return nil
	})
}

// runReport writes report.md for the given runs, or regenerates every
// report under results/.
func runReport(_ context.Context, env Env, args []string) error {
	return studyCommand(env, "report", args, func(st *report.Study, out string) error {
		path := filepath.Join(out, "report.md")
		if err := os.WriteFile(path, st.Markdown(out), 0o644); err != nil {
			return problems("%v", err)
		}
		fmt.Fprintf(env.Stdout, "report: %s\n", path)
		return nil
	})
}

// studyCommand resolves RESULTS... to run directories, loads them and calls
// do with the output directory (--out, default the first run), after
// recording the study there. Without RESULTS it regenerates every study
// found under --results.
func studyCommand(env Env, name string, args []string, do func(*report.Study, string) error) error {
	fs := newFlags(env, name, "[RESULTS...] [--out DIR] (no RESULTS: regenerate every study.json under --results)")
	out := fs.String("out", "", "write here (default: the first run's directory)")
	root := fs.String("results", "results", "results root, for regenerating")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return regenerate(env, *root, do)
	}
	dirs, err := runs.Resolve(pos)
	if err != nil {
		return problems("%v", err)
	}
	if *out == "" {
		*out = dirs[0]
	}
	return studyIn(*out, dirs, do)
}

func studyIn(out string, dirs []string, do func(*report.Study, string) error) error {
	st, err := report.Load(dirs)
	if err != nil {
		return problems("%v", err)
	}
	if err := writeStudy(out, dirs); err != nil {
		return problems("%v", err)
	}
	return do(st, out)
}

func writeStudy(out string, dirs []string) error {
	s := study{Schema: schemas.Study}
	for _, d := range dirs {
		rel, err := filepath.Rel(out, d)
		if err != nil {
			return err
		}
		s.Runs = append(s.Runs, filepath.ToSlash(rel))
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, studyFile), append(data, '\n'), 0o644)
}

func regenerate(env Env, root string, do func(*report.Study, string) error) error {
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != studyFile {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var s study
		if err := json.Unmarshal(data, &s); err != nil || s.Schema != schemas.Study {
			return fmt.Errorf("%s: not a %s file (%v)", path, schemas.Study, err)
		}
		out := filepath.Dir(path)
		var dirs []string
		for _, r := range s.Runs {
			dirs = append(dirs, filepath.Join(out, filepath.FromSlash(r)))
		}
		n++
		return studyIn(out, dirs, do)
	})
	if err != nil {
		return problems("%v", err)
	}
	if n == 0 {
		fmt.Fprintf(env.Stderr, "no %s under %s: nothing to regenerate (run `make run` first)\n", studyFile, root)
	}
	return nil
}
