"""The judge: grades one submission. It never imports or executes student code.

    module source (static, submission.py) -> forbidden scan (forbidden.py)
    -> for each suite: requests to the sandboxed worker (sandbox.py) -> items (checks.py)
    -> scores -> GradeReport (results.py), built after every worker is dead.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import forbidden, suites_long, suites_lstm, suites_rnn
from .checks import Case, Suite, Test, error_message, evaluate, failed_items, score
from .results import GradeReport, TestResult
from .sandbox import Sandbox, WorkerFailed
from .submission import SubmissionError, build_module

HIDDEN_SEED = 522  # the hidden cases are the same on every run, and differ from the public ones


@dataclass(frozen=True)
class Budget:
    """Time limits, so a slow submission still gets the parts that finished."""

    request_s: float = 60.0  # one request (one case) in the worker
    total_s: float = 600.0  # the whole submission, kept well inside Gradescope's timeout
    threads: int = 1  # torch threads in the worker


def all_suites(seed: int = HIDDEN_SEED) -> list[Suite]:
    return suites_rnn.suites(seed) + suites_lstm.suites(seed) + suites_long.suites(seed)


def _numbered(suites: list[Suite]) -> list[tuple[Suite, Test, str]]:
    """(suite, test, "part.n"), numbered within each part in suite order, listed by number."""
    counters: dict[int, int] = {}
    rows = []
    for suite in suites:
        for test in suite.tests:
            counters[suite.part] = counters.get(suite.part, 0) + 1
            rows.append((suite, test, (suite.part, counters[suite.part])))
    return [(s, t, f"{p}.{n}") for s, t, (p, n) in sorted(rows, key=lambda r: r[2])]


def _all_items_fail(cases: list[Case], message: str) -> list:
    return [(case, failed_items(case, message)) for case in cases]


def run_suites(sandbox: Sandbox | None, suites: list[Suite], blocked: dict[str, str],
               budget: Budget, deadline: float) -> dict[int, list]:
    """Each suite's (case, items); ``blocked`` maps a target to why it is not run at all."""
    results: dict[int, list] = {}
    for suite in suites:
        if suite.target in blocked:
            results[id(suite)] = _all_items_fail(suite.cases, blocked[suite.target])
            continue
        out = []
        for case in suite.cases:
            if time.monotonic() > deadline:
                out += _all_items_fail([case], "not run: the time budget for grading ran out (your "
                                                "code is too slow in an earlier part?)")
                continue
            try:
                limit = case.request.get("timeout", budget.request_s)
                reply, tensors = sandbox.request(
                    case.request, case.tensors, min(limit, deadline - time.monotonic()))
            except WorkerFailed as e:
                reply, tensors = {"ok": False, "error": {"type": "WorkerFailed",
                                                          "message": e.reason}}, {}
                if e.timed_out:  # don't spend the budget on the same loop again
                    out.append((case, evaluate(case, reply, tensors)))
                    out += _all_items_fail(suite.cases[suite.cases.index(case) + 1:], e.reason)
                    break
            out.append((case, evaluate(case, reply, tensors)))
        results[id(suite)] = out
    return results


def grade(path: Path, budget: Budget = Budget(), suites: list[Suite] | None = None) -> GradeReport:
    """Grade one submission file, folder or zip. Exceptions of the grader itself propagate
    (the CLI turns them into a failsafe results.json)."""
    start = time.monotonic()
    deadline = start + budget.total_s
    torch.set_num_threads(budget.threads)  # Gradescope's host may show many cores for 0.5 vCPU
    suites = all_suites() if suites is None else suites
    blocked: dict[str, str] = {}
    notes: list[str] = []
    isolation, student_output = "", ""
    with tempfile.TemporaryDirectory(prefix="rnngrade-submission-") as tmp:
        try:
            module = build_module(path, Path(tmp))
        except SubmissionError as e:
            module = None
            blocked = {s.target: str(e) for s in suites}
            notes.append(str(e))
    if module is not None:
        notes += module.notes
        autograd_free = {s.target for s in suites if s.forbid_autograd}
        for name, v in forbidden.violations_by_name(module.source, autograd_free).items():
            rule = ("autograd (Part 2 asks for BPTT by hand)" if v.rule == "autograd"
                    else "PyTorch's recurrent layers")
            blocked[name] = (f"`{name}` uses {v.what} (line {v.line} of the graded code), which is "
                             f"forbidden here: {rule}. Write it with tensor operations; this part "
                             "scores zero until then")
        with Sandbox(module.source, threads=budget.threads) as sandbox:
            hello = sandbox.start()
            if not hello.get("ok"):
                err = error_message(hello.get("error", {}))
                notes.append(f"Importing your code failed: {err}")
                if hello.get("crashed"):
                    blocked.update({s.target: err for s in suites if s.target not in blocked})
            names = set(hello.get("names", [])) if hello.get("ok") else None
            for s in suites:
                if names is not None and s.target not in names and s.target not in blocked:
                    blocked[s.target] = f"`{s.target}` is not defined in your submission"
            results = run_suites(sandbox, suites, blocked, budget, deadline)
            isolation = sandbox.isolation.describe()
        student_output = sandbox.final_output  # taken once every worker was dead
    else:
        results = run_suites(None, suites, blocked, budget, deadline)
    tests = []
    for suite, test, number in _numbered(suites):
        points, feedback = score(test, results[id(suite)])
        tests.append(TestResult(test.name, number, points, test.points, feedback,
                                [suite.target, f"Part {suite.part}"], test.visibility))
    output = "\n".join(notes)
    if student_output.strip():
        output += ("\n\n" if output else "") + "Your code printed (truncated):\n" + student_output
    if isolation:
        output += ("\n\n" if output else "") + f"Graded in a {isolation}."
    return GradeReport(path.name, tests, time.monotonic() - start, output.strip(), isolation)
