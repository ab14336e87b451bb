package chart

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/png"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// These tests prove the golden comparisons in golden_test.go both ways: real
// changes of a chart fail them, and what a font or rasteriser update does to
// the same chart passes them.

// buildFor returns the layout function of the named chart.
func buildFor(t *testing.T, chart string) func(Set) *figure {
	t.Helper()
	for _, b := range builders {
		if b.name == chart {
			return b.build
		}
	}
	t.Fatalf("no chart %q", chart)
	return nil
}

// TestCompareCatchesRealChanges renders a chart, changes something a reader
// would see, renders it again and requires the SVG comparison, and where the
// change is large enough for its resolution the PNG comparison too, to report
// a difference.
func TestCompareCatchesRealChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		set    func() Set
		chart  string
		change func(*Set)
		// png: the PNG comparison must see it too. False for changes below the
		// PNG check's deliberate resolution (see the PNG bounds): those are the
		// SVG check's alone, and the test only logs what the PNG check said.
		png bool
	}{
		{"title reworded", fullSet, "throughput", func(s *Set) { s.Title += " (rerun)" }, true},
		{"title digit, same width", fullSet, "ttft", func(s *Set) { s.Title = strings.Replace(s.Title, "8B", "9B", 1) }, false},
		{"footer version", singleSet, "cost", func(s *Set) { s.Footer = strings.Replace(s.Footer, "v0.4.0", "v0.4.1", 1) }, false},
		{"x axis label", singleSet, "throughput", func(s *Set) { s.XLabel = "request rate (req/min)" }, true},
		{"series missing", fullSet, "throughput", func(s *Set) { s.Series = s.Series[:2] }, true},
		{"series order swapped", fullSet, "tpot", func(s *Set) { s.Series[0], s.Series[1] = s.Series[1], s.Series[0] }, true},
		{"throughput point moved 10%", fullSet, "throughput", func(s *Set) { s.Series[0].Points[3].OutputTPS *= 1.1 }, true},
		{"latency point moved 10%", singleSet, "tpot", func(s *Set) { *s.Series[0].Points[3].TPOTP99Ms *= 1.1 }, true},
		{"latency point moved 2%", fullSet, "ttft", func(s *Set) { *s.Series[1].Points[4].TTFTP99Ms *= 1.02 }, false},
		{"latency gap filled", edgeSet, "ttft", func(s *Set) { s.Series[0].Points[1].TTFTP50Ms = ptr(60) }, true},
		{"SLO line added", singleSet, "ttft", func(s *Set) { s.SLO.TTFTP99Ms = ptr(500) }, true},
		{"cost bar 10% longer", fullSet, "cost", func(s *Set) { s.Costs[0].ByUtil[0].USDPer1M *= 1.1 }, true},
		{"API bar missing", singleSet, "cost", func(s *Set) { s.APIs = nil }, true},
		{"quality score lower", fullSet, "quality", func(s *Set) { s.Tasks[0].Quant -= 0.02 }, true},
		{"eval dropped", edgeSet, "quality", func(s *Set) { s.Tasks = nil }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			build := buildFor(t, tc.chart)
			s := tc.set()
			wantPNG, wantSVG, err := renderOne(build, s)
			if err != nil {
				t.Fatal(err)
			}
			s = tc.set()
			tc.change(&s)
			gotPNG, gotSVG, err := renderOne(build, s)
			if err != nil {
				t.Fatal(err)
			}
			if d := compareSVG(gotSVG, wantSVG); d == nil {
				t.Errorf("SVG comparison accepts the change")
			} else {
				t.Logf("SVG: %s", strings.Join(d, "; "))
			}
			d, err := comparePNG(gotPNG, wantPNG)
			switch {
			case tc.png && err == nil:
				t.Errorf("PNG comparison accepts the change: %d pixels past the bound, %d changed", d.bad, d.changed)
			case err != nil:
				t.Logf("PNG: %v", err)
			default:
				t.Logf("PNG accepts it, as allowed: %d pixels past the bound, %d changed", d.bad, d.changed)
			}
		})
	}
}

