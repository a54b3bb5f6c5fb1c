"""Wall time and peak memory of grading one submission, all grader processes together.

    python benchmarks/grading.py [SUBMISSION ...]   # default: the reference, and a loop-style solution

Runs ``rnngrade grade`` (torch at one thread in the judge and the worker) as a child process and
samples the resident memory of its whole process tree (judge, worker, anything they start) from
/proc every 10 ms; the peak of the sum is what Gradescope's memory limit sees.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root_pid: int) -> int:
    """Bytes resident in ``root_pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(statm.split()[1]) * PAGE
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def measure(submission: Path) -> tuple[float, int, int]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "rnngrade", "grade", str(submission),
                                 "--results", f"{tmp}/results.json", "--threads", "1"],
                                stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.01)
        wall = time.monotonic() - start
        score = json.loads(Path(f"{tmp}/results.json").read_text())["score"]
    return wall, peak, score


def main() -> None:
    subs = [Path(p) for p in sys.argv[1:]] or [ROOT / "examples/submissions/reference_flat.py",
                                               ROOT / "examples/submissions/solution.py"]
    print("Budget (issue 4): at most 30 s (goal 15 s) and 768 MB, one thread, all checks.\n")
    print("| submission | score | wall s | peak RSS, all processes (MB) |\n|---|---|---|---|")
    for sub in subs:
        wall, peak, score = measure(sub)
        print(f"| {sub.name} | {score:g} | {wall:.1f} | {peak / 2**20:.0f} |", flush=True)


if __name__ == "__main__":
    main()
