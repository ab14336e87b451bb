#!/usr/bin/env python3
"""Regenerate the vLLM /metrics fixtures in this directory.

The fixtures are written by the real prometheus_client (0.26.0, the version
pinned in the serve environment), so the exposition format (HELP/TYPE lines,
sorted labels, `_total` on counters, the `_created` gauges, float spelling) is
exactly what a vLLM server sends. The metric definitions (names, help text,
label names, bucket boundaries, which metrics exist) are copied from vLLM:

  vllm-0.11-*.txt       vllm/v1/metrics/loggers.py PrometheusStatLogger @ v0.11.0
                        (single API server: the default REGISTRY, so python_gc_*,
                        python_info and process_* are present too)
  vllm-0.6-old-names.txt vllm/engine/metrics.py Metrics @ v0.6.0
                        (the default multiprocessing frontend: a
                        MultiProcessCollector registry, "Multiprocess metric" help
                        text, no _created, no process metrics)

The observed values are chosen by hand; scrape's tests recompute the deltas by
hand from the lists below, so change both together.

    python3 -m venv /tmp/promvenv && /tmp/promvenv/bin/pip install prometheus-client==0.26.0
    /tmp/promvenv/bin/python gen_fixtures.py            # run in this directory
"""
import os
import random
import subprocess
import sys
import tempfile

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def buckets_1_2_5(max_value):
    out, exp = [], 0
    while True:
        for m in (1, 2, 5):
            v = m * 10**exp
            if v > max_value:
                return out
            out.append(v)
        exp += 1


TTFT_011 = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
            7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
ITL_011 = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
           10.0, 20.0, 40.0, 80.0]
LATENCY_011 = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
               60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]

# Warm-up (before the level): 4 requests, 128 prompt tokens, max_tokens 64 (1 stop at 40
# tokens, 3 length): 232 generated tokens, so 232 - 4 inter-token gaps.
WARM = dict(ttft=[0.150, 0.032, 0.035, 0.041], itl=[0.02] * 228, e2e=[2.9, 1.6, 1.6, 1.6],
            prompt=512, gen=232, queries=512, hits=0, preempt=0,
            success={"stop": 1, "length": 3, "abort": 0})
# The level: 20 requests, 200 prompt tokens, max_tokens 128 (1 abort after 21 tokens, 7 length,
# 12 stop at 120 tokens): 2357 generated tokens, 2337 inter-token gaps.
LEVEL = dict(
    ttft=[0.025, 0.030, 0.035, 0.038,
          0.042, 0.045, 0.048, 0.051, 0.055, 0.058,
          0.062, 0.065, 0.069, 0.071, 0.074, 0.079,
          0.083, 0.091, 0.097,
          0.180],
    itl=[0.02] * 1200 + [0.03] * 800 + [0.06] * 200 + [0.12] * 137,
    e2e=[0.9] + [4.2] * 7 + [2.2] * 4 + [3.1] * 5 + [6.5] * 3,
    prompt=4000, gen=2357, queries=4000, hits=1536, preempt=2,
    success={"stop": 12, "length": 7, "abort": 1})


