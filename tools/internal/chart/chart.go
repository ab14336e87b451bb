package chart

import (
	"fmt"
	"os"
	"path/filepath"
)

// Point is one load level of one run.
type Point struct {
	X                    float64  // the level value: concurrency, or request rate
	OutputTPS            float64  // output tokens per second
	TTFTP50Ms, TTFTP99Ms *float64 // nil when not measured
	TPOTP50Ms, TPOTP99Ms *float64
}

// Series is one run's levels, e.g. "twin_bf16 · BF16" measured, or the same
// run's prediction.
type Series struct {
	Label string
	// Predicted series are drawn with thin lines and hollow glyphs (dashed too on
	// the throughput chart). Label already says "(predicted)"; this only styles it.
	Predicted bool
	Points    []Point // in ascending X
}

// CostBar is one self-hosted run's cost at each utilization.
type CostBar struct {
	Label  string
	ByUtil []UtilCost // e.g. 1.0 and 0.8, in that order
}

// UtilCost is the blended cost of a self-hosted run at one utilization.
type UtilCost struct {
	Utilization float64 // fraction of the time the hardware is busy, e.g. 0.8
	USDPer1M    float64 // $ per 1M tokens (input+output, blended)
}

// APIBar is a commercial API's price blended at the workload's input/output mix.
type APIBar struct {
	Label    string
	USDPer1M float64
}

// Task is one quality task: baseline vs quantized scores with standard errors.
type Task struct {
	Name                      string // e.g. "gsm8k (5-shot, exact_match)"
	BaselineLabel, QuantLabel string
	Baseline, Quant           float64  // scores in [0,1] usually
	BaselineErr, QuantErr     *float64 // standard errors; nil when unknown
	// Retention = Quant/Baseline, and its 95% interval when known.
	Retention                   float64
	RetentionLow, RetentionHigh *float64
}

// Set is everything the charts show, already extracted from results.
type Set struct {
	Title  string // common title prefix, e.g. "Llama 3.1 8B on RTX A5000"
	XLabel string // "concurrency (requests in flight)" or "request rate (req/s)"
	Footer string // one line printed at the bottom of every chart: run ids, price date, forge version
	Series []Series
	// SLO targets, drawn as horizontal reference lines when set.
	SLO   struct{ TTFTP99Ms, TPOTP99Ms *float64 }
	Costs []CostBar
	APIs  []APIBar
	// Tasks empty: the quality chart says "no eval run" plainly (still a valid
	// chart with title and footer).
	Tasks        []Task
	NoEvalReason string // optional extra sentence shown under "no eval run"
	// TCO is the monthly-cost chart's data; nil: the chart says why.
	TCO *TCO
}

// Names are the chart base names, in this order: the five canonical charts
// and the monthly total cost of ownership (TCO).
var Names = []string{"throughput", "ttft", "tpot", "cost", "quality", "tco"}

// builders maps each chart name to the function laying it out. Render walks
// this table rather than Names so a caller modifying Names cannot ask for a
// chart that does not exist.
var builders = []struct {
	name  string
	build func(Set) *figure
}{
	{"throughput", throughputFigure},
	{"ttft", ttftFigure},
	{"tpot", tpotFigure},
	{"cost", costFigure},
	{"quality", qualityFigure},
	{"tco", tcoFigure},
}

// Render writes <name>.png and <name>.svg for each chart (Names) into dir
// (created if missing) and returns the written file paths in order
// (throughput.png, throughput.svg, ttft.png, ...). Errors name the chart.
//
// Missing data never fails a chart: an empty series list, absent latencies or
// no eval run give a chart that says so, because a report with a hole in it is
// worse than one that explains the hole.
func Render(s Set, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	var paths []string
	for _, b := range builders {
		pngData, svgData, err := renderOne(b.build, s)
		if err != nil {
			return paths, fmt.Errorf("chart %s: %w", b.name, err)
		}
		for _, out := range []struct {
			ext  string
			data []byte
		}{{".png", pngData}, {".svg", svgData}} {
			path := filepath.Join(dir, b.name+out.ext)
			if err := os.WriteFile(path, out.data, 0o644); err != nil {
				return paths, fmt.Errorf("chart %s: %w", b.name, err)
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// renderOne lays out and encodes one chart. gonum/plot reports some invalid
// input (such as a non-positive value on a log axis) by panicking; the charts
// filter such input, and recover is the backstop that turns a missed case into
// an error naming the chart instead of crashing the command that asked for a
// report.
func renderOne(build func(Set) *figure, s Set) (pngData, svgData []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing failed: %v", r)
		}
	}()
	return build(s).encode(s.Footer)
}
