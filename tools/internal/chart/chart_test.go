package chart

import (
	"bytes"
	"errors"
	"flag"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

var cases = []struct {
	name string
	set  func() Set
}{
	{"full", fullSet},
	{"single", singleSet},
	{"edge", edgeSet},
}

// TestGolden compares every chart with the committed one under the rules in
// golden_test.go: structure, text and style of the SVG exactly, its coordinates
// to half a point, and the PNG up to anti-aliasing. So a font or rasteriser
// update does not fail it, and any change a reader could see is a reviewed
// change. On a mismatch the new file is written next to the golden as
// NAME.got.EXT (ignored by git) to look at.
func TestGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			paths, err := Render(tc.set(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range paths {
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join(dir, filepath.Base(p))
				ext := filepath.Ext(golden)
				gotPath := strings.TrimSuffix(golden, ext) + ".got" + ext
				// A .got file is only ever the output of the last failing run.
				if err := os.Remove(gotPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run: go test ./tools/internal/chart/ -run TestGolden -update)", err)
				}
				var diff string
				switch ext {
				case ".svg":
					if d := compareSVG(got, want); d != nil {
						diff = "\n\t" + strings.Join(d, "\n\t")
					}
				case ".png":
					if _, err := comparePNG(got, want); err != nil {
						diff = " " + err.Error()
					}
				default:
					t.Fatalf("%s: no comparison for %s files", p, ext)
				}
				if diff == "" {
					continue
				}
				if err := os.WriteFile(gotPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Errorf("%s differs from golden:%s\ngot written to %s. If the change is intended, "+
					"look at it and run: go test ./tools/internal/chart/ -run TestGolden -update", golden, diff, gotPath)
			}
		})
	}
}

// TestRenderPaths checks the files and their order, and that dir is created.
func TestRenderPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "charts")
	paths, err := Render(fullSet(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range Names {
		want = append(want, filepath.Join(dir, n+".png"), filepath.Join(dir, n+".svg"))
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".png") && !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", p)
		}
		if strings.HasSuffix(p, ".svg") && !bytes.Contains(data, []byte("<svg")) {
			t.Errorf("%s is not an SVG", p)
		}
	}
	if len(builders) != len(Names) {
		t.Fatalf("%d builders for %d names", len(builders), len(Names))
	}
	for i, b := range builders {
		if b.name != Names[i] {
			t.Errorf("builder %d is %q, Names has %q", i, b.name, Names[i])
		}
	}
}

// TestDeterministic renders the same set twice, concurrently (which also lets
// -race see any shared state), and requires identical bytes.
func TestDeterministic(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dirs := []string{t.TempDir(), t.TempDir()}
			paths := make([][]string, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range dirs {
				wg.Go(func() { paths[i], errs[i] = Render(tc.set(), dirs[i]) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range paths[0] {
				a, _ := os.ReadFile(paths[0][i])
				b, _ := os.ReadFile(paths[1][i])
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Errorf("%s: two renders differ (%d vs %d bytes)", filepath.Base(paths[0][i]), len(a), len(b))
				}
			}
		})
	}
}

