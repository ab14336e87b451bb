package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// compare runs every scenario and prints the tables.
func compare(o opts, w io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := os.MkdirTemp(o.work, "forge-bench-peers.") // o.work "": the system's temporary directory
	if err != nil {
		return err
	}
	defer os.RemoveAll(d)
	o.work = d
	haveVLLM := fileExists(o.vllm) && o.tokenizer != ""
	if !haveVLLM {
		fmt.Fprintf(w, "bench-peers: vllm bench serve skipped (%s or --tokenizer missing: make venv-serve-cpu)\n", o.vllm)
	}
	fmt.Fprintf(w, "bench-peers: completions, %d prompt / %d output tokens (ignore_eos), closed loop; client on CPU %d, server on CPU %d\n",
		o.inputTokens, o.outputTokens, o.clientCore, o.serverCore)

	// Throughput and CPU: the zero-delay server.
	srv, err := startServer(o, 0)
	if err != nil {
		return err
	}
	defer srv.stop()
	var zero []result
	run := func(name string, n int, gap time.Duration) (result, error) {
		dir := filepath.Join(o.work, fmt.Sprintf("%s-%d-%s", strings.Fields(name)[0], n, gap))
		if name == "forge bench" {
			args := []string{o.forge, "bench", "--base-url", srv.url, "--model", "m", "--concurrency", strconv.Itoa(o.concurrency),
				"--num-prompts", strconv.Itoa(n), "--input-tokens", strconv.Itoa(o.inputTokens), "--output-tokens", strconv.Itoa(o.outputTokens),
				"--ignore-eos", "--no-scrape", "--out", dir}
			r, err := runClient(ctx, o, srv, name, args, n, dir+".log")
			if err == nil {
				err = forgeLatencies(dir, o.concurrency, &r)
			}
			return r, err
		}
		args := []string{o.vllm, "bench", "serve", "--backend", "vllm", "--base-url", srv.url, "--endpoint", "/v1/completions",
			"--model", "m", "--tokenizer", o.tokenizer, "--dataset-name", "random", "--random-input-len", strconv.Itoa(o.inputTokens),
			"--random-output-len", strconv.Itoa(o.outputTokens), "--num-prompts", strconv.Itoa(n), "--max-concurrency", strconv.Itoa(o.concurrency),
			"--request-rate", "inf", "--ignore-eos", "--ready-check-timeout-sec", "0", "--disable-tqdm",
			"--save-result", "--save-detailed", "--result-dir", o.work, "--result-filename", filepath.Base(dir) + ".json"}
		r, err := runClient(ctx, o, srv, name, args, n, dir+".log")
		if err == nil {
			err = vllmLatencies(dir+".json", o.concurrency, &r)
		}
		return r, err
	}
	clients := []string{"forge bench"}
	if haveVLLM {
		clients = append(clients, "vllm bench serve")
	}
	for _, c := range clients {
		r, err := run(c, o.requests, 0)
		if err != nil {
			return err
		}
		zero = append(zero, r)
	}
	fmt.Fprintf(w, "\nzero-delay server, %d streams, %d requests each:\n", o.concurrency, o.requests)
	fmt.Fprintf(w, "  %-18s %12s %16s %14s %12s\n", "client", "output tok/s", "CPU s/1k tokens", "peak RSS MiB", "window s")
	for _, r := range zero {
		fmt.Fprintf(w, "  %-18s %12.0f %16.5f %14.1f %12.2f\n", r.client, r.tokPerS(), r.cpuPer1k(), r.peakRSSMiB, r.windowS)
	}
	if len(zero) == 2 {
		f, v := zero[0], zero[1]
		fmt.Fprintf(w, "  forge bench: %.1f× less client CPU per 1k tokens, %.2f× the tokens/s of vllm bench serve\n", v.cpuPer1k()/f.cpuPer1k(), f.tokPerS()/v.tokPerS())
	}
	if f := zero[0]; f.cpuS < 0.9*f.windowS {
		fmt.Fprintf(w, "  forge bench used %.0f %% of its core over the window: the one-core server, not the client, was the limit\n", 100*f.cpuS/f.windowS)
	}

	// Peak RSS against requests: memory must follow streams, not requests.
	bound := 64 + 64.0*float64(o.concurrency)/1024
	fmt.Fprintf(w, "\nforge bench peak RSS, %d streams (bound: 64 MiB + 64 KiB per stream = %.0f MiB):\n", o.concurrency, bound)
	for _, n := range o.rssRequests {
		r := zero[0]
		if n != o.requests {
			if r, err = run("forge bench", n, 0); err != nil {
				return err
			}
		}
		verdict := "within"
		if r.peakRSSMiB > bound {
			verdict = "OVER"
		}
		fmt.Fprintf(w, "  %7d requests: %6.1f MiB (%s the bound), %.0f output tok/s, %.5f CPU s per 1k tokens\n", n, r.peakRSSMiB, verdict, r.tokPerS(), r.cpuPer1k())
	}
	srv.stop()

	// Latency: every token gap apart, all streams in flight.
	lsrv, err := startServer(o, o.gap)
	if err != nil {
		return err
	}
	defer lsrv.stop()
	srv = lsrv
	fmt.Fprintf(w, "\n%d streams × %s per token, %d requests, the first %d (connection set-up) left out: latency each client adds, ms\n(its percentile minus the server's own: arrival to first write, write to write; a late server's queueing before its handler runs counts as the client's)\n", o.concurrency, o.gap, o.latencyRequests, o.concurrency)
	fmt.Fprintf(w, "  %-22s %10s %10s %10s %10s %14s\n", "client", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "server late p99")
	for _, c := range clients {
		r, err := run(c, o.latencyRequests, o.gap)
		if err != nil {
			return err
		}
		sv := r.server
		fmt.Fprintf(w, "  %-22s %10.2f %10.2f %10.2f %10.2f %14.2f\n", r.client, pct(r.ttft, 50)-sv.TTFTP50Ms, pct(r.ttft, 99)-sv.TTFTP99Ms,
			pct(r.itl, 50)-sv.ITLP50Ms, pct(r.itl, 99)-sv.ITLP99Ms, sv.LateP99Ms)
		if len(r.ttftWithSendMs) > 0 {
			fmt.Fprintf(w, "  %-22s %10.2f %10.2f   (TTFT from before the request is written, connection set-up included, as vLLM's client starts its clock)\n",
				"forge + send overhead", pct(r.ttftWithSendMs, 50)-sv.TTFTP50Ms, pct(r.ttftWithSendMs, 99)-sv.TTFTP99Ms)
		}
		fmt.Fprintf(w, "  %-22s %10.2f %10.2f %10.2f %10.2f\n", "  (server's own)", sv.TTFTP50Ms, sv.TTFTP99Ms, sv.ITLP50Ms, sv.ITLP99Ms)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
