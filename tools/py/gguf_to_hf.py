"""Convert a GGUF checkpoint into a HuggingFace directory that vLLM serves.

Forge runs this once, offline, inside the pinned serve-cpu venv
(`forge model prepare`); it is orchestration of transformers' own GGUF
loader, not a reimplementation: transformers dequantizes the GGUF tensors and
rebuilds the tokenizer from the GGUF metadata, and save_pretrained writes
safetensors, config.json and the tokenizer files.

usage: gguf_to_hf.py GGUF_FILE OUT_DIR DTYPE
"""
import os
import sys


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    gguf, out, dtype = argv[1], argv[2], argv[3]
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    folder, name = os.path.split(os.path.abspath(gguf))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=getattr(torch, dtype)
    )
    # transformers 5 loads a GGUF file through its GGUF "quantizer", which
    # has dequantized every tensor by now, and then refuses to save a model
    # marked quantized; the weights are plain tensors of `dtype`, so the
    # mark goes and the checkpoint is saved as the unquantized model it is.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    # save_pretrained copies the tokenizer's vocab_file, which for a GGUF
    # tokenizer is the whole GGUF file (weights included), as
    # tokenizer.model; tokenizer.json already holds the tokenizer.
    extra = os.path.join(out, "tokenizer.model")
    if os.path.exists(extra):
        os.remove(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
