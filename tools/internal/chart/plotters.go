package chart

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// marker is a point glyph: a circle, square or triangle, filled for measured
// data and hollow for predictions. gonum's own hollow glyphs are drawn with a
// 0.5 pt outline and no fill, so the line shows through them and they vanish
// next to filled ones; marker fills hollow shapes with white and strokes them
// at a visible width.
type marker struct {
	shape  int // 0 circle, 1 square, 2 triangle (wraps)
	hollow bool
}

// DrawGlyph implements draw.GlyphDrawer.
func (m marker) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	var p vg.Path
	switch m.shape % 3 {
	case 0:
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
	case 1:
		s := r * 0.85
		p.Move(vg.Point{X: pt.X - s, Y: pt.Y - s})
		p.Line(vg.Point{X: pt.X + s, Y: pt.Y - s})
		p.Line(vg.Point{X: pt.X + s, Y: pt.Y + s})
		p.Line(vg.Point{X: pt.X - s, Y: pt.Y + s})
	default:
		p.Move(vg.Point{X: pt.X, Y: pt.Y + r*1.1})
		p.Line(vg.Point{X: pt.X + r*1.05, Y: pt.Y - r*0.7})
		p.Line(vg.Point{X: pt.X - r*1.05, Y: pt.Y - r*0.7})
	}
	p.Close()
	if !m.hollow {
		c.Fill(p)
		return
	}
	c.SetColor(whiteColor)
	c.Fill(p)
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.3)})
	c.Stroke(p)
}

// hline is a horizontal reference line across the whole data area, e.g. an SLO.
// It has no DataRange: the caller widens the Y range to include it on purpose.
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h *hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.y)
	if y < c.Min.Y || y > c.Max.Y {
		return
	}
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// Thumbnail implements plot.Thumbnailer.
func (h *hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// bar is one bar in data units: centred on pos along the category axis, half
// wide, from zero to value, with an optional symmetric error and a text label
// drawn just past its end.
type bar struct {
	pos, half, value, err float64
	label                 string
}

// bars draws bars whose width is in data units. plotter.BarChart sizes bars in
// absolute lengths, which cannot be known before the plot is laid out, and it has
// no error bars or value labels; grouped bars with both are the point of the cost
// and quality charts.
type bars struct {
	bars       []bar
	horizontal bool // value along X, categories along Y
	fill       color.Color
	outline    draw.LineStyle
	errStyle   draw.LineStyle
	labelStyle text.Style
}

// labelGap separates a value label from the end of its bar (or error bar).
const labelGap = 3

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, br := range b.bars {
		var pts []vg.Point
		if b.horizontal {
			x0, x1 := trX(0), trX(br.value)
			y0, y1 := trY(br.pos-br.half), trY(br.pos+br.half)
			pts = []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		} else {
			x0, x1 := trX(br.pos-br.half), trX(br.pos+br.half)
			y0, y1 := trY(0), trY(br.value)
			pts = []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		}
		c.FillPolygon(b.fill, c.ClipPolygonXY(pts))
		c.StrokeLines(b.outline, c.ClipLinesXY(append(pts, pts[0]))...)
		if br.err > 0 {
			b.drawErr(&c, trX, trY, br)
		}
		if br.label != "" {
			c.FillText(b.labelStyle, b.labelAt(trX, trY, br), br.label)
		}
	}
}

// drawErr draws a capped error bar at the end of a vertical bar.
func (b *bars) drawErr(c *draw.Canvas, trX, trY func(float64) vg.Length, br bar) {
	x := trX(br.pos)
	lo, hi := trY(br.value-br.err), trY(br.value+br.err)
	capW := vg.Points(4)
	c.StrokeLines(b.errStyle, c.ClipLinesXY([]vg.Point{{X: x, Y: lo}, {X: x, Y: hi}})...)
	c.StrokeLine2(b.errStyle, x-capW, lo, x+capW, lo)
	c.StrokeLine2(b.errStyle, x-capW, hi, x+capW, hi)
}

