package cost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// ForRun prices a loaded run: its measured summaries, or the prediction when
// it measured nothing. The returned bytes are the canonical cost.json; the
// same files always give the same bytes.
func ForRun(r *rundir.Run) (*Report, []byte, error) {
	sums, files, source := r.Summaries, r.SummaryFiles, "measured"
	if len(sums) == 0 {
		sums, files, source = r.Predicted, r.PredictedFiles, "predicted"
	}
	if len(sums) == 0 {
		return nil, nil, fmt.Errorf("%s has no level summaries (bench/ or predicted/); nothing to price", r.Dir)
	}
	inputs := []Input{}
	read := append([]string{"plan.json"}, files...)
	if r.Text != nil {
		read = append(read, rundir.TextFile)
	}
	for _, f := range read {
		sum, err := data.FileSHA256(filepath.Join(r.Dir, f))
		if err != nil {
			return nil, nil, err
		}
		inputs = append(inputs, Input{Path: f, SHA256: sum})
	}
	rep, err := Compute(r.Plan, sums, files, source, inputs)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.Dir, err)
	}
	rep.Currency = Currencies(rep, r.Plan, sums, r.Text)
	rep.Incomplete = r.State.Banner()
	data, err := Encode(rep)
	if err != nil {
		return nil, nil, err
	}
	if findings, err := schemas.ValidateJSON(schemas.CostReport, data); err != nil || len(findings) > 0 {
		return nil, nil, fmt.Errorf("internal error: cost report for %s does not match its schema: %v %v", r.Dir, findings, err)
	}
	return rep, data, nil
}

// Encode renders a report as canonical JSON: fixed field order, sorted map
// keys, two-space indent, HTML unescaped, trailing newline.
func Encode(rep *Report) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
