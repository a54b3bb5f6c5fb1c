"""Feedback that teaches: each usual mistake, alone in an otherwise correct submission, is named;
correct submissions in other styles get full marks and no hint."""
from __future__ import annotations

import sys

import pytest

from tests.autograder.test_cli import EXAMPLES, ROOT, failed, grade

sys.path.insert(0, str(ROOT / "examples"))
import make_submissions  # noqa: E402

sys.path.pop(0)
MISTAKES_DIR = ROOT / "tests" / "fixtures" / "mistakes"
pytestmark = pytest.mark.slow


def only(part: str) -> str:
    """The parts to grade: the LSTM's mistakes in Parts 4 and 6 (Part 7 trains for seconds)."""
    return "4,6" if part == "LSTM" else part


@pytest.mark.parametrize("name", list(make_submissions.MISTAKES))
def test_single_mistake_is_named_in_the_feedback(tmp_path, name):
    part, phrase, _ = make_submissions.MISTAKES[name]
    results, _ = grade(MISTAKES_DIR / f"{name}.py", tmp_path, "--only", only(part))
    feedback = "\n".join(failed(results).values())
    assert "Likely cause: " in feedback and phrase in feedback, feedback[:2000]


@pytest.mark.parametrize("name", ["solution_flipped", "reference_flat"])
def test_correct_submission_in_another_style_gets_full_marks_and_no_hint(tmp_path, name):
    results, _ = grade(EXAMPLES / f"{name}.py", tmp_path)
    assert results["score"] == 100, failed(results)
    assert "Likely cause" not in str(results)


def test_unmatched_mistake_says_where_outputs_first_differ(tmp_path):
    source = (EXAMPLES / "solution.py").read_text().replace(
        'get = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)',
        "get = lambda name: getattr(self, f\"{name}_l{layer}"
        "{'' if name == 'weight_hh' and layer == 1 else suffix}\", None)")
    path = tmp_path / "odd.py"
    path.write_text(source)
    results, _ = grade(path, tmp_path, "--only", "6")
    feedback = failed(results)["6.2"]
    assert "Only the backward half ([..., H:]) differs" in feedback
    assert "The first mismatching state is layer 1, backward direction" in feedback
    assert "Likely cause" not in feedback
