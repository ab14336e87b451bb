// Package provenance is what every result record says about where its
// numbers came from: the Forge build, the engine and its version (and what
// its startup log resolved), the GPU, the model and revision, the dataset
// and request sequence, the plan and the price date. It is the record's
// provenance, apart from the load generator that fills it, so that eval,
// cost and report records share one type without importing bench.
// buildinfo, by contrast, names only the build of Forge itself.
package provenance

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/buildinfo"
)

// Record says where a record's numbers came from (common.schema.json).
type Record struct {
	ForgeVersion          string   `json:"forge_version"`
	ForgeCommit           string   `json:"forge_commit"`
	Engine                Engine   `json:"engine"`
	GPU                   string   `json:"gpu"`
	GPUSource             string   `json:"gpu_source"`
	ModelRepo             string   `json:"model_repo"`
	ModelRevision         *string  `json:"model_revision"`
	ServedModel           string   `json:"served_model"`
	ModelRoot             *string  `json:"model_root"`
	BaseURL               string   `json:"base_url"`
	DatasetSHA256         *string  `json:"dataset_sha256"`
	PriceObserved         *string  `json:"price_observed"`
	PlanHash              *string  `json:"plan_hash"`
	RequestSequenceSHA256 *string  `json:"request_sequence_sha256"`
	TimeScale             *float64 `json:"time_scale"`
	Host                  string   `json:"host,omitempty"`
}

// Engine names the serving engine as the server reports it.
type Engine struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Startup *Startup `json:"startup,omitempty"`
}

// Startup is what the engine's startup log says it resolved, and where that
// disagrees with the plan (forge run parses vLLM's server.log).
type Startup struct {
	LogFile             string   `json:"log_file"`
	Platform            string   `json:"platform"`
	AttentionBackend    string   `json:"attention_backend"`
	QuantKernel         string   `json:"quant_kernel"`
	MaxModelLen         *int     `json:"max_model_len"`
	MaxNumSeqs          *int     `json:"max_num_seqs"`
	MaxNumBatchedTokens *int     `json:"max_num_batched_tokens"`
	KVCacheTokens       *int     `json:"kv_cache_tokens"`
	KVBlocks            *int     `json:"kv_blocks"`
	MaxConcurrency      *float64 `json:"max_concurrency"`
	Findings            []string `json:"findings"`
}

// Declared is what a plan says about the target, used where the server
// cannot tell (GPU on a remote host, model revision).
type Declared struct {
	EngineName    string
	EngineVersion string
	GPU           string
	ModelRepo     string
	ModelRevision string
	PriceObserved string
	PlanHash      string
	Startup       *Startup
}

// Discover asks the server for its version (/version) and model
// (/v1/models), and this host for its GPU (nvidia-smi), falling back to the
// plan's declarations, marked as such. Failures leave "unknown", never abort.
func Discover(ctx context.Context, hc *http.Client, baseURL, model string, d Declared) Record {
	p := Record{ForgeVersion: buildinfo.Version, ForgeCommit: buildinfo.Commit, BaseURL: Redacted(baseURL), ServedModel: model,
		Engine: Engine{Name: cmp.Or(d.EngineName, "unknown"), Version: cmp.Or(d.EngineVersion, "unknown"), Startup: d.Startup}}
	p.Host, _ = os.Hostname()
	var ver map[string]any
	if getJSON(ctx, hc, ServerURL(baseURL)+"/version", &ver) == nil {
		if v, ok := ver["version"].(string); ok && v != "" {
			p.Engine.Version = v
		}
		if e, ok := ver["engine"].(string); ok && e != "" {
			p.Engine.Name = e
		} else if p.Engine.Name == "unknown" {
			p.Engine.Name = "vllm"
		}
		if ts, ok := ver["time_scale"].(float64); ok && ts > 0 {
			p.TimeScale = &ts
		}
	}
	var models struct {
		Data []struct {
			ID   string `json:"id"`
			Root string `json:"root"`
		} `json:"data"`
	}
	if getJSON(ctx, hc, APIBase(baseURL)+"/models", &models) == nil {
		for _, m := range models.Data {
			if m.ID == model && m.Root != "" {
				root := m.Root
				p.ModelRoot = &root
			}
		}
	}
	p.ModelRepo = cmp.Or(d.ModelRepo, model)
	if d.ModelRevision != "" {
		p.ModelRevision = &d.ModelRevision
	}
	if d.PriceObserved != "" {
		p.PriceObserved = &d.PriceObserved
	}
	if d.PlanHash != "" {
		p.PlanHash = &d.PlanHash
	}
	switch gpu := nvidiaSMI(ctx); {
	case gpu != "" && p.TimeScale == nil && p.Engine.Name != "twin":
		p.GPU, p.GPUSource = gpu, "nvidia-smi"
	case d.GPU != "":
		p.GPU, p.GPUSource = d.GPU, "declared"
	default:
		p.GPU, p.GPUSource = "unknown", "unknown"
	}
	return p
}

func getJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// nvidiaSMI names the local GPUs ("NVIDIA RTX A5000" or "2 x NVIDIA H100 …").
func nvidiaSMI(ctx context.Context) string {
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 1 {
		return fmt.Sprintf("%d x %s", len(lines), strings.TrimSpace(lines[0]))
	}
	return strings.TrimSpace(lines[0])
}

// ServerURL strips a trailing /v1 to reach /metrics, /version and /health.
func ServerURL(base string) string {
	return strings.TrimSuffix(strings.TrimRight(base, "/"), "/v1")
}

// APIBase returns the OpenAI base URL (ending in /v1) for a server URL.
func APIBase(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/v1") {
		return base
	}
	return base + "/v1"
}
