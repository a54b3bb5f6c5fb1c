"""nbgrader write-back: our hidden scores in a course's gradebook.db, read back through nbgrader's
own API and ``nbgrader export``; the TA's grades of written answers left alone."""
from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

import pytest

from autograder.results import GradeReport, TestResult, failsafe_report
from autograder.spec import numbered
from classroom.gradebook import Gradebook
from classroom.nbgrader_sync import LEDGER, WriteBackError, course_config, write_back
from homework.rnn_lstm import HOMEWORK

nbgrader_api = pytest.importorskip("nbgrader.api", reason="nbgrader is in the 'assign' extra")

ROOT = Path(__file__).resolve().parents[2]
A = "rnn_lstm"  # the assignment, and its one notebook


@functools.cache
def hidden_tests() -> list[tuple[str, str, float]]:
    """(number, name, points) of every hidden test."""
    return [(n, t.name, t.points) for _, t, n in numbered(HOMEWORK.suites(HOMEWORK.seed))]


def report(student: str, scores: dict[str, float] | None = None, **kwargs) -> GradeReport:
    """Every hidden test at full marks but those in ``scores`` ({"4.2": 0.5}: half its points),
    then the staff-only seed test, as the judge writes them."""
    scores = scores or {}
    tests = [TestResult(name, n, round(scores.get(n, 1.0) * points, 4), points, "", [])
             for n, name, points in hidden_tests()]
    tests.append(TestResult("Grading seed (staff only)", "0.9", 0.0, 0.0, "seed 1", [], "hidden"))
    return GradeReport(student, tests, **kwargs)


def by_part(r: GradeReport) -> dict[int, float]:
    """{part: score}, Parts 1-7."""
    parts: dict[int, float] = {}
    for t in r.tests:
        part = int(t.number.split(".")[0])
        parts[part] = parts.get(part, 0.0) + t.score
    return {p: round(s, 4) for p, s in parts.items() if p}


def class_book(out: Path, reports: dict[str, GradeReport]) -> list:
    with Gradebook(out / "gradebook.sqlite") as book:
        for key, r in reports.items():
            book.store(key=key, name=key, email="", layout="nbgrader", path=f"submitted/{key}",
                       content_hash=f"hash-{key}", grader_version="test", seed=1, started_at=0.0,
                       wall_s=1.0, report=r)
        return book.all()


def db(course: Path):
    return nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=A)


def grades(course: Path) -> dict[str, dict[str, tuple]]:
    """{student: {cell: (auto_score, manual_score, extra_credit, needs_manual_grade)}}."""
    with db(course) as gb:
        return {s.id: {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                       for g in gb.find_submission_notebook(A, A, s.id).grades}
                for s in gb.students if any(x.name == A for x in s.submissions)}


def hidden_points() -> dict[int, float]:
    return by_part(report("full"))


