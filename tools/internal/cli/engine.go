package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/forge-bench/forge/tools/internal/proc"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// runEngine is `forge engine stop RUN_DIR` and `forge engine wait --url
// URL`: the plan's manual steps around an engine started by hand, and the
// cleanup after Forge itself was killed with SIGKILL (the only signal
// after which Forge cannot stop the engine it started).
func runEngine(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || (args[0] != "stop" && args[0] != "wait") {
		return usageErr("usage: forge engine stop RUN_DIR [--grace D] | forge engine wait --url URL [--timeout D]")
	}
	switch args[0] {
	case "stop":
		fs := newFlags(env, "engine stop", "RUN_DIR [--grace D]")
		grace := fs.Duration("grace", 30*time.Second, "how long the engine gets after SIGTERM before its process group is killed")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageErr("engine stop wants one run directory")
		}
		pid, stopped, err := rundir.Dir(pos[0]).StopEngine(*grace)
		if err != nil {
			return err
		}
		switch {
		case pid == 0:
			fmt.Fprintf(env.Stdout, "engine stop: %s has no %s: no engine left running\n", pos[0], rundir.Pidfile)
		case stopped:
			fmt.Fprintf(env.Stdout, "engine stop: stopped process group %d\n", pid)
		default:
			fmt.Fprintf(env.Stdout, "engine stop: process group %d had already ended\n", pid)
		}
		return nil
	default:
		fs := newFlags(env, "engine wait", "--url URL [--timeout D]")
		url := fs.String("url", "", "the engine's health URL, e.g. http://127.0.0.1:8000/health")
		timeout := fs.Duration("timeout", 15*time.Minute, "how long to wait for it to answer 200")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 0 || *url == "" {
			return usageErr("engine wait wants --url")
		}
		if err := proc.WaitHTTP(ctx, *url, *timeout, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "engine wait: %s answers\n", *url)
		return nil
	}
}
