experiment "refs" {
  hardware = model.llama8b # ERROR: Wrong kind of reference
  model    = model.llama8 # ERROR: Reference to undeclared model
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
  eval {
    baseline = "ref" # ERROR: Unknown baseline experiment
    task "mmlu" {
      shots    = 5
      metric   = "acc_norm" # ERROR: Unsupported value
      subjects = ["anatomy", "anatomyy"] # ERROR: Unknown MMLU subject
    }
    task "arc_easy" { # WARNING: Unchecked eval task
      shots    = 0
      metric   = "acc"
      subjects = ["anatomy"] # ERROR: Subjects outside MMLU
    }
  }
  cost {
    utilization = [1.0, 1.2] # ERROR: Invalid utilization
    compare     = [api.gpt_4o, api.gpt4o] # ERROR: Reference to undeclared api
  }
}

experiment "refs" { # ERROR: Duplicate experiment "refs"
  hardware = hardware.a5000
  model    = model.llama8b
}

hardware "stale" {
  gpu                = "NVIDIA L4"
  vram_gib           = 24
  bandwidth_gbps     = 300
  bf16_tflops        = 121
  compute_capability = "89" # ERROR: Invalid compute capability
  price {
    provider     = "example"
    usd_per_hour = 0.5
    source       = "https://example.com"
    observed     = "2025-01-01" # WARNING: Stale price
  }
}

dataset "bad" {
  format     = "parquet" # ERROR: Unsupported value
  sha256     = "abc" # ERROR: Invalid sha256
  url        = "ftp://example.com/x" # ERROR: Invalid URL
  path       = "../etc/passwd" # ERROR: Invalid path
  size_bytes = 10
}

dataset "nowhere" { # ERROR: Dataset without a source
  format     = "gsm8k-jsonl"
  sha256     = "0000000000000000000000000000000000000000000000000000000000000000"
  path       = "gsm8k/x.jsonl"
  size_bytes = 10
}

dataset "wheeled" {
  format     = "gsm8k-jsonl"
  sha256     = "0000000000000000000000000000000000000000000000000000000000000000"
  path       = "gsm8k/y.jsonl"
  size_bytes = 10

  archive {
    url        = "file:///tmp/x.whl" # ERROR: Invalid URL
    sha256     = "00" # ERROR: Invalid sha256
    size_bytes = 1
    member     = "../outside" # ERROR: Invalid archive member
    convert    = "hf-mmlu-arrow" # ERROR: Conversion does not fit the format
  }
}
