package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/observe"
	"github.com/forge-bench/forge/tools/internal/plan"
)

const observeSynopsis = `config|check|up ...

  forge observe config EXPERIMENT [--out DIR]
      write prometheus.yml, Grafana provisioning and the dashboard for an experiment
  forge observe check DIR|DASHBOARD.json [--prometheus URL]
      check a dashboard (datasource uid, variables, no empty panel); with
      --prometheus, run every panel's query and require data
  forge observe up EXPERIMENT [--bench] [--hold]
      start the engine, Prometheus and (when installed) Grafana on 127.0.0.1;
      --bench runs the experiment's sweep with forge's exporter and then checks
      every panel against Prometheus; --hold keeps the stack up until Ctrl-C`

func runObserve(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usageErr("forge observe wants a subcommand: config, check or up\nUsage: forge observe %s", observeSynopsis)
	}
	switch args[0] {
	case "config":
		return observeConfig(env, args[1:])
	case "check":
		return observeCheck(ctx, env, args[1:])
	case "up":
		return observeUp(ctx, env, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprintf(env.Stderr, "Usage: forge observe %s\n", observeSynopsis)
		return nil
	}
	return usageErr("forge observe: unknown subcommand %q; want config, check or up", args[0])
}

// stackFlags are the settings shared by config and up.
type stackFlags struct {
	dir  *string
	vars varFlags
	opts observe.Options
}

func (s *stackFlags) register(fs *flag.FlagSet) {
	d := observe.DefaultOptions()
	s.dir = fs.String("experiments", "experiments", "directory of experiments")
	s.vars = varFlags{}
	fs.Var(s.vars, "var", "set a variable: name=value (repeatable)")
	fs.StringVar(&s.opts.PrometheusAddr, "prometheus-addr", d.PrometheusAddr, "address Prometheus listens on (the datasource's URL)")
	fs.StringVar(&s.opts.MetricsAddr, "metrics-addr", d.MetricsAddr, "address of forge bench's exporter (forge bench --metrics-addr)")
	fs.StringVar(&s.opts.GPUExporter, "gpu-exporter", "", "host:port of a DCGM or nvidia-smi exporter: adds its scrape job and the GPU panels")
	fs.StringVar(&s.opts.ScrapeInterval, "scrape-interval", d.ScrapeInterval, "Prometheus scrape interval")
}

func (s *stackFlags) plan(env Env, name string) (*plan.Plan, map[string][]byte, error) {
	if _, err := time.ParseDuration(s.opts.ScrapeInterval); err != nil {
		return nil, nil, usageErr("--scrape-interval %q: %v", s.opts.ScrapeInterval, err)
	}
	p, err := planFor(env, "", *s.dir, name, s.vars)
	if err != nil {
		return nil, nil, err
	}
	files, err := observe.Files(p, s.opts)
	if err != nil {
		return nil, nil, problems("observe: %v", err)
	}
	return p, files, nil
}

func observeConfig(env Env, args []string) error {
	fs := newFlags(env, "observe config", "EXPERIMENT [--out DIR] [--experiments DIR] [--var name=value]...")
	var sf stackFlags
	sf.register(fs)
	out := fs.String("out", "observability", "directory to write the stack into")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("observe config wants one experiment name")
	}
	_, files, err := sf.plan(env, pos[0])
	if err != nil {
		return err
	}
	if err := observe.Write(*out, files); err != nil {
		return problems("observe config: %v", err)
	}
	fmt.Fprintf(env.Stdout, "%s: %s, %s, %s, %s\n", *out, observe.PrometheusFile, observe.DatasourceFile, observe.ProviderFile, observe.DashboardFile)
	return nil
}

