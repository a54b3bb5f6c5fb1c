"""End to end: a generated class of 33 submissions in three layouts, graded by the command a TA
types, in parallel; resumed after ``kill -9``; on a local Dask cluster. Parts 1-6 (Part 7's
training is the same code for every layout: tests/homework/test_scores.py holds it)."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classroom.gradebook import Gradebook

from .classes import make_class

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PARTS_1_6 = "1,2,3,4,5,6"


def rnngrade(*args, timeout=1800, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnngrade", "grade", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory):
    """Each layout graded once, 2 at a time, Parts 1-6: layout -> OUTDIR."""
    outs = {}
    for layout, path in (("flat", klass.flat), ("nbgrader", klass.nbgrader),
                         ("gradescope", klass.gradescope)):
        out = tmp_path_factory.mktemp(f"out-{layout}")
        proc = rnngrade(path, "--out", out, "--jobs", 2, "--only", PARTS_1_6)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outs[layout] = (out, proc.stdout)
    return outs


def expected_1_6(scores: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in scores.items() if not k.startswith("7.")}


def same(got: dict[str, float], want: dict[str, float]) -> bool:
    """The CSV's scores (2 decimals) are the grader's."""
    got = {k: v for k, v in got.items() if k != "total"}
    return got.keys() == want.keys() and all(abs(got[k] - want[k]) <= 0.0051 for k in want)


def csv_scores(out: Path) -> dict[str, dict[str, float]]:
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:5] == ["Name", "SID", "Email", "Total Score", "Status"]
    numbers = [h.split(" ", 1)[0] for h in head[5:]]
    return {r[1]: {n: float(v) for n, v in zip(numbers, r[5:]) if v} | {"total": float(r[3])}
            for r in rows[1:]}


@pytest.mark.parametrize("layout", ["flat", "nbgrader", "gradescope"])
def test_every_score_in_grades_csv_is_the_single_submission_grade(graded, klass, layout):
    out, _ = graded[layout]
    got = csv_scores(out)
    assert set(got) == set(klass.expected[layout])
    for key, scores in klass.expected[layout].items():
        want = expected_1_6(scores)
        assert same(got[key], want), key
        assert got[key]["total"] == pytest.approx(sum(want.values()), abs=0.01)
        results = json.loads((out / "results" / f"{key}.json").read_text())
        assert results["score"] == pytest.approx(sum(want.values()), abs=1e-3)
        assert "not hidden (/" not in results["output"]  # every folder the class lives in hid


def test_layout_problems_are_reported_and_nothing_is_overwritten(graded, klass):
    flat_out, flat_stdout = graded["flat"]
    assert "two submissions for student solution" in flat_stdout
    assert {"solution", "solution~2"} <= set(csv_scores(flat_out))
    gs_out, gs_stdout = graded["gradescope"]
    assert "2 students named 'Alex Kim'" in gs_stdout
    names = {r["SID"]: r["Name"] for r in csv.DictReader(open(gs_out / "grades.csv"))}
    assert names["20260000"] == names["20260001"] == "Alex Kim"


def test_a_rerun_skips_what_is_graded_and_regrades_what_changed(graded, klass, tmp_path):
    out, _ = graded["nbgrader"]
    again = rnngrade(klass.nbgrader, "--out", out, "--jobs", 2, "--only", PARTS_1_6)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 to grade, 10 already graded" in again.stdout
    with Gradebook(out / "gradebook.sqlite") as book:
        assert set(book.grading_counts().values()) == {1}


def grading_counts(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=30) as c:
            return dict(c.execute("SELECT key, COUNT(*) FROM gradings GROUP BY key"))
    except sqlite3.OperationalError:  # the schema not made yet
        return {}


def in_session(sid: int) -> list[int]:
    """The live processes of session ``sid`` (the killed run's, and its children's)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        if entry.isdigit() and fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry))
    return found


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_run_stopped_halfway_and_rerun_grades_every_submission_exactly_once(klass, tmp_path,
                                                                              how):
    out, db = tmp_path / "out", tmp_path / "out" / "gradebook.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "rnngrade", "grade", str(klass.flat),
                             "--out", str(out), "--jobs", "2", "--only", "1"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while len(grading_counts(db)) < 4 and proc.poll() is None:
            assert time.monotonic() < deadline, "no grading stored in 15 minutes"
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be stopped halfway"
        if how == signal.SIGINT:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
            assert proc.wait(timeout=300) == 130
        else:
            proc.send_signal(how)
            proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if how == signal.SIGKILL:  # the judge processes notice and stop (their sandboxes closed)
        deadline = time.monotonic() + 180
        while in_session(proc.pid):
            assert time.monotonic() < deadline, f"left running: {in_session(proc.pid)}"
            time.sleep(1.0)
    first = grading_counts(db)
    assert 4 <= len(first) < 13
    with sqlite3.connect(db) as c:  # no half-written grading: each stored row has its tests
        per_key = dict(c.execute("SELECT s.key, COUNT(t.number) FROM submissions s "
                                 "LEFT JOIN tests t ON t.key = s.key GROUP BY s.key"))
    assert set(per_key) == set(first) and set(per_key.values()) == {4}  # 1.1-1.3 and the seed
    rerun = rnngrade(klass.flat, "--out", out, "--jobs", 2, "--only", "1")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"{13 - len(first)} to grade, {len(first)} already graded" in rerun.stdout
    counts = grading_counts(db)
    assert len(counts) == 13 and set(counts.values()) == {1}
    scores = csv_scores(out)
    for key, want in klass.expected["flat"].items():
        part1 = {k: v for k, v in want.items() if k.startswith("1.")}
        assert same(scores[key], part1), key


