package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// APIKeyEnv is the environment variable `forge eval --api` reads a
// provider's key from unless told another: OPENAI_API_KEY for openai,
// DEEPINFRA_API_KEY for deepinfra.
func APIKeyEnv(provider string) string {
	return strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(provider, "_")) + "_API_KEY"
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// EvalAPI measures the quality of one of the APIs an experiment compares,
// on the experiment's generative tasks (GSM8K), with the same offline task
// definitions, shots, seeds and limits as the study's own eval, through
// lm-eval's local-chat-completions with the model's chat template. Tasks
// scored by log-likelihood are skipped and named: chat APIs return no
// prompt log-probabilities. The key is read from the environment variable
// keyEnv and reaches lm-eval only in its environment (as OPENAI_API_KEY,
// which local-chat-completions sends as a bearer token), never in an
// argument, a log or a record. baseURL overrides the catalog's endpoint
// (a proxy, or a local test server). The records go to
// results/<experiment>.api.<api>/<run id>/eval/.
func EvalAPI(ctx context.Context, out Out, p *plan.Plan, apiName, baseURL, keyEnv, lmEval, resultsRoot string) (rundir.Dir, error) {
	var api *plan.API
	var names []string
	if p.Cost != nil {
		for i, a := range p.Cost.Compare {
			names = append(names, a.Name)
			if a.Name == apiName {
				api = &p.Cost.Compare[i]
			}
		}
	}
	if api == nil {
		return "", fmt.Errorf("experiment %s does not compare an api %q; it compares: %s (cost { compare = [...] }, %s:%d)", p.Experiment, apiName, cmp.Or(strings.Join(names, ", "), "none"), p.Source.File, p.Source.Line)
	}
	if p.Eval == nil {
		return "", fmt.Errorf("experiment %s has no eval block: add eval { task \"gsm8k\" { shots = 5 metric = \"exact_match\" } } (%s:%d)", p.Experiment, p.Source.File, p.Source.Line)
	}
	var tasks, skipped []plan.Task
	for _, t := range p.Eval.Tasks {
		if eval.LogLikelihood(t.Name) {
			skipped = append(skipped, t)
		} else {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) == 0 {
		return "", fmt.Errorf("experiment %s evaluates only log-likelihood tasks, which a chat API cannot score (no prompt log-probabilities); add task \"gsm8k\" to its eval block", p.Experiment)
	}
	keyEnv = cmp.Or(keyEnv, APIKeyEnv(api.Provider))
	if !envName.MatchString(keyEnv) {
		return "", fmt.Errorf("--api-key-env %q is not an environment variable name (A-Z, 0-9, _)", keyEnv)
	}
	key := os.Getenv(keyEnv)
	if key == "" {
		return "", fmt.Errorf("%s is not set: export it with your %s key (Forge reads it from the environment and never writes it), or name another variable with --api-key-env", keyEnv, api.Provider)
	}
	base := strings.TrimSuffix(cmp.Or(baseURL, api.BaseURL), "/")
	if strings.ContainsAny(base+api.Model, ", ") {
		return "", fmt.Errorf("api %s: lm-eval's --model_args cannot carry a comma or space in base_url %q or model %q", api.Name, base, api.Model)
	}
	bin, err := findLMEval(lmEval)
	if err != nil {
		return "", err
	}
	version, err := lmEvalVersion(bin)
	if err != nil {
		return "", err
	}
	d, _, err := newRun(resultsRoot, rundir.APIEvalDir(p.Experiment, api.Name), p, "", time.Now(), 1, nil)
	if err != nil {
		return "", err
	}
	for _, t := range skipped {
		fmt.Fprintf(out.Stderr, "eval %s: skipped for api %s: scored by log-likelihood, which a chat API does not give\n", t.Name, api.Name)
	}
	observed := api.Observed
	prov := provenance.Record{ForgeVersion: buildinfo.Version, ForgeCommit: buildinfo.Commit,
		Engine: provenance.Engine{Name: api.Provider, Version: "hosted API"}, GPU: "unknown (hosted API)", GPUSource: "unknown",
		ModelRepo: api.Model, ServedModel: api.Model, BaseURL: base, PriceObserved: &observed}
	tgt := evalTarget{model: "local-chat-completions",
		modelArgs: fmt.Sprintf("base_url=%s/chat/completions,model=%s,num_concurrent=%d,max_retries=3,tokenized_requests=False,tokenizer_backend=None", base, api.Model, max(p.Eval.NumConcurrent, 1)),
		extra:     []string{"--apply_chat_template", "--fewshot_as_multiturn"},
		env:       []string{"OPENAI_API_KEY=" + key},
		base:      fmt.Sprintf("%s (%s, key from %s)", base, api.Model, keyEnv),
		record:    eval.Model{Repo: api.Model, ServedName: api.Model},
		api:       &eval.API{Name: api.Name, Provider: api.Provider, Model: api.Model, BaseURL: base, KeyEnv: keyEnv, Format: "chat"}}
	var failed []string
	for _, t := range tasks {
		if ctx.Err() != nil {
			failed = append(failed, t.Name+" (not run: interrupted)")
			continue
		}
		path, err := evalTask(ctx, out, p, t, string(d), bin, version, d.ID(), prov, tgt)
		if err != nil {
			fmt.Fprintf(out.Stderr, "eval %s: %v\n", t.Name, err)
			failed = append(failed, t.Name)
			continue
		}
		fmt.Fprintf(out.Stdout, "eval %s: %s\n", t.Name, path)
	}
	probs, err := checkEvalRecords(out, string(d))
	if err == nil && (len(failed) > 0 || probs > 0) {
		err = fmt.Errorf("eval --api %s: %d task(s) failed (%s), %d file problem(s); what finished is in %s", api.Name, len(failed), strings.Join(failed, ", "), probs, d.Path(rundir.EvalDir))
	}
	fmt.Fprintf(out.Stdout, "eval --api %s: %s\n", api.Name, d)
	return d, cmp.Or(Finish(ctx, d, err), err)
}