// observeCheck checks a stack directory (or one dashboard file) statically,
// and with --prometheus runs every panel's query.
func observeCheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "observe check", "DIR|DASHBOARD.json [--prometheus URL] [--rate-interval 1m] [--var name=value]...")
	promURL := fs.String("prometheus", "", "run every panel query against this Prometheus, e.g. http://127.0.0.1:9090")
	rate := fs.String("rate-interval", "1m", "what $__rate_interval stands for when queries run outside Grafana")
	vars := varFlags{}
	fs.Var(vars, "var", "value of a dashboard variable, e.g. model=NAME (default: the variable's current value)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("observe check wants a stack directory or a dashboard JSON file")
	}
	d, uid, err := loadStack(pos[0])
	if err != nil {
		return err
	}
	findings := observe.Check(d, uid)
	for _, f := range findings {
		fmt.Fprintf(env.Stderr, "%s: %s\n", pos[0], f)
	}
	if len(findings) > 0 {
		return problems("%s: %d problem(s) in the dashboard", pos[0], len(findings))
	}
	n := len(observe.Queries(d))
	fmt.Fprintf(env.Stdout, "%s: dashboard %q: %d panel queries, datasource uid %q, variables defined\n", pos[0], d.UID, n, uid)
	if *promURL == "" {
		return nil
	}
	c, err := observe.NewClient(*promURL)
	if err != nil {
		return usageErr("--prometheus %q: %v", *promURL, err)
	}
	overrides := map[string]string{"__rate_interval": *rate, "__interval": *rate, "__range": *rate}
	for k, v := range vars {
		overrides[k] = v
	}
	return reportQueries(env, c.RunQueries(ctx, d, observe.Values(d, overrides), time.Now()))
}

// loadStack reads a dashboard and the datasource uid it must use: from a
// stack directory, the provisioned datasource's uid; for a lone file,
// Forge's uid.
func loadStack(path string) (observe.Dashboard, string, error) {
	uid := observe.DatasourceUID
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, observe.DashboardFile)
		b, err := os.ReadFile(filepath.Join(path, observe.DatasourceFile))
		if err != nil {
			return observe.Dashboard{}, "", problems("%v (write the stack with forge observe config)", err)
		}
		var doc struct {
			Datasources []struct {
				UID string `yaml:"uid"`
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Datasources) != 1 || doc.Datasources[0].UID == "" {
			return observe.Dashboard{}, "", problems("%s: want one datasource with a uid (%v)", filepath.Join(path, observe.DatasourceFile), err)
		}
		uid = doc.Datasources[0].UID
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return observe.Dashboard{}, "", problems("%v", err)
	}
	d, err := observe.Decode(b)
	if err != nil {
		return d, "", problems("%s: %v", file, err)
	}
	return d, uid, nil
}

// reportQueries prints one line per panel query and fails when any came
// back empty or with an error.
func reportQueries(env Env, rs []observe.Result) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PANEL\tQUERY\tSERIES\tVALUE\tRESULT")
	bad := 0
	for _, r := range rs {
		verdict := "ok"
		if !r.OK() {
			bad++
			verdict = "EMPTY"
			if r.Err != "" {
				verdict = "ERROR " + r.Err
			}
		}
		fmt.Fprintf(tw, "%d %s\t%s\t%d\t%.4g\t%s\n", r.PanelID, r.Panel, r.RefID, r.Series, r.Value, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		for _, r := range rs {
			if !r.OK() {
				fmt.Fprintf(env.Stderr, "panel %d %q query %s returned no data: %s\n", r.PanelID, r.Panel, r.RefID, r.Expanded)
			}
		}
		return problems("%d of %d panel queries returned no data", bad, len(rs))
	}
	fmt.Fprintf(env.Stdout, "every panel query returned data (%d queries)\n", len(rs))
	return nil
}

