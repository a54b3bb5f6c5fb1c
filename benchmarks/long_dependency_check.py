"""Part 7's check, through the real sandboxed worker, over many seeds: does a correct LSTM always
pass, and does a vanilla RNN passed off as one always fail?

    python benchmarks/long_dependency_check.py [--seeds 20] [SUBMISSION ...]

The grader uses one seed (homework.rnn_lstm.HIDDEN_SEED); this shows the margin around it. Prints
per submission: passes, credit, median and worst steps, worst held-out MSE, median seconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from autograder.evaluation import evaluate  # noqa: E402
from autograder.sandbox import Sandbox  # noqa: E402
from autograder.submission import build_module  # noqa: E402
from homework.rnn_lstm import HIDDEN_SEED, HOMEWORK, suites_long  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT / "examples/submissions/solution.py", ROOT / "examples/submissions/reference_flat.py",
           ROOT / "tests/fixtures/long/rnn_as_lstm.py"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--forget-bias", default=str(suites_long.FORGET_BIAS),
                    help="the judge's initial forget-gate bias ('none': PyTorch's initialisation)")
    ap.add_argument("submissions", nargs="*", type=Path)
    args = ap.parse_args()
    seeds = [HIDDEN_SEED] + list(range(args.seeds))
    suites_long.FORGET_BIAS = None if args.forget_bias.lower() == "none" else \
        float(args.forget_bias)
    print(f"seeds: the grader's ({HIDDEN_SEED}) and 0..{args.seeds - 1}; one thread; initial "
          f"forget-gate bias {suites_long.FORGET_BIAS or 'as PyTorch initialises it'}\n")
    print("| submission | full credit | mean credit | median steps | worst steps | worst MSE "
          "| median s |\n|---|---|---|---|---|---|---|")
    for sub in args.submissions or DEFAULT:
        with tempfile.TemporaryDirectory() as tmp:
            source = build_module(sub, Path(tmp)).source
        credits, steps, mses, secs = [], [], [], []
        with Sandbox(source, hidden=HOMEWORK.hidden) as sb:
            for seed in seeds:
                (suite,) = suites_long.suites(seed)
                (case,) = suite.cases
                t0 = time.monotonic()
                reply = sb.request(case.request, case.tensors, 600)
                secs.append(time.monotonic() - t0)
                (item,) = evaluate(case, reply)
                credits.append(item.earned)
                steps.append(reply.steps or 0)
                mse, _ = suites_long.held_out_mse(reply.tensors, *case.judge.args[:2]) if reply.ok \
                    else (float("nan"), None)
                mses.append(mse)
        print(f"| {sub.name} | {sum(c == 1 for c in credits)}/{len(seeds)} "
              f"| {statistics.mean(credits):.2f} | {statistics.median(steps):.0f} | {max(steps)} "
              f"| {max(mses):.4f} | {statistics.median(secs):.1f} |", flush=True)


if __name__ == "__main__":
    main()
