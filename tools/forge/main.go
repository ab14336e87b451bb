// Command forge decides, with numbers it can defend, whether to self-host an
// open LLM or pay an API. All logic lives in tools/internal; main only hands
// the process (arguments, streams, signals) to cli.Main.
package main

import (
	"os"

	"github.com/forge-bench/forge/tools/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