// observeUp runs the stack: the experiment's engine, Prometheus, Grafana
// when installed, and with --bench the sweep with forge's exporter,
// followed by the live check of every panel.
func observeUp(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "observe up", "EXPERIMENT [--bench] [--hold] [--no-engine] [--dir DIR] [--grafana-addr ADDR] [--no-grafana] [--experiments DIR] [--var name=value]...")
	var sf stackFlags
	sf.register(fs)
	dir := fs.String("dir", "", "where the stack's files, data and logs go (default .observe/EXPERIMENT)")
	grafanaAddr := fs.String("grafana-addr", "127.0.0.1:3000", "address Grafana listens on")
	noGrafana := fs.Bool("no-grafana", false, "run Prometheus alone")
	promBin := fs.String("prometheus-bin", "prometheus", "the Prometheus binary (Debian's package, or the Nix shell's)")
	runBench := fs.Bool("bench", false, "run the experiment's sweep with forge's exporter, then check every panel query against Prometheus")
	hold := fs.Bool("hold", false, "keep everything running until Ctrl-C")
	noEngine := fs.Bool("no-engine", false, "do not start the engine: one is running already (forge run in another terminal, or your own vLLM on the plan's host:port)")
	healthTimeout := fs.Duration("health-timeout", 15*time.Minute, "how long to wait for the engine to answer /health")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("observe up wants one experiment name")
	}
	p, files, err := sf.plan(env, pos[0])
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(".observe", p.Experiment)
	}
	bin, err := exec.LookPath(*promBin)
	if err != nil {
		return problems("prometheus is not installed (%v): apt-get install prometheus, or run `nix develop`", err)
	}
	if err := observe.Write(*dir, files); err != nil {
		return problems("observe: %v", err)
	}
	if tool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.CommandContext(ctx, tool, "check", "config", filepath.Join(*dir, observe.PrometheusFile)).CombinedOutput(); err != nil {
			return problems("promtool check config: %v\n%s", err, out)
		}
	}
	prom, err := observe.StartPrometheus(ctx, bin, *dir, sf.opts.PrometheusAddr)
	if err != nil {
		return problems("%v", err)
	}
	defer prom.Stop()
	fmt.Fprintf(env.Stderr, "prometheus: %s (config %s, log %s)\n", prom.URL, filepath.Join(*dir, observe.PrometheusFile), prom.Log)
	if !*noGrafana {
		g, err := observe.StartGrafana(ctx, *dir, *grafanaAddr)
		switch {
		case err == observe.ErrNoGrafana:
			fmt.Fprintf(env.Stderr, "grafana: %v\n", err)
		case err != nil:
			return problems("%v", err)
		default:
			defer g.Stop()
			fmt.Fprintf(env.Stderr, "grafana: %s/d/%s (anonymous viewer; log %s)\n", g.URL, observe.DashboardUID(p.Experiment), g.Log)
		}
	}
	if !*noEngine {
		srv, err := startServer(ctx, env, p, *dir, 1)
		if err != nil {
			return err
		}
		defer srv.stop()
		if err := waitHealthy(ctx, fmt.Sprintf("http://%s:%d/health", p.Engine.Host, p.Engine.Port), *healthTimeout, srv.exited); err != nil {
			return startFailure(p, srv, err)
		}
		fmt.Fprintf(env.Stderr, "engine: %s on %s:%d\n", p.Engine.Kind, p.Engine.Host, p.Engine.Port)
	}
	client, err := observe.NewClient(prom.URL)
	if err != nil {
		return problems("%v", err)
	}
	if *runBench {
		// The exporter stays up while the stack is held, so the load row
		// keeps the sweep's final counts instead of a target gone down.
		lm, err := metricsFlags{addr: sf.opts.MetricsAddr}.start(ctx, env, "observe")
		if err != nil {
			return err
		}
		defer lm.close()
		if err := observeBench(ctx, env, p, *dir, sf.opts, client, lm.Exporter()); err != nil {
			return err
		}
	}
	if *hold {
		fmt.Fprintf(env.Stderr, "holding: Prometheus %s; Ctrl-C stops everything\n", prom.URL)
		<-ctx.Done()
	}
	return nil
}

