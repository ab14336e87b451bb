// Command benchpeers is `make bench-peers`: forge bench and vLLM's own
// client (`vllm bench serve`, from the pinned CPU venv) side by side
// against one standalone server that streams vLLM 0.11's exact chunks, the
// client pinned to one core and the server to another, so that the client's
// own cost shows: output tokens/s, client CPU seconds per 1k output tokens
// and peak RSS at 1,024 streams with a zero-delay server, and the latency
// each client adds to TTFT and ITL at 1,024 streams × 20 ms per token.
//
// Each figure is measured over the load window the server saw (its first
// request's arrival to its last response's end), so neither client's
// start-up (Python's imports, prompt generation) is charged as load.
//
//	benchpeers [--forge bin/forge] [--vllm PATH] [--tokenizer DIR] ...
//	benchpeers serve [--addr 127.0.0.1:0] [--gap 20ms]
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// opts are the harness's settings.
type opts struct {
	forge, vllm, tokenizer, work string
	concurrency                  int
	requests, latencyRequests    int
	rssRequests                  []int
	gap                          time.Duration
	clientCore, serverCore       int
	outputTokens, inputTokens    int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "benchpeers serve:", err)
			os.Exit(1)
		}
		return
	}
	var o opts
	var rss string
	fs := flag.NewFlagSet("benchpeers", flag.ContinueOnError)
	fs.StringVar(&o.forge, "forge", "bin/forge", "forge binary")
	fs.StringVar(&o.vllm, "vllm", ".venv/serve-cpu/bin/vllm", "vllm executable of the pinned CPU venv (skipped when absent)")
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer directory for vllm bench serve's random prompts")
	fs.StringVar(&o.work, "work", "", "directory under which a scratch directory is made and removed (default: the system's temporary directory)")
	fs.IntVar(&o.concurrency, "concurrency", 1024, "streams")
	fs.IntVar(&o.requests, "requests", 10000, "requests of the zero-delay comparison")
	fs.IntVar(&o.latencyRequests, "latency-requests", 4096, "requests of the latency comparison")
	fs.StringVar(&rss, "rss-requests", "10000,100000", "forge bench's peak RSS at these request counts (zero delay)")
	fs.DurationVar(&o.gap, "gap", 20*time.Millisecond, "per-token gap of the latency comparison")
	fs.IntVar(&o.clientCore, "client-core", 0, "CPU the client is pinned to")
	fs.IntVar(&o.serverCore, "server-core", 1, "CPU the server is pinned to")
	fs.IntVar(&o.inputTokens, "input-tokens", 32, "prompt tokens")
	fs.IntVar(&o.outputTokens, "output-tokens", 64, "output tokens (ignore_eos)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	for _, f := range strings.Split(rss, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			o.rssRequests = append(o.rssRequests, n)
		}
	}
	if err := compare(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-peers:", err)
		os.Exit(1)
	}
}
