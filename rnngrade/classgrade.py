"""``rnngrade grade FOLDER --out OUTDIR``: a whole class, in parallel, resumable.

    collect (classroom.layouts)  ->  skip what the gradebook holds for the same bytes and grader
    ->  grade in parallel (classroom.pool: local judge processes, or Dask)  ->  store each grading
    in one transaction (classroom.gradebook)  ->  grades.csv, results/<id>.json, nbgrader

Only this process writes ``OUTDIR``; the judge processes return reports.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from autograder import __version__
from autograder.results import GradeReport, print_report, print_summary
from classroom.gradebook import Gradebook
from classroom.layouts import Roster, collect, content_hash
from classroom.pool import Job, available_cores, run_dask, run_local

ROOT = Path(__file__).resolve().parents[1]
GRADER_CODE = ("autograder", "homework", "reference")
PRELOAD = ("torch", "autograder.judge", "homework.rnn_lstm", "rnngrade.grading",
           "rnngrade.classgrade")


def grader_version(course_file: str = "") -> str:
    """The package version and a digest of the grader's code and the course file: a rerun
    after either changed regrades, one after nothing changed skips."""
    h = hashlib.sha256()
    if course_file:
        h.update(Path(course_file).read_bytes())
    for package in GRADER_CODE:
        for p in sorted((ROOT / package).rglob("*.py")):
            h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def grade_job(job: Job) -> GradeReport:
    """One grading in a judge process (a pool process or a Dask worker)."""
    from autograder.judge import Budget
    from autograder.results import failsafe_report
    from rnngrade.grading import grade_path

    start = time.monotonic()
    budget = Budget(request_s=job.request_s, total_s=job.total_s, threads=job.threads)
    try:
        report = grade_path(Path(job.path), budget, only=job.only, seed=job.seed,
                            course=job.course, hidden=tuple(Path(p) for p in job.hidden))
    except Exception as e:  # the grader's own failure: a row all the same
        report = failsafe_report(job.key, e, time.monotonic() - start)
    report.submission = job.key
    return report


class Feed:
    """What the TA sees: a progress bar (count, ETA, failures so far) on a terminal; one line
    per submission otherwise."""

    def __init__(self, console: Console, total: int, details: bool):
        self.console, self.details = console, details
        self.below: list[str] = []
        self.broken: list[str] = []
        self.progress = None
        if console.is_terminal and total:
            self.progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("ETA"),
                                     TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                                     console=console, transient=False)
            self.task = self.progress.add_task("grading", total=total, status="")

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def done(self, report: GradeReport) -> None:
        if report.failed or report.unreadable:
            self.broken.append(report.submission)
        elif report.score < report.max_score:
            self.below.append(report.submission)
        if self.progress:
            status = f"{len(self.below)} below full"
            if self.broken:
                status += f", [red]not graded: {escape(', '.join(self.broken[-3:]))}[/]"
            self.progress.update(self.task, advance=1, status=status)
            if self.details:
                print_report(report, self.progress.console)
        else:
            print_report(report, self.console, quiet=not self.details)


def plan(roster: Roster, book: Gradebook, version: str, regrade: bool):
    """(entries to grade with their content hash, entries already graded)."""
    todo, skipped = [], []
    for e in roster.entries:
        digest = content_hash(e.path)
        if not regrade and book.is_current(e.key, digest, version):
            skipped.append(e)
        else:
            todo.append((e, digest))
    return todo, skipped


def grade_class(args, console: Console) -> int:
    path, outdir = Path(args.submission), Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    roster = collect(path, unpack=outdir / "unpacked" if path.suffix == ".zip" else None)
    version = grader_version(args.course.source)
    workers = args.jobs or available_cores()
    # the worker reads neither the class nor the output (a folder: tmpfs covers folders only)
    hidden = tuple(str(p.resolve()) for p in (path if path.is_dir() else path.parent, outdir))
    with Gradebook(outdir / "gradebook.sqlite") as book:
        book.start_run(version, sys.argv)
        todo, skipped = plan(roster, book, version, args.regrade)
        for problem in roster.problems:
            console.print(f"[yellow]{escape(problem)}[/]")
        console.print(f"{len(roster.entries)} submissions ({_layouts(roster)}): {len(todo)} to "
                      f"grade, {len(skipped)} already graded"
                      + (f"; {workers} at a time" if todo and not args.dask else "")
                      + (f"; on the Dask cluster at {args.dask}" if args.dask else ""),
                      highlight=False)
        entries = {e.key: (e, digest) for e, digest in todo}
        jobs = [Job(e.key, str(e.path), args.seed, args.only, args.threads,
                    args.request_timeout, args.budget, hidden, args.course) for e, _ in todo]
        results = run_dask(jobs, grade_job, args.dask) if args.dask else \
            run_local(jobs, grade_job, workers, PRELOAD)
        with Feed(console, len(jobs), args.details) as feed:
            for job, report in results:
                e, digest = entries[job.key]
                book.store(key=e.key, name=e.name, email=e.email, layout=e.layout,
                           path=str(e.path), content_hash=digest, grader_version=version,
                           seed=report.seed, started_at=time.time() - report.execution_time,
                           wall_s=report.execution_time, report=report)
                feed.done(report)
        stored = [book.stored(e.key) for e in roster.entries]
    from classroom.exports import export

    written = export(stored, outdir)
    print_summary([s.report for s in stored], console)
    if args.nbgrader:
        from classroom.nbgrader_sync import WriteBackError, write_back

        try:
            summary = write_back(Path(args.nbgrader), args.assignment, stored)
        except WriteBackError as e:
            console.print(f"[red]nbgrader: {escape(str(e))}[/]")
            return 1
        for line in summary.lines():
            console.print(line, highlight=False, markup=False)
    report = write_reports(outdir)
    console.print(f"gradebook: {outdir / 'gradebook.sqlite'}; "
                  f"{', '.join(str(p) for p in written)}; {outdir / 'results'}/ID.json; "
                  f"class report: {report}; feedback pages: {outdir / 'feedback'}/ID.html",
                  highlight=False)
    return 0


def write_reports(outdir: Path) -> Path:
    """The similarity report, the class report and every feedback page, from the gradebook
    alone (``rnngrade report OUTDIR`` calls this too)."""
    from classroom.report import write_report
    from classroom.similarity import read_boilerplate, write_similarity

    skeleton = ROOT / "assignments" / "rnn_lstm"  # the code students were given
    pairs = write_similarity(outdir, read_boilerplate(skeleton) if skeleton.is_dir() else ())
    return write_report(outdir, similarity=pairs)


def _layouts(roster: Roster) -> str:
    kinds = sorted({e.layout for e in roster.entries})
    return ", ".join(kinds) or "none found"

