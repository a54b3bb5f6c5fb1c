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


def test_keeps_definitions_and_drops_top_level_work(tmp_path):
    src = ("import torch\nH = 4\nSIZES = (1, 2)\nmodel = torch.nn.Linear(2, 2)\n"
           "for i in range(10**9):\n    pass\ntrain(model)\n\ndef f(x):\n    return x\n"
           "class C:\n    pass\n")
    (tmp_path / "s.py").write_text(src)
    out = build_module(tmp_path / "s.py", tmp_path).source
    assert "def f(x)" in out and "class C" in out and "H = 4" in out and "SIZES" in out
    assert "Linear" not in out and "range" not in out and "train(" not in out


def test_imports_are_guarded_so_a_missing_library_cannot_sink_the_module(tmp_path):
    (tmp_path / "s.py").write_text("import matplotlib.pyplot as plt\ndef f():\n    return 1\n")
    out = build_module(tmp_path / "s.py", tmp_path).source
    assert "try:\n    import matplotlib.pyplot as plt\nexcept ImportError:" in out


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
    assert "cell 3 has a syntax error" in module.notes[-1]


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
