"""The judge: grades one submission against one homework. It never imports or executes student
code.

    module source (static, submission.py) -> forbidden scan (forbidden.py)
    -> for each suite: requests to the sandboxed worker (sandbox.py) -> items (evaluation.py)
    -> scores (scoring.py) -> GradeReport (results.py), built after every worker is dead.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from . import forbidden
from .evaluation import error_message, evaluate, failed_items
from .protocol import ErrorKind, Reply
from .results import GradeReport, TestResult
from .sandbox import Sandbox
from .scoring import score
from .spec import CaseResult, Homework, Suite, SuiteResult, numbered
from .submission import SubmissionError, build_module

OUT_OF_TIME = "not run: the time budget for grading ran out (your code is too slow in an earlier part?)"


@dataclass(frozen=True)
class Budget:
    """Time limits, so a slow submission still gets the parts that finished."""

    request_s: float = 60.0  # one request (one case) in the worker
    total_s: float = 600.0  # the whole submission, kept well inside Gradescope's timeout
    threads: int = 1  # torch threads in the worker


class Requester(Protocol):
    """What ``run_suites`` needs of a sandbox (a fake one in the tests)."""

    def request(self, request, tensors: dict, timeout: float) -> Reply: ...


def run_suites(sandbox: Requester | None, suites: list[Suite], blocked: dict[str, str],
               budget: Budget, deadline: float) -> list[SuiteResult]:
    """Each suite's results, in order; ``blocked`` maps a target to why it is not run at all."""
    results = []
    for suite in suites:
        if suite.target in blocked:
            results.append(SuiteResult(suite, [CaseResult(c, failed_items(c, blocked[suite.target]))
                                               for c in suite.cases]))
            continue
        out: list[CaseResult] = []
        for i, case in enumerate(suite.cases):
            if time.monotonic() > deadline:
                out.append(CaseResult(case, failed_items(case, OUT_OF_TIME)))
                continue
            limit = case.timeout_s or budget.request_s
            reply = sandbox.request(case.request, case.tensors,
                                    min(limit, deadline - time.monotonic()))
            out.append(CaseResult(case, evaluate(case, reply)))
            if not reply.ok and reply.error is not None and reply.error.kind == ErrorKind.TIMEOUT:
                # don't spend the budget on the same loop again
                out += [CaseResult(c, failed_items(c, reply.error.message))
                        for c in suite.cases[i + 1:]]
                break
        results.append(SuiteResult(suite, out))
    return results


RULES = {  # why each rule exists, and what to do, for the student
    "recurrent": ("forbidden here: PyTorch's recurrent layers", "Write it with tensor operations"),
    "autograd": ("forbidden here: autograd (Part 2 asks for BPTT by hand)",
                 "Compute the gradients with the BPTT formulas"),
    "restricted": ("not allowed in graded code, which the grader must be able to read "
                   "statically", "Instead: {instead}"),
}


def forbidden_parts(source: str, suites: list[Suite], where=None) -> dict[str, str]:
    """Target -> why it scores zero: it uses what its part forbids, or code that runs at import
    does something graded code may not (then every target). ``where(line)`` says where a line of
    the graded module is in the student's own files."""
    autograd_free = {s.target for s in suites if s.forbid_autograd}
    found = forbidden.violations_by_name(source, autograd_free)
    blocked = {}
    for name in {s.target for s in suites}:
        v = found.get(name) or found.get(forbidden.MODULE)
        if v is None:
            continue
        why, todo = RULES[v.rule]
        place = where(v.line) if where else f"line {v.line} of the graded code"
        who = (f"`{name}` uses" if v.name == name else
               "code that runs when your module is imported uses")
        blocked[name] = (f"{who} {v.what} ({place}), which is {why}. "
                         f"{todo.format(instead=v.instead)}; this part scores zero until then")
    return blocked


def report(name: str, results: list[SuiteResult], elapsed: float, output: str,
           isolation: str) -> GradeReport:
    by_suite = {id(r.suite): r.cases for r in results}
    tests = []
    for suite, test, number in numbered([r.suite for r in results]):
        points, feedback = score(test, by_suite[id(suite)])
        tests.append(TestResult(test.name, number, points, test.points, feedback,
                                [suite.target, f"Part {suite.part}"], test.visibility))
    return GradeReport(name, tests, elapsed, output.strip(), isolation)


def grade(path: Path, homework: Homework, budget: Budget = Budget(),
          suites: list[Suite] | None = None) -> GradeReport:
    """Grade one submission file, folder or zip. Exceptions of the grader itself propagate
    (the CLI turns them into a failsafe results.json)."""
    start = time.monotonic()
    deadline = start + budget.total_s
    torch.set_num_threads(budget.threads)  # Gradescope's host may show many cores for 0.5 vCPU
    suites = homework.suites(homework.seed) if suites is None else suites
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
        blocked = forbidden_parts(module.source, suites)
        with Sandbox(module.source, threads=budget.threads, hidden=homework.hidden) as sandbox:
            hello = sandbox.start()
            if not hello.ok:
                err = error_message(hello.error) if hello.error else "no reason given"
                notes.append(f"Importing your code failed: {err}")
                if hello.error is not None and hello.error.kind == ErrorKind.CRASHED:
                    blocked.update({s.target: err for s in suites if s.target not in blocked})
            names = set(hello.names) if hello.ok else None
            for s in suites:
                if names is not None and s.target not in names and s.target not in blocked:
                    blocked[s.target] = f"`{s.target}` is not defined in your submission"
            results = run_suites(sandbox, suites, blocked, budget, deadline)
            isolation = sandbox.isolation.describe()
        student_output = sandbox.final_output  # taken once every worker was dead
    else:
        results = run_suites(None, suites, blocked, budget, deadline)
    output = "\n".join(notes)
    if student_output.strip():
        output += ("\n\n" if output else "") + "Your code printed (truncated):\n" + student_output
    if isolation:
        output += ("\n\n" if output else "") + f"Graded in a {isolation}."
    return report(path.name, results, time.monotonic() - start, output, isolation)