def gen_011():
    import prometheus_client as pc
    from prometheus_client import Counter, Gauge, Histogram
    ln = ["model_name", "engine"]
    g = lambda n, d, **kw: Gauge(n, d, labelnames=ln, **kw).labels(MODEL, "0")
    c = lambda n, d: Counter(n, d, labelnames=ln).labels(MODEL, "0")
    h = lambda n, d, b: Histogram(n, d, labelnames=ln, buckets=b).labels(MODEL, "0")
    running = g("vllm:num_requests_running", "Number of requests in model execution batches.",
                multiprocess_mode="mostrecent")
    waiting = g("vllm:num_requests_waiting", "Number of requests waiting to be processed.",
                multiprocess_mode="mostrecent")
    kv = g("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.")
    queries = c("vllm:prefix_cache_queries",
                "Prefix cache queries, in terms of number of queried tokens.")
    hits = c("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.")
    preempt = c("vllm:num_preemptions", "Cumulative number of preemption from the engine.")
    prompt = c("vllm:prompt_tokens", "Number of prefill tokens processed.")
    gen = c("vllm:generation_tokens", "Number of generation tokens processed.")
    succ_base = Counter("vllm:request_success", "Count of successfully processed requests.",
                        labelnames=ln + ["finished_reason"])
    success = {r: succ_base.labels(MODEL, "0", r) for r in ("stop", "length", "abort")}
    b125 = buckets_1_2_5(8192)
    req_prompt = h("vllm:request_prompt_tokens", "Number of prefill tokens processed.", b125)
    req_gen = h("vllm:request_generation_tokens", "Number of generation tokens processed.", b125)
    iter_tokens = h("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
                    [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384])
    max_gen = h("vllm:request_max_num_generation_tokens",
                "Histogram of maximum number of requested generation tokens.", b125)
    params_n = h("vllm:request_params_n", "Histogram of the n request parameter.", [1, 2, 5, 10, 20])
    max_tokens = h("vllm:request_params_max_tokens",
                   "Histogram of the max_tokens request parameter.", b125)
    ttft = h("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
             TTFT_011)
    tpot = h("vllm:time_per_output_token_seconds",
             "Histogram of time per output token in seconds."
             "DEPRECATED: Use vllm:inter_token_latency_seconds instead.", ITL_011)
    itl = h("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
            ITL_011)
    req_tpot = h("vllm:request_time_per_output_token_seconds",
                 "Histogram of time_per_output_token_seconds per request.", ITL_011)
    e2e = h("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
            LATENCY_011)
    queue = h("vllm:request_queue_time_seconds",
              "Histogram of time spent in WAITING phase for request.", LATENCY_011)
    infer = h("vllm:request_inference_time_seconds",
              "Histogram of time spent in RUNNING phase for request.", LATENCY_011)
    prefill = h("vllm:request_prefill_time_seconds",
                "Histogram of time spent in PREFILL phase for request.", LATENCY_011)
    decode = h("vllm:request_decode_time_seconds",
               "Histogram of time spent in DECODE phase for request.", LATENCY_011)
    info = {"block_size": "16", "gpu_memory_utilization": "0.9", "swap_space": "4",
            "cache_dtype": "auto", "is_attention_free": "False", "num_gpu_blocks_override": "None",
            "sliding_window": "None", "enable_prefix_caching": "True",
            "prefix_caching_hash_algo": "sha256", "cpu_offload_gb": "0",
            "calculate_kv_scales": "False", "cpu_kvcache_space_bytes": "None",
            "mamba_page_size_padded": "None", "mamba_cache_dtype": "auto",
            "mamba_ssm_cache_dtype": "auto", "num_gpu_blocks": "2249", "num_cpu_blocks": "0",
            "kv_sharing_fast_prefill": "False", "kv_cache_memory_bytes": "None", "engine": "0"}
    Gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig",
          labelnames=list(info), multiprocess_mode="mostrecent").labels(**info).set(1)

    rnd = random.Random(11)

    def apply(p, prompt_len, gen_lens, max_tok):
        for v in p["ttft"]:
            ttft.observe(v)
        for v in p["itl"]:
            itl.observe(v)
            tpot.observe(v)
        for v, n in zip(p["e2e"], gen_lens):
            e2e.observe(v)
            q = rnd.uniform(0.001, 0.004)
            pf = rnd.uniform(0.02, 0.09)
            queue.observe(q)
            prefill.observe(pf)
            decode.observe(v - q - pf)
            infer.observe(v - q)
            req_prompt.observe(prompt_len)
            req_gen.observe(n)
            max_gen.observe(max_tok)
            params_n.observe(1)
            max_tokens.observe(max_tok)
            req_tpot.observe((v - q - pf) / max(n - 1, 1))
        for _ in range(len(p["itl"]) // len(gen_lens)):
            iter_tokens.observe(rnd.choice([len(gen_lens), len(gen_lens) - 1]))
        iter_tokens.observe(p["prompt"] + len(gen_lens))
        prompt.inc(p["prompt"])
        gen.inc(p["gen"])
        queries.inc(p["queries"])
        hits.inc(p["hits"])
        preempt.inc(p["preempt"])
        for r, n in p["success"].items():
            success[r].inc(n)
        running.set(0)
        waiting.set(0)
        kv.set(0.0)

    apply(WARM, 128, [40, 64, 64, 64], 64)
    with open("vllm-0.11-before.txt", "wb") as f:
        f.write(pc.generate_latest())
    apply(LEVEL, 200, [21] + [128] * 7 + [120] * 12, 128)
    with open("vllm-0.11-after.txt", "wb") as f:
        f.write(pc.generate_latest())


def gen_06():
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
    from prometheus_client import multiprocess
    ln = ["model_name"]
    g = lambda n, d: Gauge(n, d, labelnames=ln, multiprocess_mode="sum").labels(MODEL)
    running = g("vllm:num_requests_running", "Number of requests currently running on GPU.")
    waiting = g("vllm:num_requests_waiting", "Number of requests waiting to be processed.")
    swapped = g("vllm:num_requests_swapped", "Number of requests swapped to CPU.")
    gpu_cache = g("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.")
    cpu_cache = g("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.")
    cpu_hit = g("vllm:cpu_prefix_cache_hit_rate", "CPU prefix cache block hit rate.")
    gpu_hit = g("vllm:gpu_prefix_cache_hit_rate", "GPU prefix cache block hit rate.")
    preempt = Counter("vllm:num_preemptions_total",
                      "Cumulative number of preemption from the engine.", labelnames=ln)
    prompt = Counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.",
                     labelnames=ln)
    gen = Counter("vllm:generation_tokens_total", "Number of generation tokens processed.",
                  labelnames=ln)
    ttft = Histogram("vllm:time_to_first_token_seconds",
                     "Histogram of time to first token in seconds.", labelnames=ln,
                     buckets=[0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                              0.75, 1.0, 2.5, 5.0, 7.5, 10.0])
    tpot = Histogram("vllm:time_per_output_token_seconds",
                     "Histogram of time per output token in seconds.", labelnames=ln,
                     buckets=[0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
                              1.0, 2.5])
    e2e = Histogram("vllm:e2e_request_latency_seconds",
                    "Histogram of end to end request latency in seconds.", labelnames=ln,
                    buckets=[1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    success = Counter("vllm:request_success_total", "Count of successfully processed requests.",
                      labelnames=ln + ["finished_reason"])
    for x in (running, waiting, swapped, cpu_cache, cpu_hit, gpu_hit):
        x.set(0)
    running.set(3)
    gpu_cache.set(0.25)
    gpu_hit.set(-1)  # vLLM 0.6 reports -1 when prefix caching is off
    prompt.labels(MODEL).inc(600)
    gen.labels(MODEL).inc(300)
    preempt.labels(MODEL).inc(0)
    for v in [0.03, 0.05, 0.07]:
        ttft.labels(MODEL).observe(v)
    for v in [0.02] * 6 + [0.03] * 3 + [0.2]:
        tpot.labels(MODEL).observe(v)
    e2e.labels(MODEL).observe(3.0)
    e2e.labels(MODEL).observe(4.0)
    success.labels(MODEL, "stop").inc(2)
    info = {"block_size": "16", "gpu_memory_utilization": "0.9", "swap_space_bytes": "4294967296",
            "num_gpu_blocks_override": "None", "cache_dtype": "auto", "sliding_window": "None",
            "enable_prefix_caching": "False", "cpu_offload_gb": "0", "num_gpu_blocks": "2249",
            "num_cpu_blocks": "2048"}
    Gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig",
          labelnames=list(info), multiprocess_mode="mostrecent").labels(**info).set(1)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    with open("vllm-0.6-old-names.txt", "wb") as f:
        f.write(generate_latest(registry))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "0.6":
        gen_06()
    elif "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        gen_011()
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=d)
            subprocess.run([sys.executable, __file__, "0.6"], env=env, check=True)
