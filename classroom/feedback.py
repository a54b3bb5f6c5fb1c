"""A student's feedback: one self-contained HTML page per submission, and the same in Markdown.

    write_feedback(book.all(), OUTDIR)   # OUTDIR/feedback/<key>.html, one per submission
    feedback_html(stored)                # one page, as a string
    feedback_markdown(report)            # the same content in Markdown (Gradescope: "md")

A page holds the total, every test the student may see with its points and feedback (the
mismatch message, the likely cause, the location), what their code printed, and, for a failed
test whose feedback gives numbers, a small figure drawn from those numbers alone: how far the
greatest difference is from the tolerance, at which time step the first mismatch is, where the
trained model's error stands against the credit thresholds. Nothing is drawn that the feedback
text or the scores do not say. Hidden tests (staff only: the grading seed, the grader's
traceback) never appear, and neither does the seed.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from autograder.results import (FAILSAFE_MESSAGE, PRINTED, GradeReport, TestResult, markdown,
                                markdown_inline)

from .gradebook import Stored
from .pages import esc, feedback_name, new_figure, number_key, page, part_of, score_class, svg

NUMBER = r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)"
MISMATCH = re.compile(r"(?:^\[[^\]\n]*\] )?(?P<name>[^:\n]{1,120}): tensors are not close\. "
                      r"Mismatched elements: (?P<n>\d+) / (?P<total>\d+) .*?Greatest absolute "
                      rf"difference: (?P<diff>{NUMBER}) at index \([^)]*\) \(up to "
                      rf"(?P<atol>{NUMBER}) allowed\)")
STEP = re.compile(r"first mismatch in time is at step t = (\d+) \(of (\d+)\)")
MSE = re.compile(rf"held-out MSE (?P<mse>{NUMBER}) \(full credit at or below (?P<full>{NUMBER}), "
                 rf"none from (?P<none>{NUMBER}); predicting the mean gives (?P<mean>{NUMBER})\)")
LABEL = re.compile(r"[^A-Za-z0-9_ .,()=-]+")
MAX_FIGURES = 6  # failed tests with a figure, per page (the first ones: later ones often follow)


def visible(report: GradeReport) -> list[TestResult]:
    """The tests a student may see: every one but the hidden (staff-only) ones, in order."""
    return sorted((t for t in report.tests if t.visibility != "hidden"),
                  key=lambda t: number_key(t.number))


# -- the feedback text, as HTML ------------------------------------------------------------------

def output_html(text: str) -> str:
    """A test's or a submission's feedback text as HTML, every character escaped: the summary
    and notes as paragraphs, "Likely cause:" lines highlighted, case messages (``[case] ...``)
    and everything after "Your code printed" as preformatted text."""
    out, block = [], []

    def flush() -> None:
        if block:
            out.append(f"<pre>{esc(chr(10).join(block))}</pre>")
            block.clear()

    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(PRINTED):
            flush()
            out.append(f"<p><strong>{esc(line)}</strong></p><pre>{esc(chr(10).join(lines[i + 1:]))}"
                       "</pre>")
            break
        if line.startswith("[") or (block and line.startswith(" ")):
            block.append(line)
            continue
        flush()
        if line.startswith("Likely cause:"):
            out.append(f'<div class="cause">{esc(line)}</div>')
        elif line.strip():
            out.append(f"<p>{esc(line)}</p>")
    flush()
    return "".join(out)


# -- figures drawn from the feedback text ----------------------------------------------------------

@dataclass(frozen=True)
class Mismatch:
    """One "tensors are not close" message, as numbers."""

    name: str  # "output", "h_n", "gradient with respect to input"
    diff: float  # the greatest absolute difference
    atol: float  # what was allowed
    step: int | None = None  # the first mismatching time step, if the message says
    steps: int | None = None  # of how many


def mismatches(text: str) -> list[Mismatch]:
    """The numbers of each mismatch message in a test's feedback (none when it has none)."""
    found = []
    for line in text.splitlines():
        m = MISMATCH.search(line)
        if not m:
            continue
        step = STEP.search(line)
        name = re.sub(r"^gradient with respect to (parameter )?", "grad ", m.group("name"))
        name = LABEL.sub("", name).strip()[:40] or "value"
        found.append(Mismatch(name, float(m.group("diff")), float(m.group("atol")),
                              int(step.group(1)) if step else None,
                              int(step.group(2)) if step else None))
    return found


