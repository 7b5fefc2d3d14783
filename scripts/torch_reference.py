"""Step 2 of the model correctness fixture (step 1: node scripts/make-model-fixture.ts).

Reads the tiny GPT-2 weights and batch written by step 1, runs the GPT-2 forward written out in plain
PyTorch with Hugging Face GPT2LMHeadModel semantics (no transformers package needed), and writes
test/fixtures/model/tiny-torch.safetensors with:
  logits [B, T, V], logprobs [B, T] (log p(target)), loss [1] (masked mean next-token NLL),
  grad.<name> for every parameter (d loss / d param, HF names, Conv1D [in, out] layout).
Computed in float64 from the float32 weights, stored as F32.

Run (Debian's python3-torch; OpenBLAS tuning variables set for other tools must be unset):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/torch_reference.py

With --hf-gpt2 OUT_DIR it instead writes a small GPT-2 in Hugging Face's layout, as a pretrained base
model for the pipeline's tests: config.json, model.safetensors (names without the `transformer.` prefix
and with the attn.bias mask buffers, as the original gpt2 repository stores them; weights initialised
as GPT2PreTrainedModel._init_weights does) and GPT-2's own tokenizer (vocab.json + merges.txt, from
test/fixtures/tokenizer). Sizes: --n-positions 128 --n-embd 32 --n-layer 2 --n-head 2 --seed 0.
safetensors is read and written by hand (the `safetensors` package may be absent).
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "test", "fixtures", "model")


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (hlen,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + hlen])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        b, e = info["data_offsets"]
        raw = buf[8 + hlen + b : 8 + hlen + e]
        t = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(info["shape"])
        out[name] = t.clone()
    return out


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    hj = json.dumps(header, separators=(",", ":"))
    hj += " " * ((8 - (8 + len(hj)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj.encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def gelu_new(x):
    # HF NewGELUActivation ("gelu_new"): the tanh approximation.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, w, b):
    # HF Conv1D: y = x @ W + b with W stored [in, out].
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).reshape(*x.shape[:-1], w.shape[-1])


def gpt2_forward(p, idx, cfg):
    B, T = idx.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["layer_norm_epsilon"]
    wte = p["transformer.wte.weight"]
    x = wte[idx] + p["transformer.wpe.weight"][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        h = f"transformer.h.{i}"
        a = torch.nn.functional.layer_norm(x, (C,), p[f"{h}.ln_1.weight"], p[f"{h}.ln_1.bias"], eps)
        qkv = conv1d(a, p[f"{h}.attn.c_attn.weight"], p[f"{h}.attn.c_attn.bias"])
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))  # [B, H, T, D]
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D)
        # HF masks with the dtype's minimum rather than -inf
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = torch.softmax(w, dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + conv1d(y, p[f"{h}.attn.c_proj.weight"], p[f"{h}.attn.c_proj.bias"])
        m = torch.nn.functional.layer_norm(x, (C,), p[f"{h}.ln_2.weight"], p[f"{h}.ln_2.bias"], eps)
        x = x + conv1d(gelu_new(conv1d(m, p[f"{h}.mlp.c_fc.weight"], p[f"{h}.mlp.c_fc.bias"])), p[f"{h}.mlp.c_proj.weight"], p[f"{h}.mlp.c_proj.bias"])
    x = torch.nn.functional.layer_norm(x, (C,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
    return x @ wte.t()  # tied LM head


def main():
    with open(os.path.join(FIX, "tiny-inputs.json")) as f:
        fx = json.load(f)
    cfg = fx["config"]
    B, T = fx["B"], fx["T"]
    params = {k: v.to(torch.float64).requires_grad_(True) for k, v in read_safetensors(os.path.join(FIX, "tiny-params.safetensors")).items()}
    idx = torch.tensor(fx["inputs"], dtype=torch.long).reshape(B, T)
    tgt = torch.tensor(fx["targets"], dtype=torch.long).reshape(B, T)
    mask = torch.tensor(fx["mask"], dtype=torch.float64).reshape(B, T)
    logits = gpt2_forward(params, idx, cfg)
    logp = torch.log_softmax(logits, dim=-1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
    loss = -(logp * mask).sum() / mask.sum().clamp(min=1)
    loss.backward()
    out = {"logits": logits.detach(), "logprobs": logp.detach(), "loss": loss.detach().reshape(1)}
    for k, v in params.items():
        out[f"grad.{k}"] = v.grad
    path = os.path.join(FIX, "tiny-torch.safetensors")
    write_safetensors(path, out, {"torch": torch.__version__, "dtype": "computed in float64, stored as F32"})
    print(f"loss {loss.item():.6f}; wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)", file=sys.stderr)


def hf_gpt2(out_dir, n_positions, n_embd, n_layer, n_head, seed):
    import gzip
    import shutil

    torch.manual_seed(seed)
    vocab = 50257
    d = n_embd
    std = 0.02
    # residual projections are scaled by 1/sqrt(2 * n_layer), as in GPT-2 and HF's _init_weights
    proj_std = std / math.sqrt(2 * n_layer)
    t = {"wte.weight": torch.randn(vocab, d) * std, "wpe.weight": torch.randn(n_positions, d) * std}
    mask = torch.tril(torch.ones(n_positions, n_positions)).reshape(1, 1, n_positions, n_positions)
    for i in range(n_layer):
        h = f"h.{i}."
        t[h + "ln_1.weight"] = torch.ones(d)
        t[h + "ln_1.bias"] = torch.zeros(d)
        t[h + "attn.bias"] = mask
        t[h + "attn.c_attn.weight"] = torch.randn(d, 3 * d) * std
        t[h + "attn.c_attn.bias"] = torch.zeros(3 * d)
        t[h + "attn.c_proj.weight"] = torch.randn(d, d) * proj_std
        t[h + "attn.c_proj.bias"] = torch.zeros(d)
        t[h + "ln_2.weight"] = torch.ones(d)
        t[h + "ln_2.bias"] = torch.zeros(d)
        t[h + "mlp.c_fc.weight"] = torch.randn(d, 4 * d) * std
        t[h + "mlp.c_fc.bias"] = torch.zeros(4 * d)
        t[h + "mlp.c_proj.weight"] = torch.randn(4 * d, d) * proj_std
        t[h + "mlp.c_proj.bias"] = torch.zeros(d)
    t["ln_f.weight"] = torch.ones(d)
    t["ln_f.bias"] = torch.zeros(d)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), t, {"format": "pt"})
    config = {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": vocab,
        "n_positions": n_positions,
        "n_ctx": n_positions,
        "n_embd": d,
        "n_layer": n_layer,
        "n_head": n_head,
        "activation_function": "gelu_new",
        "resid_pdrop": 0.1,
        "embd_pdrop": 0.1,
        "attn_pdrop": 0.1,
        "layer_norm_epsilon": 1e-5,
        "initializer_range": std,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tok = os.path.join(HERE, "..", "test", "fixtures", "tokenizer")
    for src, dst in (("gpt2-vocab.json.gz", "vocab.json"), ("gpt2-merges.txt.gz", "merges.txt")):
        with gzip.open(os.path.join(tok, src), "rb") as fi, open(os.path.join(out_dir, dst), "wb") as fo:
            shutil.copyfileobj(fi, fo)
    print(f"wrote a GPT-2 ({n_layer} layers, d={d}, context {n_positions}) to {out_dir}", file=sys.stderr)


def args_of(argv):
    out = {}
    for i in range(0, len(argv), 2):
        out[argv[i].lstrip("-").replace("-", "_")] = argv[i + 1]
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--hf-gpt2":
        a = args_of(sys.argv[3:])
        hf_gpt2(
            sys.argv[2],
            int(a.get("n_positions", 128)),
            int(a.get("n_embd", 32)),
            int(a.get("n_layer", 2)),
            int(a.get("n_head", 2)),
            int(a.get("seed", 0)),
        )
    else:
        main()
