"""The judge: grades one submission against one homework. It never imports or executes student
code.

    module source (static, submission.py) -> forbidden scan (forbidden.py)
    -> for each suite: requests to the sandboxed worker (sandbox.py) -> items (evaluation.py)
    -> scores (scoring.py) -> GradeReport (results.py), built after every worker is dead.
"""
from __future__ import annotations

import secrets
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from . import dependencies, forbidden
from .course import Course
from .evaluation import error_message, evaluate, failed_items
from .protocol import ErrorKind, Reply
from .results import GradeReport, TestResult
from .sandbox import Sandbox, warm_up
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


CANNOT_CHECK = ("the grader could not check this case (its own failure, not yours); the course "
                "staff have the details")


def safely_evaluated(case, reply: Reply, staff: list[str]) -> list:
    """``evaluate``, but a failure of the grader's own code fails this case only, with one safe
    sentence for the student and the traceback in ``staff``."""
    try:
        return evaluate(case, reply)
    except Exception:
        staff.append(f"[{case.label}]\n{traceback.format_exc()[-4000:]}")
        return failed_items(case, CANNOT_CHECK)


def run_suites(sandbox: Requester | None, suites: list[Suite], blocked: dict[str, str],
               budget: Budget, deadline: float, staff: list[str] | None = None
               ) -> list[SuiteResult]:
    """Each suite's results, in order; ``blocked`` maps a target to why it is not run at all;
    the grader's own failures go to ``staff``."""
    staff = [] if staff is None else staff
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
                                    min(limit, deadline - time.monotonic()), reply_limit(case))
            out.append(CaseResult(case, safely_evaluated(case, reply, staff)))
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


def reply_limit(case) -> int:
    """The most bytes of tensors a fair reply to ``case`` can carry: its outputs and gradients
    are no larger than what was sent and expected, four times over, plus a little."""
    sizes = [*case.tensors.values(), *(o.expected for o in case.outputs),
             *(g for _, g in case.input_grads.values()), *case.param_grads.values()]
    return 4 * sum(t.numel() * 8 for t in sizes if isinstance(t, torch.Tensor)) + (1 << 20)


def forbidden_parts(source: str, suites: list[Suite], where=None,
                    local: frozenset[str] = frozenset()) -> tuple[dict[str, str], dict[int, str]]:
    """(target -> why it scores zero, line of a top-level statement -> why it is not run), from
    the static scan. ``where(line)`` says where a line of the graded module is in the student's
    own files."""
    found = forbidden.check(source, {s.target for s in suites if s.forbid_autograd}, local)
    place = where or (lambda line: f"line {line} of the graded code")
    blocked = {}
    for name in {s.target for s in suites} & set(found.parts):
        v = found.parts[name]
        why, todo = RULES[v.rule]
        blocked[name] = (f"`{name}` uses {v.what} ({place(v.line)}), which is {why}. "
                         f"{todo.format(instead=v.instead)}; this part scores zero until then")
    refused = {}
    for line, v in found.refused.items():
        why, todo = RULES[v.rule]
        refused[line] = (f"{place(line)[:1].upper()}{place(line)[1:]} was not run: it uses "
                         f"{v.what} ({place(v.line)}), which is {why}. "
                         f"{todo.format(instead=v.instead)}")
    return blocked, refused


def earlier_failures(suite: Suite, rows, scored, uses: dict[str, set[str]]) -> str:
    """"Fix Part N first", when ``suite``'s code uses a definition of the student's (their
    ``rnn_bptt`` calling their ``rnn_forward``) that fails its own tests, or is the same
    definition, failing in an earlier part."""
    first: dict[str, tuple[int, str]] = {}
    for other, test, number in rows:
        if other is suite or other.part > suite.part or other.target in first:
            continue
        if not (other.target in uses.get(suite.target, ()) or
                (other.target == suite.target and other.part < suite.part)):
            continue
        _, got, _, full = scored[test.name]
        if got < full:
            first[other.target] = (other.part, number)
    return "".join(
        f"Your {suite.target} uses your {target}, which fails test {number}: fix Part {part} "
        "first (this test may pass once it does).\n" if target != suite.target else
        f"{target} already fails test {number} in Part {part}: fix that first.\n"
        for target, (part, number) in first.items())


