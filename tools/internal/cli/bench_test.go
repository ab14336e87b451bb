package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestParseLevels(t *testing.T) {
	tests := []struct {
		conc, rate string
		want       string
		err        bool
	}{
		{"1,4,16", "", "concurrency:1 concurrency:4 concurrency:16", false},
		{"", "0.5,2", "rate:0.5 rate:2", false},
		{"2", "8", "", true},
		{"4,1", "", "", true},
		{"1,1", "", "", true},
		{"1.5", "", "", true},
		{"", "-1", "", true},
		{"", "", "", true},
		{"", "NaN", "", true},
		{"", "inf", "", true},
		{"", "+Inf", "", true},
		{"NaN", "", "", true},
		{"1e9", "", "", true},
		{"", "1e7", "", true},
	}
	for _, tt := range tests {
		levels, err := bench.ParseLevels(tt.conc, tt.rate)
		if (err != nil) != tt.err {
			t.Errorf("bench.ParseLevels(%q, %q) error = %v", tt.conc, tt.rate, err)
			continue
		}
		var got []string
		for i, l := range levels {
			if l.Index != i {
				t.Errorf("level %d has index %d", i, l.Index)
			}
			got = append(got, fmt.Sprintf("%s:%g", l.Kind, l.Value))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("bench.ParseLevels(%q, %q) = %v, want %s", tt.conc, tt.rate, got, tt.want)
		}
	}
}

func TestParseSLO(t *testing.T) {
	got, err := bench.ParseSLO("ttft_p99_ms=2000, tpot_ms=100")
	if err != nil || got["ttft_ms"] != 2000 || got["tpot_ms"] != 100 || len(got) != 2 {
		t.Errorf("parseSLO = %v, %v", got, err)
	}
	for _, bad := range []string{"ttft=1", "ttft_p99_ms=-1", "qps_ms=3", "ttft_p99_ms"} {
		if _, err := bench.ParseSLO(bad); err == nil {
			t.Errorf("bench.ParseSLO(%q) accepted", bad)
		}
	}
}

// streamServer answers /v1/completions with three streamed tokens and usage.
func streamServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3; i++ {
			finish := "null"
			if i == 2 {
				finish = `"length"`
			}
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\"w%d \",\"finish_reason\":%s}]}\n\n", i, finish)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBenchCommand runs forge bench end to end against a tiny streaming
// server and checks that the files it writes validate.
func TestBenchCommand(t *testing.T) {
	srv := streamServer(t)
	out := t.TempDir()
	t.Setenv("FORGE_TEST_KEY", "sk-secret-value")
	stdout, stderr, code := run(t, "bench", "--base-url", srv.URL, "--model", "m", "--input-tokens", "16", "--output-tokens", "3",
		"--concurrency", "1,2", "--num-prompts", "6", "--warmup", "2", "--api-key-env", "FORGE_TEST_KEY", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "2 level(s), 12 completed") {
		t.Errorf("stdout: %s", stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 4 {
		t.Errorf("files: %v", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "sk-secret-value") {
			t.Errorf("%s contains the API key", f)
		}
	}
	if _, stderr, code := run(t, "validate", out); code != ExitOK {
		t.Errorf("bench output does not validate:\n%s", stderr)
	}
	if _, _, code := run(t, "bench", "--base-url", srv.URL, "--model", "m", "--concurrency", "1", "--api-key-env", "FORGE_UNSET_VAR_X", "--out", out); code != ExitUsage {
		t.Errorf("unset key variable: exit %d", code)
	}
	// A second sweep into the same directory would mix two runs' levels.
	before, _ := os.ReadFile(filepath.Join(out, "00-concurrency-1.jsonl"))
	if _, _, err := runErr("bench", "--base-url", srv.URL, "--model", "m", "--concurrency", "1", "--num-prompts", "2", "--out", out); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "already holds level records") {
		t.Errorf("a rerun into the same --out: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "00-concurrency-1.jsonl")); string(after) != string(before) {
		t.Error("the refused rerun changed the first run's records")
	}
}

// TestBenchFlagBounds: a number no sweep can mean is a usage error (exit
// 2) naming it, found before a prompt is generated or a request sent.
func TestBenchFlagBounds(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "NaN"}, `--rate: "NaN" is not a positive number`},
		{[]string{"--rate", "inf"}, "the rate must be a finite number above 0"},
		{[]string{"--concurrency", "30000000"}, "concurrency must be a whole number of streams up to 65536"},
		{[]string{"--concurrency", "1", "--num-prompts", "50000000"}, "at most 1000000"},
		{[]string{"--rate", "2", "--burstiness", "-1"}, "burstiness must be a finite number above 0"},
		{[]string{"--rate", "2", "--burstiness", "NaN"}, "burstiness must be a finite number above 0"},
		{[]string{"--concurrency", "1", "--max-duration", "-5s"}, "max duration must not be negative"},
		{[]string{"--concurrency", "1", "--timeout", "-1s"}, "request timeout must not be negative"},
		{[]string{"--concurrency", "1", "--max-line-bytes", "-1"}, "stream limits must not be negative"},
		{[]string{"--rate", "2", "--max-concurrency", "-3"}, "max concurrency must be between 0"},
	}
	for _, tt := range tests {
		args := append([]string{"bench", "--base-url", "http://127.0.0.1:9", "--model", "m", "--out", t.TempDir()}, tt.args...)
		_, _, err := runErr(args...)
		if ExitCode(err) != ExitUsage || !strings.Contains(fmt.Sprint(err), tt.want) {
			t.Errorf("%v: exit %d, %v; want exit %d and %q", tt.args, ExitCode(err), err, ExitUsage, tt.want)
		}
	}
}

