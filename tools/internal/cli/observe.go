package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/observe"
	"github.com/forge-bench/forge/tools/internal/pipeline"
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
	var c *observe.Client
	if *promURL != "" {
		if c, err = observe.NewClient(*promURL); err != nil {
			return usageErr("--prometheus %q: %v", *promURL, err)
		}
	}
	return pipeline.ObserveCheck(ctx, pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, pos[0], c, *rate, vars)
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
	return pipeline.ObserveUp(ctx, pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, p, files, pipeline.UpOptions{
		Dir: *dir, PrometheusBin: *promBin, GrafanaAddr: *grafanaAddr, NoGrafana: *noGrafana, Bench: *runBench,
		Hold: *hold, NoEngine: *noEngine, HealthTimeout: *healthTimeout, Stack: sf.opts})
}