// TestCompareToleratesRasterChanges applies what a font or rasteriser update
// does to each chart of the full fixture set (the one with the most text,
// series and bars, so the most anti-aliased edges) and requires both
// comparisons to accept it. Each case also requires that it did change the
// output, so that it cannot pass by testing nothing.
func TestCompareToleratesRasterChanges(t *testing.T) {
	t.Parallel()
	px := vg.Inch / dpi // one pixel of the PNG
	s := fullSet()
	type rendered struct {
		name     string
		build    func(Set) *figure
		png, svg []byte
	}
	var charts []rendered
	for _, b := range builders {
		p, sv, err := renderOne(b.build, s)
		if err != nil {
			t.Fatal(err)
		}
		charts = append(charts, rendered{b.name, b.build, p, sv})
	}
	tests := []struct {
		name string
		// perturb returns the changed PNG and SVG, nil for one it leaves alone.
		perturb    func(t *testing.T, f func() *figure, footer string, png, svg []byte) ([]byte, []byte)
		minChanged int // pixels the PNG perturbation must change at least
	}{
		{"anti-aliased pixels ±2", func(t *testing.T, _ func() *figure, _ string, p, _ []byte) ([]byte, []byte) {
			return mapEdgePixels(t, p, func(v uint8, x, y int) uint8 {
				if (x+y)%2 == 0 {
					return uint8(min(int(v)+2, 255))
				}
				return uint8(max(int(v)-2, 0))
			}), nil
		}, 1000},
		{"anti-aliasing gamma 0.8", func(t *testing.T, _ func() *figure, _ string, p, _ []byte) ([]byte, []byte) {
			// Blending in another gamma moves edge levels by up to 21.
			return mapEdgePixels(t, p, func(v uint8, _, _ int) uint8 {
				return uint8(math.Round(255 * math.Pow(float64(v)/255, 0.8)))
			}), nil
		}, 1000},
		{"glyphs a third of a pixel right and down", func(t *testing.T, f func() *figure, footer string, _, _ []byte) ([]byte, []byte) {
			return encodeWith(t, f(), footer, shiftText(vg.Point{X: px / 3, Y: -px / 3}), nil)
		}, 1000},
		{"glyphs half a pixel left", func(t *testing.T, f func() *figure, footer string, _, _ []byte) ([]byte, []byte) {
			return encodeWith(t, f(), footer, shiftText(vg.Point{X: -px / 2}), nil)
		}, 1000},
		{"pixel centres half a pixel off", func(t *testing.T, f func() *figure, footer string, _, _ []byte) ([]byte, []byte) {
			p, _ := encodeWith(t, f(), footer, nil, func(c *vgimg.Canvas) { c.Translate(vg.Point{X: px / 2, Y: px / 2}) })
			return p, nil
		}, 1000},
		{"SVG numbers to 4 digits, new banner", func(t *testing.T, _ func() *figure, _ string, _, sv []byte) ([]byte, []byte) {
			// What a vgsvg release that writes fewer digits would give.
			out := svgNumberRE.ReplaceAllFunc(sv, func(m []byte) []byte {
				parts := svgNumberRE.FindSubmatch(m)
				nums := numberRE.ReplaceAllStringFunc(string(parts[2]), func(n string) string {
					v, _ := strconv.ParseFloat(n, 64)
					return strconv.FormatFloat(v, 'g', 4, 64)
				})
				return []byte(string(parts[1]) + nums + `"`)
			})
			return nil, bytes.Replace(out, []byte("Generated by SVGo and Plotinum VG"), []byte("Generated by gonum/plot"), 1)
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			worst, bad := 0, 0 // over all charts, for the log: the margin left
			for _, c := range charts {
				gotPNG, gotSVG := tc.perturb(t, func() *figure { return c.build(s) }, s.Footer, c.png, c.svg)
				if gotPNG != nil {
					d, err := comparePNG(gotPNG, c.png)
					if err != nil {
						t.Errorf("%s.png: %v", c.name, err)
					}
					worst, bad = max(worst, d.maxDiff), max(bad, d.bad)
					if d.changed < tc.minChanged {
						t.Errorf("%s.png: perturbation changed %d pixels, want at least %d", c.name, d.changed, tc.minChanged)
					}
				}
				if gotSVG != nil {
					if bytes.Equal(gotSVG, c.svg) {
						t.Errorf("%s.svg: perturbation changed nothing", c.name)
					}
					if d := compareSVG(gotSVG, c.svg); d != nil {
						t.Errorf("%s.svg:\n\t%s", c.name, strings.Join(d, "\n\t"))
					}
				}
			}
			if tc.minChanged > 0 {
				t.Logf("PNG: largest difference %d levels (bound %d), at most %d pixels past it (%d may)",
					worst, pngChannelTol, bad, pngMaxBadPixels)
			}
		})
	}
}