// TestMetricsAddrErrors: a --metrics-addr that cannot be listened on, or a
// linger without it, is a usage error naming the flag, found before any
// request is sent (bench) or any server is started (run).
func TestMetricsAddrErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bench := func(out string, extra ...string) []string {
		return append([]string{"bench", "--base-url", "http://127.0.0.1:1", "--model", "m", "--concurrency", "1", "--num-prompts", "2", "--no-scrape", "--out", out}, extra...)
	}
	run := func(out string, extra ...string) []string {
		return append([]string{"run", "tiny", "--experiments", t.TempDir(), "--results", out}, extra...)
	}
	tests := []struct {
		name  string
		args  func(out string, extra ...string) []string
		flags []string
		want  string
	}{
		{"bench nonsense", bench, []string{"--metrics-addr", "nonsense"}, "--metrics-addr nonsense: cannot listen"},
		{"bench bad port", bench, []string{"--metrics-addr", "127.0.0.1:99999"}, "--metrics-addr 127.0.0.1:99999: cannot listen"},
		{"bench in use", bench, []string{"--metrics-addr", busy.Addr().String()}, "--metrics-addr " + busy.Addr().String() + ": cannot listen"},
		{"bench linger alone", bench, []string{"--metrics-linger", "5s"}, "--metrics-linger needs --metrics-addr"},
		{"bench negative linger", bench, []string{"--metrics-addr", "127.0.0.1:0", "--metrics-linger", "-1s"}, "--metrics-linger must not be negative"},
		{"run nonsense", run, []string{"--metrics-addr", "nonsense"}, "--metrics-addr nonsense: cannot listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, tt.args(out, tt.flags...))
			if code := ExitCode(err); code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d (usage)\n%s", code, err, ExitUsage, stderr.String())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if files, _ := os.ReadDir(out); len(files) != 0 {
				t.Errorf("wrote %d file(s) to %s before failing", len(files), out)
			}
		})
	}
}

