"""Scoring: the points of one test from its items, and the feedback that goes with them."""
from __future__ import annotations

from .spec import CaseResult, Test

MAX_HINTS, MAX_ERRORS = 2, 3  # per test's feedback: likely causes, then distinct failures


def score(test: Test, results: list[CaseResult]) -> tuple[float, str]:
    """Points for one test (its points times the fraction of its items earned), and the
    feedback: how many checks passed, the likely causes, and the first distinct failures."""
    relevant = [(r.case, it) for r in results for it in r.items
                if it.aspect == test.aspect and (not test.only or it.name in test.only)]
    if not relevant:
        return 0.0, "not checked"
    passed = sum(it.error is None for _, it in relevant)
    fraction = sum(it.earned for _, it in relevant) / len(relevant)
    lines = [f"{passed}/{len(relevant)} checks passed."]
    hints = list(dict.fromkeys(it.hint for _, it in relevant if it.error and it.hint))
    lines += [f"Likely cause: {h}." for h in hints[:MAX_HINTS]]
    seen = set()
    for case, it in relevant:
        if it.error is not None and it.error not in seen and len(seen) < MAX_ERRORS:
            seen.add(it.error)
            lines.append(f"[{case.label}] {it.error}")
    return round(test.points * fraction, 4), "\n".join(lines)
