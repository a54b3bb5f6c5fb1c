"""The figures the README states for grading validity, measured on the bundled variants:

- false fails: correct styles (``tests/fixtures/styles``) that lose any point;
- undetected: single-bug mutants (``tests/fixtures/mutants`` and ``tests/fixtures/mistakes``)
  that lose no point;
- crashes: gradings with a grader error (the staff-only test);
- for every failed test of a mutant: a named cause (a "Likely cause", or "fix Part N first"
  naming the earlier part it uses), else an exact location (output, time step, index, layer,
  direction, gate block, the failing line, the shapes), else neither.

    python benchmarks/feedback_figures.py      # Parts 1-6, about 3 minutes on one core
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograder.judge import Budget, grade  # noqa: E402
from homework.rnn_lstm import HOMEWORK  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LOCATION = re.compile(r"at index|at step|expected shape|line \d+ of|layer \d|half|gate \w \(|"
                      r"uses your|not defined|expected \d|expected a tensor|expected the return|"
                      r"shapes are wrong")


def tests_of(path: Path, suites):
    return grade(path, HOMEWORK, Budget(), suites, seed=None).tests


def main() -> None:
    suites = [s for s in HOMEWORK.suites(HOMEWORK.seed) if s.part != 7]
    styles = sorted((FIXTURES / "styles").glob("*.py"))
    mutants = sorted((FIXTURES / "mutants").glob("*.py")) + sorted((FIXTURES / "mistakes").glob("*.py"))
    false_fails, undetected, crashes = [], [], []
    named = located = neither = 0
    unexplained, located_only = [], []
    for path in styles + mutants:
        tests = tests_of(path, suites)
        if any(t.name.startswith("Grader errors") for t in tests):
            crashes.append(path.name)
        lost = [t for t in tests if t.score < t.max_score]
        if path in styles:
            false_fails += [path.name] if lost else []
            continue
        if not lost:
            undetected.append(path.name)
        for t in lost:
            if re.search(r"Likely cause:|uses your \w+, which fails|already fails test|"
                         r"\(a size-1 dimension|\(an extra size-1|\(one \w+ (short|too many)|"
                         r"\(the same sizes in another order", t.output):
                named += 1
            elif LOCATION.search(t.output):
                located += 1
                located_only.append(f"{path.name} {t.number}")
            else:
                neither += 1
                unexplained.append(f"{path.name} {t.number}: {t.output[:160]!r}")
    failed = named + located + neither
    print(f"correct styles:   {len(styles)}; false fails: {len(false_fails)} {false_fails}")
    print(f"single-bug files: {len(mutants)}; undetected: {len(undetected)} {undetected}")
    print(f"crashes (grader errors): {len(crashes)} {crashes}")
    print(f"failed tests: {failed}; named cause: {named} ({100 * named / max(failed, 1):.0f}%); "
          f"located only: {located}; neither: {neither}")
    for line in unexplained:
        print("  neither:", line)
    if "-v" in sys.argv:
        print("  located only:", ", ".join(located_only))


if __name__ == "__main__":
    main()