// TestCompareRules pins single rules of the comparisons on small inputs.
func TestCompareRules(t *testing.T) {
	const doc = `<?xml version="1.0"?>
<!-- banner -->
<svg width="576pt" height="360pt" viewBox="0 0 576 360" xmlns="http://www.w3.org/2000/svg">
<g transform="scale(1, -1) translate(0, -360)">
<path d="M10,20L30.5,40" style="fill:none;stroke:#000000;stroke-width:0.5" />
<text x="100.25" y="-50" transform="scale(1, -1)" style="font-size:10px;fill:#1E1E1E">label</text>
</g>
</svg>
`
	edit := func(old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in doc", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	// Fonts embedded by vgsvg go into <defs><style> as base64 data.
	withFont := func(data string) string {
		return edit("<g ", "<defs><style>@font-face{src:url(data:font/ttf;base64,"+data+")}</style></defs>\n<g ")
	}
	svgTests := []struct {
		name, got, want string // want "" is doc
		same            bool
	}{
		{"identical", doc, "", true},
		{"other banner and layout whitespace", edit("<!-- banner -->\n<svg", "<svg"), "", true},
		{"attributes reordered", edit(`x="100.25" y="-50"`, `y="-50" x="100.25"`), "", true},
		{"coordinates within tolerance", edit("30.5,40", "30.9,39.6"), "", true},
		{"embedded font data differs", withFont("BBBB"), withFont("AAAA"), true},
		{"coordinate beyond tolerance", edit("30.5,40", "31.1,40"), "", false},
		{"text x beyond tolerance", edit(`x="100.25"`, `x="100.8"`), "", false},
		{"text changed", edit(">label<", ">labels<"), "", false},
		{"colour changed", edit("fill:#1E1E1E", "fill:#1E1E1F"), "", false},
		{"font size changed", edit("font-size:10px", "font-size:9px"), "", false},
		{"stroke width changed", edit("stroke-width:0.5", "stroke-width:0.6"), "", false},
		{"path command changed", edit("L30.5,40", "C30.5,40"), "", false},
		{"path segment added", edit("L30.5,40", "L30.5,40L50,60"), "", false},
		{"element added", edit("</g>", "<path d=\"M0,0L1,1\" />\n</g>"), "", false},
		{"element missing", edit("<path d=\"M10,20L30.5,40\" style=\"fill:none;stroke:#000000;stroke-width:0.5\" />\n", ""), "", false},
		{"attribute added", edit("<text x=", "<text class=\"a\" x="), "", false},
		{"canvas size changed", edit(`width="576pt"`, `width="600pt"`), "", false},
		{"not SVG", "<html></html>", "", false},
	}
	for _, tc := range svgTests {
		t.Run("svg/"+tc.name, func(t *testing.T) {
			want := cmp.Or(tc.want, doc)
			d := compareSVG([]byte(tc.got), []byte(want))
			if (d == nil) != tc.same {
				t.Errorf("compareSVG = %q, want same = %v", d, tc.same)
			}
		})
	}

	// PNG: a small blank canvas against small edits of it.
	blank := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		return img
	}
	square := func(img *image.RGBA, x0, y0, n int, v uint8) *image.RGBA {
		for y := y0; y < y0+n; y++ {
			for x := x0; x < x0+n; x++ {
				i := img.PixOffset(x, y)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = v, v, v
			}
		}
		return img
	}
	want := square(blank(96, 64), 20, 20, 6, 0)
	pngTests := []struct {
		name string
		got  *image.RGBA
		same bool
	}{
		{"identical", square(blank(96, 64), 20, 20, 6, 0), true},
		{"square a pixel right", square(blank(96, 64), 21, 20, 6, 0), true},
		{"square lighter by 40", square(blank(96, 64), 20, 20, 6, 40), true},
		{"square missing", blank(96, 64), false},
		{"square three pixels off", square(blank(96, 64), 23, 20, 6, 0), false},
		{"3×3 dot added", square(square(blank(96, 64), 20, 20, 6, 0), 60, 40, 3, 0), false},
		{"other size", square(blank(96, 65), 20, 20, 6, 0), false},
	}
	for _, tc := range pngTests {
		t.Run("png/"+tc.name, func(t *testing.T) {
			d, err := comparePNG(encodePNG(t, tc.got), encodePNG(t, want))
			if (err == nil) != tc.same {
				t.Errorf("comparePNG = %v (%+v), want same = %v", err, d, tc.same)
			}
		})
	}
	if _, err := comparePNG([]byte("not a PNG"), encodePNG(t, want)); err == nil {
		t.Error("comparePNG accepts a file that is not a PNG")
	}
}

