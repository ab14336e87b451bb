package pipeline

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// The stages after the measurement: cost.json for a run, and the charts
// and report.md of a study (one or more runs). Each refuses a run that is
// not complete unless allowIncomplete is set, and then every output
// carries the run's INCOMPLETE/FAILED banner.

// WriteCost prices one run into <dir>/cost.json.
func WriteCost(dir string, allowIncomplete bool) (*cost.Report, string, error) {
	r, err := rundir.LoadRun(dir)
	if err != nil {
		return nil, "", err
	}
	if err := r.Require(allowIncomplete); err != nil {
		return nil, "", err
	}
	rep, data, err := cost.ForRun(r)
	if err != nil {
		return nil, "", err
	}
	path := rundir.Dir(dir).Path(rundir.CostFile)
	if err := rundir.WriteFileAtomic(path, data); err != nil {
		return nil, "", err
	}
	return rep, path, nil
}

// studyRecord is study.json: the runs a chart set and report compare, so
// both can be regenerated from results/ alone.
type studyRecord struct {
	Schema string   `json:"schema"`
	Runs   []string `json:"runs"`
}

// StudyFunc draws or writes something of a loaded study into out.
type StudyFunc func(st *report.Study, out string) error

// Charts draws the five charts and the TCO chart of a study into out/charts.
func Charts(st *report.Study, out string) ([]string, error) {
	return chart.Render(st.ChartSet(), filepath.Join(out, rundir.ChartsDir))
}

// Report writes out/report.md for a study.
func Report(st *report.Study, out string) (string, error) {
	path := filepath.Join(out, rundir.ReportFile)
	return path, rundir.WriteFileAtomic(path, st.Markdown(out))
}

// Study loads the runs (already resolved), records them in out/study.json
// and calls do. A run that is not complete is refused unless
// allowIncomplete.
func Study(out string, dirs []string, allowIncomplete bool, do StudyFunc) error {
	st, err := report.Load(dirs)
	if err != nil {
		return err
	}
	for _, e := range st.Entries {
		if err := e.Run.Require(allowIncomplete); err != nil {
			return err
		}
	}
	if err := writeStudy(out, dirs); err != nil {
		return err
	}
	return do(st, out)
}

// CompareDirs resolves --compare's comma-separated runs (or experiment
// directories, for their latest complete run) after the run itself.
func CompareDirs(runDir, compare string) ([]string, error) {
	dirs := []string{runDir}
	if compare == "" {
		return dirs, nil
	}
	more, err := rundir.Resolve(strings.Split(compare, ","))
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	return append(dirs, more...), nil
}

func writeStudy(out string, dirs []string) error {
	s := studyRecord{Schema: schemas.Study}
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
	return rundir.WriteFileAtomic(filepath.Join(out, rundir.StudyFile), append(data, '\n'))
}

// Regenerate calls do for every study.json under root, from results/
// alone. Studies are redrawn as they were made: a run drawn with
// --allow-incomplete is redrawn with its banner. It returns how many.
func Regenerate(root string, do StudyFunc) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != rundir.StudyFile {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var s studyRecord
		if err := json.Unmarshal(data, &s); err != nil || s.Schema != schemas.Study {
			return fmt.Errorf("%s: not a %s file (%v)", path, schemas.Study, err)
		}
		out := filepath.Dir(path)
		var dirs []string
		for _, r := range s.Runs {
			dirs = append(dirs, filepath.Join(out, filepath.FromSlash(r)))
		}
		n++
		return Study(out, dirs, true, do)
	})
	return n, err
}

// PrintCost prices one run (WriteCost) and prints its headline, the APIs
// and goodput to o.Stdout.
func PrintCost(o Out, dir string, allowIncomplete bool) (*cost.Report, error) {
	rep, path, err := WriteCost(dir, allowIncomplete)
	if err != nil {
		return nil, err
	}
	if rep.Incomplete != "" {
		fmt.Fprintf(o.Stdout, "%s: %s\n", path, rep.Incomplete)
	}
	source := rep.ThroughputSource
	if source == "measured" && rep.Provenance.Engine.Name == "twin" {
		source = "simulated (twin, served live)"
	}
	fmt.Fprintf(o.Stdout, "%s: $%.4f per 1M output tokens, $%.4f per 1M tokens in+out, at %s %g (%s peak, utilization 1.0, $%.2f/h %s, price of %s)\n",
		path, rep.Headline.USDPer1MOutputTokens, rep.Headline.USDPer1MTotalTokens, rep.Headline.Level.Kind, rep.Headline.Level.Value,
		source, rep.Price.USDPerHour, rep.Price.Provider, rep.Price.Observed)
	for _, a := range rep.APIs {
		be := "never (the API is cheaper per token)"
		if a.BreakEvenTokensPerMonth != nil {
			be = fmt.Sprintf("%s tokens/month", report.Human(*a.BreakEvenTokensPerMonth))
		}
		fmt.Fprintf(o.Stdout, "  vs %-16s $%.4f per 1M blended: %s cheaper; break-even %s\n", a.Name, a.BlendedUSDPer1M, a.Cheaper, be)
	}
	fmt.Fprintf(o.Stdout, "  goodput: %s\n", rep.Goodput.Statement)
	return rep, nil
}
