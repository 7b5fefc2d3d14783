"""PyTorch side of `npm run bench -- train`: trains the same GPT-2 shapes on random tokens (AdamW with
decay on 2-D tensors, global-norm clip 1.0, as instruct3) and prints one JSON line with the median
step time of the steps after warmup, tokens/s and peak RSS.
  python3 bench/torch_train.py '{"vocab_size":256,"n_ctx":64,"n_embd":256,"n_layer":4,"n_head":4,"batch":16,"steps":8,"warmup":2,"threads":2}'"""
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_gpt import forward, init_params  # noqa: E402


def main():
    cfg = json.loads(sys.argv[1])
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    p = init_params(cfg)
    decay = [t for t in p.values() if t.dim() >= 2]
    rest = [t for t in p.values() if t.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    B, T, V = cfg["batch"], cfg["n_ctx"], cfg["vocab_size"]
    times = []
    losses = []
    for s in range(cfg["steps"]):
        seq = torch.randint(0, V, (B, T + 1))
        t0 = time.perf_counter()
        logits, _ = forward(p, seq[:, :-1], cfg)
        loss = F.cross_entropy(logits.reshape(-1, V), seq[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
        opt.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    med = statistics.median(times[cfg["warmup"]:])
    print(json.dumps({
        "engine": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "step_s": med, "tokens_per_s": B * T / med, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "losses": losses,
    }))


if __name__ == "__main__":
    main()
