"""GPT-2 (HF GPT2LMHeadModel semantics) in plain PyTorch, for the benchmarks: the same shapes as
instruct3's model (pre-LN, learned positions, tanh GELU, tied head, Conv1D [in, out] weights)."""
import math

import torch
import torch.nn.functional as F


def init_params(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    C, V, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_layer"]
    n = lambda *s, std=0.02: (torch.randn(*s, generator=g) * std).requires_grad_(True)
    z = lambda *s: torch.zeros(*s).requires_grad_(True)
    o = lambda *s: torch.ones(*s).requires_grad_(True)
    rs = 0.02 / math.sqrt(2 * L)
    p = {"wte": n(V, C), "wpe": n(cfg["n_ctx"], C), "ln_f.w": o(C), "ln_f.b": z(C)}
    for i in range(L):
        p.update({
            f"{i}.ln_1.w": o(C), f"{i}.ln_1.b": z(C), f"{i}.attn.w": n(C, 3 * C), f"{i}.attn.b": z(3 * C),
            f"{i}.proj.w": n(C, C, std=rs), f"{i}.proj.b": z(C), f"{i}.ln_2.w": o(C), f"{i}.ln_2.b": z(C),
            f"{i}.fc.w": n(C, 4 * C), f"{i}.fc.b": z(4 * C), f"{i}.mproj.w": n(4 * C, C, std=rs), f"{i}.mproj.b": z(C),
        })
    return p


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def lin(x, w, b):
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).reshape(*x.shape[:-1], w.shape[-1])


def block(p, i, x, cfg, past=None):
    """One transformer block. past: (k, v) [B, H, Tpast, D] or None. Returns x and the new (k, v)."""
    B, T, C = x.shape
    H = cfg["n_head"]
    D = C // H
    a = F.layer_norm(x, (C,), p[f"{i}.ln_1.w"], p[f"{i}.ln_1.b"], 1e-5)
    q, k, v = lin(a, p[f"{i}.attn.w"], p[f"{i}.attn.b"]).split(C, dim=2)
    q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
    if past is not None:
        k = torch.cat([past[0], k], dim=2)
        v = torch.cat([past[1], v], dim=2)
    w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D)
    if T > 1:
        S = k.shape[2]
        mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        w = w.masked_fill(~mask, torch.finfo(w.dtype).min)
    y = torch.matmul(torch.softmax(w, dim=-1), v).transpose(1, 2).reshape(B, T, C)
    x = x + lin(y, p[f"{i}.proj.w"], p[f"{i}.proj.b"])
    m = F.layer_norm(x, (C,), p[f"{i}.ln_2.w"], p[f"{i}.ln_2.b"], 1e-5)
    x = x + lin(gelu_new(lin(m, p[f"{i}.fc.w"], p[f"{i}.fc.b"])), p[f"{i}.mproj.w"], p[f"{i}.mproj.b"])
    return x, (k, v)


def forward(p, idx, cfg, pos0=0, past=None):
    """idx [B, T] -> logits [B, T, V] and the per-layer KV cache."""
    T = idx.shape[1]
    x = p["wte"][idx] + p["wpe"][pos0 : pos0 + T]
    cache = []
    for i in range(cfg["n_layer"]):
        x, kv = block(p, i, x, cfg, None if past is None else past[i])
        cache.append(kv)
    x = F.layer_norm(x, (x.shape[-1],), p["ln_f.w"], p["ln_f.b"], 1e-5)
    return x @ p["wte"].t(), cache
