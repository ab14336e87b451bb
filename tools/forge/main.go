// Command forge decides, with numbers it can defend, whether to self-host an
// open LLM or pay an API. All logic lives in tools/internal; main only wires
// the process to it and maps errors to exit codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/forge-bench/forge/tools/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() int {
	// First Ctrl-C cancels the context so commands stop gracefully and flush;
	// stop() restores the default handler so a second Ctrl-C exits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := cli.Run(ctx, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:])
	if err != nil && err.Error() != "" {
		fmt.Fprintf(os.Stderr, "forge: %v\n", err)
	}
	return cli.ExitCode(err)
}
