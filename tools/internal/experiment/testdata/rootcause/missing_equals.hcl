# A missing '=': the syntax error is the cause; no "max_num_seqs must be positive" follows it.
variable "levels" {
  default     = [1, 2, 4]
  description = "concurrency levels"
}

locals {
  prompts = 8 * 2
  twice   = local.prompts * 2
}

experiment "ok" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs             16 # ERROR: Argument or block definition required
    gpu_memory_utilization = 0.9
    extra_args             = ["--enforce-eager"]
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt
    seed    = 7
  }
  sweep {
    concurrency       = var.levels
    prompts_per_level = local.twice
  }
  cost {
    utilization = [1.0, 0.8]
    compare     = [api.gpt_4o]
  }
}