def test_the_dask_path_grades_the_class_with_the_same_scores(klass, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        proc = rnngrade(klass.gradescope, "--out", tmp_path / "out", "--dask",
                        cluster.scheduler_address, "--only", "1,4")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "on the Dask cluster" in proc.stdout
    scores = csv_scores(tmp_path / "out")
    assert set(scores) == set(klass.expected["gradescope"])
    for key, want in klass.expected["gradescope"].items():
        chosen = {k: v for k, v in want.items() if k.split(".")[0] in ("1", "4")}
        assert same(scores[key], chosen), key


def test_nbgrader_write_back_from_the_command_shows_our_scores_through_nbgraders_api(
        graded, klass, nbgrader_course):
    """The TA's last step: the class already graded, ``--nbgrader COURSE`` writes the scores
    into the course's gradebook.db (the rerun grades nothing)."""
    api = pytest.importorskip("nbgrader.api", reason="nbgrader is in the 'assign' extra")
    course, nbgrader = nbgrader_course
    shutil.copytree(klass.nbgrader / "submitted", course / "submitted")
    nbgrader("generate_assignment", "rnn_lstm", "--force")
    out, _ = graded["nbgrader"]
    proc = rnngrade(course, "--out", out, "--only", PARTS_1_6, "--nbgrader", course)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 to grade, 10 already graded" in proc.stdout
    assert "10 student(s) written" in proc.stdout
    with api.Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="rnn_lstm") as gb:
        for key, scores in klass.expected["nbgrader"].items():
            nb = gb.find_submission_notebook("rnn_lstm", "rnn_lstm", key)
            for part in range(1, 7):
                want = sum(v for k, v in scores.items() if k.split(".")[0] == str(part))
                assert nb.grades and gb.find_grade(f"test_q{part}", "rnn_lstm", "rnn_lstm",
                                                   key).score == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize("layout", ["flat", "gradescope"])
def test_the_class_report_is_written_with_the_grading_and_its_counts_are_the_gradebooks(
        graded, klass, layout):
    from .test_reports import check_report_counts

    out, stdout = graded[layout]
    assert "class report:" in stdout
    for page in ["report.html", "similarity.html"] + [f"feedback/{k}.html"
                                                     for k in klass.expected[layout]]:
        assert (out / page).is_file(), page
    before = (out / "report.html").read_text()
    rebuilt = subprocess.run([sys.executable, "-m", "rnngrade", "report", str(out)], cwd=ROOT,
                             capture_output=True, text=True, timeout=900)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert (out / "report.html").read_text().count("<svg") == before.count("<svg") > 0
    check_report_counts(out)
    if layout == "flat":  # a failed part's mistake, named for the lecturer with who made it
        assert "the gates in the order f, i, g, o" in before
