// Package cli is the forge command line: it parses arguments, runs one
// subcommand and returns an error whose exit code is decided in one place.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/forge-bench/forge/tools/internal/buildinfo"
)

// Exit codes: 0 success, 1 the input or results have problems, 2 usage.
const (
	ExitOK       = 0
	ExitProblems = 1
	ExitUsage    = 2
)

// ExitError carries an exit code; its message has usually been printed already.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Msg: fmt.Sprintf(format, args...)}
}

func problems(format string, args ...any) error {
	return &ExitError{Code: ExitProblems, Msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps an error from Run to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitProblems
}

// Env is what a command may touch: its arguments and output streams.
type Env struct {
	Stdout, Stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

var commands = map[string]command{
	"validate":  {"check experiments (.hcl) and result files (.json, .jsonl)", runValidate},
	"plan":      {"print the fully resolved plan of one experiment as canonical JSON", runPlan},
	"bench":     {"run a load sweep against an OpenAI-compatible server (vLLM metrics)", runBench},
	"run":       {"run an experiment end to end: plan, serve, bench, stop, into results/", runRun},
	"twin":      {"serve an experiment with the embedded engine model of vLLM (no GPU)", runTwin},
	"predict":   {"predict an experiment's sweep with the twin's model, in virtual time", runPredict},
	"chart":     {"draw the five charts and the TCO chart (PNG and SVG) for runs, or regenerate all under results/", runChart},
	"report":    {"write report.md: the answer first, then every chart's table, linked to its JSON", runReport},
	"cost":      {"price runs: $/1M tokens per level, headline, goodput, break-even vs each API", runCost},
	"verify":    {"recompute every summary from its records and every cost from its summaries", runVerify},
	"version":   {"print Forge's version and commit", runVersion},
	"import":    {"import other tools' results as Forge summaries: vllm-bench (vllm bench serve --save-result)", runImport},
	"parity":    {"compare Forge's bench summaries with imported vllm bench serve ones, level by level", runParity},
	"model":     {"model prepare EXPERIMENT: fetch and convert a checkpoint pinned by sha256 (the rehearsal's)", runModel},
	"eval":      {"run lm-eval (offline task definitions over pinned data) against the running server", runEval},
	"quantize":  {"quantize MODEL: run the catalog model's AWQ recipe with llm-compressor into a checkpoint pinned by sha256", runQuantize},
	"retention": {"paired quality retention of one run's eval against another's (or a noise floor)", runRetention},
	"prompts":   {"write a plan's measured requests for another client (vllm bench serve)", runPrompts},
	"engine":    {"engine stop RUN_DIR: stop an engine a killed Forge left running; engine wait --url: wait for /health", runEngine},
	"observe":   {"observability: generate Prometheus + Grafana config from an experiment, check the dashboard, run the stack", runObserve},
}

// Run executes `forge <command> args...`.
func Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return usageErr("no command given")
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(env.Stderr)
		return usageErr("unknown command %q%s", args[0], suggestCommand(args[0]))
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "forge %s — should you self-host an open LLM or pay an API?\n\nUsage: forge <command> [flags]\n\nCommands:\n", buildinfo.Version)
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun `forge <command> -h` for a command's flags.\n")
}

func suggestCommand(got string) string {
	for n := range commands {
		if strings.HasPrefix(n, got) || strings.HasPrefix(got, n) {
			return fmt.Sprintf("; did you mean %q?", n)
		}
	}
	return ""
}

// newFlags makes a FlagSet that reports errors instead of exiting.
func newFlags(env Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: forge %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing them after positional arguments too
// (`forge plan twin --out x.json`), which Go's flag package does not.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &ExitError{Code: ExitOK, Msg: ""}
			}
			return nil, usageErr("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// varFlags collects repeated --var name=value flags.
type varFlags map[string]string

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("--var wants name=value, got %q", s)
	}
	v[name] = value
	return nil
}

func runVersion(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "version", "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "forge %s (commit %s)\n", buildinfo.Version, buildinfo.Commit)
	return nil
}

// flagGiven says whether the flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) (given bool) {
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
