// Package bench is Forge's load generator. It sends a plan's request
// sequence to an OpenAI-compatible server (/v1/completions or
// /v1/chat/completions, streamed) and measures what the client sees.
//
// A sweep (Run) runs the plan's load levels in order. Each level sends the
// warmup requests first, unrecorded, then the measured ones (RunLevel): a
// concurrency level is a closed loop that keeps that many requests in
// flight; a rate level is an open loop whose sends are paced by a gamma
// arrival process (Pacer; burstiness 1 is Poisson), optionally capped in
// concurrency, and a send that falls behind its schedule is counted late.
//
// Every request's Timeline holds the arrival time of each streamed chunk;
// Measure turns it into a Record (schema forge.bench.record/v1): TTFT to the
// first chunk that carries generated text, ITL between consecutive such
// chunks, E2EL to the last chunk, and TPOT as (E2EL − TTFT) over the output
// tokens after the first, counted from the server's usage when it reports
// one. Records are streamed to <level>.jsonl as requests finish; at the end
// of the level they are summarized (Summary, schema forge.bench.summary/v1:
// throughputs, goodput against the SLO, percentiles) into
// <level>.summary.json, which is checked against its schema.
//
// Around each level the server's Prometheus /metrics is scraped (before,
// after and optionally at an interval, see package scrape) so the summary
// also carries the server's own view of the same requests. Each summary's
// provenance.Record says which engine, model, GPU and data produced the
// numbers, and Exporter serves the load generator's own live metrics.
package bench