def report(name: str, results: list[SuiteResult], elapsed: float, output: str,
           isolation: str, staff: list[str] = (), uses: dict[str, set[str]] | None = None
           ) -> GradeReport:
    """The report of one grading. ``uses``: each student definition -> those it uses, so that
    a failure explained by an earlier part says "fix Part N first"."""
    by_suite = {id(r.suite): r.cases for r in results}
    rows = numbered([r.suite for r in results])
    scored = {test.name: (number, *score(test, by_suite[id(suite)]), test.points)
              for suite, test, number in rows}
    tests = []
    for suite, test, number in rows:
        _, points, feedback, _ = scored[test.name]
        if points < test.points:
            feedback = earlier_failures(suite, rows, scored, uses or {}) + feedback
        unmet = [(n, name) for name in suite.needs if name in scored
                 for n, got, _, full in [scored[name]] if got < full]
        if unmet:
            points, feedback = 0.0, (
                f"No credit while {', '.join(f'test {n} ({name})' for n, name in unmet)} is not "
                f"passed in full: fix that first.\n{feedback}")
        tests.append(TestResult(test.name, number, points, test.points, feedback,
                                [suite.target, f"Part {suite.part}"], test.visibility))
    if staff:
        tests.append(TestResult("Grader errors (staff only)", "0.8", 0.0, 0.0,
                                "\n\n".join(staff)[-16000:], ["staff"], "hidden"))
    return GradeReport(name, tests, elapsed, output.strip(), isolation)


def fresh_seed() -> int:
    """A seed for one grading: hidden cases and held-out data nobody saw before (a submission
    that prints its inputs learns nothing that holds for the next grading)."""
    return secrets.randbelow(2 ** 31)


def seed_result(seed: int) -> TestResult:
    return TestResult("Grading seed (staff only)", "0.9", 0.0, 0.0,
                      f"Hidden cases drawn from seed {seed}; `rnngrade grade SUBMISSION --seed "
                      f"{seed}` grades this submission on the same cases.", ["staff"], "hidden")


def grade(path: Path, homework: Homework, budget: Budget = Budget(),
          suites: list[Suite] | None = None, seed: int | None = None,
          hidden: tuple[Path, ...] = (), course: Course = Course()) -> GradeReport:
    """Grade one submission file, folder or zip on ``suites``, or on the homework's suites drawn
    from ``seed`` (a fresh one when None; recorded in a hidden staff test either way) as
    ``course`` configures them.
    ``hidden``: more folders the worker must not read (the class folder, the results).
    Exceptions of the grader itself propagate (the CLI turns them into a failsafe results.json)."""
    start = time.monotonic()
    warm_up()  # before any hidden input exists
    deadline = start + budget.total_s
    torch.set_num_threads(budget.threads)  # Gradescope's host may show many cores for 0.5 vCPU
    if suites is None:
        seed = fresh_seed() if seed is None else seed
        suites = course.suites(homework, seed)
    blocked: dict[str, str] = {}
    notes: list[str] = []
    staff: list[str] = []
    unreadable = ""
    isolation, student_output = "", ""
    with tempfile.TemporaryDirectory(prefix="rnngrade-submission-") as tmp:
        try:
            module = build_module(path, Path(tmp))
        except SubmissionError as e:
            module, unreadable = None, str(e)
            blocked = {s.target: str(e) for s in suites}
            notes.append(str(e))
    if module is not None:
        notes += module.notes
        blocked, refused = forbidden_parts(module.source, suites, module.where, module.local)
        notes += list(refused.values())
        with Sandbox(module.cells, threads=budget.threads, hidden=(*homework.hidden, *hidden),
                     modules=module.local,
                     skip=tuple(module.cell_at(line) for line in refused)) as sandbox:
            hello = sandbox.start()
            notes += sandbox.notes + list(hello.notes)
            if not hello.ok:
                err = error_message(hello.error) if hello.error else "no reason given"
                notes.append(f"Importing your code failed: {err}")
                if hello.error is not None and hello.error.kind == ErrorKind.CRASHED:
                    blocked.update({s.target: err for s in suites if s.target not in blocked})
            names = set(hello.names) if hello.ok else None
            for s in suites:
                if names is not None and s.target not in names and s.target not in blocked:
                    blocked[s.target] = f"`{s.target}` is not defined in your submission"
            results = run_suites(sandbox, suites, blocked, budget, deadline, staff)
            isolation = sandbox.isolation.describe()
        student_output = sandbox.final_output  # taken once every worker was dead
    else:
        results = run_suites(None, suites, blocked, budget, deadline, staff)
    output = "\n".join(notes)
    if student_output.strip():
        output += ("\n\n" if output else "") + "Your code printed (truncated):\n" + student_output
    if isolation:
        output += ("\n\n" if output else "") + f"Graded in a {isolation}."
    graded = report(path.name, results, time.monotonic() - start, output, isolation, staff,
                    dependencies.uses(module.source, module.local) if module is not None else {})
    if seed is not None:
        graded.tests.append(seed_result(seed))
        graded.seed = seed
    graded.unreadable = unreadable
    return graded
