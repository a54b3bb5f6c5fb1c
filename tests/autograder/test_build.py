"""``rnngrade build``: the student notebook (otter), the nbgrader course and the filled notebook,
built from assignments/rnn_lstm and checked the way students, TAs and nbgrader will use them."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from authoring.build import answer_cells, leaks, read_master, solution_lines, solutions
from homework.rnn_lstm.parts import PARTS
from autograder.spec import numbered
from homework.rnn_lstm import HOMEWORK
from reference.tasks import adding_problem, latch_task, make_generator

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = ROOT / "assignments" / "rnn_lstm"
QUESTIONS = {"q1": 1, "q2": 2, "q3": 3, "q4": 4, "q5": 5, "q6": 6}  # otter question -> part
FAST = {**os.environ, "RNNGRADE_FAST": "1",  # the notebook's experiments shrink to a few steps
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def master():
    return read_master(ASSIGNMENT)


def code_lines(nb) -> set[str]:
    return {ln.strip() for c in nb.cells if c.cell_type == "code" for ln in c.source.splitlines()}


def run_all(notebook: Path, tmp_path: Path) -> tuple[Path, nbformat.NotebookNode, dict]:
    """A copy of ``notebook`` run top to bottom with no error outside the public tests' outputs;
    returns it, and each question's ``grader.check`` output."""
    path = tmp_path / "rnn_lstm.ipynb"
    shutil.copy(notebook, path)
    nb = execute(path)
    assert outputs(nb, "error") == []
    results = check_results(nb)
    assert set(results) == set(QUESTIONS)
    return path, nb, results


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel, as a student's Restart and Run All."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=FAST)
    nbformat.write(nb, path)
    return nb


def outputs(nb, kind: str) -> list[tuple[int, dict]]:
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o.output_type == kind]


def check_results(nb) -> dict[str, str]:
    """grader.check("qN") outputs, by question."""
    found = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.source.startswith("grader.check("):
            text = "".join(o.get("data", {}).get("text/plain", "") for o in c.outputs)
            found[c.source.split('"')[1]] = text
    return found


def rnngrade(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "--width", "200", *args],
                          capture_output=True, text=True, timeout=900, cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_build_writes_the_student_notebook_the_nbgrader_course_and_the_filled_notebook(
        built_homework):
    assert built_homework.student.name == "rnn_lstm.ipynb"
    assert (built_homework.nbgrader / "source" / "rnn_lstm" / "rnn_lstm.ipynb").is_file()
    assert (built_homework.nbgrader / "nbgrader_config.py").is_file()
    assert built_homework.instructor.is_file()
    manifest = json.loads(built_homework.manifest.read_text())
    names = {n for p in PARTS for n in p.names}
    assert {a["part"] for a in manifest["answer_cells"]} == names


def test_student_notebook_holds_no_solution_line_and_no_hidden_test(built_homework, master):
    student = nbformat.read(built_homework.student, as_version=4)
    assert leaks(student, master) == []
    lines = code_lines(student)
    for i, name in answer_cells(master):
        body = solution_lines(master.cells[i].source)
        assert len(body) >= 2, f"{name} has no solution body to strip"
        assert not [ln for ln in body if len(ln) > 12 and ln in lines], name
    tests = student.metadata["otter"]["tests"]
    assert set(tests) == set(QUESTIONS)
    assert all("hidden=False" in t and "hidden=True" not in t for t in tests.values())
    text = built_homework.student.read_text()
    for marker in ("from reference", "import autograder", "CaseBuilder", "HIDDEN_SEED"):
        assert marker not in text


def test_leak_check_finds_a_solution_line_left_in(built_homework, master):
    student = nbformat.read(built_homework.student, as_version=4)
    i, name = next((i, n) for i, n in answer_cells(student) if n == "LSTMCell")
    student.cells[i].source += "\n        c = f * c + i * g"
    assert any("LSTMCell" in p for p in leaks(student, master))


def test_nbgrader_leak_check_finds_a_solution_line_in_a_test_cell(master):
    from authoring.build_nbgrader import as_released, nbgrader_notebook

    nb = nbgrader_notebook(master)
    assert leaks(as_released(nb), master) == []
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                and c.cell_type == "code")
    test.source += "\ny_hat, h = rnn_forward(x, h0, params)"
    assert any("rnn_bptt" in p for p in leaks(as_released(nb), master))


