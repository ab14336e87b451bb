# Published anchors the twin is checked against (docs/twin.md): Llama 3.1 8B
# Instruct on one A100 80GB PCIe under vLLM, BF16 and W4A16, batch 1 and 64,
# on a WildChat-derived chat workload. The published runs give only the
# resulting TPOT and throughput; the workload here (512 prompt tokens, 256
# output tokens) is Forge's stand-in for "WildChat-derived", so the batch-64
# comparison carries that assumption.

locals {
  anchor_levels = [1, 64]
}

experiment "anchor_a100_bf16" {
  description = "Anchor: Llama 3.1 8B Instruct BF16 on A100 80GB PCIe (twin prediction)"
  hardware    = hardware.a100_80gb
  model       = model.llama31_8b_instruct

  engine "twin" {
    version                = "0.11.0"
    max_model_len          = 4096
    max_num_seqs           = 64
    gpu_memory_utilization = 0.90
    port                   = 18001
  }

  workload "random" {
    input_tokens  = 512
    output_tokens = 256
    ignore_eos    = true
    seed          = 1
  }

  sweep {
    concurrency       = local.anchor_levels
    prompts_per_level = 128
  }
}

experiment "anchor_a100_w4a16" {
  description = "Anchor: Llama 3.1 8B Instruct W4A16 (AWQ, Marlin) on A100 80GB PCIe (twin prediction)"
  hardware    = hardware.a100_80gb
  model       = model.llama31_8b_instruct_awq

  engine "twin" {
    version                = "0.11.0"
    max_model_len          = 4096
    max_num_seqs           = 64
    gpu_memory_utilization = 0.90
    port                   = 18002
  }

  workload "random" {
    input_tokens  = 512
    output_tokens = 256
    ignore_eos    = true
    seed          = 1
  }

  sweep {
    concurrency       = local.anchor_levels
    prompts_per_level = 128
  }
}
