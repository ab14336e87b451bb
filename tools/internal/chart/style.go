package chart

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sans-serif reads better than gonum's default serif at the small sizes used for
// tick labels and the footer, and it is bundled (Liberation), so output does not
// depend on the fonts installed on the machine.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes in points. The title is the largest so the chart identifies itself
// when shrunk into a report; the footer is the smallest because it is provenance,
// not data.
const (
	titleSize  = 14
	labelSize  = 11
	tickSize   = 10
	legendSize = 10
	valueSize  = 9
	noteSize   = 15
	footerSize = 8
)

var (
	inkColor    = color.Gray{Y: 30}
	mutedColor  = color.Gray{Y: 95}
	gridColor   = color.Gray{Y: 215}
	frameColor  = color.Gray{Y: 170}
	sloColor    = color.Gray{Y: 60}
	whiteColor  = color.White
	apiColor    = plotutil.SoftColors[3] // orange: commercial APIs
	baseColor   = plotutil.SoftColors[2] // blue: the unquantized baseline
	quantColor  = plotutil.SoftColors[3] // orange: the quantized model
	ciLineColor = color.Gray{Y: 40}
)

// utilColors shade self-hosted cost bars from dark (full utilization) to light,
// so "less busy costs more" reads as one family of blues, distinct from the
// orange API bars.
var utilColors = []color.Color{
	plotutil.DarkColors[2],
	plotutil.SoftColors[2],
	color.RGBA{R: 170, G: 200, B: 232, A: 255},
	color.RGBA{R: 205, G: 223, B: 242, A: 255},
}

// seriesColor picks the line colour of series i. Dark colours keep thin and
// dashed lines visible on white.
func seriesColor(i int) color.Color {
	return plotutil.DarkColors[i%len(plotutil.DarkColors)]
}

// textStyle is a sans-serif style at size points with the given alignment.
func textStyle(size float64, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{
		Color:   inkColor,
		Font:    font.From(sans, vg.Points(size)),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

// fitStyle shrinks sty's font, one point at a time down to minSize, until txt
// fits in width. Titles and footers are free text from the caller; shrinking
// beats clipping them at the canvas edge.
func fitStyle(sty text.Style, txt string, width vg.Length, minSize float64) text.Style {
	for sty.Width(txt) > width && sty.Font.Size.Points() > minSize {
		sty.Font = font.From(sty.Font, sty.Font.Size-vg.Points(1))
	}
	return sty
}

// wrap breaks txt at spaces into lines no wider than width. A single word wider
// than width stays on its own line rather than being cut.
func wrap(sty text.Style, txt string, width vg.Length) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(txt) {
		switch {
		case line == "":
			line = w
		case sty.Width(line+" "+w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// newPlot returns a plot with the house fonts and evenly spaced value ticks.
// Title and axis labels are left empty: figure draws them.
func newPlot() *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font = font.From(sans, vg.Points(tickSize))
		a.Tick.Label.Color = inkColor
		a.Tick.Marker = niceTicks{}
	}
	return p
}

// gridLines returns light grid lines for the value axes only: horizontal lines
// when vertical is false. Light grey keeps them behind the data visually.
func gridLines(horizontal, vertical bool) *plotter.Grid {
	g := &plotter.Grid{}
	sty := draw.LineStyle{Color: gridColor, Width: vg.Points(0.5)}
	if horizontal {
		g.Horizontal = sty
	}
	if vertical {
		g.Vertical = sty
	}
	return g
}

// formatNum prints v with as few digits as represent it, after rounding to
// three significant digits for values that are not whole numbers: 2000, 0.5, 41.3.
func formatNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// formatUSD prints a price for a bar label: two decimals as usual for money,
// three below ten cents so small prices do not all read "$0.0x".
func formatUSD(v float64) string {
	switch {
	case math.Abs(v) >= 100:
		return "$" + strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) < 0.1:
		return "$" + strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// formatPercent prints a fraction as a percentage with at most one decimal:
// 1 → "100 %", 0.8 → "80 %", 0.987 → "98.7 %".
func formatPercent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + " %"
}

// finite reports whether v is a usable coordinate.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
