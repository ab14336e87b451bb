package observe

import (
	"bufio"
	"bytes"
	"flag"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// demoPlan is a small resolved experiment with every field the stack reads.
func demoPlan() *plan.Plan {
	budget := 250.0
	return &plan.Plan{
		Experiment: "demo",
		Source:     plan.Source{File: "experiments/demo.hcl", Line: 3},
		Hash:       "sha256:5f1e0c3b9a7d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f",
		Hardware: plan.Hardware{GPU: "NVIDIA RTX A5000", Price: plan.Price{
			Provider: "runpod", USDPerHour: 0.27, Source: "https://www.runpod.io/pricing", Observed: "2026-05-25"}},
		Model: plan.Model{Repo: "Qwen/Qwen2.5-7B-Instruct-AWQ", Revision: "b25037543e9394b818fdfca67ab2a00ecc7dd641",
			ServedName: "qwen2.5-7b-instruct-awq"},
		Engine: plan.Engine{Kind: "vllm", Host: "0.0.0.0", Port: 8000, EnablePrefixCaching: true},
		Cost: &plan.Cost{Utilization: []float64{1.0, 0.8}, BudgetUSDPerMonth: &budget, Compare: []plan.API{
			{Name: "gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini", USDPer1MInput: 0.15, USDPer1MOutput: 0.6},
			{Name: "claude-haiku", Provider: "anthropic", Model: "claude-haiku", USDPer1MInput: 1, USDPer1MOutput: 5},
		}},
	}
}

// stackCase is one generated stack, with what the test knows of its inputs.
type stackCase struct {
	name   string
	plan   *plan.Plan
	opts   Options
	gpu    bool // a GPU exporter is configured
	budget bool // the plan sets a monthly budget
	prefix bool // the engine caches prefixes (vLLM with enable_prefix_caching)
}

func stackCases() []stackCase {
	withGPU := DefaultOptions()
	withGPU.GPUExporter = "127.0.0.1:9400"
	noBudget := demoPlan()
	noBudget.Cost.BudgetUSDPerMonth = nil
	noCost := demoPlan()
	noCost.Cost = nil
	noPrefix := demoPlan()
	noPrefix.Engine.EnablePrefixCaching = false
	twin := demoPlan()
	twin.Engine.Kind = "twin" // the twin has no prefix cache, whatever the flag says
	return []stackCase{
		{name: "default", plan: demoPlan(), opts: DefaultOptions(), budget: true, prefix: true},
		{name: "gpu-exporter", plan: demoPlan(), opts: withGPU, gpu: true, budget: true, prefix: true},
		{name: "no-budget", plan: noBudget, opts: DefaultOptions(), prefix: true},
		{name: "no-cost", plan: noCost, opts: DefaultOptions(), prefix: true},
		{name: "no-prefix-cache", plan: noPrefix, opts: DefaultOptions(), budget: true},
		{name: "twin", plan: twin, opts: DefaultOptions(), budget: true},
	}
}

func files(t *testing.T, c stackCase) map[string][]byte {
	t.Helper()
	out, err := Files(c.plan, c.opts)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	return out
}

// TestFilesGolden compares every generated file with its golden copy under
// testdata/golden/<case>/; run `go test ./tools/internal/observe -update`
// after an intended change and review the diff.
func TestFilesGolden(t *testing.T) {
	for _, c := range stackCases() {
		t.Run(c.name, func(t *testing.T) {
			got := files(t, c)
			dir := filepath.Join("testdata", "golden", c.name)
			for _, rel := range []string{PrometheusFile, DatasourceFile, ProviderFile, DashboardFile} {
				if _, ok := got[rel]; !ok {
					t.Errorf("Files has no %s", rel)
				}
			}
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := Write(dir, got); err != nil {
					t.Fatal(err)
				}
			}
			for rel, data := range got {
				want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
				if err != nil {
					t.Errorf("%v (run with -update to create it)", err)
					continue
				}
				if !bytes.Equal(want, data) {
					t.Errorf("%s/%s differs from the generated file; run go test ./tools/internal/observe -update and review the diff", c.name, rel)
				}
			}
			// No golden file is left that Files no longer writes.
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, err := filepath.Rel(dir, path)
				if err != nil {
					return err
				}
				if _, ok := got[filepath.ToSlash(rel)]; !ok {
					t.Errorf("golden file %s is not generated any more", path)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Write lays the same bytes out under a fresh directory.
			out := t.TempDir()
			if err := Write(out, got); err != nil {
				t.Fatal(err)
			}
			for rel, data := range got {
				b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
				if err != nil || !bytes.Equal(b, data) {
					t.Errorf("Write: %s reads back differently (%v)", rel, err)
				}
			}
		})
	}
}

// promYAML is prometheus.yml as Prometheus reads it (the fields we check).
type promYAML struct {
	Global struct {
		ScrapeInterval     string            `yaml:"scrape_interval"`
		EvaluationInterval string            `yaml:"evaluation_interval"`
		ExternalLabels     map[string]string `yaml:"external_labels"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// jobTargets maps each scrape job to its targets.
func jobTargets(t *testing.T, b []byte) (promYAML, map[string][]string) {
	t.Helper()
	var p promYAML
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatalf("prometheus.yml: %v\n%s", err, b)
	}
	jobs := map[string][]string{}
	for _, sc := range p.ScrapeConfigs {
		if _, dup := jobs[sc.JobName]; dup {
			t.Errorf("prometheus.yml: job %q twice", sc.JobName)
		}
		jobs[sc.JobName] = []string{}
		for _, st := range sc.StaticConfigs {
			jobs[sc.JobName] = append(jobs[sc.JobName], st.Targets...)
		}
	}
	return p, jobs
}

// panelsByTitle lists the dashboard's non-row panels by title.
func panelsByTitle(d Dashboard) map[string]GPanel {
	out := map[string]GPanel{}
	for _, p := range flatten(d.Panels) {
		if p.Type != "row" {
			out[p.Title] = p
		}
	}
	return out
}

func allExprs(d Dashboard) []string {
	var out []string
	for _, p := range flatten(d.Panels) {
		for _, t := range p.Targets {
			out = append(out, t.Expr)
		}
	}
	return out
}

// TestStackProperties checks, independently of the golden files, what
// each stack must hold given its plan and options.
func TestStackProperties(t *testing.T) {
	for _, c := range stackCases() {
		t.Run(c.name, func(t *testing.T) {
			gen := files(t, c)
			prom, jobs := jobTargets(t, gen[PrometheusFile])

			// Scrape jobs: the engine on loopback (it listens on 0.0.0.0),
			// the exporter, and the GPU exporter only when configured.
			if got := jobs[JobEngine]; !slices.Equal(got, []string{"127.0.0.1:8000"}) {
				t.Errorf("engine targets %q, want [127.0.0.1:8000]", got)
			}
			if got := jobs[JobForge]; !slices.Equal(got, []string{c.opts.MetricsAddr}) {
				t.Errorf("forge targets %q, want [%s]", got, c.opts.MetricsAddr)
			}
			gpuTargets, hasGPUJob := jobs[JobGPU]
			if hasGPUJob != c.gpu {
				t.Errorf("gpu job present = %v, want %v", hasGPUJob, c.gpu)
			}
			if c.gpu && !slices.Equal(gpuTargets, []string{"127.0.0.1:9400"}) {
				t.Errorf("gpu targets %q, want [127.0.0.1:9400]", gpuTargets)
			}
			if len(jobs) != 2+btoi(c.gpu) {
				t.Errorf("jobs %v, want engine, forge%s", keys(jobs), map[bool]string{true: ", gpu"}[c.gpu])
			}
			if prom.Global.ScrapeInterval != c.opts.ScrapeInterval || prom.Global.ExternalLabels["experiment"] != "demo" {
				t.Errorf("global %+v, want scrape_interval %s and experiment=demo", prom.Global, c.opts.ScrapeInterval)
			}
			for _, sc := range prom.ScrapeConfigs {
				if sc.MetricsPath != "/metrics" {
					t.Errorf("job %s: metrics_path %q", sc.JobName, sc.MetricsPath)
				}
			}

			// Grafana provisioning parses, and the datasource's uid is the
			// one every panel names.
			var ds struct {
				APIVersion  int `yaml:"apiVersion"`
				Datasources []struct {
					Name     string            `yaml:"name"`
					Type     string            `yaml:"type"`
					UID      string            `yaml:"uid"`
					URL      string            `yaml:"url"`
					JSONData map[string]string `yaml:"jsonData"`
				} `yaml:"datasources"`
			}
			if err := yaml.Unmarshal(gen[DatasourceFile], &ds); err != nil {
				t.Fatalf("%s: %v", DatasourceFile, err)
			}
			if len(ds.Datasources) != 1 {
				t.Fatalf("%s: %d datasources, want 1", DatasourceFile, len(ds.Datasources))
			}
			if got := ds.Datasources[0]; got.UID != DatasourceUID || got.Type != "prometheus" ||
				got.URL != "http://"+c.opts.PrometheusAddr || got.JSONData["timeInterval"] != c.opts.ScrapeInterval {
				t.Errorf("datasource %+v, want uid %s, type prometheus, url http://%s, timeInterval %s",
					got, DatasourceUID, c.opts.PrometheusAddr, c.opts.ScrapeInterval)
			}
			var prov struct {
				APIVersion int `yaml:"apiVersion"`
				Providers  []struct {
					Type    string `yaml:"type"`
					Options struct {
						Path string `yaml:"path"`
					} `yaml:"options"`
				} `yaml:"providers"`
			}
			if err := yaml.Unmarshal(gen[ProviderFile], &prov); err != nil {
				t.Fatalf("%s: %v", ProviderFile, err)
			}
			if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" ||
				prov.Providers[0].Options.Path != "${"+DirEnv+"}/"+DashboardsDir {
				t.Errorf("provider %+v, want one file provider at ${%s}/%s", prov.Providers, DirEnv, DashboardsDir)
			}

			// The dashboard: no findings, a description on every panel,
			// and a byte-identical round trip through Decode.
			d := BuildDashboard(c.plan, c.opts)
			for _, f := range Check(d, DatasourceUID) {
				t.Errorf("Check: %s", f)
			}
			for _, row := range Rows(c.plan, c.opts) {
				for _, p := range row.Panels {
					if strings.TrimSpace(p.Look) == "" {
						t.Errorf("row %s, panel %q: empty Look", row.Title, p.Title)
					}
				}
			}
			for _, p := range flatten(d.Panels) {
				if p.Type != "row" && strings.TrimSpace(p.Description) == "" {
					t.Errorf("panel %d %q: empty description", p.ID, p.Title)
				}
			}
			raw := gen[DashboardFile]
			back, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			again, err := EncodeDashboard(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, raw) {
				t.Errorf("dashboard does not round-trip through Decode and EncodeDashboard")
			}

			// GPU panels only with a GPU exporter.
			panels := panelsByTitle(d)
			for _, title := range []string{"GPU utilization", "GPU memory used"} {
				if _, ok := panels[title]; ok != c.gpu {
					t.Errorf("panel %q present = %v, want %v", title, ok, c.gpu)
				}
			}

			// The budget: a constant variable and a target only with one.
			var budgetVar *Variable
			for i, v := range d.Templating.List {
				if v.Name == "budget_usd_per_month" {
					budgetVar = &d.Templating.List[i]
				}
			}
			if (budgetVar != nil) != c.budget {
				t.Errorf("budget_usd_per_month variable present = %v, want %v", budgetVar != nil, c.budget)
			}
			if budgetVar != nil && (budgetVar.Type != "constant" || budgetVar.Query != "250" || budgetVar.Current.Value != "250") {
				t.Errorf("budget variable %+v, want a constant 250", *budgetVar)
			}
			budgetTargets := 0
			for _, e := range allExprs(d) {
				if strings.Contains(e, "$budget_usd_per_month") {
					budgetTargets++
				}
			}
			if (budgetTargets > 0) != c.budget {
				t.Errorf("%d targets use $budget_usd_per_month, want some = %v", budgetTargets, c.budget)
			}

			// The cost row has one line per utilization and per API.
			utils, apis := 1, 0
			if c.plan.Cost != nil {
				utils, apis = len(c.plan.Cost.Utilization), len(c.plan.Cost.Compare)
			}
			for title, want := range map[string]int{
				"$/1M generated tokens, live":                     utils,
				"$/1M tokens vs APIs, live":                       utils + apis,
				"Monthly cost: GPU rent vs APIs at the live load": 1 + apis + btoi(c.budget),
			} {
				if got := len(panels[title].Targets); got != want {
					t.Errorf("panel %q: %d targets, want %d", title, got, want)
				}
			}
			// The GPU price reaches the dashboard as a constant.
			if vals := Values(d, nil); vals["gpu_usd_per_hour"] != "0.27" || vals["model"] != c.plan.Model.ServedName {
				t.Errorf("values %v, want gpu_usd_per_hour=0.27 and model=%s", vals, c.plan.Model.ServedName)
			}
		})
	}
}

// TestEngineTarget: a server listening everywhere is scraped on loopback,
// any other host as written.
func TestEngineTarget(t *testing.T) {
	for _, c := range []struct{ host, want string }{
		{"0.0.0.0", "127.0.0.1:8000"},
		{"", "127.0.0.1:8000"},
		{"::", "127.0.0.1:8000"},
		{"127.0.0.1", "127.0.0.1:8000"},
		{"10.1.2.3", "10.1.2.3:8000"},
		{"::1", "[::1]:8000"},
	} {
		p := demoPlan()
		p.Engine.Host = c.host
		b, err := PrometheusConfig(p, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if _, jobs := jobTargets(t, b); !slices.Equal(jobs[JobEngine], []string{c.want}) {
			t.Errorf("host %q: engine targets %q, want [%s]", c.host, jobs[JobEngine], c.want)
		}
	}
}

// vllmName and forgeName match metric names in PromQL. Digits are
// included: with `vllm:[a-z_:]+` vllm:e2e_request_latency_seconds_bucket
// would read as vllm:e, which both fixtures "have" (as a prefix).
var (
	vllmName  = regexp.MustCompile(`vllm:[a-zA-Z0-9_:]+`)
	forgeName = regexp.MustCompile(`forge_bench_[a-zA-Z0-9_]+`)
)

// orParts splits an expression at its top-level `or`s (the dashboard's
// alternatives) and lists the vLLM names of each part.
func orParts(expr string) [][]string {
	var out [][]string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		}
		if depth == 0 && strings.HasPrefix(expr[i:], " or ") {
			out = append(out, vllmName.FindAllString(expr[start:i], -1))
			start = i + len(" or ")
		}
	}
	return append(out, vllmName.FindAllString(expr[start:], -1))
}

// TestRenamedMetrics: where vLLM renamed a metric one target reads every
// name, joined by `or`, the newest first.
func TestRenamedMetrics(t *testing.T) {
	for _, c := range stackCases() {
		d := BuildDashboard(c.plan, c.opts)
		for _, names := range [][]string{
			{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
			{"vllm:inter_token_latency_seconds_bucket", "vllm:time_per_output_token_seconds_bucket"},
			{"vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total", "vllm:gpu_prefix_cache_hit_rate"},
		} {
			if !c.prefix && strings.Contains(names[0], "prefix_cache") {
				for _, e := range allExprs(d) {
					if strings.Contains(e, "prefix_cache") {
						t.Errorf("%s: the engine caches no prefixes, yet a query reads %s", c.name, e)
					}
				}
				continue
			}
			found := false
			for _, e := range allExprs(d) {
				parts := orParts(e)
				idx := make([]int, len(names))
				for i, n := range names {
					idx[i] = slices.IndexFunc(parts, func(p []string) bool { return slices.Contains(p, n) })
				}
				if slices.Contains(idx, -1) {
					continue
				}
				found = true
				for i := 1; i < len(idx); i++ {
					if idx[i] <= idx[i-1] {
						t.Errorf("%s: %s is not in an `or` alternative after %s: %s", c.name, names[i], names[i-1], e)
					}
				}
			}
			if !found {
				t.Errorf("%s: no target reads all of %v", c.name, names)
			}
		}
	}
}

// fixtureNames reads a recorded /metrics body: every sample name, and the
// families declared as histograms.
func fixtureNames(t *testing.T, path string) (samples, histograms map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, histograms = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) == 4 && fields[0] == "#" && fields[1] == "TYPE" && fields[3] == "histogram" {
			histograms[fields[2]] = true
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		samples[name] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatalf("%s: no samples", path)
	}
	return samples, histograms
}

// notInFixtures are vLLM names the dashboard reads that neither recorded
// fixture has: vLLM V1's prefix-cache counters of 0.8 to 0.10
// (vllm:gpu_prefix_cache_{queries,hits}, exposed with _total), which 0.11
// names vllm:prefix_cache_{queries,hits}_total and 0.6 (V0) did not have.
var notInFixtures = map[string]bool{
	"vllm:gpu_prefix_cache_hits_total":    true,
	"vllm:gpu_prefix_cache_queries_total": true,
}

// TestVLLMNamesExist: every vllm:* name the dashboard reads is a series of
// a recorded vLLM /metrics body (a _bucket only of a declared histogram),
// or one of the listed names of versions without a fixture.
func TestVLLMNamesExist(t *testing.T) {
	samples, histograms := map[string]bool{}, map[string]bool{}
	for _, f := range []string{"vllm-0.11-after.txt", "vllm-0.6-old-names.txt"} {
		s, h := fixtureNames(t, filepath.Join("..", "scrape", "testdata", f))
		for n := range s {
			samples[n] = true
		}
		for n := range h {
			histograms[n] = true
		}
	}
	used := map[string]bool{}
	for _, c := range stackCases() {
		d := BuildDashboard(c.plan, c.opts)
		exprs := allExprs(d)
		for _, v := range d.Templating.List {
			exprs = append(exprs, v.Query)
		}
		for _, e := range exprs {
			for _, n := range vllmName.FindAllString(e, -1) {
				used[n] = true
			}
		}
	}
	if len(used) < 10 {
		t.Fatalf("only %d vLLM names found in the queries: %v", len(used), keys(used))
	}
	for n := range used {
		known := samples[n]
		if base, ok := strings.CutSuffix(n, "_bucket"); ok {
			known = known && histograms[base]
		}
		if known == notInFixtures[n] {
			if known {
				t.Errorf("%s is in a fixture: drop it from notInFixtures", n)
			} else {
				t.Errorf("the dashboard reads %s, which no vLLM fixture exposes", n)
			}
		}
	}
	for n := range notInFixtures {
		if !used[n] {
			t.Errorf("notInFixtures lists %s, which the dashboard does not read", n)
		}
	}
	// The spend panel reads the engine's process_start_time_seconds.
	s11, _ := fixtureNames(t, filepath.Join("..", "scrape", "testdata", "vllm-0.11-after.txt"))
	if !s11["process_start_time_seconds"] {
		t.Errorf("vLLM 0.11's fixture has no process_start_time_seconds, which the spend panel reads")
	}
}

// setOnceALevelStarts are forge bench families that a fresh exporter does
// not expose: label vectors with no series until the first level starts
// (Exporter.startLevel sets forge_bench_level{kind}).
var setOnceALevelStarts = map[string]bool{"forge_bench_level": true}

// TestForgeNamesExist: every forge_bench_* name the dashboard reads is a
// family of forge bench's exporter.
func TestForgeNamesExist(t *testing.T) {
	rec := httptest.NewRecorder()
	bench.NewExporter().Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: HTTP %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	src, err := os.ReadFile(filepath.Join("..", "bench", "exporter.go"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, c := range stackCases() {
		for _, e := range allExprs(BuildDashboard(c.plan, c.opts)) {
			for _, n := range forgeName.FindAllString(e, -1) {
				used[n] = true
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("the dashboard reads no forge_bench_* metric")
	}
	for n := range used {
		_, exposed := fams[n]
		switch {
		case exposed && setOnceALevelStarts[n]:
			t.Errorf("a fresh exporter exposes %s: drop it from setOnceALevelStarts", n)
		case !exposed && !setOnceALevelStarts[n]:
			t.Errorf("the dashboard reads %s, which forge bench's exporter does not expose", n)
		case !exposed && !bytes.Contains(src, []byte(`Name: "`+n+`"`)):
			t.Errorf("setOnceALevelStarts lists %s, which exporter.go does not define", n)
		}
	}
	for n := range setOnceALevelStarts {
		if !used[n] {
			t.Errorf("setOnceALevelStarts lists %s, which the dashboard does not read", n)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
