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
    ignore     = ["lm_head"]

    calibration {
      dataset = "pileval"
      samples = 128
      seq_len = 512
    }
  }
}
