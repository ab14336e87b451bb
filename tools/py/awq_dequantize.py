"""Store a pack-quantized (compressed-tensors) W4 checkpoint as dense weights.

vLLM's CPU build has no kernel for compressed-tensors WNA16 layers (its
MPLinearKernel candidates are GPU-only), so the rehearsal serves the AWQ
checkpoint's weights dequantized: w = (q - zero_point) * scale per group,
exactly the values the 4-bit kernels compute with, stored in the checkpoint's
dtype without a quantization_config. Quality is the quantized model's; speed
is a dense model's.

usage: awq_dequantize.py SRC DST

Only asymmetric or symmetric group-wise integer weights (strategy "group") are
handled; anything else is refused with a message. Unpacking uses
compressed-tensors' own unpack_from_int32.
"""
import json
import os
import shutil
import sys


def fail(msg):
    sys.stderr.write(f"awq_dequantize: error: {msg}\n")
    sys.exit(2)


def main(argv):
    if len(argv) != 2:
        fail("usage: awq_dequantize.py SRC DST")
    src, dst = argv
    cfg_path = os.path.join(src, "config.json")
    if not os.path.isfile(cfg_path):
        fail(f"{src}: no config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    qc = cfg.get("quantization_config") or {}
    if qc.get("quant_method") != "compressed-tensors" or qc.get("format") != "pack-quantized":
        fail(f"{src}: not a pack-quantized compressed-tensors checkpoint (quant_method {qc.get('quant_method')!r}, format {qc.get('format')!r})")
    groups = qc.get("config_groups") or {}
    if len(groups) != 1:
        fail(f"{src}: {len(groups)} config groups; one is handled")
    w = next(iter(groups.values()))["weights"]
    if w.get("type") != "int" or w.get("strategy") != "group":
        fail(f"{src}: weights {w}; group-wise int weights are handled")
    bits, group = int(w["num_bits"]), int(w["group_size"])

    import torch
    from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
    from safetensors.torch import load_file, save_file

    names = sorted(n for n in os.listdir(src) if n.endswith(".safetensors"))
    if not names:
        fail(f"{src}: no .safetensors files")
    os.makedirs(dst, exist_ok=True)
    layers = 0
    for name in names:
        sd = load_file(os.path.join(src, name))
        prefixes = sorted(k[: -len(".weight_packed")] for k in sd if k.endswith(".weight_packed"))
        out = {k: v for k, v in sd.items() if not any(k.startswith(p + ".weight_") for p in prefixes)}
        for p in prefixes:
            shape = torch.Size(int(x) for x in sd[p + ".weight_shape"].tolist())
            scale = sd[p + ".weight_scale"]
            q = unpack_from_int32(sd[p + ".weight_packed"], bits, shape, packed_dim=1).float()
            zp_key = p + ".weight_zero_point"
            if zp_key in sd:
                zp = unpack_from_int32(sd[zp_key], bits, scale.shape, packed_dim=0).float()
            else:
                zp = torch.zeros(scale.shape)
            rows, cols = shape
            if cols % group:
                fail(f"{p}: {cols} columns are not a multiple of group_size {group}")
            wd = (q.reshape(rows, cols // group, group) - zp.unsqueeze(-1)) * scale.float().unsqueeze(-1)
            out[p + ".weight"] = wd.reshape(rows, cols).to(scale.dtype).contiguous()
            layers += 1
        save_file(out, os.path.join(dst, name), metadata={"format": "pt"})
    for f in sorted(os.listdir(src)):
        if f.endswith(".safetensors") or f in ("config.json", "recipe.yaml"):
            continue
        if os.path.isfile(os.path.join(src, f)):
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
    del cfg["quantization_config"]
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps({"dequantized_layers": layers, "bits": bits, "group_size": group}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
