"""nbgrader write-back: the hidden-test scores in the course's own ``gradebook.db``.

``rnngrade grade FOLDER --out OUTDIR --nbgrader COURSE_DIR`` ends with ``write_back``, which writes
through nbgrader's own ``Gradebook`` API (``nbgrader.api``), so ``nbgrader export`` and formgrader
show our scores next to the TA's grades of the written answers.

    rnngrade                        the nbgrader course that ``rnngrade build`` writes
    Part N's tests ("N.1", ...)     the locked autograded test cell ``test_qN`` (question qN is
                                    Part N), worth Part N's hidden points: if not, refused
    Part N's hidden score           that cell's ``Grade.manual_score``; needs_manual_grade off
    Part 7 (training, 6 points)     no test_q7 cell today: not written, said in ``notes``
                                    (grades.csv has it); a course with a test_q7 cell gets it
    written answers, extra_credit,  never touched
    auto_score

Why ``manual_score``. nbgrader's ``Grade.score`` is manual_score when set, else auto_score.
``nbgrader autograde`` runs the *public* tests in the student's own kernel (a progress check that
student code can fake) and rewrites auto_score on every run, never manual_score ("Graders can
override the autograder grades": its ``SaveAutoGrades``). Our hidden score is the grade of
record, so it goes where a later autograde cannot replace it; in auto_score the next autograde
would silently put the public score back (94 for code that fails hidden tests). Formgrader shows
it in the cell's score box, nbgrader's public score as the box's placeholder. A later autograde
flags those cells "needs manual grade" (its rule when a manual score exists); the next write-back
clears the flag. Part 7 has no cell because a 6-point cell would make ``nbgrader autograde``'s
total 100 where the build promises 94 (Parts 1-6, public tests): the build's call, not ours.

A TA's hand stays. ``COURSE_DIR/rnngrade_writeback.json`` lists every score we wrote into each
cell, saved before the commit (so a crash never makes our own score look like a TA's). A test
cell whose manual_score is set and none of those was scored by a person (in formgrader, or before
any write-back): it is kept, and listed in ``kept``.

Who is written: submissions graded normally (status ``graded``); unreadable ones, grader errors
and a key ``id~2`` (a second submission of one student) are skipped with the reason, for the TA
to look at by hand. A student missing from the db is added (``update_or_create_student``) and a
missing submission made (``add_submission``, which mirrors the assignment's cells as autograde's
does: a later ``nbgrader autograde`` fills in auto_score and keeps ours). The assignment must be
in the db (``nbgrader generate_assignment`` puts it there), else nothing is written. Each
student's grades are one transaction. The db is the one nbgrader uses when run in COURSE_DIR:
``CourseDirectory.db_url`` and ``course_id`` from the nbgrader_config.py files it reads
(Jupyter's config folders, then COURSE_DIR's), by default ``sqlite:///COURSE_DIR/gradebook.db``.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

CELL = re.compile(r"^test_q(\d+)$")  # build_nbgrader: one test cell per question, qN is Part N
LEDGER = "rnngrade_writeback.json"
TOL = 1e-6  # scores are rounded to 4 decimals


class WriteBackError(RuntimeError):
    """The course cannot take the scores: nothing was written."""


@dataclass(frozen=True)
class WriteBackSummary:
    db_url: str  # the gradebook written
    written: tuple[str, ...] = ()  # students whose hidden scores are now in it
    created_students: tuple[str, ...] = ()  # were not in nbgrader's students: added
    created_submissions: tuple[str, ...] = ()  # had no submission there (no autograde yet): made
    skipped: tuple[tuple[str, str], ...] = ()  # (student, why): nothing of theirs written
    kept: tuple[str, ...] = ()  # "bob test_q4: 20 by hand (rnngrade 12.5)": a person's score kept
    notes: tuple[str, ...] = ()  # about the course: parts without a cell, cells without a part

    def lines(self) -> list[str]:
        """What to tell the TA."""
        out = [f"nbgrader: {len(self.written)} student(s) written to {self.db_url}"]
        if self.created_students:
            out.append("added to nbgrader's students: " + ", ".join(self.created_students))
        if self.created_submissions:
            out.append("submissions made (nbgrader autograde has not run for them): "
                       + ", ".join(self.created_submissions))
        out += [f"not written: {key}: {why}" for key, why in self.skipped]
        out += [f"kept a score given by hand: {k}" for k in self.kept]
        return out + list(self.notes)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL


def part_scores(report) -> dict[int, tuple[float, float]]:
    """{part: (score, max)} of the parts worth points ("0.9", the seed, is staff only)."""
    parts: dict[int, list[float]] = {}
    for t in report.tests:
        head = t.number.split(".")[0]
        if head.isdigit():
            total = parts.setdefault(int(head), [0.0, 0.0])
            total[0] += t.score
            total[1] += t.max_score
    return {p: (round(s, 4), round(m, 4)) for p, (s, m) in parts.items() if m > 0}


def skip_reason(stored) -> str:
    if "~" in stored.key:
        return "a second submission of one student (see the grading's problems): keep one"
    if stored.status != "graded":
        what = "the grader failed on it" if stored.status == "grader_error" else \
            f"unreadable ({stored.notes or stored.report.unreadable})"
        return f"not graded normally, {what}: look at it by hand"
    return ""


def course_config(course_dir: Path) -> tuple[str, str]:
    """(db_url, course_id) as nbgrader run in ``course_dir`` reads them."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    saved = dict(os.environ)  # rnngrade's nbgrader_config.py sets RNNGRADE_FAST: not for us
    try:
        for folder in [*reversed(jupyter_config_path()), str(course_dir)]:  # lowest first
            try:
                config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
            except ConfigFileNotFound:
                pass
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if "root" not in config.CourseDirectory:
        config.CourseDirectory.root = str(course_dir.resolve())
    coursedir = CourseDirectory(config=config)
    return coursedir.db_url, coursedir.course_id


