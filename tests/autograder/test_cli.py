"""End to end: ``rnngrade grade`` on real submission files, as a separate process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from authoring.cells import SECRET_MARKERS
from rnngrade import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "submissions"
ATTACKS = ROOT / "tests" / "fixtures" / "attacks"
SCHEMA = json.loads((ROOT / "autograder" / "gradescope_schema.json").read_text())
SOLUTION = EXAMPLES / "solution.py"
HIDDEN_MARKERS = SECRET_MARKERS  # strings only the grader's hidden code contains
NO_TRAINING = ("--only", "1,2,3,4,5,6")  # Part 7 trains for seconds; tests not about it skip it

pytestmark = pytest.mark.slow


def grade(submission: Path, tmp_path: Path, *extra: str, name="results.json"):
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "--width", "200", "grade",
                           str(submission), "--results", str(out), *extra],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())
    jsonschema.validate(results, SCHEMA)
    return results, proc.stdout


def failed(results) -> dict[str, str]:
    return {t["number"]: t["output"] for t in results["tests"] if t["status"] == "failed"}


def failed_targets(results) -> set[str]:
    return {t["tags"][0] for t in results["tests"] if t["status"] == "failed"}


def solution_notebook(path: Path, metadata: bool = True) -> Path:
    """solution.py as a student notebook: one answer cell per part, plus exploratory cells."""
    text = SOLUTION.read_text()
    chunks = text.split("# Part ")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Recurrent networks"))
    nb.cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n" + chunks[0]))
    for chunk in chunks[1:]:
        cell = nbformat.v4.new_code_cell("# Part " + chunk)
        if metadata:
            cell.metadata["rnngrade"] = {"role": "answer", "part": chunk.split()[0]}
        nb.cells.append(cell)
        test = nbformat.v4.new_code_cell('grader.check("q1")\nprint(open("tests/q1.py").read())')
        if metadata:
            test.metadata["rnngrade"] = {"role": "test"}
        nb.cells.append(test)
    nb.cells.append(nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])"))
    nbformat.write(nb, path)
    return path


def test_solution_scores_full_marks(tmp_path):
    results, stdout = grade(SOLUTION, tmp_path)
    assert results["score"] == 100 and not failed(results)
    assert "solution.py: 100.00 / 100" in stdout
    assert "Graded in a sandbox: as " in results["output"]


@pytest.mark.parametrize("metadata", [True, False], ids=["with-metadata", "metadata-lost"])
def test_solution_notebook_scores_full_marks(tmp_path, metadata):
    nb = solution_notebook(tmp_path / "homework.ipynb", metadata)
    results, _ = grade(nb, tmp_path)
    assert results["score"] == 100, failed(results)
    assert ("no rnngrade metadata" in results["output"]) is not metadata


def test_zip_export_holding_the_notebook_scores_full_marks(tmp_path):
    nb = solution_notebook(tmp_path / "homework.ipynb")
    zpath = tmp_path / "homework_2026_11_28.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(nb, "homework.ipynb")
        zf.writestr("homework.pdf", b"%PDF")
    nb.unlink()
    results, _ = grade(zpath, tmp_path)
    assert results["score"] == 100


def test_buggy_example_loses_points_in_its_own_part_only(tmp_path):
    """One example through the CLI (every bundled example's scores: homework/test_scores.py)."""
    results, stdout = grade(EXAMPLES / "gru_z_swapped.py", tmp_path, *NO_TRAINING)
    assert failed_targets(results) == {"GRUCell"} and 0 < results["score"] < 100
    assert "z and 1 - z are swapped" in json.dumps(results)


def test_folder_of_submissions_grades_each_and_prints_a_summary(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("solution", "gru_z_swapped"):
        shutil.copy(EXAMPLES / f"{name}.py", folder / f"{name}.py")
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "--width", "200", "grade",
                           str(folder), "--results", str(out), *NO_TRAINING],
                          capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "2 submissions" in proc.stdout and "5.11, 5.12" in proc.stdout
    for name in ("solution", "gru_z_swapped"):
        jsonschema.validate(json.loads((out / f"{name}.json").read_text()), SCHEMA)


# -- attacks: each gains nothing and leaks nothing ------------------------------------------------
def assert_no_leak(results):
    text = json.dumps(results)
    for marker in HIDDEN_MARKERS:
        assert marker not in text, f"hidden test or reference code leaked: {marker}"


def test_patching_torch_comparisons_gains_nothing(tmp_path):
    honest, _ = grade(EXAMPLES / "gru_z_swapped.py", tmp_path, *NO_TRAINING, name="honest.json")
    attack, _ = grade(ATTACKS / "patch_torch.py", tmp_path, *NO_TRAINING)
    assert attack["score"] == honest["score"] < 100  # the patch never ran
    assert failed_targets(attack) == {"GRUCell"}
    assert "was not run: it uses .__eq__" in attack["output"]


def test_reading_the_graders_files_with_introspection_is_refused_statically(tmp_path):
    results, _ = grade(ATTACKS / "read_files.py", tmp_path, *NO_TRAINING)
    assert_no_leak(results)
    assert results["score"] == 94 - 2  # rnn_param_count, which calls the thief, scores zero
    assert "`rnn_param_count` uses import glob (through _steal)" in failed(results)["1.1"]
    assert "was not run: it uses .__code__" in results["output"]


@pytest.mark.skipif(os.geteuid() != 0, reason="file isolation needs the user switch (root)")
def test_reading_the_graders_files_by_their_path_is_denied_and_nothing_leaks(tmp_path):
    """Plain open() passes the static scan: the sandbox must stop it, wherever the checkout is."""
    import reference

    secret = Path(reference.__file__).resolve().parent / "lstm.py"
    source = SOLUTION.read_text().replace(
        "def rnn_param_count(input_size, hidden_size, output_size):\n",
        "def rnn_param_count(input_size, hidden_size, output_size):\n"
        f"    try:\n        print('STOLEN', open({str(secret)!r}).read())\n"
        "    except OSError as e:\n        print('denied:', type(e).__name__)\n", 1)
    (tmp_path / "thief.py").write_text(source)
    results, _ = grade(tmp_path / "thief.py", tmp_path, *NO_TRAINING)
    assert_no_leak(results)
    assert results["score"] == 94  # the code is correct; stealing added nothing
    # unreadable, or not there at all (a checkout under /tmp, which the worker sees empty)
    assert "denied: " in results["output"] and "STOLEN" not in results["output"]


def test_writing_results_json_and_exiting_gains_nothing(tmp_path):
    results, _ = grade(ATTACKS / "write_results.py", tmp_path, *NO_TRAINING)
    assert results["score"] == 94  # the attack's class body never ran; the homework is graded
    assert "was not run: it uses import glob" in results["output"]
    assert_no_leak(results)


@pytest.mark.parametrize("name", ["sys_exit_at_import", "os_exit_at_import"])
def test_exit_at_import_gains_nothing(tmp_path, name):
    results, _ = grade(ATTACKS / f"{name}.py", tmp_path, *NO_TRAINING)
    assert results["score"] == 94  # the exit never ran (refused statically); the rest counts
    assert "was not run: it uses" in results["output"] and "_exit" in results["output"] or \
        "sys.exit" in results["output"]


def test_infinite_loop_in_one_part_leaves_the_others_graded(tmp_path):
    results, _ = grade(ATTACKS / "infinite_loop.py", tmp_path, "--request-timeout", "15",
                       *NO_TRAINING)
    assert failed_targets(results) == {"LSTMCell"}
    assert results["score"] == 94 - 9  # Parts 1-6 are worth 94
    assert any("timed out" in out for out in failed(results).values())


def test_killing_the_parent_process_is_refused_and_costs_that_part(tmp_path):
    results, _ = grade(ATTACKS / "kill_parent.py", tmp_path, *NO_TRAINING)
    assert results["score"] == 94 - 2  # rnn_param_count tried it: refused statically, zero
    assert "import signal" in failed(results)["1.1"]


# -- the grader's own failures ----------------------------------------------------------------------
def test_grader_crash_still_writes_a_valid_results_json(tmp_path, monkeypatch):
    import autograder.judge

    def broken(*a, **k):
        raise RuntimeError("internal bug /srv/autograder/judge.py line 99")

    monkeypatch.setattr(autograder.judge, "grade", broken)
    out = tmp_path / "results.json"
    assert cli.main(["grade", str(SOLUTION), "--results", str(out)]) == 0
    results = json.loads(out.read_text())
    jsonschema.validate(results, SCHEMA)
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert "alert the course staff" in visible[0]["output"]
    assert "internal bug" not in json.dumps(visible) + results["output"]
    assert "internal bug" in hidden[0]["output"]


def test_missing_submission_exits_2_with_a_valid_results_json(tmp_path):
    out = tmp_path / "results.json"
    assert cli.main(["grade", str(tmp_path / "nope.ipynb"), "--results", str(out)]) == 2
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_bundled_examples_are_in_sync_with_their_generator():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import make_submissions
    finally:
        sys.path.pop(0)
    for path, text in make_submissions.generated().items():
        assert path.read_text() == text, f"{path.name} is stale: run examples/make_submissions.py"


def test_parts_lists_a_100_point_table(capsys):
    assert cli.main(["parts"]) == 0
    assert "total  100 points" in capsys.readouterr().out


def test_student_text_that_looks_like_markup_cannot_break_the_report(tmp_path):
    src = ("def rnn_param_count(I, H, K):\n    print('[/] [bold]not markup[/bold]')\n"
           "    raise ValueError('[/] closing tag')\n")
    (tmp_path / "[weird].py").write_text(src)
    results, stdout = grade(tmp_path / "[weird].py", tmp_path)
    assert "[/] closing tag" in failed(results)["1.1"]
    assert "[/] closing tag" in stdout


def test_hidden_cases_change_every_grading_and_repeat_with_the_seed(tmp_path):
    """What a submission prints of its inputs is no good for the next grading."""
    source = SOLUTION.read_text().replace(
        'def rnn_forward(x, h0, params):\n',
        'def rnn_forward(x, h0, params):\n    print("SEEN", float(x.sum()))\n', 1)
    (tmp_path / "peek.py").write_text(source)

    def seen(*extra):
        results, _ = grade(tmp_path / "peek.py", tmp_path, "--only", "rnn_forward", *extra)
        return [line for line in results["output"].splitlines() if line.startswith("SEEN")]

    assert seen() != seen()
    assert seen("--seed", "7") == seen("--seed", "7")


def test_two_submissions_with_one_stem_do_not_overwrite_each_other(tmp_path):
    from rnngrade.cli import result_names

    names = result_names([Path("a.py"), Path("a.ipynb"), Path("b.py")])
    assert names == {Path("a.py"): "a.py.json", Path("a.ipynb"): "a.ipynb.json",
                     Path("b.py"): "b.json"}


def test_ctrl_c_stops_with_a_line_not_a_traceback(monkeypatch, capsys):
    from rnngrade import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_parts", interrupted)
    assert cli.main(["parts"]) == 130
    assert "interrupted" in capsys.readouterr().err