// svgText renders s and returns each chart's SVG text by name.
func svgText(t *testing.T, s Set) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Render(s, dir); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range Names {
		data, err := os.ReadFile(filepath.Join(dir, n+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(data)
	}
	return out
}

// TestContent checks that what a reader needs is actually drawn: titles,
// footer, legend entries, values and the empty-chart notes.
func TestContent(t *testing.T) {
	full := fullSet()
	tests := []struct {
		name  string
		set   Set
		chart string
		want  []string
		ticks []string // text of whole <text> elements, e.g. tick labels
	}{
		{"throughput", full, "throughput", []string{
			full.Title + " — output throughput vs concurrency", full.Footer,
			"twin_bf16 · BF16", "twin_awq · AWQ-INT4", "twin_bf16 · BF16 (predicted)",
			"output throughput (tokens/s)", "log scale",
		}, []string{"1", "2", "64"}},
		{"ttft", full, "ttft", []string{
			"TTFT p50 and p99 vs concurrency", full.Footer,
			"twin_bf16 · BF16 p50", "twin_awq · AWQ-INT4 p99", "SLO p99 ≤ 2000 ms",
		}, nil},
		{"tpot", full, "tpot", []string{"twin_bf16 · BF16 (predicted) p99", "SLO p99 ≤ 100 ms", full.Footer}, nil},
		{"cost", full, "cost", []string{
			"twin_bf16 · BF16 @ 100 %", "@ 80 %", "gpt-4o-mini", "claude-3-5-haiku",
			"$0.42", "$0.53", "$0.29", "$0.36", "$0.26", "$1.60",
			"self-hosted @ 100 %", "commercial API", "USD per 1M tokens (input+output)", full.Footer,
		}, nil},
		{"quality", full, "quality", []string{
			"retention 98.7 %", "[96.1, 101.3]", "retention 99.0 %", "[97.8, 100.2]",
			"gsm8k", "(5-shot, exact_match)", "0.842", "0.831", "95 % CI", full.Footer,
		}, nil},
		{"no eval", singleSet(), "quality", []string{"no eval run", "Quality evaluation was skipped (--no-eval).", "Qwen2.5 7B on L4"}, nil},
		{"no SLO", singleSet(), "ttft", []string{"request rate (req/s)", "l4_fp8 · FP8 p99"}, []string{"0.5", "1.5", "3"}},
		{"edge single level", edgeSet(), "throughput", []string{"a10g · BF16 (predicted)"}, []string{"4", "8", "16"}},
		{"crowded title wraps", crowdedSet(), "cost", []string{
			crowdedSet().Title, "cost per 1M tokens, self-hosted vs commercial API", "@ 50 %", "$6.00",
		}, nil},
		{"crowded retention wraps", crowdedSet(), "quality", []string{"arc_challenge", "[96.1, 101.3]"}, []string{"retention"}},
		{"empty", Set{}, "throughput", []string{"no data"}, nil},
		{"empty ttft", Set{}, "ttft", []string{"no TTFT data"}, nil},
		{"empty cost", Set{}, "cost", []string{"no cost data"}, nil},
		{"empty quality", Set{}, "quality", []string{"no eval run"}, nil},
	}
	rendered := map[string]map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.set.Title + "|" + tc.set.Footer
			if rendered[key] == nil {
				rendered[key] = svgText(t, tc.set)
			}
			svg := rendered[key][tc.chart]
			for _, w := range tc.want {
				if !strings.Contains(svg, html.EscapeString(w)) {
					t.Errorf("%s.svg lacks %q", tc.chart, w)
				}
			}
			for _, tick := range tc.ticks {
				if !strings.Contains(svg, ">"+tick+"</text>") {
					t.Errorf("%s.svg lacks tick label %q", tc.chart, tick)
				}
			}
		})
	}
	if got := rendered["|"]["ttft"]; strings.Contains(got, "SLO") {
		t.Error("ttft without SLO draws an SLO line")
	}
	if got := rendered[singleSet().Title+"|"+singleSet().Footer]["ttft"]; strings.Contains(got, "SLO") {
		t.Error("ttft without SLO draws an SLO line")
	}
}

// TestNeverPanics feeds hostile values; Render must write all charts.
func TestNeverPanics(t *testing.T) {
	nan, inf := ptrNaN(), ptr(posInf)
	sets := map[string]Set{
		"empty":          {},
		"no points":      {Series: []Series{{Label: "x"}}},
		"zero and neg X": {Series: []Series{{Points: []Point{{X: 0, OutputTPS: 1, TTFTP50Ms: ptr(0)}, {X: -1, OutputTPS: 2}}}}},
		"non-finite": {
			Series: []Series{{Points: []Point{{X: 1, OutputTPS: posInf, TTFTP50Ms: nan, TTFTP99Ms: inf}, {X: posInf, OutputTPS: 3}}}},
			Costs:  []CostBar{{ByUtil: []UtilCost{{Utilization: 1, USDPer1M: posInf}}}},
			APIs:   []APIBar{{USDPer1M: *nan}},
			Tasks:  []Task{{Baseline: *nan, Quant: 2, QuantErr: inf, Retention: posInf, RetentionLow: nan, RetentionHigh: ptr(1)}},
		},
		"zero latency log": {Series: []Series{{Points: []Point{
			{X: 1, TTFTP50Ms: ptr(0), TTFTP99Ms: ptr(1)}, {X: 2, TTFTP50Ms: ptr(1000), TTFTP99Ms: ptr(5000)},
		}}}},
		"empty cost util": {Costs: []CostBar{{Label: "no utils"}}},
		"crowded":         crowdedSet(),
	}
	for name, s := range sets {
		t.Run(name, func(t *testing.T) {
			s.SLO.TTFTP99Ms = ptr(-5)
			paths, err := Render(s, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if len(paths) != 2*len(Names) {
				t.Fatalf("wrote %d files, want %d", len(paths), 2*len(Names))
			}
		})
	}
}