def test_every_answer_cell_carries_the_engines_metadata_in_both_flavours(built_homework):
    student = nbformat.read(built_homework.student, as_version=4)
    source = nbformat.read(built_homework.nbgrader / "source/rnn_lstm/rnn_lstm.ipynb", 4)
    want = [n for p in PARTS for n in p.names if n != "LSTM" or p.number == 4]
    assert sorted(n for _, n in answer_cells(student)) == sorted(want)
    assert sorted(n for _, n in answer_cells(source)) == sorted(want)
    for i, _ in answer_cells(source):
        meta = source.cells[i].metadata["nbgrader"]
        assert meta["solution"] and not meta["grade"]
        assert "### BEGIN SOLUTION" in source.cells[i].source


def test_question_points_are_the_hidden_tests_points_of_their_part(master):
    import yaml

    points = {}
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            q = yaml.safe_load(cell.source.split("\n", 1)[1])
            points[q["name"]] = q["points"]
    hidden = {}
    for _, test, number in numbered(HOMEWORK.suites(HOMEWORK.seed)):
        part = int(number.split(".")[0])
        hidden[part] = hidden.get(part, 0) + test.points
    assert {q: points[q] for q in QUESTIONS} == {q: hidden[p] for q, p in QUESTIONS.items()}
    assert sum(hidden.values()) == 100 and hidden[7] == 6  # Part 7: hidden training only


def test_notebook_tasks_make_the_same_data_as_the_reference(master):
    cell = next(c for c in master.cells if "def adding_problem" in c.source)
    ns = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(cell.source, "notebook", "exec"), ns)
    torch.testing.assert_close(ns["adding_problem"](50, 20, make_generator(3)),
                               adding_problem(50, 20, make_generator(3)))
    torch.testing.assert_close(ns["latch_task"](50, 20, make_generator(4)),
                               latch_task(50, 20, make_generator(4), lag="random"))


def test_solutions_are_the_bundled_solution_file(master):
    text = (ROOT / "examples" / "submissions" / "solution.py").read_text()
    for name, source in solutions(master).items():
        assert source.strip() in text, f"{name}: run examples/make_submissions.py"


@pytest.mark.slow
def test_empty_student_notebook_runs_top_to_bottom_and_scores_zero(built_homework, tmp_path):
    path, nb, results = run_all(built_homework.student, tmp_path)
    assert all("NotImplementedError" in text for text in results.values())
    skipped = "".join(o["text"] for _, o in outputs(nb, "stream"))
    assert skipped.count("Plot skipped: finish") == 4
    out = rnngrade("grade", str(path), "--quiet", cwd=tmp_path)
    assert "rnn_lstm.ipynb: 0.00 / 100" in out


@pytest.mark.slow
def test_filled_notebook_passes_public_tests_plots_and_scores_full_marks(built_homework,
                                                                        tmp_path):
    path, nb, results = run_all(built_homework.instructor, tmp_path)
    assert all("All test cases passed" in text for text in results.values()), results
    images = [i for i, o in outputs(nb, "display_data") if "image/png" in o["data"]]
    assert len(set(images)) == 4  # RNN gradients, RNN vs LSTM, training curves, latch vs T
    zips = list(tmp_path.glob("rnn_lstm_*.zip"))  # the export cell's submission zip
    assert len(zips) == 1
    out = rnngrade("grade", str(path), "--quiet", cwd=tmp_path)
    assert "rnn_lstm.ipynb: 100.00 / 100" in out
    out = rnngrade("grade", str(zips[0]), "--quiet", cwd=tmp_path)
    assert "100.00 / 100" in out


