# The four problems of the issue's acceptance, in one file.
experiment "four_problems" {
  hardware = hardware.a500 # ERROR: Reference to undeclared hardware
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 8192
    max_num_seqs           = 256
    gpu_memory_utilization = 0.9
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt
  }
  sweep {
    concurrency       = [1, 16, 4] # ERROR: Sweep not ascending
    prompts_per_level = 8
  }
}

model "short_revision" {
  repo     = "meta-llama/Llama-3.1-8B-Instruct"
  revision = "0e9e39f249a16976918f6564b8830bc894c8965" # ERROR: Revision is not a commit SHA
  dtype    = "bfloat16"
  architecture {
    layers       = 32
    hidden       = 4096
    intermediate = 14336
    heads        = 32
    kv_heads     = 8
    head_dim     = 128
    vocab        = 128256
  }
}

experiment "too_big" {
  hardware = hardware.a5000
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 8192
    max_num_seqs           = 256 # ERROR: KV cache too small for max_num_seqs × max_model_len
    gpu_memory_utilization = 0.9
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt
  }
  sweep {
    concurrency       = [1, 4]
    prompts_per_level = 8
  }
}
