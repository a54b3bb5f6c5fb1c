"""CPU and memory of grading one filled notebook: ``otter run`` against ``rnngrade grade``,
side by side in one run, every process of each counted (its own cgroup).

    python benchmarks/versus_otter.py [--n 4] [--seed 1] [--out benchmarks/results/versus_otter.md]

The notebook is the homework's student notebook filled with the solutions (``authoring``'s
build, in a temporary folder); otter's autograder zip comes from the same ``otter assign`` run
(the one setting changed is ``generate: true``). Rows:

- ``otter run``: otter's non-containerized grader, public tests only (94 points); it executes
  the whole notebook in-process, the experiments included, at full length and, as
  ``nbgrader_config.py`` runs them, short (``RNNGRADE_FAST=1``);
- ``rnngrade grade NOTEBOOK``: one command per notebook, the sandbox and the hidden tests of all
  seven parts (100 points, Part 7's training included), workers started from scratch
  (``RNNGRADE_ZYGOTE=0``) and forked by the warm process;
- the class pool: ``n`` copies graded with ``--out --jobs 1`` (the reports included), per
  notebook, workers from scratch and forked;
- before: ``rnngrade grade NOTEBOOK`` as of ``--before`` (a git worktree of that commit).

The hidden cases come from one ``--seed`` in every rnngrade row, so Part 7 trains the same
number of steps in each. Torch at one thread everywhere.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

import measure

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def build(tmp: Path) -> tuple[Path, Path]:
    """The filled notebook and otter's autograder zip."""
    from authoring.build import read_master, run_otter_assign
    from authoring.cells import fill, solutions

    master = read_master(ROOT / "assignments" / "rnn_lstm")
    for cell in master.cells:
        if "# ASSIGNMENT CONFIG" in cell.source:
            cell.source = cell.source.replace("generate: false", "generate: true")
    work = tmp / "assign"
    work.mkdir()
    student = nbformat.read(run_otter_assign(master, "rnn_lstm", work), as_version=4)
    filled = tmp / "rnn_lstm.ipynb"
    nbformat.write(fill(student, solutions(master)), filled)
    (zipped,) = (work / "otter" / "autograder").glob("*.zip")
    return filled, zipped


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--before", default="3a1a81d", help="a commit of this repository to "
                    "grade with too, as 'before' (default: the grader before issue 15; '' for none)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each row but the longest, the median kept (a shared machine's "
                         "CPU seconds vary by 20%% from run to run)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "versus_otter.md"))
    args = ap.parse_args()
    env = {**os.environ, **ONE_THREAD}
    rows: list[tuple[str, measure.Usage, int, float]] = []  # title, median run, per, least CPU
    with tempfile.TemporaryDirectory(prefix="rnngrade-otter-") as name:
        tmp = Path(name)
        filled, zipped = build(tmp)
        otter = [sys.executable, "-m", "otter", "run", "-a", str(zipped), "-o", str(tmp),
                 "--no-logo", str(filled)]
        grade = [sys.executable, "-m", "rnngrade", "grade", "--threads", "1",
                 "--seed", str(args.seed)]
        cases = [
            ("`otter run`, the notebook's experiments at full length", otter, {}, 1, ROOT),
            ("`otter run`, the experiments short (`RNNGRADE_FAST=1`)", otter,
             {"RNNGRADE_FAST": "1"}, 1, ROOT),
        ]
        if args.before:  # the grader as it was, from a worktree of that commit
            old = tmp / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", "--detach",
                            str(old), args.before], check=True, capture_output=True)
            cases.append((f"`rnngrade grade NOTEBOOK` as of {args.before} (before)",
                          grade + [str(filled), "--results", str(tmp / "0.json")], {}, 1, old))
        cases += [
            ("`rnngrade grade NOTEBOOK`, workers from scratch",
             grade + [str(filled), "--results", str(tmp / "a.json")], {"RNNGRADE_ZYGOTE": "0"},
             1, ROOT),
            ("`rnngrade grade NOTEBOOK`, workers forked by the warm process",
             grade + [str(filled), "--results", str(tmp / "b.json")], {}, 1, ROOT),
        ]
        klass = tmp / "class"
        klass.mkdir()
        for i in range(args.n):
            shutil.copy(filled, klass / f"student{i:02d}.ipynb")
        for zygote in ("0", "1"):
            cases.append((f"the class pool, {args.n} notebooks, `--jobs 1`, per notebook, "
                          f"workers {'forked' if zygote == '1' else 'from scratch'}",
                          grade + [str(klass), "--out", str(tmp / f"out{zygote}"), "--jobs", "1"],
                          {"RNNGRADE_ZYGOTE": zygote}, args.n, ROOT))
        runs: dict[str, list[measure.Usage]] = {title: [] for title, *_ in cases}
        for rep in range(args.repeat):  # interleaved: a shared machine's speed drifts
            for title, cmd, extra, per, cwd in cases:
                if rep and "full length" in title or rep >= 3 and "class pool" in title:
                    continue  # the longest rows: one run, and three
                if "--out" in cmd:  # a fresh class folder each time, or the rerun resumes
                    shutil.rmtree(cmd[cmd.index("--out") + 1], ignore_errors=True)
                usage = measure.run(cmd, env={**env, **extra}, cwd=cwd)
                if usage.returncode != 0:
                    raise SystemExit(f"{title}: exit {usage.returncode}\n{usage.stdout[-2000:]}")
                runs[title].append(usage)
                print(f"{title}: {usage.cpu_s / per:.1f} CPU-s, {usage.wall_s / per:.1f} s",
                      flush=True)
        if args.before:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tmp / "before")], capture_output=True)
        for title, _, _, per, _ in cases:
            ordered = sorted(runs[title], key=lambda u: u.cpu_s)
            rows.append((title, ordered[len(ordered) // 2], per, ordered[0].cpu_s))
    otter_fast = rows[1][1].cpu_s
    lines = ["# One filled notebook: `otter run` against `rnngrade grade`", "",
             f"{os.cpu_count()} CPUs, torch at one thread; `python benchmarks/versus_otter.py "
             f"--n {args.n} --seed {args.seed} --repeat {args.repeat}`; CPU and memory from "
             f"{rows[0][1].how}, every process together; each row the median of {args.repeat} "
             "runs, interleaved (the full-length one: one run).", "",
             "| how | tests | CPU s (median) | least CPU s | wall s | peak MiB | "
             "CPU / otter's (short) |", "|---|---|---|---|---|---|---|"]
    for title, usage, per, least in rows:
        tests = "public, 94 points" if "otter" in title else "hidden, 100 points (sandboxed)"
        peak = usage.peak_mib if per == 1 else "-"
        lines.append(f"| {title} | {tests} | {usage.cpu_s / per:.1f} | {least / per:.1f} | "
                     f"{usage.wall_s / per:.1f} | {peak} | {usage.cpu_s / per / otter_fast:.2f}x |")
    lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
