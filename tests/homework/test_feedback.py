"""Feedback that teaches, end to end through the CLI: correct submissions in other styles get
full marks and no hint; a mistake nobody listed is located. (Each listed mistake is named:
test_scores.py.)"""
from __future__ import annotations

import pytest

from tests.autograder.test_cli import EXAMPLES, failed, grade

pytestmark = pytest.mark.slow


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
