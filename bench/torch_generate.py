"""PyTorch side of `npm run bench -- generate`: greedy decoding with PyTorch's usual KV cache (keys and
values concatenated each step, as HF GPT-2 does), in a Python loop under torch.no_grad(). Prints one JSON
line: median over runs of generated tokens/s (batch * new tokens / wall time of prefill + decode).
  python3 bench/torch_generate.py '{"vocab_size":256,"n_ctx":128,"n_embd":256,"n_layer":4,"n_head":4,"batch":8,"prompt":16,"new":64,"runs":5}'"""
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from torch_gpt import forward, init_params  # noqa: E402


@torch.no_grad()
def generate(p, prompt, n_new, cfg):
    logits, cache = forward(p, prompt, cfg)
    nxt = logits[:, -1].argmax(-1)
    out = [nxt]
    pos = prompt.shape[1]
    for _ in range(n_new - 1):
        logits, cache = forward(p, nxt[:, None], cfg, pos0=pos, past=cache)
        nxt = logits[:, -1].argmax(-1)
        out.append(nxt)
        pos += 1
    return torch.stack(out, 1)


def main():
    cfg = json.loads(sys.argv[1])
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    p = {k: v.detach() for k, v in init_params(cfg, seed=1).items()}
    B, P, N = cfg["batch"], cfg["prompt"], cfg["new"]
    prompt = torch.randint(0, cfg["vocab_size"], (B, P), generator=torch.Generator().manual_seed(0))
    generate(p, prompt, N, cfg)  # warmup
    times = []
    cpu_times = []
    for _ in range(cfg["runs"]):
        t0, c0 = time.perf_counter(), time.process_time()
        toks = generate(p, prompt, N, cfg)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    assert toks.shape == (B, N)
    med = statistics.median(times)
    print(json.dumps({
        "engine": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "run_s": med,
        "tokens_per_s": B * N / med, "cpu_tokens_per_s": B * N / statistics.median(cpu_times), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
