"""What the class's gradebook gives the LMS: ``grades.csv`` and one results.json per student.

``grades.csv`` has Gradescope's column names for its manual score upload (``Name``, ``SID``,
``Email``, ``Total Score``: it matches on SID or email) followed by one column per test;
``grades_canvas.csv`` has Canvas's gradebook import columns (``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then the assignment's column). Scores are the
gradebook's, rounded to 2 decimals as the terminal shows them; a text cell that a spreadsheet
would run as a formula is quoted.
"""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from autograder.results import write_results

from .gradebook import Stored


def text(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading =, +, -, @ (or tab, carriage return)
    would make Excel or Sheets run it as a formula (a file name or a name a student chose)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _atomic_csv(path: Path, rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def scored_columns(stored: list[Stored]) -> list[tuple[str, str]]:
    """(number, name) of every scored test any submission has, in the table's order."""
    seen: dict[str, str] = {}
    for s in stored:
        for t in s.report.tests:
            if t.max_score > 0:
                seen.setdefault(t.number, t.name)
    return sorted(seen.items(), key=lambda kv: tuple(int(x) for x in kv[0].split(".")))


def grade_rows(stored: list[Stored]) -> list[list]:
    columns = scored_columns(stored)
    rows: list[list] = [["Name", "SID", "Email", "Total Score", "Status"]
                        + [f"{n} {name}" for n, name in columns]]
    for s in sorted(stored, key=lambda s: s.key):
        by_number = {t.number: t.score for t in s.report.tests}
        rows.append([text(s.name), text(s.key), text(s.email), f"{s.report.score:.2f}", s.status]
                    + [f"{by_number[n]:.2f}" if n in by_number else "" for n, _ in columns])
    return rows


def canvas_rows(stored: list[Stored], assignment: str) -> list[list]:
    rows: list[list] = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]]
    for s in sorted(stored, key=lambda s: s.key):
        canvas_id = s.key if s.layout == "canvas" else ""
        rows.append([text(s.name), canvas_id, "" if canvas_id else text(s.key), text(s.email), "",
                     f"{s.report.score:.2f}"])
    return rows


def export(stored: list[Stored], outdir: Path, assignment: str = "rnn_lstm") -> list[Path]:
    """Write ``grades.csv``, ``grades_canvas.csv`` and ``results/<key>.json``; the paths."""
    written = [outdir / "grades.csv", outdir / "grades_canvas.csv"]
    _atomic_csv(written[0], grade_rows(stored))
    _atomic_csv(written[1], canvas_rows(stored, assignment))
    for s in stored:
        write_results(s.report, outdir / "results" / f"{s.key}.json")
    return written
