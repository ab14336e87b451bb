package plan

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/experiment"
)

// The rehearsal must be the study: its plan may differ from the study's
// plan only where a rule below says why. Anything else (an engine flag, the
// workload, a level, an SLO, a task's shots, a dataset, a price compared)
// fails the test.
var rehearsalDiffs = []struct {
	path *regexp.Regexp
	why  string
}{
	{regexp.MustCompile(`^(hash|experiment|eval\.baseline|rehearsal\..*)$`), "the rehearsal's name and mark"},
	{regexp.MustCompile(`^(model|memory|eval\.tokenizer)\..*$`), "the stand-in model"},
	{regexp.MustCompile(`^engine\.config\.(model|revision|tokenizer|served-model-name)$`), "the stand-in model"},
	{regexp.MustCompile(`^hardware\..*$`), "the CPU"},
	{regexp.MustCompile(`^eval\.headroom_gib$`), "the CPU (no GPU memory to leave free)"},
	{regexp.MustCompile(`^steps\.0\.(argv\.0|nix\.2|description)$`), "the CPU (vLLM's CPU build)"},
	{regexp.MustCompile(`^sweep\.(prompts_per_level|warmup)$`), "counts"},
	{regexp.MustCompile(`^eval\.tasks\.\d+\.(limit|subjects(\.\d+)?)$`), "counts"},
}

// exceptionPaths are the plan paths each listed CPU exception changes.
var exceptionPaths = map[string]*regexp.Regexp{
	"engine.dtype":              regexp.MustCompile(`^engine\.(dtype|config\.dtype)$`),
	"engine.cpu_kvcache_gib":    regexp.MustCompile(`^(engine\.cpu_kvcache_gib|engine\.config\.gpu-memory-utilization|steps\.0\.env(\.\d+)?)$`),
	"model.quantization.kernel": regexp.MustCompile(`^model\.quantization\.kernel$`),
}

func TestRehearsalPlanIsTheStudyPlan(t *testing.T) {
	t.Chdir("../../..")
	cfg, diags := experiment.Load([]string{"experiments"}, experiment.Options{})
	if diags.HasErrors() {
		t.Fatalf("experiments/ has errors: %v", diags)
	}
	for _, name := range []string{"llama31_8b_bf16_a5000", "llama31_8b_awq_a5000"} {
		t.Run(name, func(t *testing.T) {
			e := cfg.ExperimentByName(name)
			study, err := Build(cfg, e)
			if err != nil {
				t.Fatal(err)
			}
			reh, err := BuildRehearsal(cfg, e)
			if err != nil {
				t.Fatal(err)
			}
			if reh.Rehearsal == nil || reh.Rehearsal.Of != name || reh.Experiment != name+experiment.RehearsalSuffix {
				t.Fatalf("rehearsal mark = %+v, experiment %q", reh.Rehearsal, reh.Experiment)
			}
			if got := unexplainedDiffs(t, study, reh); len(got) > 0 {
				t.Errorf("the rehearsal differs from the study where only the model, the hardware, the counts and listed CPU exceptions may:\n%s", strings.Join(got, "\n"))
			}
			// The diff must catch what it exists for: a rehearsal that
			// quietly runs other engine settings or another workload.
			tampered := *reh
			tampered.Engine.MaxNumSeqs++
			tampered.Workload.Seed++
			got := unexplainedDiffs(t, study, &tampered)
			want := []string{"engine.max_num_seqs", "workload.seed"}
			if strings.Join(pathsOf(got), ",") != strings.Join(want, ",") {
				t.Errorf("tampered rehearsal: unexplained %v, want %v", got, want)
			}
		})
	}
}

// unexplainedDiffs lists the plan paths where reh differs from study with
// no rule to say why, as "path: study X, rehearsal Y".
func unexplainedDiffs(t *testing.T, study, reh *Plan) []string {
	t.Helper()
	listed := map[string]bool{}
	var out []string
	for _, ex := range reh.Rehearsal.Exceptions {
		if exceptionPaths[ex.Setting] == nil || ex.Reason == "" || ex.Study == ex.Rehearsal {
			out = append(out, fmt.Sprintf("%s: not a known CPU exception with a reason and a change (%+v)", ex.Setting, ex))
		}
		listed[ex.Setting] = true
	}
	a, b := flatten(t, study), flatten(t, reh)
	changed := map[string]bool{}
	for _, p := range unionKeys(a, b) {
		if a[p] == b[p] || p == "engine.config_yaml" { // config_yaml renders engine.config, diffed key by key
			continue
		}
		if ok, setting := explained(p, listed); ok {
			changed[setting] = true
			continue
		}
		out = append(out, fmt.Sprintf("%s: study %s, rehearsal %s", p, a[p], b[p]))
	}
	for s := range listed {
		if !changed[s] {
			out = append(out, s+": listed as an exception but changes nothing")
		}
	}
	sort.Strings(out)
	return out
}

func pathsOf(diffs []string) []string {
	out := make([]string, len(diffs))
	for i, d := range diffs {
		out[i], _, _ = strings.Cut(d, ":")
	}
	return out
}

// explained reports whether a differing path is allowed, and which listed
// exception (if any) allows it.
func explained(p string, listed map[string]bool) (bool, string) {
	for s := range listed {
		if exceptionPaths[s] != nil && exceptionPaths[s].MatchString(p) {
			return true, s
		}
	}
	for _, r := range rehearsalDiffs {
		if r.path.MatchString(p) {
			return true, ""
		}
	}
	return false, ""
}

// flatten renders a plan as dotted path → JSON value, so that two plans
// diff field by field.
func flatten(t *testing.T, p *Plan) map[string]string {
	t.Helper()
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(strings.TrimPrefix(prefix+"."+k, "."), c)
			}
		case []any:
			if len(x) == 0 {
				out[prefix] = "[]"
			}
			for i, c := range x {
				walk(fmt.Sprintf("%s.%d", prefix, i), c)
			}
		default:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
