"""Results: Gradescope's results.json, the terminal table, and the report when the grader fails.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
``score``, ``execution_time``, ``output``, ``visibility``, ``tests[]`` each with ``name``,
``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``, ``tags``; outputs in
Markdown (``output_format`` and ``test_output_format``: "md").
"""
from __future__ import annotations

import json
import re
import os
import tempfile
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Control characters (terminal escapes, carriage returns) and bidirectional overrides in text a
# student controls could redraw a TA's terminal or disguise feedback: removed wherever it enters.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    return CONTROL.sub("", text)


FAILSAFE_MESSAGE = ("The autograder itself failed on this submission; this is not your fault. "
                    "Please alert the course staff (a private note on the forum) so they can "
                    "look at it.")


@dataclass
class TestResult:
    __test__ = False  # not a pytest class

    name: str
    number: str  # "4.2": part, then order within the part
    score: float
    max_score: float
    output: str
    tags: list[str]
    visibility: str = "visible"  # visible | hidden | after_due_date | after_published

    def __post_init__(self):
        self.output = clean(self.output)

    @property
    def status(self) -> str:
        return "passed" if self.score >= self.max_score else "failed"


@dataclass
class GradeReport:
    submission: str
    tests: list[TestResult]
    execution_time: float = 0.0
    output: str = ""  # top-level text, shown to the student
    isolation: str = ""  # which sandbox was in force
    failed: bool = False  # the grader itself failed
    unreadable: str = ""  # why the submission could not be read at all (nothing was graded)
    seed: int | None = None  # the hidden cases' seed, when one was drawn

    def __post_init__(self):
        self.submission, self.output = clean(self.submission), clean(self.output)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)


# A line shown as Markdown prose must be unable to do anything but read: no HTML (<, &), no link
# or image ([ ] and autolinks), no emphasis, code, table, quote or math (* _ ` | > $ ~ \\ #).
# Every other line, and everything a student's code printed, goes into a fenced code block.
# An underscore inside a word (weight_ih) is no emphasis marker, so it may stay in prose.
PROSE = re.compile(r"[A-Za-z0-9 ,.;:'()%=+?!/\"-]*(?:(?<=[A-Za-z0-9])_(?=[A-Za-z0-9])"
                   r"[A-Za-z0-9 ,.;:'()%=+?!/\"-]*)*")
PRINTED = "Your code printed"


def fenced(lines: list[str]) -> list[str]:
    """``lines`` as one fenced code block, its fence longer than any run of backticks inside,
    so no line can close it early."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def markdown(text: str) -> str:
    """``text`` as Markdown that shows it and nothing else: each line stays as it was (no
    escaping, so the words are unchanged), prose lines as paragraphs, every other line in a
    fenced code block, and from a "Your code printed" line on, all of it verbatim in one."""
    out: list[str] = []
    pending: list[str] = []  # lines waiting for their code block
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(PRINTED):
            out += fenced(pending) + [""] if pending else []
            out += [line, ""] + fenced(lines[i + 1:])
            return "\n".join(out).strip("\n")
        if PROSE.fullmatch(line) and "//" not in line and "www." not in line:
            if pending:
                out += fenced(pending) + [""]
                pending = []
            if line.strip():
                out += [line, ""]
        elif line.strip() or pending:
            pending.append(line)
    if pending:
        out += fenced(pending)
    return "\n".join(out).strip("\n")


def markdown_inline(text: str) -> str:
    """One line of ``text`` for a heading or a sentence: as it is if prose, else a code span."""
    text = " ".join(text.split())
    if PROSE.fullmatch(text) and "//" not in text and "www." not in text:
        return text
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    tick = "`" * (longest + 1)
    return f"{tick} {text} {tick}"


def to_gradescope(report: GradeReport) -> dict:
    """results.json's content; outputs as Markdown (Gradescope's ``output_format: "md"``), so
    students see paragraphs and code blocks, never HTML a submission slipped in."""
    tests = []
    for t in report.tests:
        d = asdict(t)
        d["status"] = t.status
        d["output"] = markdown(t.output)
        tests.append(d)
    return {"score": report.score, "execution_time": round(report.execution_time, 3),
            "output": markdown(report.output), "output_format": "md",
            "test_output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def write_results(report: GradeReport, path: Path) -> None:
    """Write results.json atomically (a partial file is never left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(to_gradescope(report), f, indent=2)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def failsafe_report(submission: str, exc: BaseException, elapsed: float = 0.0) -> GradeReport:
    """One visible test that says to alert staff; the traceback in a hidden one."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return GradeReport(submission, [
        TestResult("Autograder error", "0.1", 0.0, 0.0, FAILSAFE_MESSAGE, ["autograder"]),
        TestResult("Autograder error (staff only)", "0.2", 0.0, 0.0, trace[-8000:],
                   ["autograder"], visibility="hidden"),
    ], elapsed, FAILSAFE_MESSAGE, failed=True)


def print_report(report: GradeReport, console: Console, quiet: bool = False) -> None:
    """A table of every test with the first line of feedback of each failed one, then the
    top-level output; ``quiet``: one line, the score and the failed tests."""
    failed = [t for t in report.tests if t.status == "failed"]
    if quiet:
        console.print(escape(f"{report.submission}: {report.score:.2f} / {report.max_score:g}"
                             + (f"  failed: {', '.join(t.number for t in failed)}" if failed
                                else "")), highlight=False)
        return
    table = Table(title=escape(f"{report.submission}: {report.score:.2f} / {report.max_score:g}"),
                  show_lines=False, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("test")
    table.add_column("score", justify="right")
    table.add_column("feedback", overflow="fold")
    for t in report.tests:
        style = "green" if t.status == "passed" else ("yellow" if t.score > 0 else "red")
        lines = t.output.splitlines()
        # the line after "N/M checks passed.": the likely cause, or the first failure
        first = "" if t.status == "passed" else (lines[1] if len(lines) > 1 else t.output)
        table.add_row(t.number, escape(t.name), f"[{style}]{t.score:.4g}/{t.max_score:g}[/]",
                      escape(shortened(first, 300)))
    console.print(table)
    if report.output:
        console.print(report.output, markup=False, highlight=False)


def shortened(text: str, limit: int) -> str:
    """``text`` cut at a word boundary before ``limit`` characters, with " ..." if cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " ..."


def failed_list(numbers: list[str], most: int = 12) -> str:
    """"4.5, 4.6, ..., 7.1 (14 failed)": the first ones and the last, never silently cut."""
    if len(numbers) <= most:
        return ", ".join(numbers) or "-"
    return ", ".join(numbers[:most - 2]) + f", ..., {numbers[-1]} ({len(numbers)} failed)"


def print_summary(reports: list[GradeReport], console: Console) -> None:
    table = Table(title=f"{len(reports)} submissions", title_justify="left")
    for col in ("submission", "score", "max", "failed tests"):
        table.add_column(col, overflow="fold")
    for r in reports:
        failed = [t.number for t in r.tests if t.status == "failed"]
        status = "GRADER ERROR" if r.failed else \
            f"NOT GRADED: {shortened(r.unreadable, 100)}" if r.unreadable else failed_list(failed)
        table.add_row(escape(r.submission), f"{r.score:.2f}", f"{r.max_score:g}", escape(status))
    console.print(table)
    unreadable = [r.submission for r in reports if r.unreadable or r.failed]
    if unreadable:
        console.print(escape(f"{len(unreadable)} submission(s) not graded normally: "
                             f"{', '.join(unreadable[:20])}: look at them by hand"),
                      style="bold red", highlight=False)