def course_cells(gb, assignment: str) -> dict[int, tuple[str, str, float]]:
    """{part: (notebook, cell, points)} of the assignment's test cells in the course's db."""
    from nbgrader.api import MissingEntry

    try:
        found = gb.find_assignment(assignment)
    except MissingEntry:
        raise WriteBackError(f"the assignment {assignment!r} is not in the course's gradebook: "
                             f"run `nbgrader generate_assignment {assignment}` in the course "
                             f"folder first") from None
    cells = {int(m.group(1)): (nb.name, cell.name, cell.max_score)
             for nb in found.notebooks for cell in nb.grade_cells
             if cell.cell_type == "code" and (m := CELL.match(cell.name))}
    if not cells:
        raise WriteBackError(f"the assignment {assignment!r} has no test cell test_q1, test_q2, "
                             "...: is it the course that `rnngrade build` wrote?")
    return cells


def check_points(cells: dict, graded: dict) -> list[str]:
    """Refuse a course built with other points; notes on parts without a cell and back."""
    notes, worth = [], {}
    for parts in graded.values():
        for part, (_, most) in parts.items():
            worth.setdefault(part, most)
    for part, most in sorted(worth.items()):
        if part not in cells:
            notes.append(f"Part {part} ({most:g} points) has no cell test_q{part} in the course: "
                         "not in nbgrader's totals (grades.csv has it)")
        elif not close(cells[part][2], most):
            raise WriteBackError(f"Part {part}'s hidden tests are worth {most:g} points but the "
                                 f"course's cell {cells[part][1]} is worth {cells[part][2]:g}: "
                                 "rebuild the course (rnngrade build) with the same points")
    return notes + [f"cell {name} has no Part {part} in the grading: left as it is"
                    for part, (_, name, _) in sorted(cells.items()) if worth and part not in worth]


