# The cost block's operations: engineers' time and spare GPUs.
experiment "negative_ops" {
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
    concurrency       = [1]
    prompts_per_level = 16
  }
  cost {
    utilization = [1.0]
    expected_tokens_per_month = -5 # ERROR: Invalid volume
    ops {
      engineer_hours_per_month = -2 # ERROR: Negative operations cost
      usd_per_engineer_hour    = 100
      redundant_gpus           = -1 # ERROR: Negative redundancy
    }
  }
}
