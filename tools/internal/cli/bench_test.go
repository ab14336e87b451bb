package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLevels(t *testing.T) {
	tests := []struct {
		conc, rate string
		want       string
		err        bool
	}{
		{"1,4,16", "", "concurrency:1 concurrency:4 concurrency:16", false},
		{"", "0.5,2", "rate:0.5 rate:2", false},
		{"2", "8", "concurrency:2 rate:8", false},
		{"4,1", "", "", true},
		{"1,1", "", "", true},
		{"1.5", "", "", true},
		{"", "-1", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		levels, err := parseLevels(tt.conc, tt.rate)
		if (err != nil) != tt.err {
			t.Errorf("parseLevels(%q, %q) error = %v", tt.conc, tt.rate, err)
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
			t.Errorf("parseLevels(%q, %q) = %v, want %s", tt.conc, tt.rate, got, tt.want)
		}
	}
}

func TestParseSLO(t *testing.T) {
	got, err := parseSLO("ttft_p99_ms=2000, tpot_ms=100")
	if err != nil || got["ttft_ms"] != 2000 || got["tpot_ms"] != 100 || len(got) != 2 {
		t.Errorf("parseSLO = %v, %v", got, err)
	}
	for _, bad := range []string{"ttft=1", "ttft_p99_ms=-1", "qps_ms=3", "ttft_p99_ms"} {
		if _, err := parseSLO(bad); err == nil {
			t.Errorf("parseSLO(%q) accepted", bad)
		}
	}
}

// TestBenchCommand runs forge bench end to end against a tiny streaming
// server and checks that the files it writes validate.
func TestBenchCommand(t *testing.T) {
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
	defer srv.Close()
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
}