// TestEncodeWith checks that the test renderer, undisturbed, draws exactly what
// figure.encode draws, so the perturbed renders differ by the perturbation
// only. Two charts cover lines, bars, rotated text and the legend.
func TestEncodeWith(t *testing.T) {
	s := fullSet()
	for _, b := range builders {
		if b.name != "ttft" && b.name != "quality" {
			continue
		}
		wantPNG, wantSVG, err := renderOne(b.build, s)
		if err != nil {
			t.Fatal(err)
		}
		gotPNG, gotSVG := encodeWith(t, b.build(s), s.Footer, nil, nil)
		if !bytes.Equal(gotPNG, wantPNG) || !bytes.Equal(gotSVG, wantSVG) {
			t.Errorf("%s: encodeWith differs from figure.encode", b.name)
		}
	}
}

// svgNumberRE matches a geometry attribute, for rewriting its numbers.
var svgNumberRE = regexp.MustCompile(`(\s(?:x|y|d|transform|viewBox)=")([^"]*)"`)

// encodeWith draws f as figure.encode does, with the canvases wrapped by wrap
// (nil for none) and the raster canvas prepared by prep (nil for none).
func encodeWith(t *testing.T, f *figure, footer string, wrap func(vg.CanvasSizer) vg.CanvasSizer, prep func(*vgimg.Canvas)) (pngData, svgData []byte) {
	t.Helper()
	if wrap == nil {
		wrap = func(c vg.CanvasSizer) vg.CanvasSizer { return c }
	}
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	if prep != nil {
		prep(img)
	}
	f.draw(draw.New(wrap(img)), footer)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		t.Fatal(err)
	}
	sv := vgsvg.NewWith(vgsvg.UseWH(width, height), vgsvg.EmbedFonts(false))
	f.draw(draw.New(wrap(sv)), footer)
	var sb bytes.Buffer
	if _, err := sv.WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	return pb.Bytes(), sb.Bytes()
}

// shiftText returns a canvas wrapper that draws every string d away from
// where it was asked for: what a font library that places glyphs differently
// does, in both the PNG and the SVG.
func shiftText(d vg.Point) func(vg.CanvasSizer) vg.CanvasSizer {
	return func(c vg.CanvasSizer) vg.CanvasSizer { return textShifter{c, d} }
}

type textShifter struct {
	vg.CanvasSizer
	d vg.Point
}

func (s textShifter) FillString(f font.Face, pt vg.Point, txt string) {
	s.CanvasSizer.FillString(f, pt.Add(s.d), txt)
}

// mapEdgePixels decodes data, applies fn to each colour channel of every
// anti-aliased pixel (one that differs from a 4-neighbour: the edges of glyphs,
// lines and shapes, where a rasteriser's choices show) and encodes the result.
func mapEdgePixels(t *testing.T, data []byte, fn func(v uint8, x, y int) uint8) []byte {
	t.Helper()
	src, err := decodeRGBA(data)
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	b := src.Bounds()
	differs := func(i, x, y int) bool { // pixel at offset i vs the one at (x, y)
		if !image.Pt(x, y).In(b) {
			return false
		}
		j := src.PixOffset(x, y)
		return !bytes.Equal(src.Pix[i:i+4], src.Pix[j:j+4])
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := src.PixOffset(x, y)
			if !differs(i, x-1, y) && !differs(i, x+1, y) && !differs(i, x, y-1) && !differs(i, x, y+1) {
				continue
			}
			for c := range 3 {
				out.Pix[i+c] = fn(src.Pix[i+c], x, y)
			}
		}
	}
	return encodePNG(t, out)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(fmt.Errorf("encoding test image: %w", err))
	}
	return b.Bytes()
}
