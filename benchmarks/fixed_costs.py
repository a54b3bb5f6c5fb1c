"""The per-grading fixed costs, each before and after its fix, side by side in one run: CPU
seconds of every process (``measure.run``, a cgroup of its own), the median of ``--repeat``.

    python benchmarks/fixed_costs.py [--repeat 5] [--out benchmarks/results/fixed_costs.md]

Each row runs the same small program both ways: what the grader did before, and what it does now.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import measure

ROOT = Path(__file__).resolve().parents[1]
QUICK_EXIT = "import os, sys; sys.stdout.flush(); os._exit(0)"
STARTS = """
import os, sys
from pathlib import Path
from autograder.sandbox import Sandbox, warm_up
warm_up()
source = Path("examples/submissions/solution.py").read_text()
for _ in range(int(sys.argv[1])):
    with Sandbox(source) as sandbox:
        assert sandbox.start().ok
"""
BACKWARD = ("import torch\nfrom autograder import training\n"
            "y = (torch.randn(3, 2, requires_grad=True) * 2).tanh()\n{}\n")
DEVICE = ("import torch\nfrom torch.utils._python_dispatch import TorchDispatchMode\n"
          "from autograder import elsewhere\n"
          "class Plain(TorchDispatchMode):  # as elsewhere._Factories was\n"
          "    def __torch_dispatch__(self, func, types, args=(), kwargs=None):\n"
          "        return func(*args, **(kwargs or {{}}))\n"
          "{}\n")
ADAM = ("import torch\nfrom torch import nn\nfrom autograder import training\n"
        "model = nn.LSTM(2, 32, batch_first=True)\n{}(list(model.parameters()), lr=1e-2)\n")


def cpu(code: str, *args: str, repeat: int, **env: str) -> float:
    runs = []
    for _ in range(repeat):
        usage = measure.run([sys.executable, "-c", code, *args], cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **env})
        if usage.returncode != 0:
            raise SystemExit(f"exit {usage.returncode}: {code[:80]}")
        runs.append(usage.cpu_s)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fixed_costs.md"))
    args = ap.parse_args()
    r = args.repeat
    rows = []

    def row(what: str, before: float, after: float, how: str) -> None:
        rows.append((what, before, after, how))
        print(f"{what}: {before:.2f} -> {after:.2f}", flush=True)

    row("the judge's imports (nbformat, jsonschema, ...)",
        cpu(f"import rfc3987_syntax, rnngrade.cli; {QUICK_EXIT}", repeat=r),
        cpu(f"import rnngrade.cli; {QUICK_EXIT}", repeat=r),
        "jsonschema's optional `rfc3987_syntax` (a grammar compiled at import) blocked")
    row("the judge's exit with torch loaded",
        cpu("import rnngrade.cli, torch", repeat=r) - cpu(f"import rnngrade.cli, torch; "
                                                         f"{QUICK_EXIT}", repeat=r),
        0.0, "`rnngrade` ends with `os._exit` once everything is written and closed")
    many, one = (cpu(STARTS, "9", repeat=r, RNNGRADE_ZYGOTE="0"),
                 cpu(STARTS, "1", repeat=r, RNNGRADE_ZYGOTE="0"))
    forked_many, forked_one = (cpu(STARTS, "9", repeat=r), cpu(STARTS, "1", repeat=r))
    row("a worker's start (each after the first; `solution.py`)", (many - one) / 8,
        (forked_many - forked_one) / 8, "forked by the warm process instead of `python -I "
        "worker.py`")
    row("Part 7's optimizer, built in the judge (its replay) and in the worker",
        cpu(ADAM.format("torch.optim.Adam") + QUICK_EXIT, repeat=r)
        - cpu(ADAM.format("(lambda params, lr: None)") + QUICK_EXIT, repeat=r),
        cpu(ADAM.format("training.Adam") + QUICK_EXIT, repeat=r)
        - cpu(ADAM.format("(lambda params, lr: None)") + QUICK_EXIT, repeat=r),
        "`training.Adam`: torch's update written out (torch's constructor imports "
        "`torch._dynamo`)")
    base = cpu(BACKWARD.format("pass") + QUICK_EXIT, repeat=r)
    row("the worker's first backward with cotangents",
        cpu(BACKWARD.format("torch.autograd.backward([y], [torch.ones_like(y)])") + QUICK_EXIT,
            repeat=r) - base,
        cpu(BACKWARD.format("training.backward([y], [torch.ones_like(y)])") + QUICK_EXIT,
            repeat=r) - base,
        "`training.backward`: one scalar's backward (autograd's check of explicit gradient "
        "tensors imports sympy)")
    base = cpu(DEVICE.format("pass") + QUICK_EXIT, repeat=r)
    row("the worker's first call on the shadow device",
        cpu(DEVICE.format("with Plain():\n    torch.zeros(2)") + QUICK_EXIT, repeat=r) - base,
        cpu(DEVICE.format("with elsewhere.Elsewhere():\n    torch.zeros(2, device='meta')")
            + QUICK_EXIT, repeat=r) - base,
        "its dispatch mode is not wrapped in `torch._dynamo.disable` (which imports dynamo)")
    try:
        otter = cpu(f"import otter; {QUICK_EXIT}", repeat=r) - cpu(QUICK_EXIT, repeat=r)
        row("a graded otter notebook's own cells in the worker (`import otter`, ...)", otter,
            0.0, "otter's cells (its init, checks, export) are not run")
    except SystemExit:
        pass  # otter not installed
    lines = ["# Fixed costs of one grading, before and after", "",
             f"{os.cpu_count()} CPUs, torch at one thread; `python benchmarks/fixed_costs.py "
             f"--repeat {r}`; CPU seconds of every process together, the median of {r} runs "
             "(a difference of two medians where a row is a part of a program; below 0.1 s, "
             "that is noise, and a negative one is shown as 0).", "",
             "| what | before CPU s | after CPU s | how |", "|---|---|---|---|"]
    lines += [f"| {w} | {max(b, 0):.2f} | {max(a, 0):.2f} | {h} |" for w, b, a, h in rows]
    lines += ["", f"In all: {sum(max(b, 0) for _, b, _, _ in rows):.2f} CPU-s before, "
              f"{sum(max(a, 0) for _, _, a, _ in rows):.2f} after (a worker's start counted "
              "once).", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
