"""Forward + backward time of the reference LSTM and GRU against nn.LSTM / nn.GRU, side by side.

    python benchmarks/layers.py                 # T=100, B=64, I=64, H=256, one thread, CPU (+CUDA)
    python benchmarks/layers.py --threads 2 --repeats 20

Each configuration is timed alternately (ours, theirs, ours, ...) so both see the same machine
load; the ratio of medians is what to read. The target on the CPU at one thread: LSTM <= 1.5x.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference  # noqa: E402


def fwd_bwd(model: nn.Module, x: torch.Tensor, device: torch.device) -> float:
    start = time.perf_counter()
    out, _ = model(x)
    out.sum().backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def compare(name, ours, theirs, x, device, repeats) -> str:
    theirs.load_state_dict(ours.state_dict())
    for _ in range(2):  # warm-up
        fwd_bwd(ours, x, device), fwd_bwd(theirs, x, device)
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        t_ours.append(fwd_bwd(ours, x, device))
        t_theirs.append(fwd_bwd(theirs, x, device))
    a, b = statistics.median(t_ours), statistics.median(t_theirs)
    return f"| {name} | {device.type} | {a * 1e3:.1f} | {b * 1e3:.1f} | {a / b:.2f}x |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--B", type=int, default=64)
    ap.add_argument("--I", type=int, default=64)
    ap.add_argument("--H", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {args.threads} thread(s), T={args.T} B={args.B} "
          f"I={args.I} H={args.H}, forward+backward, median of {args.repeats}\n")
    print("| layer | device | ours ms | torch.nn ms | ours / torch.nn |\n|---|---|---|---|---|")
    for device in devices:
        x = torch.randn(args.T, args.B, args.I, device=device)
        for name, ours, theirs in [("LSTM", reference.LSTM, nn.LSTM),
                                   ("GRU", reference.GRU, nn.GRU)]:
            print(compare(name, ours(args.I, args.H).to(device), theirs(args.I, args.H).to(device),
                          x, device, args.repeats), flush=True)


if __name__ == "__main__":
    main()