@pytest.mark.slow
def test_nbgrader_autograde_gives_the_filled_notebook_full_marks_and_the_empty_one_zero(
        nbgrader_course, tmp_path, master):
    course, nbgrader = nbgrader_course

    nbgrader("generate_assignment", "rnn_lstm", "--force")
    released = nbformat.read(course / "release/rnn_lstm/rnn_lstm.ipynb", as_version=4)
    assert leaks(released, master) == []
    for student, nb in [("full", fill_nb(released, master)), ("empty", released)]:
        folder = course / "submitted" / student / "rnn_lstm"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "rnn_lstm.ipynb")
    nbgrader("autograde", "rnn_lstm", "--force")
    nbgrader("export")
    with open(course / "grades.csv") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(grades["full"]["max_score"]) == 94.0  # Parts 1-6; Part 7 is trained, hidden
    assert float(grades["full"]["score"]) == 94.0
    assert float(grades["empty"]["score"]) == 0.0
    rnngrade("grade", str(course / "submitted"), "--quiet", "--results", "out", cwd=tmp_path)
    scores = {p.stem: json.loads(p.read_text())["score"] for p in (tmp_path / "out").glob("*.json")}
    assert scores == {"full": 100.0, "empty": 0.0}


def fill_nb(nb, master):
    from authoring.build import fill

    return fill(nb, solutions(master))


def test_build_command_writes_dist_and_says_where(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "build", str(ASSIGNMENT),
                           "--out", str(tmp_path / "dist")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "student notebook (otter)" in proc.stdout
    assert (tmp_path / "dist" / "student" / "rnn_lstm.ipynb").is_file()


def test_the_notebooks_question_points_follow_the_course_file(tmp_path):
    """otter's question (its test file's points) and nbgrader's locked test cell carry the part's
    hidden-test points as the course configures them; a part left out carries none."""
    course = tmp_path / "course.toml"
    course.write_text('[grading]\nparts = [1, 2, 3, 4, 5, 7]\n[points]\n"4.3" = 0.5\n')
    default = {n: t.points for _, t, n in numbered(HOMEWORK.suites(HOMEWORK.seed))}
    q4 = sum(p for n, p in default.items() if n.startswith("4.")) - default["4.3"] + 0.5
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "build", str(ASSIGNMENT),
                           "--out", str(tmp_path / "dist"), "--course", str(course)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    student = nbformat.read(tmp_path / "dist" / "student" / "rnn_lstm.ipynb", as_version=4)
    tests = student.metadata["otter"]["tests"]
    assert f"points = {q4:g}\n" in tests["q4"] and "points = 0\n" in tests["q6"]
    assert "points = 11\n" in tests["q1"]
    course_nb = nbformat.read(tmp_path / "dist" / "nbgrader" / "source" / "rnn_lstm" /
                              "rnn_lstm.ipynb", as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in course_nb.cells if c.metadata.get("nbgrader", {}).get("grade")
              and c.metadata["nbgrader"]["grade_id"].startswith("test_")}
    assert graded["test_q4"] == q4 and graded["test_q6"] == 0 and graded["test_q2"] == 13


def test_build_command_explains_a_folder_without_a_source(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rnngrade", "build", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "expected jupytext percent scripts named NN_title.py" in proc.stderr


def public_test(master, name: str):
    """A public test function of the notebook, by name."""
    cell = next(c for c in master.cells if c.cell_type == "code" and f"def {name}(" in c.source)
    ns: dict = {}
    exec(compile(cell.source, "public test", "exec"), ns)
    return ns[name]


def submission_module(path: Path):
    import types
    module = types.ModuleType("student")
    exec(compile(path.read_text().split("\n# Exploration")[0], str(path), "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("test,target,mistake,words", [
    ("test_lstm_cell_shapes_and_zero_state", "LSTMCell", "mistakes/lstmcell_tanh_gates.py",
     "differs from nn.LSTMCell's"),
    ("test_lstm_parameters_and_shapes", "LSTM", "mistakes/lstm_gates_fiog.py",
     "differs from nn.LSTM's"),
    ("test_gru_cell_shape_and_zero_state", "GRUCell", "mistakes/gru_z_swapped.py",
     "differs from nn.GRUCell's"),
], ids=["lstm_cell", "lstm", "gru_cell"])
def test_public_checks_pass_correct_code_and_catch_a_wrong_gate_with_a_helpful_message(
        master, test, target, mistake, words):
    check = public_test(master, test)
    check(getattr(submission_module(ROOT / "examples/submissions/solution.py"), target), torch)
    wrong = getattr(submission_module(ROOT / "tests/fixtures" / mistake), target)
    with pytest.raises(AssertionError, match=words):
        check(wrong, torch)
