"""autograder.submission: the student module is built statically, from the right cells."""
from __future__ import annotations

import zipfile

import nbformat
import pytest

from autograder.submission import SubmissionError, build_module

ANSWER = {"rnngrade": {"role": "answer", "part": "LSTMCell"}}
TEST = {"rnngrade": {"role": "test"}}


def notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    for source, meta in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(meta)
        nb.cells.append(cell)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Homework"))
    nbformat.write(nb, path)
    return path


def test_a_py_file_is_one_cell_kept_whole_and_in_order(tmp_path):
    src = ("import torch\nH = 4\nmodel = torch.nn.Linear(2, 2)\nfor i in range(3):\n    pass\n"
           "def f(x):\n    return x\n")
    (tmp_path / "s.py").write_text(src)
    module = build_module(tmp_path / "s.py", tmp_path)
    assert [c.label for c in module.cells] == ["s.py"] and module.cells[0].source == src.rstrip()
    assert module.where(6) == "line 6 of s.py"


def test_percent_formatting_in_a_py_file_is_python_not_a_magic(tmp_path):
    src = 'def f(x):\n    return ("%d items"\n            % x)\n'
    (tmp_path / "s.py").write_text(src)
    module = build_module(tmp_path / "s.py", tmp_path)
    assert module.cells[0].source == src.rstrip() and module.notes == []


def test_lines_are_named_by_the_cell_the_student_sees(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [
        ("import torch", {}),
        ("x = 1\ny = 2", {}),
        ("def rnn_bptt(x):\n    return x\n\n\n", {}),
    ])
    module = build_module(nb, tmp_path)
    assert [c.label for c in module.cells] == [
        "code cell 1", "code cell 2", "the cell defining `rnn_bptt` (code cell 3)"]
    line = module.source.splitlines().index("    return x") + 1
    assert module.where(line) == "line 2 of the cell defining `rnn_bptt` (code cell 3)"
    assert module.cell_at(line) == (2, 2)


def test_notebook_uses_answer_cells_and_skips_test_cells(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [
        ("%matplotlib inline\nimport torch", {}),
        ("class LSTMCell:\n    pass", ANSWER),
        ("def grader_helper():\n    return 'secret test'", TEST),
        ("!pip install foo\ndef helper():\n    return 2", {}),
    ])
    module = build_module(nb, tmp_path)
    assert "class LSTMCell" in module.source and "def helper" in module.source
    assert "grader_helper" not in module.source
    assert module.answer_cells == {"LSTMCell": 2}
    assert module.notes == []


def test_otters_cells_in_a_tagged_notebook_are_not_run(tmp_path):
    """otter's init cell, its checks and its export carry no metadata of ours; run, they would
    import otter in the worker and fail there, a note each."""
    nb = notebook(tmp_path / "hw.ipynb", [
        ('# Initialize Otter\nimport otter\ngrader = otter.Notebook("hw.ipynb")', {}),
        ("class LSTMCell:\n    pass", ANSWER),
        ('grader.check("q4")', {}),
        ("def my_helper():\n    return 2", {}),  # a cell the student added: kept
        ('# Save your notebook first\ngrader.export(pdf=False)', {}),
    ])
    module = build_module(nb, tmp_path)
    assert "otter" not in module.source and "grader" not in module.source
    assert "def my_helper" in module.source and module.notes == []
    assert [c.label.split("(")[-1] for c in module.cells] == ["code cell 2)", "code cell 4)"]


def test_notebook_without_metadata_grades_from_all_code_cells(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [("def a():\n    return 1", {}),
                                          ("def b():\n    return 2", {})])
    module = build_module(nb, tmp_path)
    assert "def a" in module.source and "def b" in module.source
    assert "no rnngrade metadata" in module.notes[0]


def test_nbgrader_locked_grade_cells_are_skipped(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [
        ("def rnn_forward():\n    return 1", {"nbgrader": {"solution": True, "grade": False}}),
        ("def hidden_check():\n    return 0", {"nbgrader": {"solution": False, "grade": True}}),
    ])
    source = build_module(nb, tmp_path).source
    assert "rnn_forward" in source and "hidden_check" not in source


def test_cell_with_syntax_error_is_skipped_with_a_note(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [("def ok():\n    return 1", {}),
                                          ("def broken(:\n    pass", {})])
    module = build_module(nb, tmp_path)
    assert "def ok" in module.source
    assert "code cell 2 has a syntax error" in module.notes[-1]