def write_back(course_dir: Path, assignment: str, stored: list) -> WriteBackSummary:
    """Write each graded submission's hidden score of Part N into cell test_qN of the course's
    nbgrader gradebook, as ``Grade.manual_score`` (see the module's docstring). ``stored``: the
    class gradebook's records (``classroom.gradebook.Stored``), keyed by nbgrader student id."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
        from sqlalchemy.exc import SAWarning
    except ImportError:
        raise WriteBackError("writing to an nbgrader gradebook needs nbgrader: "
                             "pip install 'rnngrade[assign]'") from None
    course_dir = Path(course_dir)
    db_url, course_id = course_config(course_dir)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).is_file():
        raise WriteBackError(f"no nbgrader gradebook at {db_url[len('sqlite:///'):]}: run "
                             f"`nbgrader generate_assignment {assignment}` in {course_dir} first")
    skipped, graded = [], {}
    for s in sorted(stored, key=lambda s: s.key):
        why = skip_reason(s)
        if why:
            skipped.append((s.key, why))
        else:
            graded[s.key] = part_scores(s.report)
    ledger_path = course_dir / LEDGER
    ledger = json.loads(ledger_path.read_text()) if ledger_path.is_file() else {}
    history = ledger.setdefault("written", {})  # "assignment/notebook/cell/student": [scores]
    new_students, new_submissions, kept, plans = [], [], [], {}
    with Gradebook(db_url, course_id=course_id) as gb:
        cells = course_cells(gb, assignment)
        notes = check_points(cells, graded)
        for key, parts in graded.items():  # first what to write, and the ledger ...
            try:
                gb.find_student(key)
            except MissingEntry:
                gb.update_or_create_student(key)
                new_students.append(key)
            try:
                gb.find_submission(assignment, key)
            except MissingEntry:
                with warnings.catch_warnings():  # nbgrader's own autoflush notes, harmless
                    warnings.simplefilter("ignore", SAWarning)
                    gb.add_submission(assignment, key)
                new_submissions.append(key)
            try:
                plans[key] = plan(gb, assignment, key, cells, parts, history, kept)
            except MissingEntry as e:  # a db that nbgrader itself would not leave like this
                skipped.append((key, f"nbgrader's gradebook lacks part of it ({e})"))
        save(ledger_path, ledger)
        for todo in plans.values():  # ... then the grades, one transaction a student
            for grade, ours in todo:
                grade.manual_score, grade.needs_manual_grade = ours, False
            try:
                gb.db.commit()
            except BaseException:
                gb.db.rollback()
                raise
    return WriteBackSummary(db_url, tuple(k for k, todo in plans.items() if todo),
                            tuple(new_students), tuple(new_submissions), tuple(skipped),
                            tuple(kept), tuple(notes))


def plan(gb, assignment: str, key: str, cells: dict, parts: dict, history: dict,
         kept: list) -> list:
    """[(grade, our score)] for one student; cells a person scored go to ``kept`` instead, and
    every score to write into ``history`` (the ledger)."""
    todo = []
    for part, (notebook, cell, _) in sorted(cells.items()):
        if part not in parts:
            continue
        grade, ours = gb.find_grade(cell, notebook, assignment, key), parts[part][0]
        ours_before = history.setdefault(f"{assignment}/{notebook}/{cell}/{key}", [])
        now = grade.manual_score
        if now is not None and not any(close(now, v) for v in [ours, *ours_before]):
            kept.append(f"{key} {cell}: {now:g} by hand (rnngrade {ours:g})")
            continue
        if not any(close(ours, v) for v in ours_before):
            ours_before.append(ours)
        todo.append((grade, ours))
    return todo


def save(path: Path, ledger: dict) -> None:
    """Atomically: a crash leaves the old ledger or the new one."""
    text = json.dumps(ledger, indent=1, sort_keys=True)
    if path.is_file() and path.read_text() == text:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rnngrade-writeback-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # as readable as the course's other files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
