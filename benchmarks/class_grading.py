"""A class graded side by side: one process per submission (before), the warm pool on 1 and 2
workers (after); the per-submission fixed cost; peak memory in a 768 MB cgroup.

    python benchmarks/class_grading.py [--n 8] [--speedup] [--seed S] [--out benchmarks/results/class_grading.md]

The class is ``n`` copies of ``examples/submissions/solution.py`` (each its own student). Every
figure is measured in this one run, on this machine:

- **before**: ``rnngrade grade FILE`` once per submission, one after another (a fresh
  interpreter, torch import and judge start for each, as a shell loop over the class does);
- **after, 1 / 2 workers**: ``rnngrade grade CLASS --out OUT --jobs 1 / 2`` (forkserver judge
  processes that imported torch once), each sandboxed worker forked by the warm process
  (``autograder/spawner.py``) and, on 1 worker, started from scratch (``RNNGRADE_ZYGOTE=0``);
- CPU seconds: every process of a run together (its own cgroup, ``measure.py``);
- **fixed cost**: the same three with ``--only 1`` (Part 1 only: almost all of it is the
  per-submission start). The "after" runs include writing the reports (similarity, class
  report, feedback pages) at the end, as a TA's run does.
- **memory**: one grading of ``solution.py`` inside a cgroup (v1 or v2) limited to 768 MB:
  the cgroup's own peak (``memory.max_usage_in_bytes`` / ``memory.peak``), all processes
  together and shared pages counted once, and whether it finished. Needs root and a memory
  controller; skipped otherwise.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import measure

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "examples" / "submissions" / "solution.py"
CLI = [sys.executable, "-m", "rnngrade", "grade"]


def timed(cmd: list[str], **env: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``cmd`` (every process of it: ``measure.run``)."""
    usage = measure.run(cmd, env={**os.environ, **env}, cwd=ROOT)
    if usage.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {usage.returncode}")
    return usage.wall_s, usage.cpu_s


def make_class(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    return [Path(shutil.copy(SOLUTION, folder / f"student{i:03d}.py")) for i in range(n)]


def side_by_side(n: int, only: str, tmp: Path, speedup: bool = False, seed: int | None = None
                 ) -> dict[str, tuple[float, float]]:
    """``speedup``: only the pool of 1 and of 2 workers. ``seed``: every grading on the cases
    of that seed (the same work in every run and for every student); None: a fresh seed each,
    as a TA's run draws them."""
    files = make_class(tmp / f"class{only or 'all'}", n)
    extra = (["--only", only] if only else []) + ([] if seed is None else ["--seed", str(seed)])
    rows = {}
    if not speedup:
        loop = [timed(CLI + [str(f), "--quiet"] + extra) for f in files]
        rows["before: one process per submission"] = (sum(w for w, _ in loop),
                                                      sum(c for _, c in loop))
    runs = [(1, "0", "workers started from scratch")] * (not speedup) + [
        (1, "1", "workers forked"), (2, "1", "workers forked")]
    for jobs, zygote, how in runs:
        out = tmp / f"out{only or 'all'}{jobs}{zygote}"
        rows[f"after: the pool, {jobs} worker{'s' if jobs > 1 else ''}, {how}"] = timed(
            CLI + [str(files[0].parent), "--out", str(out), "--jobs", str(jobs)] + extra,
            RNNGRADE_ZYGOTE=zygote)
    return rows


def cgroup_peak(limit: int = 768 << 20) -> str:
    """Peak memory of one grading in a fresh memory cgroup limited to ``limit``."""
    usage = measure.run([*CLI, str(SOLUTION), "--quiet"], cwd=ROOT, memory_limit=limit)
    if usage.peak_bytes is None:
        return f"not measured ({usage.how}: needs root and a memory controller)"
    ok = usage.returncode == 0 and "100.00 / 100" in usage.stdout
    return (f"{usage.peak_bytes / 2**20:.0f} MiB peak in a {limit >> 20} MB cgroup "
            f"({'graded 100/100' if ok else 'FAILED: ' + usage.stdout[-200:]})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "class_grading.md"))
    ap.add_argument("--speedup", action="store_true",
                    help="only the whole grading on the pool of 1 and of 2 workers")
    ap.add_argument("--seed", type=int, default=None,
                    help="grade every submission on this seed's cases: every run does the "
                         "same work (default: a fresh seed per grading)")
    args = ap.parse_args()
    seeding = "a fresh seed per grading" if args.seed is None else \
        f"every grading on seed {args.seed}'s cases"
    lines = [f"# Grading a class of {args.n} (copies of solution.py), measured side by side",
             "", f"{os.cpu_count()} CPUs; `python benchmarks/class_grading.py --n {args.n}"
             f"{' --speedup' if args.speedup else ''}"
             f"{'' if args.seed is None else f' --seed {args.seed}'}`; {seeding}.", ""]
    with tempfile.TemporaryDirectory(prefix="rnngrade-bench-") as tmp:
        sections = (("", "whole grading (Parts 1-7)"), ("1", "fixed cost (`--only 1`)"))
        for only, title in sections[:1] if args.speedup else sections:
            rows = side_by_side(args.n, only, Path(tmp), args.speedup, args.seed)
            base_wall = rows["after: the pool, 1 worker, workers forked"][0]
            before_wall = rows.get("before: one process per submission", (base_wall,))[0]
            lines += [f"## {title}", "", "| how | wall s | per submission s | CPU s per "
                      "submission | speed-up over 1 worker | over one process each |",
                      "|---|---|---|---|---|---|"]
            for name, (wall, cpu) in rows.items():
                lines.append(f"| {name} | {wall:.1f} | {wall / args.n:.2f} | {cpu / args.n:.2f} "
                             f"| {base_wall / wall:.2f}x | {before_wall / wall:.2f}x |")
            lines.append("")
            print("\n".join(lines[-len(rows) - 4:]), flush=True)
    if not args.speedup:
        lines += ["## memory", "", cgroup_peak(), ""]
        print(lines[-2])
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
