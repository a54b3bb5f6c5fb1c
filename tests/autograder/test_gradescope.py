"""Gradescope: run_autograder end to end on a tree laid out like the container, and the zip."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from autograder.gradescope import build_zip, late_note
from tests.autograder.test_cli import (ATTACKS, EXAMPLES, HIDDEN_MARKERS, ROOT, SCHEMA,
                                       failed_targets)

RUN_AUTOGRADER = ROOT / "scripts" / "gradescope" / "run_autograder"


def container(tmp_path: Path, submission: Path, due: str = "2099-01-01T00:00:00+00:00") -> Path:
    """/autograder as Gradescope lays it out: source/, submission/, results/, metadata."""
    root = tmp_path / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    shutil.copy(submission, root / "submission" / submission.name)
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 1, "created_at": "2026-11-28T12:00:00+00:00",
        "assignment": {"due_date": due, "title": "Recurrent networks"}, "users": []}))
    return root


def run_autograder(root: Path) -> dict:
    env = dict(os.environ, RNNGRADE_ROOT=str(root), RNNGRADE_VENV=sys.prefix)
    proc = subprocess.run(["bash", str(RUN_AUTOGRADER)], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


def student_notebook(built, tmp_path: Path, edit: tuple[str, str, str] | None = None) -> Path:
    """The built student notebook filled with the solutions, as a student submits it; ``edit``
    = (part, old, new) puts one mistake into one answer."""
    import nbformat

    from authoring.build import fill, read_master, solutions

    answers = solutions(read_master(ROOT / "assignments" / "rnn_lstm"))
    if edit:
        part, old, new = edit
        assert old in answers[part]
        answers[part] = answers[part].replace(old, new)
    nb = fill(nbformat.read(built.student, as_version=4), answers)
    path = tmp_path / "rnn_lstm.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_reference_filled_notebook_gets_full_marks(tmp_path, built_homework):
    root = container(tmp_path, student_notebook(built_homework, tmp_path))
    results = run_autograder(root)
    assert results["score"] == 100
    if os.geteuid() == 0:
        assert stat.S_IMODE((root / "source").stat().st_mode) == 0o700
        assert "as user rnngrade-sandbox" in results["output"]


@pytest.mark.slow
def test_buggy_notebook_loses_points_in_the_right_part(tmp_path, built_homework):
    bug = ("GRUCell", "return (1 - z) * n + z * hx", "return z * n + (1 - z) * hx")
    root = container(tmp_path, student_notebook(built_homework, tmp_path, bug))
    results = run_autograder(root)
    assert failed_targets(results) == {"GRUCell"}
    assert "Likely cause: z and 1 - z are swapped" in json.dumps(results)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="file isolation needs the user switch (root)")
def test_attack_gains_nothing_and_leaks_nothing(tmp_path):
    root = container(tmp_path, ATTACKS / "read_files.py")
    results = run_autograder(root)
    assert results["score"] == 98  # rnn_param_count, which calls the thief, scores zero
    text = json.dumps(results)
    assert not any(marker in text for marker in HIDDEN_MARKERS)


def test_empty_submission_still_gets_a_valid_results_json(tmp_path):
    root = container(tmp_path, EXAMPLES / "solution.py")
    (root / "submission" / "solution.py").unlink()
    results = run_autograder(root)
    assert results["score"] == 0
    assert "found nothing" in results["output"]


def test_late_submission_is_noted_from_the_metadata():
    meta = {"created_at": "2026-12-02T10:00:00+00:00",
            "assignment": {"due_date": "2026-12-01T23:59:00+00:00"}}
    assert late_note(meta).startswith("Submitted after the due date")
    assert late_note(meta, now=datetime.fromisoformat("2026-12-01T12:00:00+00:00")) == ""
    assert late_note({}) == ""
    naive = {"created_at": "2026-12-02T10:00:00", "assignment": {"due_date": "2026-12-01T23:59:00+00:00"}}
    assert late_note(naive) == ""  # unparseable as a comparison: no note, no crash


def test_upload_zip_has_the_two_scripts_at_its_root_and_no_tests_or_examples(tmp_path):
    zpath = build_zip(tmp_path / "autograder.zip")
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert script in names and modes[script] & 0o111, script
    assert {"autograder/judge.py", "reference/lstm.py", "homework/rnn_lstm/suites_lstm.py",
            "rnngrade/cli.py", "scripts/setup.sh"} <= set(names)
    assert not any(n.startswith(("tests", "examples", ".git", "authoring", "source/"))
                   or "__pycache__" in n for n in names)


def test_dockerfile_runs_the_setup_script_that_ci_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "scripts/gradescope/setup.sh" in dockerfile
    assert "scripts/setup.sh" in (ROOT / "scripts/gradescope/setup.sh").read_text()
    assert "scripts/test.sh" in (ROOT / ".ci/run").read_text()
    assert "scripts/setup.sh" in (ROOT / "scripts/test.sh").read_text()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope's setup runs as root")
def test_upload_zip_installs_with_its_own_setup_sh_and_grades(tmp_path, built_homework):
    """The zip path end to end, as CI can run it: unpack, run its setup.sh into a fresh venv
    (apt skipped, torch from pip's default source), then its run_autograder."""
    import tempfile

    root = container(tmp_path, student_notebook(built_homework, tmp_path))
    with zipfile.ZipFile(build_zip(tmp_path / "autograder.zip")) as zf:
        zf.extractall(root / "source")  # as Gradescope does: the zip's contents into source/
    for script in ("setup.sh", "run_autograder"):  # zipfile drops the modes Gradescope keeps
        (root / "source" / script).chmod(0o755)
    venv = Path(tempfile.mkdtemp(prefix="rnngrade-zip-venv-", dir="/tmp")) / "venv"
    venv.parent.chmod(0o755)  # the sandbox user must reach the venv's python
    try:
        # apt runs as on Gradescope where there is apt-get (Debian/Ubuntu); torch comes from
        # pip's default source (PyTorch's CPU index is out of reach here).
        env = dict(os.environ, RNNGRADE_SOURCE=str(root / "source"),
                   RNNGRADE_SKIP_APT="" if shutil.which("apt-get") else "1",
                   RNNGRADE_TORCH_INDEX="", RNNGRADE_VENV=str(venv))
        setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env,
                               capture_output=True, text=True, timeout=900)
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert stat.S_IMODE((root / "source").stat().st_mode) & 0o077 == 0
        env = dict(os.environ, RNNGRADE_ROOT=str(root), RNNGRADE_VENV=str(venv))
        run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        jsonschema.validate(results, SCHEMA)
        assert results["score"] == 100
        # the same upload from a plain (non-editable) install of that source, built elsewhere
        pip = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps",
                              "--force-reinstall", str(root / "source")], capture_output=True,
                             text=True, timeout=900)
        assert pip.returncode == 0, pip.stdout + pip.stderr
        again = subprocess.run([str(venv / "bin/rnngrade"), "gradescope", "build", "--out",
                                str(tmp_path / "again.zip")], cwd=tmp_path, capture_output=True,
                               text=True, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        with zipfile.ZipFile(tmp_path / "autograder.zip") as first, \
                zipfile.ZipFile(tmp_path / "again.zip") as second:
            assert {n: first.read(n) for n in first.namelist()} == \
                {n: second.read(n) for n in second.namelist()}
    finally:
        shutil.rmtree(venv.parent, ignore_errors=True)
