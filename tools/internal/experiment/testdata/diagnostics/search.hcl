# A find-max sweep: a start and a max of one kind, an SLO, sane bounds.
experiment "search_three_levels" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 4096
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1, 8, 64]
    prompts_per_level = 16
    search { # ERROR: Search needs a start and a max
      step       = 1.5 # ERROR: Fractional concurrency step
      max_probes = 100 # ERROR: Invalid probe count
      budget_s   = 0 # ERROR: Value must be positive
    }
  }
  slo {
    ttft_p99_ms = 500
  }
}

experiment "search_without_slo" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 4096
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    rates             = [0.5, 32]
    prompts_per_level = 16
    search {} # ERROR: Search without an SLO
  }
}
