"""The gradebook: one transaction per grading, resumable, readable back as reports; the exports
and the pool's pieces that need no grading."""
from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from rich.console import Console

from autograder.results import GradeReport, TestResult, failsafe_report
from classroom.exports import export
from classroom.gradebook import Gradebook
from classroom.pool import Job, _cgroup_quota, available_cores, run_local


def report(name="alice", scores=(2.0, 1.5)) -> GradeReport:
    tests = [TestResult(f"test {i}", f"1.{i + 1}", s, 2.0, "ok" if s == 2 else "Likely cause: x",
                        []) for i, s in enumerate(scores)]
    tests.append(TestResult("Grading seed (staff only)", "0.9", 0.0, 0.0, "Hidden cases drawn "
                            "from seed 7; ...", ["staff"], "hidden"))
    return GradeReport(name, tests, 3.5, "Graded in a sandbox.", "sandbox")


def store(book, key="alice", digest="h1", version="v1", rep=None, **kw):
    book.store(key=key, name=kw.get("name", key), email="", layout="flat", path=f"/c/{key}.py",
               content_hash=digest, grader_version=version, seed=7, started_at=100.0,
               wall_s=3.5, report=rep or report(key))


def test_a_stored_grading_reads_back_as_the_same_report(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.start_run("v1", ["rnngrade"])
        store(book)
        back = book.stored("alice")
    assert back.status == "graded" and back.seed == 7 and back.wall_s == 3.5
    assert back.report.score == 3.5 and back.report.max_score == 4.0
    assert [t.number for t in back.report.tests] == ["0.9", "1.1", "1.2"]
    assert back.report.tests[0].visibility == "hidden"


def test_the_database_is_in_wal_mode(tmp_path):
    Gradebook(tmp_path / "g.sqlite").close()
    with sqlite3.connect(tmp_path / "g.sqlite") as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("digest, version, current", [
    ("h1", "v1", True), ("h2", "v1", False), ("h1", "v2", False)],
    ids=["same", "changed-submission", "new-grader"])
def test_only_the_same_bytes_graded_by_the_same_grader_count_as_done(tmp_path, digest, version,
                                                                    current):
    with Gradebook(tmp_path / "g.sqlite") as book:
        store(book)
        assert book.is_current("alice", digest, version) is current
        assert not book.is_current("bob", "h1", "v1")


def test_a_grader_error_is_graded_again_on_the_next_run(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        store(book, rep=failsafe_report("alice", RuntimeError("boom")))
        assert book.stored("alice").status == "grader_error"
        assert not book.is_current("alice", "h1", "v1")


def test_a_regrading_replaces_the_rows_and_is_logged(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        store(book)
        store(book, digest="h2", rep=report("alice", scores=(2.0,)))
        assert [t.number for t in book.stored("alice").report.tests] == ["0.9", "1.1"]
        assert book.grading_counts() == {"alice": 2}


def test_a_grading_that_fails_halfway_leaves_nothing_behind(tmp_path):
    bad = report("alice")
    bad.tests.append(bad.tests[0])  # the same test number twice: the insert fails
    with Gradebook(tmp_path / "g.sqlite") as book:
        with pytest.raises(sqlite3.IntegrityError):
            store(book, rep=bad)
        assert book.keys() == [] and book.grading_counts() == {}
        store(book)  # and the connection is usable afterwards
        assert book.keys() == ["alice"]


def test_grades_csv_has_one_row_per_student_and_one_column_per_scored_test(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        store(book, "bob", rep=report("bob", scores=(0.0, 2.0)))
        store(book, "alice")
        written = export(book.all(), tmp_path)
    rows = list(csv.reader(open(written[0])))
    assert rows[0] == ["Name", "SID", "Email", "Total Score", "Status", "1.1 test 0", "1.2 test 1"]
    assert rows[1:] == [["alice", "alice", "", "3.50", "graded", "2.00", "1.50"],
                        ["bob", "bob", "", "2.00", "graded", "0.00", "2.00"]]
    canvas = list(csv.reader(open(written[1])))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert (tmp_path / "results" / "alice.json").is_file()


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)"])
def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tmp_path, name):
    with Gradebook(tmp_path / "g.sqlite") as book:
        store(book, "+1+1", name=name)
        written = export(book.all(), tmp_path)
    for path in written:
        cells = [c for row in csv.reader(open(path)) for c in row]
        assert f"'{name}" in cells and name not in cells
        assert not any(c[:1] in "=+-@" for c in cells if c), cells


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None)], ids=["v2", "v2-unlimited", "v1", "v1-unlimited", "none"])
def test_the_cgroup_cpu_quota_is_read_from_v2_or_v1(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _cgroup_quota(tmp_path) == expected


def test_the_default_jobs_is_at_least_one_and_at_most_the_cpus():
    import os

    assert 1 <= available_cores() <= (os.cpu_count() or 1)


def _fake_grade(job: Job) -> GradeReport:
    if job.key == "crash":
        os_exit = __import__("os")._exit
        os_exit(3)  # the pool process dies under the grading
    return report(job.key, scores=(float(len(job.key) % 3),))


def test_the_local_pool_returns_every_grading_and_a_dead_process_as_a_grader_error():
    jobs = [Job(k, f"/c/{k}", None) for k in ("a", "bb", "crash")]
    got = {job.key: r for job, r in run_local(jobs, _fake_grade, workers=2)}
    assert set(got) == {"a", "bb", "crash"}
    assert got["bb"].score == 2.0 and not got["bb"].failed
    assert got["crash"].failed


def test_the_progress_bar_counts_and_names_what_could_not_be_graded():
    from rnngrade.classgrade import Feed

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with Feed(console, 3, details=False) as feed:
        feed.done(report("a"))
        feed.done(failsafe_report("bob", RuntimeError("x")))
        feed.done(report("c", scores=(2.0, 2.0)))
    text = out.getvalue()
    assert "3/3" in text and "bob" in text and "below full" in text