// syncBuffer is a buffer that a test may read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBenchMetricsLive runs forge bench --metrics-addr 127.0.0.1:0 with a
// long linger: after the sweep the endpoint still serves the final counts,
// a Ctrl-C ends the linger without marking the sweep interrupted, and the
// endpoint is closed when the command returns.
func TestBenchMetricsLive(t *testing.T) {
	srv := streamServer(t)
	out := t.TempDir()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Env{Stdout: &stdout, Stderr: &stderr}, []string{"bench", "--base-url", srv.URL, "--model", "m", "--input-tokens", "16",
			"--output-tokens", "3", "--concurrency", "1,2", "--num-prompts", "6", "--warmup", "2", "--no-scrape", "--experiment", "live", "--run-id", "live-1",
			"--out", out, "--metrics-addr", "127.0.0.1:0", "--metrics-linger", "10m"})
	}()
	// The summary line is printed when the sweep is over; the linger follows.
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stdout.String(), "2 level(s), 12 completed") {
		select {
		case err := <-done:
			t.Fatalf("bench returned before lingering: %v\n%s\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no summary line after 2 minutes\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := regexp.MustCompile(`bench: Forge's own metrics at (http://\S+/metrics) `).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no metrics URL on stderr:\n%s", stderr.String())
	}
	if n := strings.Count(stderr.String(), "/metrics (Prometheus text"); n != 1 {
		t.Errorf("%d metrics URL lines on stderr, want 1", n)
	}
	url := m[1]
	fams, err := scrapeURL(url)
	if err != nil {
		t.Fatalf("scrape while lingering: %v", err)
	}
	value := func(name string, label ...string) float64 { t.Helper(); return familySum(t, fams, name, label...) }
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"completed (warmup excluded)", value("forge_bench_requests_completed_total"), 12},
		{"failed", value("forge_bench_requests_failed_total"), 0},
		{"in flight", value("forge_bench_requests_in_flight"), 0},
		{"output tokens", value("forge_bench_output_tokens_total"), 36},
		{"level", value("forge_bench_level", "kind", "concurrency"), 2},
		{"info", value("forge_bench_info", "run_id", "live-1"), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if code := ExitCode(err); code != ExitOK {
			t.Errorf("Ctrl-C during the linger: exit %d (%v), want 0: the sweep had finished", code, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Ctrl-C did not end the linger within 30 s")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("%s still serves after the command returned", url)
	}
}

// TestRunMetricsLive runs forge run on the tiny twin experiment with
// --metrics-addr: the endpoint counts the sweep's measured requests, and is
// closed when the command returns.
func TestRunMetricsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a live twin sweep")
	}
	exps := copyTree(t, "../../../experiments")
	if err := os.WriteFile(filepath.Join(exps, "tiny.hcl"), []byte(fmt.Sprintf(tinyExperiment, freePort(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Env{Stdout: &stdout, Stderr: &stderr}, []string{"run", "tiny", "--experiments", exps, "--results", t.TempDir(),
			"--run-id", "live-run", "--time-scale", "20", "--metrics-addr", "127.0.0.1:0", "--metrics-linger", "10m"})
	}()
	// tiny: concurrency 1 and 2, 6 measured prompts and 1 warmup each.
	const want = 12
	re := regexp.MustCompile(`run: Forge's own metrics at (http://\S+/metrics) `)
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("run returned before lingering: %v\n%s\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint did not count %d completed requests within 3 minutes\n%s", want, stderr.String())
		}
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			if f, err := scrapeURL(m[1]); err == nil && f["forge_bench_requests_completed_total"] != nil &&
				familySum(t, f, "forge_bench_requests_completed_total") == want {
				fams = f
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := re.FindStringSubmatch(stderr.String())[1]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"failed", familySum(t, fams, "forge_bench_requests_failed_total"), 0},
		{"in flight", familySum(t, fams, "forge_bench_requests_in_flight"), 0},
		{"output tokens", familySum(t, fams, "forge_bench_output_tokens_total"), want * 8},
		{"level", familySum(t, fams, "forge_bench_level", "kind", "concurrency"), 2},
		{"info", familySum(t, fams, "forge_bench_info", "run_id", "live-run"), 1},
		{"info", familySum(t, fams, "forge_bench_info", "experiment", "tiny"), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Ctrl-C did not end the linger within a minute")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("%s still serves after the command returned", url)
	}
}

// scrapeURL reads a Prometheus text endpoint with expfmt's parser.
func scrapeURL(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// familySum adds up a counter or gauge family's series, only those with
// the label name=value when one is given; the family must exist.
func familySum(t *testing.T, fams map[string]*dto.MetricFamily, name string, label ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil || len(f.GetMetric()) == 0 {
		t.Fatalf("no %s", name)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if len(label) == 2 && !hasLabel(m, label[0], label[1]) {
			continue
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name && lp.GetValue() == value {
			return true
		}
	}
	return false
}