// labelAt is where br's label is anchored: right of a horizontal bar, above a
// vertical one (above its error bar when it has one).
func (b *bars) labelAt(trX, trY func(float64) vg.Length, br bar) vg.Point {
	if b.horizontal {
		return vg.Point{X: trX(br.value) + vg.Points(labelGap), Y: trY(br.pos)}
	}
	return vg.Point{X: trX(br.pos), Y: trY(br.value+br.err) + vg.Points(labelGap)}
}

// DataRange implements plot.DataRanger: bars always start at zero.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	cmin, cmax := math.Inf(1), math.Inf(-1)
	vmin, vmax := 0.0, 0.0
	for _, br := range b.bars {
		cmin = math.Min(cmin, br.pos-br.half)
		cmax = math.Max(cmax, br.pos+br.half)
		vmin = math.Min(vmin, br.value-br.err)
		vmax = math.Max(vmax, br.value+br.err)
	}
	if b.horizontal {
		return vmin, vmax, cmin, cmax
	}
	return cmin, cmax, vmin, vmax
}

// GlyphBoxes implements plot.GlyphBoxer so the plot leaves room for the value
// labels instead of clipping them at the data area's edge.
func (b *bars) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	var boxes []plot.GlyphBox
	for _, br := range b.bars {
		if br.label == "" {
			continue
		}
		r := b.labelStyle.Rectangle(br.label)
		if b.horizontal {
			boxes = append(boxes, plot.GlyphBox{
				X: p.X.Norm(br.value), Y: p.Y.Norm(br.pos),
				Rectangle: r.Add(vg.Point{X: vg.Points(labelGap)}),
			})
			continue
		}
		boxes = append(boxes, plot.GlyphBox{
			X: p.X.Norm(br.pos), Y: p.Y.Norm(br.value + br.err),
			Rectangle: r.Add(vg.Point{Y: vg.Points(labelGap)}),
		})
	}
	return boxes
}

// Thumbnail implements plot.Thumbnailer: a filled swatch, inset so the
// swatches of adjacent legend entries do not touch.
func (b *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	r.Min.Y += vg.Points(1.5)
	r.Max.Y -= vg.Points(1.5)
	pts := []vg.Point{
		r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y},
	}
	c.FillPolygon(b.fill, pts)
	c.StrokeLines(b.outline, append(pts, pts[0]))
}

// errThumb is the legend swatch for error bars: a capped vertical line.
type errThumb struct{ style draw.LineStyle }

// Thumbnail implements plot.Thumbnailer.
func (e errThumb) Thumbnail(c *draw.Canvas) {
	x := c.Center().X
	capW := vg.Points(4)
	c.StrokeLine2(e.style, x, c.Min.Y, x, c.Max.Y)
	c.StrokeLine2(e.style, x-capW, c.Min.Y, x+capW, c.Min.Y)
	c.StrokeLine2(e.style, x-capW, c.Max.Y, x+capW, c.Max.Y)
}

// annotation is free text at a data point, offset by a fixed length; its
// glyph box keeps it inside the plot.
type annotation struct {
	x, y   float64
	offset vg.Point
	text   string
	style  text.Style
}

// Plot implements plot.Plotter.
func (a *annotation) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	c.FillText(a.style, vg.Point{X: trX(a.x), Y: trY(a.y)}.Add(a.offset), a.text)
}

// GlyphBoxes implements plot.GlyphBoxer.
func (a *annotation) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{
		X: p.X.Norm(a.x), Y: p.Y.Norm(a.y),
		Rectangle: a.style.Rectangle(a.text).Add(a.offset),
	}}
}

// frame outlines the data area; empty charts use it so the blank space reads as
// a chart with nothing in it rather than a missing image.
type frame struct{}

// Plot implements plot.Plotter.
func (frame) Plot(c draw.Canvas, _ *plot.Plot) {
	r := c.Rectangle
	c.StrokeLines(draw.LineStyle{Color: frameColor, Width: vg.Points(0.8)}, []vg.Point{
		r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min,
	})
}
