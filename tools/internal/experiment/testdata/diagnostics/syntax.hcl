locals {
  a = local.b # ERROR: Cycle in locals
  b = local.a # reported once, at the first local of the cycle
}

experiment "x" { # not "Missing hardware": its cause, the misspelt argument, is reported instead
  hardwre = hardware.a5000 # ERROR: Unsupported argument
  model   = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = "most" # ERROR: Unsuitable value type
  }
  workload "random" {
    input_tokens  = 10
    output_tokens = 10.5 # ERROR: Unsuitable value type
    api           = "responses" # ERROR: Unsupported value
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}

gpu "x" { # ERROR: Unsupported block type
}
