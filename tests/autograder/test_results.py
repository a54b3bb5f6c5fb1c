"""autograder.results: Gradescope's results.json, written once and whole; the failsafe report."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from autograder.results import (FAILSAFE_MESSAGE, GradeReport, TestResult, failsafe_report,
                                to_gradescope, write_results)

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "autograder" /
                     "gradescope_schema.json").read_text())


def sample() -> GradeReport:
    return GradeReport("s.py", [TestResult("a", "1.1", 2.0, 2.0, "ok", ["f", "Part 1"]),
                                TestResult("b", "1.2", 0.5, 3.0, "1/6 checks passed.", ["f"])],
                       1.23456, "Graded in a sandbox.", "sandbox: as user x")


def test_results_follow_gradescopes_schema_and_add_up():
    data = to_gradescope(sample())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 2.5 and data["execution_time"] == 1.235
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]


def test_results_are_written_whole_and_readable_by_all(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_results(sample(), path)
    write_results(sample(), path)  # replaced, not appended
    assert json.loads(path.read_text())["score"] == 2.5
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary left


def test_a_report_that_cannot_be_written_leaves_the_old_file_alone(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    write_results(sample(), path)
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        write_results(sample(), path)
    assert json.loads(path.read_text())["score"] == 2.5
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_the_failsafe_hides_the_traceback_from_the_student():
    try:
        raise RuntimeError("internal detail")
    except RuntimeError as e:
        data = to_gradescope(failsafe_report("s.py", e))
    jsonschema.validate(data, SCHEMA)
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    assert visible[0]["output"] == FAILSAFE_MESSAGE and "internal detail" not in data["output"]
    assert "internal detail" in [t for t in data["tests"] if t["visibility"] == "hidden"][0]["output"]


def test_quiet_prints_one_line_and_the_default_the_table():
    import io

    from rich.console import Console

    from autograder.results import print_report

    out = {}
    for quiet in (True, False):
        buffer = io.StringIO()
        print_report(sample(), Console(file=buffer, width=120), quiet=quiet)
        out[quiet] = buffer.getvalue()
    assert out[True] == "s.py: 2.50 / 5  failed: 1.2\n"
    assert len(out[False]) > len(out[True]) and "1/6 checks passed." in out[False]


def test_terminal_escapes_in_student_text_never_reach_a_terminal_or_results():
    evil = "ok\x1b[2J\x1b[H100.00 / 100\r\u202emodnar\x07"
    report = GradeReport(f"s{evil}.py", [TestResult("a", "1.1", 0.0, 2.0, evil, ["f"])], 1.0,
                         f"Your code printed:\n{evil}\n")
    text = json.dumps(to_gradescope(report))
    for bad in ("\x1b", "\r", "\u202e", "\x07"):
        assert bad not in report.output and bad not in report.tests[0].output
        assert bad not in report.submission and json.dumps(bad)[1:-1] not in text
    assert "100.00 / 100" in report.tests[0].output  # the text stays, harmless


def summary_text(reports) -> str:
    from rich.console import Console

    from autograder.results import print_summary
    console = Console(record=True, width=200)
    print_summary(reports, console)
    return console.export_text()


def test_the_summary_never_cuts_the_failed_list_silently_and_flags_what_was_not_graded():
    many = GradeReport("many.py", [TestResult(f"t{i}", f"4.{i}", 0.0, 1.0, "0/1 checks passed.", [])
                                   for i in range(1, 15)] +
                       [TestResult("train", "7.1", 0.0, 6.0, "0/1 checks passed.", [])])
    unread = GradeReport("empty.zip", [TestResult("a", "1.1", 0.0, 2.0, "x", [])],
                         unreadable="expected one notebook (.ipynb) or one .py file")
    text = summary_text([many, unread])
    assert "4.1, 4.2" in text and "..., 7.1 (15 failed)" in text
    assert "NOT GRADED: expected one notebook" in text
    assert "1 submission(s) not graded normally: empty.zip" in text


def test_long_feedback_is_cut_at_a_word_with_an_ellipsis():
    from autograder.results import shortened
    assert shortened("a" * 10 + " bb cc", 14) == "a" * 10 + " bb ..."
    assert shortened("short", 14) == "short"