// observeBench runs the sweep with the exporter on, waits for Prometheus
// to have scraped the end of it, and runs every panel query.
func observeBench(ctx context.Context, env Env, p *plan.Plan, dir string, o observe.Options, c *observe.Client, exp *bench.Exporter) error {
	planPath := filepath.Join(dir, "plan.json")
	b, err := plan.Encode(p)
	if err != nil {
		return problems("%v", err)
	}
	if err := os.WriteFile(planPath, b, 0o644); err != nil {
		return problems("%v", err)
	}
	cfg, err := benchConfig(ctx, benchFlags{planPath: planPath, out: filepath.Join(dir, "bench")}, map[string]bool{})
	if err != nil {
		return err
	}
	cfg.Exporter, cfg.Progress = exp, env.Stderr
	scrape, _ := time.ParseDuration(o.ScrapeInterval)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second+3*scrape)
	err = c.WaitTargets(wctx, observe.JobEngine, observe.JobForge)
	cancel()
	if err != nil {
		return problems("%v", err)
	}
	start := time.Now()
	sums, err := bench.Run(ctx, cfg)
	if err != nil {
		return problems("bench: %v (kept in %s)", err, cfg.Out)
	}
	finished := 0
	for _, s := range sums {
		finished += s.Completed + s.Failed
	}
	// Wait until Prometheus has scraped the exporter's final counts.
	wait := 10*time.Second + 3*scrape
	deadline := time.Now().Add(wait)
	for {
		v, ok := c.Scalar(ctx, "sum(forge_bench_requests_completed_total) + sum(forge_bench_requests_failed_total)")
		if ok && int(v) >= finished {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return problems("prometheus did not scrape the bench's final counts (%d requests) within %s", finished, wait)
		}
		time.Sleep(scrape / 2)
	}
	// Rates are taken over the whole sweep, so that every panel sees it.
	window := time.Since(start).Round(time.Second) + 2*scrape
	window = max(window, 4*scrape)
	d := observe.BuildDashboard(p, o)
	if fs := observe.Check(d, observe.DatasourceUID); len(fs) > 0 {
		return problems("dashboard: %s", joinFindings(fs))
	}
	rw := promDuration(window)
	vals := observe.Values(d, map[string]string{"__rate_interval": rw, "__interval": rw, "__range": rw})
	fmt.Fprintf(env.Stdout, "%d request(s) in %d level(s); panel queries at the end of the sweep, $__rate_interval = %s:\n", finished, len(sums), rw)
	if err := reportQueries(env, c.RunQueries(ctx, d, vals, time.Now())); err != nil {
		return err
	}
	// Data at the end is not yet proof that the scrapes saw the load:
	// the queries that must move under load are run over the sweep, with
	// the window Grafana would use live (4 scrape intervals).
	live := promDuration(4 * scrape)
	lvals := observe.Values(d, map[string]string{"__rate_interval": live, "__interval": live, "__range": live})
	return reportMoving(env, c.CheckMoving(ctx, observe.Rows(p, o), lvals, start, time.Now(), scrape), live)
}

// reportMoving prints each must-move query's maximum over the sweep and
// fails when one never rose above 0.
func reportMoving(env Env, ms []observe.Moving, window string) error {
	fmt.Fprintf(env.Stdout, "the same queries over the sweep ($__rate_interval = %s), each must rise above 0:\n", window)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PANEL\tSERIES\tMAX\tRESULT")
	bad := 0
	for _, m := range ms {
		verdict := "ok"
		if !m.OK() {
			bad++
			verdict = "FLAT"
			if m.Err != "" {
				verdict = "ERROR " + m.Err
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%s\n", m.Panel, m.Legend, m.Max, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		for _, m := range ms {
			if !m.OK() {
				fmt.Fprintf(env.Stderr, "panel %q %q never rose above 0 during the sweep: %s\n", m.Panel, m.Legend, m.Expanded)
			}
		}
		return problems("%d of %d queries that move under load stayed at 0 (or empty) during the sweep", bad, len(ms))
	}
	fmt.Fprintf(env.Stdout, "every load-bearing query moved during the sweep (%d queries)\n", len(ms))
	return nil
}

func joinFindings(fs []observe.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.String())
	}
	return strings.Join(s, "; ")
}

// promDuration writes a duration as Prometheus reads it (whole seconds).
func promDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
}
