package chart

import (
	"bytes"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Canvas geometry. 8 × 5 in at 96 DPI is 768 × 480 px: wide enough for a legend
// column beside the data, small enough to sit in a report page.
const (
	width  = 8 * vg.Inch
	height = 5 * vg.Inch
	dpi    = 96
	margin = 10 // points around the whole image
)

// figure is one chart laid out by hand around a gonum plot. gonum draws its
// legend inside the data area, where it can hide lines, and its title over the
// data column only; figure instead puts the title across the full width, the
// legend in its own column right of the data, and the footer below everything.
//
// figure also draws the axis labels: gonum reserves room for them at the data
// midpoint, which on a log axis is near the far end, so a centred label makes it
// pad the plot with a large empty band.
type figure struct {
	title   string
	xLabel  string
	yLabel  string
	plot    *plot.Plot
	legend  plot.Legend // figure styles and places it; add entries with addLegend
	nLegend int
	note    string // centred over the data area, e.g. "no eval run"; "" for none
}

// newFigure returns a figure with an empty legend in the house style.
func newFigure(title, xLabel, yLabel string, p *plot.Plot) *figure {
	l := plot.NewLegend()
	l.TextStyle = textStyle(legendSize, text.XLeft, text.YBottom)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	l.ThumbnailWidth = vg.Points(26)
	return &figure{title: title, xLabel: xLabel, yLabel: yLabel, plot: p, legend: l}
}

// draw renders the figure and footer onto c, which spans the whole image.
func (f *figure) draw(c draw.Canvas, footer string) {
	c.SetColor(whiteColor)
	c.Fill(c.Rectangle.Path())
	area := draw.Crop(c, vg.Points(margin), -vg.Points(margin), vg.Points(margin), -vg.Points(margin))

	// Footer: small grey lines at the bottom, wrapped rather than shrunk to
	// illegibility because it carries the run ids a reader may need to copy.
	if footer = strings.TrimSpace(footer); footer != "" {
		sty := textStyle(footerSize, text.XCenter, text.YBottom)
		sty.Color = mutedColor
		lines := wrap(sty, footer, area.Size().X)
		txt := strings.Join(lines, "\n")
		area.FillText(sty, vg.Point{X: area.Center().X, Y: area.Min.Y}, txt)
		area.Min.Y += sty.Height(txt) + vg.Points(8)
	}

	// Title across the full width.
	if f.title != "" {
		sty, txt := layoutTitle(f.title, area.Size().X)
		area.FillText(sty, vg.Point{X: area.Center().X, Y: area.Max.Y}, txt)
		area.Max.Y -= sty.Height(txt) + vg.Points(10)
	}

	// Legend column: as wide as its widest entry, capped so the data keeps most
	// of the width. The plot gets what is left.
	plotArea := area
	legend := f.fitLegend(area.Size().X * 0.42)
	var legendArea draw.Canvas
	if f.nLegend > 0 {
		w := legend.Rectangle(area).Size().X
		plotArea.Max.X -= w + vg.Points(14)
		legendArea = area
		legendArea.Min.X = area.Max.X - w
	}

	labelSty := textStyle(labelSize, text.XCenter, text.YBottom)
	if f.xLabel != "" {
		plotArea.Min.Y += labelSty.Height(f.xLabel) + vg.Points(4)
	}
	if f.yLabel != "" {
		plotArea.Min.X += labelSty.Height(f.yLabel) + vg.Points(4)
	}
	f.plot.Draw(plotArea)
	data := f.plot.DataCanvas(plotArea)
	if f.xLabel != "" {
		area.FillText(labelSty, vg.Point{X: data.Center().X, Y: area.Min.Y}, f.xLabel)
	}
	if f.yLabel != "" {
		// As gonum draws it: rotated a quarter turn, reading upwards.
		sty := labelSty
		sty.Rotation = math.Pi / 2
		x := area.Min.X + labelSty.Height(f.yLabel) - labelSty.FontExtents().Descent
		area.FillText(sty, vg.Point{X: x, Y: data.Center().Y}, f.yLabel)
	}

	if f.nLegend > 0 {
		legendArea.Max.Y = data.Max.Y
		legend.Draw(legendArea)
	}
	if f.note != "" {
		sty := textStyle(noteSize, text.XCenter, text.YCenter)
		sty.Color = mutedColor
		data.FillText(sty, data.Center(), f.note)
	}
}

// empty turns f into a blank framed area with note centred in it, keeping the
// title and footer, so a chart with nothing to show still says why.
func (f *figure) empty(note string) *figure {
	p := newPlot()
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(frame{})
	blank := newFigure(f.title, "", "", p)
	blank.note = note
	return blank
}

// layoutTitle fits a title into width: as is, else slightly smaller, else on
// two or more lines broken after the set's own title (at " — ") and then at
// spaces. Shrinking a long title to fit one line makes it unreadable.
func layoutTitle(title string, width vg.Length) (text.Style, string) {
	sty := textStyle(titleSize, text.XCenter, text.YTop)
	if small := fitStyle(sty, title, width, titleSize-2); small.Width(title) <= width {
		return small, title
	}
	sty = textStyle(titleSize-1, text.XCenter, text.YTop)
	var lines []string
	for part := range strings.SplitSeq(title, " — ") {
		lines = append(lines, wrap(sty, part, width)...)
	}
	txt := strings.Join(lines, "\n")
	for _, l := range lines {
		sty = fitStyle(sty, l, width, 8)
	}
	return sty, txt
}

// addLegend adds a legend entry drawn with the given thumbnails, overlaid.
func (f *figure) addLegend(name string, thumbs ...plot.Thumbnailer) {
	f.legend.Add(name, thumbs...)
	f.nLegend++
}

// fitLegend returns a copy of the legend with its font reduced until it is at
// most max wide, so long run labels shrink rather than squeeze the data.
func (f *figure) fitLegend(max vg.Length) plot.Legend {
	l := f.legend
	for l.Rectangle(draw.Canvas{}).Size().X > max && l.TextStyle.Font.Size > vg.Points(7) {
		l.TextStyle.Font.Size -= vg.Points(0.5)
	}
	return l
}

// encode renders f as PNG and as SVG. Both are drawn from scratch, so neither
// depends on the other; both are deterministic for the same figure and footer.
func (f *figure) encode(footer string) (pngData, svgData []byte, err error) {
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	f.draw(draw.New(img), footer)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}

	// Fonts are not embedded: embedding Liberation makes every SVG several
	// hundred KB, and viewers substitute a close sans-serif.
	sv := vgsvg.NewWith(vgsvg.UseWH(width, height), vgsvg.EmbedFonts(false))
	f.draw(draw.New(sv), footer)
	var sb bytes.Buffer
	if _, err := sv.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}
