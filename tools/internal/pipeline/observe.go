package pipeline

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/engine"
	"github.com/forge-bench/forge/tools/internal/observe"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// UpOptions are `forge observe up`'s settings.
type UpOptions struct {
	Dir, PrometheusBin, GrafanaAddr  string
	NoGrafana, Bench, Hold, NoEngine bool
	HealthTimeout                    time.Duration
	Stack                            observe.Options
}

// ObserveUp runs the observability stack: the generated files (files),
// Prometheus, Grafana when installed, the experiment's engine, and with
// Bench the sweep with Forge's exporter, followed by the live check of
// every panel; with Hold everything stays up until ctx ends.
func ObserveUp(ctx context.Context, env Out, p *plan.Plan, files map[string][]byte, o UpOptions) error {
	bin, err := exec.LookPath(o.PrometheusBin)
	if err != nil {
		return fmt.Errorf("prometheus is not installed (%v): apt-get install prometheus, or run `nix develop`", err)
	}
	if err := observe.Write(o.Dir, files); err != nil {
		return fmt.Errorf("observe: %v", err)
	}
	if tool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.CommandContext(ctx, tool, "check", "config", filepath.Join(o.Dir, observe.PrometheusFile)).CombinedOutput(); err != nil {
			return fmt.Errorf("promtool check config: %v\n%s", err, out)
		}
	}
	prom, err := observe.StartPrometheus(ctx, bin, o.Dir, o.Stack.PrometheusAddr)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	defer prom.Stop()
	fmt.Fprintf(env.Stderr, "prometheus: %s (config %s, log %s)\n", prom.URL, filepath.Join(o.Dir, observe.PrometheusFile), prom.Log)
	if !o.NoGrafana {
		g, err := observe.StartGrafana(ctx, o.Dir, o.GrafanaAddr)
		switch {
		case err == observe.ErrNoGrafana:
			fmt.Fprintf(env.Stderr, "grafana: %v\n", err)
		case err != nil:
			return fmt.Errorf("%v", err)
		default:
			defer g.Stop()
			fmt.Fprintf(env.Stderr, "grafana: %s/d/%s (anonymous viewer; log %s)\n", g.URL, observe.DashboardUID(p.Experiment), g.Log)
		}
	}
	engineURL := fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	if !o.NoEngine {
		eng, err := engine.Start(ctx, p, o.Dir, engine.Options{HealthTimeout: o.HealthTimeout, Log: env.Stderr})
		if err != nil {
			return err
		}
		defer eng.Stop()
		engineURL = eng.URL
		fmt.Fprintf(env.Stderr, "engine: %s on %s\n", p.Engine.Kind, eng.URL)
	}
	client, err := observe.NewClient(prom.URL)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if o.Bench {
		// The exporter stays up while the stack is held, so the load row
		// keeps the sweep's final counts instead of a target gone down.
		lm, err := StartLiveMetrics(ctx, env.Stderr, "observe", o.Stack.MetricsAddr, 0)
		if err != nil {
			return err
		}
		defer lm.Close()
		if err := observeBench(ctx, env, p, o.Dir, engineURL, o.Stack, client, lm.Exporter()); err != nil {
			return err
		}
	}
	if o.Hold {
		fmt.Fprintf(env.Stderr, "holding: Prometheus %s; Ctrl-C stops everything\n", prom.URL)
		<-ctx.Done()
	}
	return nil
}

// observeBench runs the sweep with the exporter on, waits for Prometheus
// to have scraped the end of it, and runs every panel query.
func observeBench(ctx context.Context, env Out, p *plan.Plan, dir, engineURL string, o observe.Options, c *observe.Client, exp *bench.Exporter) error {
	cfg, _, err := BenchConfig(ctx, p)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	cfg.Client.BaseURL, cfg.Out, cfg.RunID = engineURL, filepath.Join(dir, "bench"), rundir.Timestamp(time.Now())
	cfg.Client.Timeout, cfg.ScrapeInterval = 10*time.Minute, 2*time.Second
	cfg.Exporter, cfg.Progress = exp, env.Stderr
	scrape, _ := time.ParseDuration(o.ScrapeInterval)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second+3*scrape)
	err = c.WaitTargets(wctx, observe.JobEngine, observe.JobForge)
	cancel()
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	start := time.Now()
	sums, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %v (kept in %s)", err, cfg.Out)
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
			return fmt.Errorf("prometheus did not scrape the bench's final counts (%d requests) within %s", finished, wait)
		}
		time.Sleep(scrape / 2)
	}
	// Rates are taken over the whole sweep, so that every panel sees it.
	window := time.Since(start).Round(time.Second) + 2*scrape
	window = max(window, 4*scrape)
	d := observe.BuildDashboard(p, o)
	if fs := observe.Check(d, observe.DatasourceUID); len(fs) > 0 {
		return fmt.Errorf("dashboard: %s", joinFindings(fs))
	}
	rw := promDuration(window)
	vals := observe.Values(d, map[string]string{"__rate_interval": rw, "__interval": rw, "__range": rw})
	fmt.Fprintf(env.Stdout, "%d request(s) in %d level(s); panel queries at the end of the sweep, $__rate_interval = %s:\n", finished, len(sums), rw)
	if err := ReportQueries(env, c.RunQueries(ctx, d, vals, time.Now())); err != nil {
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
func reportMoving(env Out, ms []observe.Moving, window string) error {
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
		return fmt.Errorf("%d of %d queries that move under load stayed at 0 (or empty) during the sweep", bad, len(ms))
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

// ObserveCheck checks a stack directory (or one dashboard file) statically
// and, given a Prometheus, runs every panel's query, the dashboard's
// variables set from vars (default: their current values) and Grafana's
// interval variables to rate.
func ObserveCheck(ctx context.Context, env Out, path string, prom *observe.Client, rate string, vars map[string]string) error {
	d, uid, err := observe.LoadStack(path)
	if err != nil {
		return err
	}
	findings := observe.Check(d, uid)
	for _, f := range findings {
		fmt.Fprintf(env.Stderr, "%s: %s\n", path, f)
	}
	if len(findings) > 0 {
		return fmt.Errorf("%s: %d problem(s) in the dashboard", path, len(findings))
	}
	fmt.Fprintf(env.Stdout, "%s: dashboard %q: %d panel queries, datasource uid %q, variables defined\n", path, d.UID, len(observe.Queries(d)), uid)
	if prom == nil {
		return nil
	}
	overrides := map[string]string{"__rate_interval": rate, "__interval": rate, "__range": rate}
	for k, v := range vars {
		overrides[k] = v
	}
	return ReportQueries(env, prom.RunQueries(ctx, d, observe.Values(d, overrides), time.Now()))
}

// ReportQueries prints one line per panel query and fails when any came
// back empty or with an error.
func ReportQueries(env Out, rs []observe.Result) error {
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
		return fmt.Errorf("%d of %d panel queries returned no data", bad, len(rs))
	}
	fmt.Fprintf(env.Stdout, "every panel query returned data (%d queries)\n", len(rs))
	return nil
}
