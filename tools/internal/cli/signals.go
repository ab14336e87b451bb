package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/forge-bench/forge/tools/internal/proc"
)

// Main runs `forge args...` as the process and returns its exit code. The
// first Ctrl-C cancels the command's context: the sweep stops sending, lets
// the requests in flight finish, keeps what completed (marked incomplete)
// and stops the engine. A second Ctrl-C, or a SIGTERM or SIGHUP at any
// time, kills every process group Forge started (vLLM and its engine core,
// lm-eval, Prometheus, ...) and exits at once: nothing Forge started may
// outlive it and keep a rented GPU busy.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		graceful := true
		for s := range sigs {
			if s == os.Interrupt && graceful {
				graceful = false
				cancel()
				continue
			}
			killed := proc.KillAll()
			fmt.Fprintf(stderr, "forge: %v: killed the process groups Forge started (%s); exiting\n", s, cmp.Or(strings.Join(killed, ", "), "none"))
			code := 1
			if sig, ok := s.(syscall.Signal); ok {
				code = 128 + int(sig)
			}
			os.Exit(code)
		}
	}()
	err := Run(ctx, Env{Stdout: stdout, Stderr: stderr}, args)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "forge: %v\n", err)
	}
	return ExitCode(err)
}