def test_zip_with_one_notebook_is_graded_and_escaping_paths_are_ignored(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [("def a():\n    return 1", {})])
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(nb, "hw.ipynb")
        zf.writestr("../../evil.py", "x = 1")
        zf.writestr("data/notes.txt", "hello")
    work = tmp_path / "work"
    work.mkdir()
    assert "def a" in build_module(zpath, work).source
    assert not (tmp_path.parent / "evil.py").exists()


@pytest.mark.parametrize("files,message", [
    ([], "found nothing"),
    (["a.ipynb", "b.ipynb"], "expected one notebook"),
], ids=["empty", "two-notebooks"])
def test_folder_must_hold_exactly_one_submission(tmp_path, files, message):
    for name in files:
        notebook(tmp_path / name, [("x = 1", {})])
    with pytest.raises(SubmissionError, match=message):
        build_module(tmp_path, tmp_path)


def test_unreadable_notebook_says_what_to_do(tmp_path):
    (tmp_path / "hw.ipynb").write_text("{not json")
    with pytest.raises(SubmissionError, match="not a readable notebook.*Re-download"):
        build_module(tmp_path / "hw.ipynb", tmp_path)


def test_other_file_types_are_refused(tmp_path):
    (tmp_path / "hw.txt").write_text("x")
    with pytest.raises(SubmissionError, match="submit a .ipynb notebook"):
        build_module(tmp_path / "hw.txt", tmp_path)


# -- hostile uploads ------------------------------------------------------------------------------
def test_a_zip_bomb_is_refused_after_reading_no_more_than_the_limit(tmp_path):
    import zipfile

    from autograder.submission import MAX_EXTRACTED

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"part{i}.py", "#" * (MAX_EXTRACTED // 2))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(SubmissionError, match="expands to more than"):
        build_module(bomb, work)
    assert sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) <= MAX_EXTRACTED


def test_a_zip_of_many_names_is_refused_with_a_short_message(tmp_path):
    import zipfile

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(2500):
            zf.writestr(f"n{i}.txt", "")
    with pytest.raises(SubmissionError, match="holds 2500 files") as e:
        build_module(many, tmp_path / "w")
    assert len(str(e.value)) < 300


def test_a_folder_of_many_notebooks_is_listed_briefly(tmp_path):
    for i in range(50):
        (tmp_path / f"n{i:02d}.ipynb").write_text("{}")
    with pytest.raises(SubmissionError, match="and 42 more") as e:
        build_module(tmp_path, tmp_path)
    assert len(str(e.value)) < 400


def test_a_symlink_in_an_uploaded_folder_is_refused(tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "homework.py").symlink_to("/etc/passwd")
    with pytest.raises(SubmissionError, match="symbolic link"):
        build_module(folder, tmp_path / "w")


def test_a_symlink_inside_a_zip_is_not_followed(tmp_path):
    import zipfile

    z = tmp_path / "link.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("homework.py")
        info.external_attr = (0o120777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("real.py", "def f():\n    return 1\n")
    module = build_module(z, tmp_path / "w")
    assert "def f()" in module.source


def test_a_nul_character_is_a_syntax_error_not_a_crash(tmp_path):
    nb = notebook(tmp_path / "hw.ipynb", [("def ok():\n    return 1", {}), ("x = 1\x00", {})])
    module = build_module(nb, tmp_path)
    assert "code cell 2 has a syntax error" in module.notes[-1] and len(module.cells) == 1


@pytest.mark.parametrize("source,plumbing", [
    ("# Initialize Otter\nimport otter\ngrader = otter.Notebook(\"hw.ipynb\")", True),
    ('grader.check("q4")', True),
    ("# Save first\ngrader.export(pdf=False)", True),
    ('grader.check("q4")\nx = 1', False),
    ("def f():\n    return grader", False),
], ids=["init", "check", "export", "check_and_code", "student_code"])
def test_otters_own_cells_are_told_apart_from_the_students(source, plumbing):
    from autograder.submission import is_otter_plumbing
    assert is_otter_plumbing(source) is plumbing


@pytest.mark.parametrize("name", ["torch", "os", "numpy", "sys", "math"])
def test_a_file_named_like_a_real_module_is_never_a_helper(tmp_path, name):
    from autograder.submission import helper_modules
    (tmp_path / "hw.py").write_text(f"import {name}\nimport helpers\n")
    (tmp_path / f"{name}.py").write_text("def lstm():\n    pass\n")
    (tmp_path / "helpers.py").write_text("def f():\n    pass\n")
    assert set(helper_modules(tmp_path, tmp_path / "hw.py", [f"import {name}\nimport helpers\n"])) \
        == {"helpers"}