def mismatch_figure(found: list[Mismatch]) -> str:
    """Greatest absolute difference against the tolerance (log scale), and the time steps that
    matched before the first mismatch, for each mismatch message."""
    finite = [m for m in found if math.isfinite(m.diff) and m.diff > 0 and m.atol > 0]
    timed = [m for m in found if m.step is not None and m.steps and 0 <= m.step < m.steps]
    if not finite and not timed:
        return ""
    panels = [len(finite) + 0.8] * bool(finite) + [len(timed) + 1.2] * bool(timed)
    fig = new_figure(7.0, 0.45 * sum(panels) + 0.3)
    grid = fig.add_gridspec(len(panels), 1, height_ratios=panels)
    rows = len(panels)
    if finite:
        ax = fig.add_subplot(grid[0])
        ys = range(len(finite))
        ax.barh(ys, [m.diff for m in finite], color="#cf222e", height=0.5,
                label="greatest absolute difference")
        ax.scatter([m.atol for m in finite], ys, marker="|", s=300, color="#1f2328", zorder=3,
                   label="allowed")
        ax.set_xscale("log")
        ax.set_yticks(list(ys), [m.name for m in finite], fontsize=8)
        ax.invert_yaxis()
        ax.set_title("How far off: greatest difference vs the tolerance (log scale)", fontsize=9)
        low = min(min(m.atol for m in finite), min(m.diff for m in finite)) / 10
        high = max(max(m.diff for m in finite), max(m.atol for m in finite)) * 30
        ax.set_xlim(low, high)
        for y, m in zip(ys, finite):  # inside the bar where it fits, else after it
            inside = math.log10(m.diff / low) > 0.55 * math.log10(high / low)
            ax.annotate(f"{m.diff:.3g} ({m.diff / m.atol:.2g} x allowed)", (m.diff, y),
                        xytext=(-4 if inside else 4, 0), textcoords="offset points",
                        va="center", ha="right" if inside else "left", fontsize=7,
                        color="white" if inside else "#1f2328")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.tick_params(axis="x", labelsize=7)
    if timed:
        ax = fig.add_subplot(grid[rows - 1])
        for y, m in enumerate(timed):  # three spans, however long the sequence
            ax.broken_barh([(0, m.step), (m.step, 1), (m.step + 1, m.steps - m.step - 1)],
                           (y - 0.3, 0.6), facecolors=("#1a7f37", "#cf222e", "#d0d7de"))
        ax.set_yticks(range(len(timed)), [m.name for m in timed], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(m.steps for m in timed))
        ax.set_xlabel("time step t (green: matched, red: first mismatch, grey: after it)",
                      fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    return svg(fig, "the mismatches of this test, as numbers")


def mse_figure(text: str) -> str:
    """The trained model's held-out error against the credit thresholds and the mean predictor."""
    m = MSE.search(text)
    if not m:
        return ""
    values = {k: float(v) for k, v in m.groupdict().items()}
    if not all(math.isfinite(v) and v > 0 for v in values.values()):
        return ""
    fig = new_figure(7.0, 1.3)
    ax = fig.add_subplot()
    ax.axvspan(min(values.values()) / 3, values["full"], color="#dafbe1", label="full credit")
    ax.axvspan(values["full"], values["none"], color="#fff8c5", label="partial credit")
    ax.axvspan(values["none"], max(values.values()) * 3, color="#ffebe9", label="no credit")
    ax.axvline(values["mean"], color="#57606a", linestyle="--", label="predicting the mean")
    ax.plot([values["mse"]], [0.5], marker="D", color="#1f2328", markersize=9, label="yours")
    ax.set_xscale("log")
    ax.set_yticks([])
    ax.set_xlim(min(values.values()) / 3, max(values.values()) * 3)
    ax.set_title("Held-out MSE after training (log scale)", fontsize=9)
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    ax.tick_params(axis="x", labelsize=7)
    return svg(fig, "the held-out error against the credit thresholds")


def parts_figure(tests: list[TestResult]) -> str:
    """Points earned against points possible, per part."""
    earned: dict[str, float] = defaultdict(float)
    possible: dict[str, float] = defaultdict(float)
    for t in tests:
        part = part_of(t.number, t.tags)
        earned[part] += t.score
        possible[part] += t.max_score
    parts = [p for p in sorted(possible, key=lambda p: number_key(p.split()[-1])) if possible[p]]
    if not parts:
        return ""
    fig = new_figure(7.0, 2.4)
    ax = fig.add_subplot()
    xs = range(len(parts))
    ax.bar(xs, [possible[p] for p in parts], color="#eaeef2", edgecolor="#d0d7de",
           label="possible")
    ax.bar(xs, [earned[p] for p in parts], width=0.55,
           color=["#1a7f37" if earned[p] >= possible[p] else "#cf222e" for p in parts],
           label="earned")
    ax.set_xticks(list(xs), parts, fontsize=8)
    ax.set_ylabel("points", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Points per part", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return svg(fig, "points earned and possible per part")


# -- the page ------------------------------------------------------------------------------------

def failed_test_html(t: TestResult, figures: bool = True) -> str:
    """One failed test: its heading and points, its feedback, and (``figures``) its figures."""
    drawn = mismatch_figure(mismatches(t.output)) + mse_figure(t.output) if figures else ""
    points = f"{t.score:.4g} / {t.max_score:g}"
    return (f'<section class="test {t.status}" id="t-{esc(t.number)}"><header>'
            f"<h3>{esc(t.number)} {esc(t.name)}</h3>"
            f'<span class="{score_class(t.score, t.max_score)}"><strong>{points}</strong></span>'
            f"</header>{output_html(t.output)}{drawn}</section>")


def feedback_html(stored: Stored) -> str:
    """The feedback page of one submission: a whole HTML document, self-contained."""
    report = stored.report
    tests = visible(report)
    failed = [t for t in tests if t.status == "failed"]
    head = [f"<h1>Feedback: {esc(stored.name or stored.key)}</h1>",
            f'<p class="muted small">submission {esc(stored.key)} &middot; graded by rnngrade '
            f"{esc(stored.grader_version)}</p>"]
    if stored.status == "unreadable":
        head.append(f'<div class="cause">This submission could not be read, so nothing was '
                    f"graded: {esc(report.unreadable)}</div>")
    if stored.status == "grader_error":
        head.append(f'<div class="cause">{esc(FAILSAFE_MESSAGE)}</div>')
    head.append(f'<div class="total {score_class(report.score, report.max_score)}">'
                f"{report.score:.2f} / {report.max_score:g}</div>")
    rows = "".join(
        f"<tr><td class=\"num\">{esc(t.number)}</td><td>"
        + (f'<a href="#t-{esc(t.number)}">{esc(t.name)}</a>' if t.status == "failed"
           else esc(t.name))
        + f"</td><td class=\"num {score_class(t.score, t.max_score)}\">{t.score:.4g} / "
        f"{t.max_score:g}</td><td>{'passed' if t.status == 'passed' else 'failed'}</td></tr>"
        for t in tests)
    body = head + [parts_figure(tests)]
    if failed:
        body += ["<h2>What to fix</h2>", *(failed_test_html(t, i < MAX_FIGURES)
                                           for i, t in enumerate(failed))]
    if report.output.strip():
        body += ["<h2>Notes from grading</h2>", output_html(report.output)]
    body += ["<h2>Every test</h2>", '<table><thead><tr><th class="num">#</th><th>test</th>'
             f'<th class="num">points</th><th>result</th></tr></thead><tbody>{rows}'
             "</tbody></table>"]
    return page(f"Feedback: {stored.name or stored.key}", "\n".join(body))


def feedback_markdown(report: GradeReport) -> str:
    """The page's content in Markdown (what Gradescope shows with ``output_format: "md"``):
    headings and paragraphs for our words, code blocks for anything a submission controls."""
    tests = visible(report)
    failed = [t for t in tests if t.status == "failed"]
    lines = [f"# Total: {report.score:.2f} / {report.max_score:g}", ""]
    if failed:
        lines += ["## What to fix", ""]
    for t in failed:
        lines += [f"### {markdown_inline(f'{t.number} {t.name}')}: {t.score:.4g} / "
                  f"{t.max_score:g}", ""]
        if t.output.strip():
            lines += [markdown(t.output), ""]
    passed = [t for t in tests if t.status == "passed"]
    if passed:
        lines += ["## Passed", ""] + [f"- {markdown_inline(f'{t.number} {t.name}')}: "
                                      f"{t.score:.4g} / {t.max_score:g}" for t in passed] + [""]
    if report.output.strip():
        lines += ["## Notes from grading", "", markdown(report.output), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_feedback(stored_list: Iterable[Stored], outdir: Path) -> list[Path]:
    """``OUTDIR/feedback/<key>.html`` for each submission (replaced whole if it was there);
    the paths written."""
    folder = Path(outdir) / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stored in stored_list:
        path = folder / feedback_name(stored.key)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(feedback_html(stored), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
