"""Calibrate Part 7: which models learn the long-range tasks, in how many steps, on one CPU thread.

    python benchmarks/long_dependency.py                  # the full sweep (about 15 min)
    python benchmarks/long_dependency.py --seeds 3 --quick

Prints one markdown table (seeds, successes, median and worst steps, median seconds) per task,
and writes it to ``--out`` (default benchmarks/results/long_dependency.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.tasks import ADDING, TrainConfig, latch, make_model, train  # noqa: E402

# (task, seq_len, model kind, step budget): the rows of HOMEWORK.md Part 7.
SWEEP = [
    (ADDING, 50, "nn.lstm", 1500),
    (ADDING, 50, "lstm", 1500),
    (ADDING, 50, "rnn", 5000),
    (latch("fixed"), 100, "nn.lstm", 1500),
    (latch("fixed"), 100, "rnn", 1500),
    (latch("random"), 100, "nn.lstm", 1500),
    (latch("random"), 100, "rnn", 1500),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="step budgets divided by 5")
    ap.add_argument("--only", default="", help="substring filter on 'task/model'")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "long_dependency.md"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    lines = [f"torch {torch.__version__}, one CPU thread, {args.seeds} seeds per row; "
             "success = held-out metric below target (adding: MSE < 0.01; latch: error < 5%)", "",
             "| task | T | model | budget | successes | median steps | worst steps (successes) "
             "| median s | worst held-out metric |", "|" + "---|" * 9]
    print("\n".join(lines), flush=True)
    for task, T, kind, budget in SWEEP:
        if args.only not in f"{task.name}/{kind}":
            continue
        budget = budget // 5 if args.quick else budget
        cfg = dataclasses.replace(TrainConfig(), seq_len=T, max_steps=budget)
        runs = [train(make_model(kind, task, cfg, seed), task, cfg, seed=seed)
                for seed in range(args.seeds)]
        ok = [r for r in runs if r.success]
        row = (f"| {task.name} | {T} | {kind} | {budget} | {len(ok)}/{len(runs)} "
               f"| {statistics.median(r.steps for r in runs):.0f} "
               f"| {max((r.steps for r in ok), default=0)} "
               f"| {statistics.median(r.seconds for r in runs):.1f} "
               f"| {max(r.test_metric for r in runs):.4f} |")
        lines.append(row)
        print(row, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
