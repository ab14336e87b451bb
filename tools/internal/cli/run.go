package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/results"
	"github.com/forge-bench/forge/tools/internal/runs"
	"github.com/forge-bench/forge/tools/internal/twin"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// runRun executes an experiment end to end: plan → serve → wait → bench →
// stop, into results/<experiment>/<run-id>/. The server is always stopped,
// also after a failure or Ctrl-C; what was measured stays on disk.
func runRun(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "run", "NAME [--experiments DIR] [--results DIR] [--run-id ID] [--time-scale X] [--compare DIRS] [--parity] [--no-eval] [--metrics-addr ADDR] [--var name=value]...")
	parity := fs.Bool("parity", false, "vLLM only: after each of Forge's levels, run vLLM's own `vllm bench serve` on the same level, server and prompts, import it and write parity/parity.md")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	resultsDir := fs.String("results", "results", "results root")
	runID := fs.String("run-id", "", "run id (default: UTC time and commit)")
	scale := fs.Float64("time-scale", 1, "twin only: modelled seconds per wall second")
	compare := fs.String("compare", "", "comma-separated runs (or experiment directories, for their latest run) to include in the charts and report")
	healthTimeout := fs.Duration("health-timeout", 15*time.Minute, "how long to wait for the server to answer /health")
	noEval := fs.Bool("no-eval", false, "skip the experiment's eval block (lm-eval against the server after the sweep)")
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable: name=value (repeatable)")
	var mf metricsFlags
	mf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("run wants one experiment name")
	}
	// Listen before anything starts, so a bad --metrics-addr costs no
	// server start-up. The endpoint is up for the whole sweep.
	lm, err := mf.start(ctx, env, "run")
	if err != nil {
		return err
	}
	defer lm.close()
	p, err := planFor(env, "", *dir, pos[0], vars)
	if err != nil {
		return err
	}
	runDir, err := newRunDir(*resultsDir, p, *runID)
	if err != nil {
		return err
	}
	*runID = filepath.Base(runDir)
	base := fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	srv, err := startServer(ctx, env, p, runDir, *scale)
	if err != nil {
		return err
	}
	stop := srv.stop
	defer stop()
	if err := waitHealthy(ctx, base+"/health", *healthTimeout, srv.exited); err != nil {
		return startFailure(p, srv, err)
	}
	var startup *bench.Startup
	if srv.logPath != "" {
		startup = checkStartup(env, p, srv.logPath, runDir)
	}
	fmt.Fprintf(env.Stderr, "run %s: server ready at %s\n", *runID, base)
	var f benchFlags
	f.planPath, f.out, f.runID = filepath.Join(runDir, "plan.json"), filepath.Join(runDir, "bench"), *runID
	f.timeout, f.scrapeInterval = 10*time.Minute, time.Second
	cfg, err := benchConfig(ctx, f, map[string]bool{})
	if err != nil {
		return err
	}
	cfg.Progress = env.Stderr
	cfg.Declared.Startup = startup
	cfg.Exporter = lm.Exporter()
	var sums []bench.Summary
	var benchErr, parityErr error
	var parityCounts, parityTimings []vllmbench.Row
	if *parity {
		sums, benchErr, parityCounts, parityTimings, parityErr = sweepWithParity(ctx, env, cfg, p, runDir, *runID)
	} else {
		sums, benchErr = bench.Run(ctx, cfg)
	}
	// Forge's metrics covered the whole sweep, parity levels included; they
	// linger while the server is still up, so both get a final scrape.
	lm.finish(ctx)
	// Quality on the same server, after the sweep: lm-eval's requests would
	// otherwise be part of what the bench measures.
	var evalErr error
	withEval := p.Eval != nil && p.Engine.Kind == "vllm" && !*noEval
	if withEval && benchErr == nil && ctx.Err() == nil {
		evalErr = evalRun(ctx, env, p, runDir, base, "")
	}
	stop()
	// The twin's prediction for the same plan, kept beside the measurement
	// so charts show how far the model is from the engine. The twin models
	// GPUs only: a CPU run has no prediction.
	if p.Hardware.Device == "cpu" {
		fmt.Fprintf(env.Stderr, "run %s: no prediction: the twin models GPUs, not vLLM's CPU build\n", *runID)
	} else if lrs, psums, err := predictLevels(ctx, p, *runID); err != nil {
		fmt.Fprintf(env.Stderr, "run %s: no prediction: %v\n", *runID, err)
	} else if err := writeLevels(filepath.Join(runDir, "predicted"), lrs, psums); err != nil {
		return problems("%v", err)
	}
	probs, err := results.ValidateTree(runDir)
	if err != nil {
		return problems("%v", err)
	}
	for _, pr := range probs {
		fmt.Fprintln(env.Stderr, pr.String())
	}
	if benchErr != nil {
		return problems("bench: %v (kept in %s)", benchErr, runDir)
	}
	if len(probs) > 0 {
		return problems("%d result file problem(s) in %s", len(probs), runDir)
	}
	fmt.Fprintf(env.Stdout, "run %s: %d level(s) in %s\n", *runID, len(sums), runDir)
	for _, s := range sums {
		fmt.Fprintf(env.Stdout, "  %-18s %8.1f output tok/s  TTFT p50 %s ms  TPOT p50 %s ms  %d ok / %d failed\n",
			bench.LevelName(s.Level), s.OutputThroughput, bench.FormatMs(s.TTFT.P50), bench.FormatMs(s.TPOT.P50), s.Completed, s.Failed)
	}
	if ctx.Err() != nil {
		return problems("interrupted; partial results kept in %s", runDir)
	}
	if _, err := writeCost(env, runDir); err != nil {
		return err
	}
	if withEval && evalErr == nil {
		if err := retentionFor(env, p, runDir, *resultsDir); err != nil {
			evalErr = err
		}
	}
	if err := chartAndReport(env, runDir, *compare); err != nil {
		return err
	}
	if evalErr != nil {
		return evalErr
	}
	if parityErr != nil {
		return parityErr
	}
	return parityVerdict(env, runDir, parityCounts, parityTimings)
}

