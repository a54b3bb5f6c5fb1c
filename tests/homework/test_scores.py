"""Every bundled example and fixture keeps the score of each of its tests (the table in
tests/fixtures/scores.json, measured before the engine was restructured), and each usual mistake
is named in its feedback. Graded in process, the hidden suites built once.

Part 7 trains for seconds: it is graded for the submissions whose Part 7 does not score full
marks and for the correct ones; for the rest, whose LSTM is the solution's, Parts 1-6."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autograder.judge import Budget, grade
from homework.rnn_lstm import HOMEWORK

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "tests" / "fixtures" / "scores.json").read_text())
ALWAYS_TRAINED = {"examples/submissions/solution.py", "examples/submissions/reference_flat.py",
                  "examples/submissions/solution_flipped.py"}
sys.path.insert(0, str(ROOT / "examples"))
import make_submissions  # noqa: E402

sys.path.pop(0)
pytestmark = pytest.mark.slow

PHRASES = {f"tests/fixtures/mistakes/{name}.py": phrase
           for name, (_, phrase, _) in make_submissions.MISTAKES.items()}
PHRASES.update({  # the bundled examples: the words their feedback must contain
    "examples/submissions/lstm_gate_order_fiog.py": "the gates in the order f, i, g, o",
    "examples/submissions/bptt_missing_tanh_derivative.py": "grads['W']: tensors are not close",
    "examples/submissions/gru_z_swapped.py": "z and 1 - z are swapped",
    "examples/submissions/bilstm_last_output.py": "out[:, -1, :]",
    "examples/submissions/lstmcell_hardcoded_float32.py": "state=None",
    "examples/submissions/lstm_uses_nn_lstm.py": "uses torch.nn.LSTM",
    "examples/submissions/bptt_uses_autograd.py": "forbidden here: autograd",
})


@pytest.fixture(scope="module")
def suites():
    return HOMEWORK.suites(HOMEWORK.seed)


def test_the_table_covers_every_bundled_submission_and_fixture():
    files = {str(p.relative_to(ROOT)) for d in ("examples/submissions", "tests/fixtures")
             for p in (ROOT / d).rglob("*.py")
             if p.parent.name not in ("styles", "mutants")}  # test_variants.py's
    assert files - set(TABLE) == {"tests/fixtures/attacks/infinite_loop.py"}  # test_cli's


@pytest.mark.parametrize("name", sorted(TABLE))
def test_scores_are_unchanged_and_the_mistake_is_named(name, suites):
    expected = TABLE[name]
    train = expected.get("7.1") != 6 or name in ALWAYS_TRAINED
    report = grade(ROOT / name, HOMEWORK, Budget(),
                   suites if train else [s for s in suites if s.part != 7])
    got = {t.number: t.score for t in report.tests}
    assert got == {k: v for k, v in expected.items() if train or not k.startswith("7.")}
    if name in PHRASES:
        feedback = "\n".join(t.output for t in report.tests if t.status == "failed")
        assert PHRASES[name] in feedback, feedback[:2000]
