"""PyTorch side of `npm run bench -- gemm`: GFLOP/s of torch.matmul (OpenBLAS) on the shapes given, with
the same layouts (transposes are views, as OpenBLAS takes them natively). Prints one JSON line.
  python3 bench/torch_gemm.py '{"threads":1,"shapes":[{"name":"x","layout":"nn","batch":1,"m":1024,"k":256,"n":768}]}'"""
import json
import statistics
import sys
import time

import torch


def time_shape(fn, target_s=0.04, groups=5):
    """Median seconds per call by wall clock, and by this process's CPU time (all its threads)."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    reps = max(1, round(target_s / once))
    times, cpu = [], []
    for _ in range(groups):
        t, c = time.perf_counter(), time.process_time()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps)
        cpu.append((time.process_time() - c) / reps)
    return statistics.median(times), statistics.median(cpu)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    out = []
    for s in spec["shapes"]:
        lead = [s["batch"]] if s["batch"] > 1 else []
        m, k, n, layout = s["m"], s["k"], s["n"], s["layout"]
        a = torch.randn(*lead, k, m) if layout == "tn" else torch.randn(*lead, m, k)
        b = torch.randn(*lead, n, k) if layout == "nt" else torch.randn(*lead, k, n)
        at = a.transpose(-1, -2) if layout == "tn" else a
        bt = b.transpose(-1, -2) if layout == "nt" else b
        with torch.no_grad():
            sec, cpu = time_shape(lambda: torch.matmul(at, bt))
        flop = 2 * s["batch"] * m * k * n
        out.append({"name": s["name"], "ms": sec * 1000, "gflops": flop / sec / 1e9, "cpu_gflops": flop / max(cpu, 1e-9) / 1e9})
    print(json.dumps({"threads": spec["threads"], "results": out}))


main()
