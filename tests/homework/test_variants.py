"""Correct code in the styles students write gets full marks; a single bug loses points in its
own part only (and in the parts whose code uses it), and the feedback names the cause or the
place. The fixtures are ``examples/variants.py``'s, written by ``make_submissions.py``; a few
more styles are containers made here (a notebook without metadata, its cells out of order).

Graded in process, Parts 1-6 (Part 7 trains: its own tests cover it)."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from autograder.judge import Budget, grade
from homework.rnn_lstm import HOMEWORK

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import variants  # noqa: E402

sys.path.pop(0)
pytestmark = pytest.mark.slow
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def suites():
    return [s for s in HOMEWORK.suites(HOMEWORK.seed) if s.part != 7]


def graded(path: Path, suites) -> list:
    return [t for t in grade(path, HOMEWORK, Budget(), suites, seed=None).tests if t.max_score > 0]


def assert_full_marks(tests) -> None:
    lost = {t.number: t.output[:300] for t in tests if t.score < t.max_score}
    assert not lost, lost
    assert not any("Likely cause" in t.output for t in tests)


@pytest.mark.parametrize("name", sorted(variants.STYLES))
def test_a_correct_style_gets_full_marks(name, suites):
    assert_full_marks(graded(FIXTURES / "styles" / f"{name}.py", suites))


def notebook(cells: list[str], path: Path) -> Path:
    nb = nbformat.v4.new_notebook()  # no rnngrade metadata: every code cell is graded
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def parts_of(source: str) -> list[str]:
    """The solution cut at its "# Part N" headings: the imports first, then one cell a part."""
    chunks = source.split("\n# Part ")
    return [chunks[0]] + ["# Part " + c for c in chunks[1:]]


@pytest.mark.parametrize("order", ["in_order", "parts_reversed"])
def test_a_notebook_without_metadata_gets_full_marks_whatever_its_cell_order(
        order, suites, tmp_path):
    cells = parts_of((FIXTURES / "styles" / "debug_prints.py").read_text())
    if order == "parts_reversed":  # the classes are looked up when called, not when defined
        cells = [cells[0], *reversed(cells[1:])]
    assert_full_marks(graded(notebook(cells, tmp_path / "hw.ipynb"), suites))


@pytest.mark.parametrize("name", sorted(variants.MUTANTS))
def test_a_single_bug_loses_points_in_its_own_part_only_and_is_named(name, suites):
    targets, phrase, _ = variants.MUTANTS[name]
    tests = graded(FIXTURES / "mutants" / f"{name}.py", suites)
    lost = [t for t in tests if t.score < t.max_score]
    assert lost, "the bug went undetected"
    assert {t.tags[0] for t in lost} <= set(targets), [(t.number, t.name) for t in lost]
    own = "\n".join(t.output for t in lost if t.tags[0] == targets[0])
    assert phrase in own, own[:3000]
    for t in lost:
        if t.tags[0] != targets[0]:
            assert "first" in t.output, t.output[:500]  # "fix Part N first"


HELPERS = ("import torch\n\n\ndef sigmoid(z):\n    return torch.sigmoid(z)\n\n\n"
           "def zeros_like_batch(x, H):\n    return x.new_zeros(x.shape[0], H)\n")


def with_helpers(source: str) -> str:
    """The solution importing its activations and zero states from helpers.py."""
    source = source.replace("import torch.nn.functional as F\n",
                            "import torch.nn.functional as F\nimport helpers\n"
                            "from helpers import sigmoid\n", 1)
    return source.replace("torch.sigmoid(", "sigmoid(").replace(
        "x.new_zeros(x.shape[0], H)", "helpers.zeros_like_batch(x, H)")


@pytest.mark.parametrize("layout", ["zip_of_notebook", "folder_of_py"])
def test_a_submission_importing_its_own_helper_module_gets_full_marks(layout, suites, tmp_path):
    import zipfile
    source = with_helpers((FIXTURES / "styles" / "debug_prints.py").read_text())
    if layout == "zip_of_notebook":
        nb = notebook(parts_of(source), tmp_path / "hw.ipynb")
        path = tmp_path / "submission.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.write(nb, "hw.ipynb")
            zf.writestr("helpers.py", HELPERS)
    else:
        path = tmp_path / "upload"
        path.mkdir()
        (path / "hw.py").write_text(source)
        (path / "helpers.py").write_text(HELPERS)
    assert_full_marks(graded(path, suites))


def test_a_forbidden_call_hidden_in_a_helper_module_blocks_the_parts_that_use_it(suites, tmp_path):
    source = (FIXTURES / "styles" / "debug_prints.py").read_text().replace(
        "import torch.nn.functional as F\n", "import torch.nn.functional as F\n"
        "from helpers import cell_step\n", 1).replace(
        "        h, c = self._cell(layer_input[t], h, c, layer, suffix)",
        "        h, c = cell_step(self, layer_input[t], h, c, layer, suffix)").replace(
        "                    h, c = self._cell(layer_input[t], h, c, layer, suffix)",
        "                    h, c = cell_step(self, layer_input[t], h, c, layer, suffix)")
    assert "cell_step(self" in source
    path = tmp_path / "upload"
    path.mkdir()
    (path / "hw.py").write_text(source)
    (path / "helpers.py").write_text(
        "import torch\n\n\ndef cell_step(m, x, h, c, layer, suffix):\n"
        "    return torch.lstm_cell(x, (h, c), m.weight_ih_l0, m.weight_hh_l0,\n"
        "                           m.bias_ih_l0, m.bias_hh_l0)\n")
    tests = graded(path, suites)
    lost = {t.tags[0] for t in tests if t.score < t.max_score}
    assert "LSTM" in lost and "LSTMCell" not in lost
    assert any("torch.lstm_cell" in t.output and "helpers.py" in t.output for t in tests)
