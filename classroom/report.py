"""The class report: ``OUTDIR/report.html``, rebuilt from ``OUTDIR/gradebook.sqlite`` alone.

    write_report(OUTDIR)                       # report.html and feedback/<key>.html
    class_report_html(book.all(), similarity)  # the page, as a string

What a lecturer wants before the next class: the score histogram, each test's pass rate, the
most frequent diagnosed mistakes (the "Likely cause:" lines of the failed tests, grouped) with
the share of the class and who made them, grading time (the gradebook keeps each submission's
wall time, not each part's), grader errors, unreadable submissions, timeouts, and the isolation
each grading ran under. It links each student's feedback page and, when present, the similarity
report. Every count here is a count of gradebook rows: nothing is estimated.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from .feedback import write_feedback
from .gradebook import Gradebook, Stored
from .pages import esc, feedback_name, new_figure, number_key, page, score_class, svg, table

CAUSE = re.compile(r"^Likely cause: (.+)$", re.M)
CONSEQUENCE = re.compile(r":\s*fix\b[^:;]*\bfirst$")  # "...: fix your LSTM (Part 4) first"
TIMEOUT = re.compile(r"timed out|time limit|stopped after \d+(?:\.\d+)? ?s\b", re.I)
SLOWEST = 10


@dataclass
class Mistake:
    """One diagnosed mistake and the submissions whose feedback names it."""

    text: str  # as the feedback words it (the first time it is seen)
    keys: list[str] = field(default_factory=list)  # the submissions, each once
    tests: set[str] = field(default_factory=set)  # the test numbers it was diagnosed in


def normalise(cause: str) -> str:
    """The same mistake, however it was worded around: lower case, single spaces, no final
    period, no "fix ... first" tail (the note a later part adds when an earlier one fails)."""
    text = " ".join(cause.split()).rstrip(". ")
    return CONSEQUENCE.sub("", text).rstrip(". ").lower()


def mistakes(stored_list: Sequence[Stored]) -> list[Mistake]:
    """The diagnosed mistakes of the graded submissions, most frequent first (by submissions)."""
    found: dict[str, Mistake] = {}
    for s in stored_list:
        if s.status != "graded":
            continue
        for t in s.report.tests:
            if t.status != "failed":
                continue
            for cause in CAUSE.findall(t.output):
                key = normalise(cause)
                if not key:
                    continue
                m = found.setdefault(key, Mistake(CONSEQUENCE.sub("", cause.strip().rstrip(". "))))
                if s.key not in m.keys:
                    m.keys.append(s.key)
                m.tests.add(t.number)
    return sorted(found.values(), key=lambda m: (-len(m.keys), m.text))


def pass_counts(stored_list: Sequence[Stored]) -> dict[str, tuple[str, int, int]]:
    """Test number -> (name, submissions that passed it, submissions graded on it), over the
    graded submissions, for the tests worth points."""
    counts: dict[str, list] = {}
    for s in stored_list:
        if s.status != "graded":
            continue
        for t in s.report.tests:
            if t.max_score <= 0:
                continue
            row = counts.setdefault(t.number, [t.name, 0, 0])
            row[1] += t.status == "passed"
            row[2] += 1
    return {n: tuple(counts[n]) for n in sorted(counts, key=number_key)}


def timeouts(stored_list: Sequence[Stored]) -> list[tuple[str, str, str]]:
    """(key, where, the line) for each line of feedback that says something ran out of time."""
    rows = []
    for s in stored_list:
        for where, text in [("notes", s.report.output)] + [(t.number, t.output)
                                                           for t in s.report.tests]:
            for line in text.splitlines():
                if TIMEOUT.search(line):
                    rows.append((s.key, where, line))
                    break
    return rows


def problem_line(s: Stored) -> str:
    """Why a submission was not graded normally, in one line for staff."""
    if s.status == "unreadable":
        return s.report.unreadable or s.notes or "unreadable"
    staff = sorted((t for t in s.report.tests if t.visibility == "hidden" and t.output.strip()),
                   key=lambda t: "error" not in t.name.lower())  # the traceback's test first
    staff = [t.output for t in staff]
    last = staff[0].strip().splitlines()[-1] if staff else ""
    return last or s.notes or "the grader failed"


# -- figures ----------------------------------------------------------------------------------

def score_histogram(graded: Sequence[Stored]) -> str:
    """How many submissions scored what (graded ones only)."""
    if not graded:
        return ""
    top = Counter(s.report.max_score for s in graded).most_common(1)[0][0] or 1.0
    fig = new_figure(5.4, 2.6)
    ax = fig.add_subplot()
    ax.hist([s.report.score for s in graded], bins=20, range=(0, top), color="#0969da",
            edgecolor="white")
    ax.set_xlabel(f"score (of {top:g})", fontsize=8)
    ax.set_ylabel("submissions", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=7)
    ax.set_title(f"Scores of the {len(graded)} graded submissions", fontsize=9)
    return svg(fig, "histogram of scores")


def pass_rate_chart(counts: dict[str, tuple[str, int, int]]) -> str:
    """Each test's pass rate, in test order."""
    if not counts:
        return ""
    numbers = list(counts)
    rates = [100 * counts[n][1] / counts[n][2] for n in numbers]
    fig = new_figure(5.4, 0.6 + 0.16 * len(numbers))
    ax = fig.add_subplot()
    ax.barh(range(len(numbers)), rates, height=0.7,
            color=["#1a7f37" if r >= 90 else "#bf8700" if r >= 50 else "#cf222e" for r in rates])
    ax.set_yticks(range(len(numbers)), numbers, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded submissions that passed", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("Pass rate per test", fontsize=9)
    return svg(fig, "pass rate per test")


def time_histogram(stored_list: Sequence[Stored]) -> str:
    """How long each grading took (whole submissions: the gradebook has no per-part times)."""
    times = [s.wall_s for s in stored_list if s.wall_s and s.wall_s > 0]
    if not times:
        return ""
    fig = new_figure(5.4, 2.4)
    ax = fig.add_subplot()
    ax.hist(times, bins=20, color="#8250df", edgecolor="white")
    ax.set_xlabel("seconds to grade one submission", fontsize=8)
    ax.set_ylabel("submissions", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=7)
    ax.set_title("Grading time per submission", fontsize=9)
    return svg(fig, "histogram of grading times")


# -- the page --------------------------------------------------------------------------------

def status_class(s: Stored) -> str:
    """The CSS class of a submission's status: its score's if graded, else bad."""
    return score_class(s.report.score, s.report.max_score) if s.status == "graded" else "bad"


def student_link(key: str, names: dict[str, str]) -> str:
    """A link to the student's feedback page, the name shown (escaped)."""
    label = names.get(key) or key
    return f'<a href="feedback/{esc(quote(feedback_name(key)))}">{esc(label)}</a>'


def mistakes_html(found: list[Mistake], graded: int, names: dict[str, str]) -> str:
    """The table of diagnosed mistakes: how many, what share of the class, who."""
    if not found:
        return "<p>No failed test named a likely cause.</p>"
    rows = []
    for m in found:
        share = 100 * len(m.keys) / graded if graded else 0.0
        bar = (f'<div style="background:#cf222e;height:8px;width:{share:.1f}%"></div>')
        who = ", ".join(student_link(k, names) for k in m.keys)
        rows.append((len(m.keys), f"{share:.0f}%{bar}", esc(m.text),
                     esc(", ".join(sorted(m.tests, key=number_key))), who))
    return table(["students", "of the class", "likely cause", "tests", "who"], rows,
                 numeric=(0,), sortable=True, raw=(1, 2, 3, 4))


def class_report_html(stored_list: Sequence[Stored], similarity: Sequence | None = None, *,
                      similarity_link: bool = False) -> str:
    """The class report, a whole self-contained HTML document. ``similarity``: the most similar
    pairs (``classroom.similarity.Pair``) to list; ``similarity_link``: link similarity.html."""
    stored_list = sorted(stored_list, key=lambda s: s.key)
    graded = [s for s in stored_list if s.status == "graded"]
    names = {s.key: s.name for s in stored_list}
    by_status = Counter(s.status for s in stored_list)
    scores = [s.report.score for s in graded]
    counts = pass_counts(stored_list)
    found = mistakes(stored_list)
    body = ["<h1>Class report</h1>",
            f'<p class="muted">{len(stored_list)} submissions: {by_status["graded"]} graded, '
            f'{by_status["unreadable"]} unreadable, {by_status["grader_error"]} grader error(s)'
            + (f" &middot; mean {statistics.mean(scores):.2f}, median "
               f"{statistics.median(scores):.2f}" if scores else "")
            + " &middot; grader " + esc(", ".join(sorted({s.grader_version for s in stored_list})))
            + "</p>"]
    if similarity_link or similarity:
        body.append('<p><a href="similarity.html">Similarity report</a>: the most similar pairs '
                    "of answer cells, for a person to look at (it changes no grade).</p>")
    body += ['<div class="grid">', score_histogram(graded), time_histogram(stored_list), "</div>",
             "<h2>Most frequent mistakes</h2>",
             f'<p class="muted small">From the "Likely cause" of each failed test, grouped; a '
             f"submission counts once per mistake; shares are of the {len(graded)} graded "
             "submissions.</p>", mistakes_html(found, len(graded), names),
             "<h2>Pass rate per test</h2>", '<div class="grid">', pass_rate_chart(counts),
             table(["#", "test", "passed", "of", "%"],
                   [(n, name, p, of, f"{100 * p / of:.0f}") for n, (name, p, of) in counts.items()],
                   numeric=(0, 2, 3, 4), sortable=True), "</div>"]
    if similarity:
        body += ["<h2>Most similar pairs</h2>", table(
            ["similarity", "submission", "submission"],
            [(f"{100 * p.score:.0f}%", student_link(p.a, names), student_link(p.b, names))
             for p in list(similarity)[:5]], numeric=(0,), raw=(1, 2))]
    slow = sorted(stored_list, key=lambda s: -(s.wall_s or 0))[:SLOWEST]
    body += ["<h2>Grading time</h2>",
             '<p class="muted small">Times are per submission (the gradebook stores no time per '
             "part); the slowest:</p>",
             table(["submission", "seconds", "score", "status"],
                   [(student_link(s.key, names), f"{s.wall_s or 0:.1f}",
                     f"{s.report.score:.2f}", s.status) for s in slow],
                   numeric=(1, 2), raw=(0,), sortable=True)]
    problems = [s for s in stored_list if s.status != "graded"]
    body += ["<h2>Grader errors and unreadable submissions</h2>",
             table(["submission", "status", "why"],
                   [(student_link(s.key, names), s.status, problem_line(s)) for s in problems],
                   raw=(0,)) if problems else "<p>None: every submission was read and graded.</p>"]
    late = timeouts(stored_list)
    body += ["<h2>Timeouts</h2>",
             table(["submission", "where", "what the feedback says"],
                   [(student_link(k, names), where, line) for k, where, line in late], raw=(0,))
             if late else "<p>None: nothing ran out of time.</p>"]
    isolation = Counter(s.report.isolation or "(not recorded)" for s in stored_list)
    body += ["<h2>Isolation in force</h2>",
             table(["submissions", "isolation"], [(n, text) for text, n in isolation.most_common()],
                   numeric=(0,))]
    failed_of = {s.key: sum(t.status == "failed" and t.max_score > 0 for t in s.report.tests)
                 for s in stored_list}
    body += ["<h2>Every submission</h2>",
             table(["submission", "id", "score", "max", "failed tests", "seconds", "status"],
                   [(student_link(s.key, names), s.key, f"{s.report.score:.2f}",
                     f"{s.report.max_score:g}", failed_of[s.key], f"{s.wall_s or 0:.1f}",
                     f'<span class="{status_class(s)}">'
                     f"{esc(s.status)}</span>") for s in stored_list],
                   numeric=(2, 3, 4, 5), raw=(0, 6), sortable=True)]
    return page("Class report", "\n".join(body), script=True)


def gradebook_path(outdir: Path) -> Path:
    """``OUTDIR/gradebook.sqlite``, which must exist (a report never creates a gradebook)."""
    path = Path(outdir) / "gradebook.sqlite"
    if not path.is_file():
        raise FileNotFoundError(f"no gradebook at {path}: grade the class first "
                                f"(rnngrade grade FOLDER --out {outdir})")
    return path


def write_report(outdir: Path, *, feedback: bool = True,
                 similarity: Sequence | None = None) -> Path:
    """Rebuild ``OUTDIR/report.html`` (and, with ``feedback``, ``OUTDIR/feedback/<key>.html``)
    from the gradebook alone; links ``similarity.html`` when it is there. The path written."""
    outdir = Path(outdir)
    with Gradebook(gradebook_path(outdir)) as book:
        stored = book.all()
    if feedback:
        write_feedback(stored, outdir)
    path = outdir / "report.html"
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(class_report_html(stored, similarity,
                                     similarity_link=(outdir / "similarity.html").is_file()),
                   encoding="utf-8")
    tmp.replace(path)
    return path
