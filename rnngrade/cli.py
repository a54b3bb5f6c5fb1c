"""``rnngrade``: grade submissions, list the homework's parts and points.

The application: it wires the engine (``autograder``), this homework (``homework.rnn_lstm``) and
the authoring tools (``authoring``); none of them imports it.

    rnngrade grade SUBMISSION [--results results.json]   a notebook, .py, zip, or a folder of them
    rnngrade grade CLASS --out OUTDIR [--jobs N]         a whole class: gradebook, CSV, reports
    rnngrade report OUTDIR                               rebuild a class's reports from its gradebook
    rnngrade parts                                       the parts and the point table
    rnngrade build assignments/rnn_lstm [--out dist]     the student notebook, nbgrader course
    rnngrade gradescope run [--root /autograder]         what Gradescope's run_autograder runs
    rnngrade gradescope build [--out autograder.zip]     the zip for Gradescope's upload
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from rich.console import Console

from autograder import __version__
from autograder.results import (GradeReport, failsafe_report, print_report, print_summary,
                                write_results)
from autograder.spec import numbered
from autograder.submission import submissions_in
from homework.rnn_lstm import HOMEWORK, QUESTIONS

def grade_one(path: Path, budget, console: Console, args, hidden: tuple) -> GradeReport:
    """One submission, on cases from ``--seed`` or a fresh seed of its own."""
    from rnngrade.grading import grade_path

    start = time.monotonic()
    try:
        return grade_path(path, budget, only=args.only, seed=args.seed, course=args.course,
                          hidden=hidden)
    except Exception as e:  # the grader's own failure: a valid results.json all the same
        console.print(f"[red]autograder error on {path.name}: {type(e).__name__}: {e}[/]")
        return failsafe_report(path.name, e, time.monotonic() - start)


def load_course(args) -> bool:
    """``args.course`` read (and its points checked against the tests) into a ``Course``;
    False, with the reason printed, when it cannot be used."""
    from autograder.course import CourseError, load

    try:
        args.course = load(args.course)
        if args.course.points or args.course.settings:  # checked against the suites
            args.course.suites(HOMEWORK, HOMEWORK.seed)
    except CourseError as e:
        print(f"rnngrade: {e}", file=sys.stderr)
        return False
    return True


def result_names(paths: list[Path]) -> dict[Path, str]:
    """``NAME.json`` for each submission; the full file name where two share a stem."""
    stems = [p.stem for p in paths]
    return {p: f"{p.stem if stems.count(p.stem) == 1 else p.name}.json" for p in paths}


def cmd_grade(args) -> int:
    from autograder.judge import Budget

    if not load_course(args):
        return 2
    args.budget = args.budget or args.course.budget_s or 600.0

    console = Console(stderr=False, width=args.width or (None if sys.stdout.isatty() else 120))
    path = Path(args.submission)
    budget = Budget(request_s=args.request_timeout, total_s=args.budget, threads=args.threads)
    if not path.exists():
        console.print(f"[red]no such file or folder: {path}[/]")
        report = failsafe_report(path.name, FileNotFoundError(str(path)))
        if args.results:
            write_results(report, Path(args.results))
        return 2
    if args.out:
        from rnngrade.classgrade import grade_class

        return grade_class(args, console)
    paths = submissions_in(path)
    several = len(paths) > 1
    names = result_names(paths)
    # the worker reads neither the class's other submissions nor any results
    hidden = tuple(p.resolve() for p in ([path] if path.is_dir() else [path.parent])) + \
        ((Path(args.results).resolve().parent if not several else
          Path(args.results).resolve(),) if args.results else ())
    reports = []
    for p in paths:
        report = grade_one(p, budget, console, args, hidden)
        reports.append(report)
        if args.results:  # written before anything is printed: a closed pipe loses nothing
            out = Path(args.results)
            write_results(report, out / names[p] if several else out)
        quiet = args.quiet or (several and not args.details)  # a class: one line each
        print_report(report, console, quiet=quiet)
        if not quiet:
            console.print(f"[dim]{report.execution_time:.1f} s[/]")
        if "reduced" in report.isolation and len(reports) == 1:
            console.print("[yellow]warning: not running as root, so student code runs as you; "
                          "isolation is reduced (grade as root, e.g. in the Gradescope image, "
                          "for the full sandbox)[/]")
    if several:
        print_summary(reports, console)
    return 0


def cmd_report(args) -> int:
    from rnngrade.classgrade import write_reports

    try:
        path = write_reports(Path(args.outdir))
    except FileNotFoundError as e:
        print(f"rnngrade report: {e}", file=sys.stderr)
        return 2
    print(f"class report: {path}\nsimilarity:   {Path(args.outdir) / 'similarity.html'}\n"
          f"feedback:     {Path(args.outdir) / 'feedback'}/ID.html")
    return 0


def cmd_parts(args) -> int:
    if not load_course(args):
        return 2
    course = args.course
    console = Console(width=args.width)
    for part in HOMEWORK.parts:
        console.print(f"Part {part.number}: {part.title} ({', '.join(part.names)})")
    console.print()
    total = 0.0
    for _, test, number in numbered(course.suites(HOMEWORK, HOMEWORK.seed)):
        console.print(f"  {number:>5}  {test.points:>4g}  {test.name}")
        total += test.points
    console.print(f"  total  {total:g} points"
                  + (f"  (as {course.source} configures them)" if course.source else ""),
                  highlight=False)
    values = course.values(HOMEWORK)
    if HOMEWORK.settings:
        console.print("\nSettings a course file's [homework] table may change:")
    for setting in HOMEWORK.settings:
        value = values.get(setting.name, setting.default)
        console.print(f"  {setting.name} = {value:g}"
                      + ("" if setting.name not in values else f"  (default {setting.default:g})")
                      + f"  # {setting.help}", highlight=False, markup=False)
    return 0


def question_points(course) -> dict[str, float]:
    """Each notebook question's points: its part's hidden tests, as ``course`` configures them
    (a part the course leaves out: 0)."""
    per_part: dict[int, float] = {}
    for suite in course.suites(HOMEWORK, HOMEWORK.seed):
        per_part[suite.part] = per_part.get(suite.part, 0.0) + sum(t.points for t in suite.tests)
    return {q: per_part.get(part, 0.0) for q, part in QUESTIONS.items()}


def cmd_build(args) -> int:
    from authoring.build import BuildError, build

    if not load_course(args):
        return 2
    try:
        built = build(Path(args.assignment), Path(args.out), question_points(args.course))
    except BuildError as e:
        print(f"rnngrade build: {e}", file=sys.stderr)
        return 1
    print(f"student notebook (otter):  {built.student}\n"
          f"nbgrader course:           {built.nbgrader}\n"
          f"with the solutions filled: {built.instructor}  (instructors only)\n"
          f"answer cells:              {built.manifest}")
    return 0


def cmd_gradescope(args) -> int:
    from autograder import gradescope

    if args.action == "build":
        out = gradescope.build_zip(Path(args.out))
        print(f"wrote {out}: upload it as the autograder (setup.sh and run_autograder at its root)")
        return 0
    report = gradescope.run(HOMEWORK, Path(args.root), args.budget)
    print(f"{report.score:.2f} / {report.max_score:g} -> {Path(args.root) / 'results/results.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="rnngrade", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"rnngrade {__version__}")
    ap.add_argument("--width", type=int, default=None, help=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a submission, or every submission in a folder")
    g.add_argument("submission", help="a .ipynb, .py or .zip, or a folder of them")
    g.add_argument("--results", help="write Gradescope's results.json here (a folder, one "
                                     "NAME.json each, when grading several submissions)")
    g.add_argument("--request-timeout", type=float, default=60.0,
                   help="seconds for one request to the student's code (default 60)")
    g.add_argument("--budget", type=float, default=None,
                   help="seconds for one whole submission (default: the course file's, or 600)")
    g.add_argument("--course", default=None, help="the course file (default $RNNGRADE_COURSE, "
                   "or course.toml beside the packages): points, parts, budget, due date")
    g.add_argument("--threads", type=int, default=1, help="torch threads in the worker")
    g.add_argument("--only", default="", help="grade only these parts: names or part "
                                              "numbers, comma-separated (e.g. LSTM,5)")
    g.add_argument("--seed", type=int, default=None,
                   help="draw the hidden cases from this seed (default: a fresh one each "
                        "grading, recorded in the staff-only test to regrade the same way)")
    g.add_argument("--quiet", action="store_true", help="one line per submission: the score and the failed tests")
    g.add_argument("--details", action="store_true", help="grading a folder: every submission's "
                   "full table too (default: one line each, then the summary)")
    c = g.add_argument_group("a whole class (with --out)")
    c.add_argument("--out", help="grade a class folder (flat, nbgrader's submitted/, a "
                   "Gradescope export folder or zip, Canvas downloads) into OUTDIR: "
                   "gradebook.sqlite, grades.csv, results/ID.json; a rerun resumes")
    c.add_argument("--jobs", type=int, default=None,
                   help="gradings at a time (default: the CPU cores available)")
    c.add_argument("--regrade", action="store_true",
                   help="grade again what the gradebook already holds")
    c.add_argument("--dask", metavar="SCHEDULER", default=None,
                   help="send each grading to this Dask scheduler (tcp://host:8786)")
    c.add_argument("--nbgrader", metavar="COURSE_DIR", default=None,
                   help="write the scores into this nbgrader course's gradebook.db")
    c.add_argument("--assignment", default=HOMEWORK.name,
                   help=f"the nbgrader assignment name (default {HOMEWORK.name})")
    g.set_defaults(func=cmd_grade)
    r = sub.add_parser("report", help="rebuild a graded class's report.html, similarity.html "
                                      "and feedback pages from its gradebook alone")
    r.add_argument("outdir", help="the OUTDIR of `rnngrade grade CLASS --out OUTDIR`")
    r.set_defaults(func=cmd_report)
    p = sub.add_parser("parts", help="list the homework's parts and the point table")
    p.add_argument("--course", default=None, help="the course file (default $RNNGRADE_COURSE, "
                   "or course.toml beside the packages)")
    p.set_defaults(func=cmd_parts)
    b = sub.add_parser("build", help="build the homework from its source: the otter student "
                                     "notebook, an nbgrader course, the filled notebook")
    b.add_argument("assignment", help="the assignment folder, e.g. assignments/rnn_lstm")
    b.add_argument("--out", default="dist", help="output folder (default dist)")
    b.add_argument("--course", default=None, help="the course file whose points the notebook's "
                   "questions show and nbgrader's test cells carry (default: as for grade)")
    b.set_defaults(func=cmd_build)
    gs = sub.add_parser("gradescope", help="run inside Gradescope, or build its upload zip")
    gs.add_argument("action", choices=["run", "build"])
    gs.add_argument("--root", default="/autograder", help="run: Gradescope's folder")
    gs.add_argument("--budget", type=float, default=None, help="run: seconds for the whole "
                    "submission (default $RNNGRADE_BUDGET_S or 480)")
    gs.add_argument("--out", default="autograder.zip", help="build: where to write the zip")
    gs.set_defaults(func=cmd_gradescope)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: the sandboxes are closed by their context managers
        print("rnngrade: interrupted; results written so far are kept", file=sys.stderr)
        return 130


def entry() -> None:
    """The ``rnngrade`` command: ``main``, then an exit without the interpreter's teardown (with
    torch loaded it costs 0.5 CPU-s a grading, and everything is written and closed by then);
    a thread still at work gets the ordinary exit."""
    code = main()
    sys.stdout.flush(), sys.stderr.flush()
    if all(t.daemon or t is threading.main_thread() for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
