"""Build the rehearsal's Llama 3.1 stand-in: Llama 3's real tokenizer with
tiny, deterministic random weights, as a HuggingFace directory vLLM serves.

The study's model is Llama 3.1 8B; no small model with Llama 3's tokenizer
can be fetched here (no model hub), and the pipeline notices a model through
its tokenizer (BOS added, 128,256 ids, the pre-tokenizer that sets every
token count), its config (LlamaForCausalLM, GQA, llama3 RoPE scaling, three
stop ids) and its generation_config.json (vLLM applies its sampling
defaults). So the stand-in keeps all of those and replaces only the weights.

Forge runs this once, offline, inside the pinned serve-cpu venv
(`forge model prepare`). It orchestrates transformers, tokenizers, numpy
and safetensors; nothing here reimplements them:
- the tokenizer is Meta's tiktoken BPE file (tokenizer.model of the pinned
  PyPI wheel llama-models), converted by transformers' TikTokenConverter
  with Llama 3's pre-tokenizer pattern, Llama 3.1's 256 special tokens and
  a post-processor that adds <|begin_of_text|>, as Meta's tokenizer.json does;
- the weights are drawn from numpy's PCG64 generator with a fixed seed
  (normal, std 0.02, norms at 1) and stored by safetensors, so the directory
  is byte-identical wherever the pinned venv runs, and its tree sha256 is
  the catalog's revision.

usage: llama3_standin.py TOKENIZER_MODEL OUT_DIR DTYPE ARCH_JSON
ARCH_JSON: {"layers","hidden","intermediate","heads","kv_heads","head_dim",
            "vocab","tie_embeddings","max_position_embeddings"}
"""
import json
import os
import sys

# Llama 3.1's special tokens, ids 128000..128255 in this order (its
# tokenizer_config.json): the 3.2 list in llama-models differs at 128005
# and 128011, so it is written out here.
SPECIAL = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
]
SPECIAL += ["<|reserved_special_token_%d|>" % i for i in range(3, 3 + 256 - len(SPECIAL))]
PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
BOS, EOS = 128000, [128001, 128008, 128009]
SEED = 20241203


def tokenizer(tiktoken_file, out):
    from tokenizers import AddedToken, processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    conv = TikTokenConverter(vocab_file=tiktoken_file, pattern=PATTERN, extra_special_tokens=SPECIAL)
    tk = conv.converted()
    if tk.get_vocab_size() != 128000 + len(SPECIAL):
        raise SystemExit("tokenizer has %d ids, Llama 3 has 128256" % tk.get_vocab_size())
    tk.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
    tk.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
            special_tokens=[("<|begin_of_text|>", BOS)],
        ),
    ])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        model_max_length=131072,
        clean_up_tokenization_spaces=True,
        model_input_names=["input_ids", "attention_mask"],
    )
    fast.save_pretrained(out)
    ids = fast("Hello world")["input_ids"]
    if ids[0] != BOS:
        raise SystemExit("the tokenizer does not add BOS: %r" % ids)


def config(arch, dtype):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "head_dim": arch["head_dim"],
        "hidden_act": "silu",
        "hidden_size": arch["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": arch["intermediate"],
        "max_position_embeddings": arch["max_position_embeddings"],
        "mlp_bias": False,
        "num_attention_heads": arch["heads"],
        "num_hidden_layers": arch["layers"],
        "num_key_value_heads": arch["kv_heads"],
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
            "factor": 8.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3",
        },
        "rope_theta": 500000.0,
        "tie_word_embeddings": bool(arch["tie_embeddings"]),
        "torch_dtype": dtype,
        # Llama 3.1 8B Instruct's own; transformers 5 reads a config with
        # no version as an old Mistral one and warns of a wrong regex.
        "transformers_version": "4.42.3",
        "use_cache": True,
        "vocab_size": arch["vocab"],
    }


def weights(arch):
    """Tensor names and shapes of LlamaForCausalLM, in a fixed order."""
    h, i, v = arch["hidden"], arch["intermediate"], arch["vocab"]
    q, kv = arch["heads"] * arch["head_dim"], arch["kv_heads"] * arch["head_dim"]
    out = [("model.embed_tokens.weight", (v, h), "normal")]
    for n in range(arch["layers"]):
        p = "model.layers.%d." % n
        out += [
            (p + "input_layernorm.weight", (h,), "ones"),
            (p + "self_attn.q_proj.weight", (q, h), "normal"),
            (p + "self_attn.k_proj.weight", (kv, h), "normal"),
            (p + "self_attn.v_proj.weight", (kv, h), "normal"),
            (p + "self_attn.o_proj.weight", (h, q), "normal"),
            (p + "post_attention_layernorm.weight", (h,), "ones"),
            (p + "mlp.gate_proj.weight", (i, h), "normal"),
            (p + "mlp.up_proj.weight", (i, h), "normal"),
            (p + "mlp.down_proj.weight", (h, i), "normal"),
        ]
    out.append(("model.norm.weight", (h,), "ones"))
    if not arch["tie_embeddings"]:
        out.append(("lm_head.weight", (v, h), "normal"))
    return out


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    tiktoken_file, out, dtype, arch = argv[1], argv[2], argv[3], json.loads(argv[4])
    import numpy as np
    import torch
    from safetensors.torch import save_file

    os.makedirs(out, exist_ok=True)
    tokenizer(tiktoken_file, out)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config(arch, dtype), f, indent=2, sort_keys=True)
        f.write("\n")
    # Llama 3.1 8B Instruct's generation_config.json: vLLM takes its
    # sampling defaults from it unless a request overrides them.
    gen = {"bos_token_id": BOS, "do_sample": True, "eos_token_id": EOS, "temperature": 0.6, "top_p": 0.9}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2, sort_keys=True)
        f.write("\n")
    rng = np.random.Generator(np.random.PCG64(SEED))
    tensors = {}
    for name, shape, kind in weights(arch):
        a = np.ones(shape, dtype=np.float32) if kind == "ones" else (rng.standard_normal(shape) * 0.02).astype(np.float32)
        tensors[name] = torch.from_numpy(a).to(getattr(torch, dtype)).contiguous()
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
