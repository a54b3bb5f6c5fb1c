"""The course file: points, parts, budget and late policy, read once and checked; the default
file is the README's table."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from autograder.course import DEFAULT, Course, CourseError, load
from autograder.gradescope import KIT, late_note
from autograder.spec import numbered
from homework.rnn_lstm import HOMEWORK

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def suites():
    return HOMEWORK.suites(HOMEWORK.seed)


def table(suites) -> dict[str, float]:
    return {n: t.points for _, t, n in numbered(suites)}


def course_file(tmp_path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


def test_the_default_course_file_is_the_readmes_table(suites):
    assert DEFAULT.is_file() and "course.toml" in KIT
    configured = load(DEFAULT).configure(suites)
    assert table(configured) == table(suites) and sum(table(configured).values()) == 100


def test_points_and_parts_are_configured_by_test_number(tmp_path, suites):
    course = load(course_file(tmp_path, '[grading]\nparts = [1, 4, 7]\n'
                                        '[points]\n"7.1" = 10\n"4.3" = 0.5\n'))
    got = table(course.configure(suites))
    assert {n.split(".")[0] for n in got} == {"1", "4", "7"}
    assert got["7.1"] == 10 and got["4.3"] == 0.5 and got["4.7"] == table(suites)["4.7"]
    assert table(suites)["7.1"] == 6  # the homework's own suites are left as they were


@pytest.mark.parametrize("text, message", [
    ('[points]\n"9.9" = 1\n', "names 9.9, which no test has"),
    ('[points]\n"1.1" = "two"\n', "1.1 must be a number"),
    ('[points]\n"1.1" = -1\n', "1.1 must be a number >= 0"),
    ('[grading]\nparts = "1,2"\n', "parts must be a list of part numbers"),
    ('[grading]\nbudget_s = true\n', "budget_s must be a number"),
    ('[policy]\ndue = 2026-12-01\n', "due must be a string"),
    ('[grading\n', "is not valid TOML"),
], ids=["unknown-test", "points-text", "points-negative", "parts-text", "budget-bool",
        "due-date-literal", "bad-toml"])
def test_a_mistake_in_the_course_file_names_the_key_and_what_was_expected(tmp_path, suites,
                                                                          text, message):
    with pytest.raises(CourseError, match=message):
        load(course_file(tmp_path, text)).configure(suites)


def test_part_7s_thresholds_and_budget_come_from_the_course_file(tmp_path):
    course = load(course_file(tmp_path, '[homework]\npart7_full_credit_mse = 0.02\n'
                                        'part7_no_credit_mse = 0.12\npart7_max_steps = 800\n'
                                        'part7_timeout_s = 60\n'))
    (long,) = [s for s in course.suites(HOMEWORK, 1) if s.part == 7]
    (case,) = long.cases
    assert case.request.config.max_steps == 800 and case.timeout_s == 60
    assert case.request.config.stop_below == pytest.approx(0.01)  # half the full-credit MSE
    thresholds = case.judge.args[-1]
    assert thresholds.credit(0.02) == 1 and thresholds.credit(0.12) == 0
    assert 0 < thresholds.credit(0.05) < 1
    (default,) = [s for s in Course().suites(HOMEWORK, 1) if s.part == 7]
    assert default.cases[0].request.config.max_steps == 1500
    assert default.cases[0].judge.args[-1].credit(0.02) < 1


@pytest.mark.parametrize("text, message", [
    ('[homework]\npart7_steps = 10\n', "sets part7_steps, which rnn_lstm does not have"),
    ('[homework]\npart7_max_steps = 2.5\n', "part7_max_steps must be a whole number"),
    ('[homework]\npart7_max_steps = 1\n', "part7_max_steps must be a whole number from 10"),
    ('[homework]\npart7_full_credit_mse = "low"\n', "part7_full_credit_mse must be a number"),
    ('[homework]\npart7_full_credit_mse = 0.1\npart7_no_credit_mse = 0.05\n',
     "must be below part7_no_credit_mse"),
    ('homework = 3\n', r"\[homework\] must be a table"),
], ids=["unknown", "fraction", "too-few-steps", "text", "crossed-thresholds", "not-a-table"])
def test_a_mistake_in_a_homework_setting_names_it_and_what_was_expected(tmp_path, text, message):
    with pytest.raises(CourseError, match=message):
        load(course_file(tmp_path, text)).suites(HOMEWORK, 1)


def test_the_course_file_comes_from_the_option_then_the_environment(tmp_path, monkeypatch):
    env = course_file(tmp_path, '[grading]\nbudget_s = 123\n')
    monkeypatch.setenv("RNNGRADE_COURSE", str(env))
    assert load().budget_s == 123
    other = tmp_path / "other.toml"
    other.write_text('[grading]\nbudget_s = 7\n')
    assert load(other).budget_s == 7


def test_a_late_submission_gets_the_course_due_date_and_policy():
    course = Course(due="2026-12-01T00:00:00+00:00", late="10% off per day.")
    meta = {"created_at": "2026-12-02T10:00:00+00:00",
            "assignment": {"due_date": "2026-12-05T00:00:00+00:00"}}  # Gradescope's: later
    assert late_note(meta, course=course) == ("Submitted after the due date "
                                              "(2026-12-01T00:00:00+00:00). 10% off per day.")
    assert late_note(meta, now=datetime.fromisoformat("2026-11-30T00:00:00+00:00"),
                     course=course) == ""


def test_rnngrade_parts_shows_the_configured_table(tmp_path):
    path = course_file(tmp_path, '[grading]\nparts = [7]\n[points]\n"7.1" = 10\n')
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "--width", "300", "parts", "--course",
                           str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "7.1    10" in proc.stdout and "4.3" not in proc.stdout
    assert f"total  10 points  (as {path} configures them)" in proc.stdout
    assert "part7_max_steps = 1500  # Part 7: training steps at most" in proc.stdout


def test_a_course_file_naming_an_unknown_test_stops_the_grading_before_it_starts(tmp_path):
    path = course_file(tmp_path, '[points]\n"9.9" = 1\n')
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "grade",
                           str(ROOT / "examples" / "submissions" / "solution.py"), "--course",
                           str(path), "--results", str(tmp_path / "r.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "names 9.9, which no test has" in proc.stderr
    assert not (tmp_path / "r.json").exists()  # nothing was graded