// newRunDir creates results/<experiment>/<run-id>/ (run id: UTC time and
// commit unless given) holding the plan it runs.
func newRunDir(resultsDir string, p *plan.Plan, runID string) (string, error) {
	if runID == "" {
		runID = time.Now().UTC().Format("20060102T150405Z") + "-" + shortCommit()
	}
	runDir := filepath.Join(resultsDir, p.Experiment, runID)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return "", problems("%v", err)
	}
	data, err := plan.Encode(p)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(runDir, "plan.json"), data, 0o644); err != nil {
		return "", problems("%v", err)
	}
	return runDir, nil
}

// chartAndReport draws the charts and writes the report of a finished run,
// alongside the runs it is compared with.
func chartAndReport(env Env, runDir, compare string) error {
	dirs := []string{runDir}
	if compare != "" {
		more, err := runs.Resolve(strings.Split(compare, ","))
		if err != nil {
			return problems("--compare: %v", err)
		}
		dirs = append(dirs, more...)
	}
	return studyIn(runDir, dirs, func(st *report.Study, out string) error {
		files, err := chart.Render(st.ChartSet(), filepath.Join(out, "charts"))
		if err != nil {
			return problems("%v", err)
		}
		path := filepath.Join(out, "report.md")
		if err := os.WriteFile(path, st.Markdown(out), 0o644); err != nil {
			return problems("%v", err)
		}
		fmt.Fprintf(env.Stdout, "report: %s (%d chart files in %s)\n", path, len(files), filepath.Join(out, "charts"))
		return nil
	})
}

func shortCommit() string {
	c := strings.TrimSuffix(provenance.Commit, "-dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	return c
}

// server is a started engine: stop is idempotent; exited is closed (after
// err is set) when a child process ends by itself, nil for the in-process twin.
type server struct {
	stop    func()
	exited  chan struct{}
	err     error
	logPath string
}

// startServer starts the experiment's engine. The twin runs in this process;
// vLLM runs as a child process in its own process group, inside the flake's
// serve shell when nix is on PATH, logging to server.log. A port already in
// use is reported before anything starts: a health check could otherwise be
// answered by whatever holds it.
func startServer(ctx context.Context, env Env, p *plan.Plan, runDir string, scale float64) (*server, error) {
	// vLLM reads its generated config from the run directory.
	if p.Engine.ConfigYAML != "" {
		if err := os.WriteFile(filepath.Join(runDir, p.Engine.ConfigFile), []byte(p.Engine.ConfigYAML), 0o644); err != nil {
			return nil, problems("%v", err)
		}
	}
	addr := net.JoinHostPort(p.Engine.Host, strconv.Itoa(p.Engine.Port))
	switch p.Engine.Kind {
	case "twin":
		hs, run, l, err := twinServer(p, addr, scale, twin.Faults{}, int64(p.Engine.Seed))
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { _ = serveTwin(sctx, hs, run, l); close(done) }()
		return &server{stop: func() { cancel(); <-done }}, nil
	}
	if l, err := net.Listen("tcp", addr); err != nil {
		return nil, problems("cannot start %s: %s is already in use (another server, or a previous run still stopping?): %v; stop it or set port in the engine block", p.Engine.Kind, addr, err)
	} else {
		l.Close()
	}
	step := p.Steps[0]
	// The pinned venv's binary when it exists (make and the flake's shells
	// both create it); otherwise the flake's shell, which creates it.
	argv := append([]string(nil), step.Argv...)
	if _, err := os.Stat(argv[0]); err != nil && len(step.Nix) > 0 {
		if _, err := exec.LookPath("nix"); err == nil {
			argv = append([]string(nil), step.Nix...)
		} else {
			return nil, problems("%s is not installed and nix is not on PATH: run `make %s` (or enter the flake's shell) first", argv[0], venvTarget(argv[0]))
		}
	}
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "{run_dir}", runDir)
	}
	logPath := filepath.Join(runDir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, problems("%v", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), step.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, problems("start %s: %v (see %s)", strings.Join(argv, " "), err, logPath)
	}
	_ = os.WriteFile(filepath.Join(runDir, "server.pid"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644)
	fmt.Fprintf(env.Stderr, "started %s%s (pid %d), log %s\n", envPrefix(step.Env), strings.Join(argv, " "), cmd.Process.Pid, logPath)
	s := &server{exited: make(chan struct{}), logPath: logPath}
	go func() { s.err = cmd.Wait(); logf.Close(); close(s.exited) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-s.exited
			}
			// vLLM's engine core is a child of the API server; the group
			// signal reached it too, but make sure nothing is left.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		})
	}
	return s, nil
}

// waitHealthy polls url until it answers 200, the timeout passes, ctx ends
// or the server process exits (exited closes; nil for the twin).
func waitHealthy(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s", url, timeout)
		}
		select {
		case <-exited:
			return errExited
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var errExited = errors.New("the server exited before it became healthy")

func envPrefix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}

// venvTarget is the make target that creates the venv holding bin.
func venvTarget(bin string) string {
	if strings.Contains(bin, "serve-cpu") {
		return "venv-serve-cpu"
	}
	if strings.Contains(bin, "/eval/") {
		return "venv-eval"
	}
	return "venv-serve"
}