def api_course(tmp_path: Path, points: dict[int, float]) -> Path:
    """A course's gradebook as ``nbgrader generate_assignment`` leaves it (its cells, by
    nbgrader's API), without building the notebook: one test cell per part, a written answer."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "{A}"\n')
    with db(course) as gb:
        gb.add_assignment(A)
        gb.add_notebook(A, A)
        for part, most in points.items():
            gb.add_grade_cell(f"test_q{part}", A, A, max_score=most, cell_type="code")
        gb.add_grade_cell("w1", A, A, max_score=0.0, cell_type="markdown")
    return course


def test_write_back_explains_a_course_without_a_gradebook(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(WriteBackError, match="run `nbgrader generate_assignment rnn_lstm` in"):
        write_back(tmp_path, A, [])
    assert not (tmp_path / "gradebook.db").exists()  # nbgrader's API would have made an empty one


def test_write_back_explains_a_gradebook_without_the_assignment(tmp_path):
    course = api_course(tmp_path, {1: 11.0})
    out = class_book(tmp_path / "out", {"alice": report("alice")})
    with pytest.raises(WriteBackError, match="'hw2' is not in the course's gradebook: run "
                                             "`nbgrader generate_assignment hw2`"):
        write_back(course, "hw2", out)


def test_course_config_reads_the_db_url_as_nbgrader_does_and_leaves_the_environment(tmp_path,
                                                                                   monkeypatch):
    monkeypatch.delenv("RNNGRADE_FAST", raising=False)
    (tmp_path / "nbgrader_config.py").write_text(
        'import os\nc = get_config()\nc.CourseDirectory.course_id = "c1"\n'
        f'c.CourseDirectory.db_url = "sqlite:///{tmp_path}/other.db"\n'
        'os.environ.setdefault("RNNGRADE_FAST", "1")\n')
    assert course_config(tmp_path) == (f"sqlite:///{tmp_path}/other.db", "c1")
    assert "RNNGRADE_FAST" not in os.environ
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert course_config(tmp_path)[0] == f"sqlite:///{tmp_path.resolve()}/gradebook.db"


def test_write_back_refuses_a_course_whose_cells_have_other_points_and_writes_nothing(tmp_path):
    points = hidden_points()
    course = api_course(tmp_path, {**{p: points[p] for p in range(1, 7)}, 4: points[4] - 1})
    out = class_book(tmp_path / "out", {"alice": report("alice")})
    with pytest.raises(WriteBackError, match=f"Part 4's hidden tests are worth {points[4]:g} "
                                             f"points but the course's cell test_q4 is worth"):
        write_back(course, A, out)
    with db(course) as gb:
        assert gb.students == []


def test_write_back_skips_what_was_not_graded_normally_and_says_why(tmp_path):
    points = hidden_points()
    course = api_course(tmp_path, {p: points[p] for p in range(1, 7)})
    out = class_book(tmp_path / "out", {
        "alice": report("alice"),
        "bob": report("bob", {n: 0.0 for n in ("1.1", "2.1")}, unreadable="invalid notebook JSON"),
        "carol": failsafe_report("carol", RuntimeError("boom")),
        "alice~2": report("alice~2", {"3.1": 0.0})})
    summary = write_back(course, A, out)
    assert summary.written == ("alice",)
    reasons = dict(summary.skipped)
    assert set(reasons) == {"bob", "carol", "alice~2"}
    assert "unreadable (invalid notebook JSON): look at it by hand" in reasons["bob"]
    assert "the grader failed" in reasons["carol"]
    assert "second submission" in reasons["alice~2"]
    assert set(grades(course)) == {"alice"}
    assert any("Part 7 (6 points) has no cell test_q7" in n for n in summary.notes)


def test_write_back_keeps_a_score_a_ta_gave_by_hand_and_rewrites_its_own(tmp_path):
    points = hidden_points()
    course = api_course(tmp_path, points)  # with a Part 7 cell, as a course could have
    first = class_book(tmp_path / "out", {"bob": report("bob", {"4.2": 0.5})})
    summary = write_back(course, A, first)
    assert summary.notes == () and summary.created_students == ("bob",)
    assert grades(course)["bob"]["test_q7"][1] == points[7]
    with db(course) as gb:  # what formgrader's API does when a TA types a score
        grade = gb.find_grade("test_q4", A, A, "bob")
        grade.manual_score, grade.needs_manual_grade = 20.0, False
        gb.db.commit()
    regraded = class_book(tmp_path / "out", {"bob": report("bob", {"4.2": 0.5, "5.1": 0.0})})
    summary = write_back(course, A, regraded)
    ours = by_part(regraded[0].report)
    assert summary.kept == (f"bob test_q4: 20 by hand (rnngrade {ours[4]:g})",)
    bob = grades(course)["bob"]
    assert bob["test_q4"][1] == 20.0
    assert bob["test_q5"][1] == ours[5] < points[5]  # ours, regraded
    assert bob["w1"] == (None, None, None, True)
    assert LEDGER in os.listdir(course)


@pytest.mark.slow
def test_write_back_puts_our_scores_in_a_real_nbgrader_course_next_to_the_written_answers(
        nbgrader_course, tmp_path):
    import nbformat

    from authoring.build import fill, read_master, solutions

    course, nbgrader = nbgrader_course

    def exported() -> dict[str, dict]:
        (course / "grades.csv").unlink(missing_ok=True)
        nbgrader("export")
        with open(course / "grades.csv") as f:
            return {row["student_id"]: row for row in csv.DictReader(f)}

    nbgrader("generate_assignment", A, "--force")
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    filled = fill(released, solutions(read_master(ROOT / "assignments" / A)))
    for student, nb in [("alice", filled), ("bob", released), ("carol", filled)]:
        folder = course / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A}.ipynb")
    nbgrader("autograde", A, "--student=carol")  # the public tests, in carol's kernel
    with db(course) as gb:  # a TA grades carol's written answer w2 in formgrader
        grade = gb.find_grade("w2", A, A, "carol")
        grade.manual_score, grade.extra_credit, grade.needs_manual_grade = 0.0, 1.0, False
        gb.db.commit()
    carol_before = grades(course)["carol"]
    ours = {"alice": report("alice"),
            "bob": report("bob", {"2.1": 0.0, "4.2": 0.5, "4.3": 0.25, "7.1": 0.0}),
            "carol": report("carol", {"6.5": 0.4}),
            "dave": report("dave", unreadable="not a notebook")}
    stored = class_book(tmp_path / "out", ours)

    summary = write_back(course, A, stored)
    assert summary.written == ("alice", "bob", "carol")
    assert summary.created_students == summary.created_submissions == ("alice", "bob")
    assert [key for key, _ in summary.skipped] == ["dave"]
    cells = {p: f"test_q{p}" for p in range(1, 7)}
    after = grades(course)
    for student in summary.written:
        want = by_part(ours[student])
        assert {c: after[student][c][1] for c in cells.values()} == \
            {c: want[p] for p, c in cells.items()}, student
        assert all(after[student][c][3] is False for c in cells.values())
        with db(course) as gb:  # nbgrader's own total: score = manual_score where set
            assert gb.find_submission(A, student).code_score == pytest.approx(
                sum(want[p] for p in cells))
    assert all(after["carol"][c][0] is not None for c in cells.values())  # its autograde kept
    written_answers = ("w1", "w2", "w3", "w4")
    assert {w: after["carol"][w] for w in written_answers} == \
        {w: carol_before[w] for w in written_answers}  # the TA's grades, untouched
    assert after["carol"]["w2"][1:] == (0.0, 1.0, False)
    assert all(after[s][w][1] is None for s in ("alice", "bob") for w in written_answers)
    rows = exported()
    assert set(rows) == {"alice", "bob", "carol"}
    for student in rows:
        want = sum(v for p, v in by_part(ours[student]).items() if p in cells)
        extra = 1.0 if student == "carol" else 0.0
        assert float(rows[student]["score"]) == pytest.approx(want + extra), student
        assert float(rows[student]["max_score"]) == 94.0  # Part 7 has no cell in the course

    ledger = (course / LEDGER).read_text()
    again = write_back(course, A, stored)  # idempotent
    assert again.written == summary.written and again.created_students == () and not again.kept
    assert grades(course) == after and (course / LEDGER).read_text() == ledger

    nbgrader("autograde", A, "--student=alice", "--force")  # a later autograde keeps ours
    autograded = grades(course)["alice"]
    assert {c: autograded[c][1] for c in cells.values()} == \
        {c: after["alice"][c][1] for c in cells.values()}
    assert all(autograded[c][0] == after["alice"][c][1] for c in cells.values())  # public: full
    assert float(exported()["alice"]["score"]) == 94.0
    assert all(autograded[c][3] is True for c in cells.values())  # nbgrader: "review it"
    write_back(course, A, stored)  # clears the flag again, and changes nothing else
    final = grades(course)
    assert {c: final["alice"][c] for c in cells.values()} == \
        {c: (autograded[c][0], *after["alice"][c][1:]) for c in cells.values()}
    assert {s: final[s] for s in ("bob", "carol")} == {s: after[s] for s in ("bob", "carol")}
