"""The class's gradebook: ``OUTDIR/gradebook.sqlite``, one row per submission and per test.

SQLite in WAL mode, written by the one coordinating process only: each grading is stored in one
transaction (its submission row, its test rows and a line of the grading log), so a run stopped
by Ctrl-C or ``kill -9`` at any moment keeps every grading already committed and never half of
one. A rerun skips what is already graded with the same content hash and grader version.

    submissions  key (the student id), name, email, layout, path, content_hash, grader_version,
                 seed, started_at, finished_at, wall_s, status (graded | unreadable |
                 grader_error), score, max_score, output, isolation, notes
    tests        key, number ("4.2"), name, score, max_score, status, output, visibility, tags
    gradings     one line per grading ever stored (key, content_hash, grader_version, run,
                 finished_at): how many times each submission was graded
    runs         one line per command (started_at, grader_version, argv)
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.results import GradeReport, TestResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY, name TEXT, email TEXT, layout TEXT, path TEXT,
    content_hash TEXT NOT NULL, grader_version TEXT NOT NULL, seed INTEGER,
    started_at REAL, finished_at REAL, wall_s REAL, status TEXT NOT NULL,
    score REAL, max_score REAL, output TEXT, isolation TEXT, notes TEXT);
CREATE TABLE IF NOT EXISTS tests (
    key TEXT NOT NULL REFERENCES submissions(key) ON DELETE CASCADE, number TEXT NOT NULL,
    name TEXT, score REAL, max_score REAL, status TEXT, output TEXT, visibility TEXT,
    tags TEXT, PRIMARY KEY (key, number));
CREATE TABLE IF NOT EXISTS gradings (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, content_hash TEXT, grader_version TEXT,
    run INTEGER, finished_at REAL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at REAL, grader_version TEXT, argv TEXT);
"""


@dataclass(frozen=True)
class Stored:
    """One submission as the gradebook holds it (its report rebuilt from the rows)."""

    key: str
    name: str
    email: str
    layout: str
    path: str
    content_hash: str
    grader_version: str
    seed: int | None
    wall_s: float
    status: str
    notes: str
    report: GradeReport


def status_of(report: GradeReport) -> str:
    return "grader_error" if report.failed else "unreadable" if report.unreadable else "graded"


class Gradebook:
    """``with Gradebook(OUTDIR / "gradebook.sqlite") as book: ...``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed grading survives a power cut
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self.run_id: int | None = None

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def start_run(self, grader_version: str, argv: list[str]) -> int:
        cur = self.db.execute("INSERT INTO runs (started_at, grader_version, argv) VALUES (?,?,?)",
                              (time.time(), grader_version, json.dumps(argv)))
        self.run_id = cur.lastrowid
        return self.run_id

    def is_current(self, key: str, content_hash: str, grader_version: str) -> bool:
        """Graded already, from the same bytes by the same grader (not a grader error)."""
        row = self.db.execute("SELECT content_hash, grader_version, status FROM submissions "
                              "WHERE key = ?", (key,)).fetchone()
        return row is not None and row[0] == content_hash and row[1] == grader_version \
            and row[2] != "grader_error"

    def store(self, *, key: str, name: str, email: str, layout: str, path: str,
              content_hash: str, grader_version: str, seed: int | None, started_at: float,
              wall_s: float, report: GradeReport, notes: str = "") -> None:
        """One grading, all or nothing."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM tests WHERE key = ?", (key,))
            db.execute("INSERT OR REPLACE INTO submissions VALUES "
                       "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (key, name, email, layout, path, content_hash, grader_version, seed,
                        started_at, started_at + wall_s, wall_s, status_of(report), report.score,
                        report.max_score, report.output, report.isolation,
                        notes or report.unreadable))
            db.executemany("INSERT INTO tests VALUES (?,?,?,?,?,?,?,?,?)", [
                (key, t.number, t.name, t.score, t.max_score, t.status, t.output, t.visibility,
                 json.dumps(t.tags)) for t in report.tests])
            db.execute("INSERT INTO gradings (key, content_hash, grader_version, run, "
                       "finished_at) VALUES (?,?,?,?,?)",
                       (key, content_hash, grader_version, self.run_id, time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def keys(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT key FROM submissions ORDER BY key")]

    def grading_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT key, COUNT(*) FROM gradings GROUP BY key"))

    def stored(self, key: str) -> Stored:
        row = self.db.execute(
            "SELECT key, name, email, layout, path, content_hash, grader_version, seed, wall_s, "
            "status, notes, output, isolation FROM submissions WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        tests = [TestResult(name, number, score, max_score, output, json.loads(tags or "[]"),
                            visibility)
                 for number, name, score, max_score, output, visibility, tags in self.db.execute(
                     "SELECT number, name, score, max_score, output, visibility, tags FROM tests "
                     "WHERE key = ?", (key,))]
        tests.sort(key=lambda t: tuple(int(x) for x in t.number.split(".")))
        status = row[9]
        report = GradeReport(row[1] or row[0], tests, row[8] or 0.0, row[11] or "", row[12] or "",
                             failed=status == "grader_error",
                             unreadable=(row[10] or "") if status == "unreadable" else "")
        return Stored(*row[:11], report=report)

    def all(self) -> list[Stored]:
        return [self.stored(k) for k in self.keys()]
