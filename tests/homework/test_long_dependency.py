"""Part 7: the long-dependency check trusts only what the judge evaluates itself."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import reference
from autograder.protocol import Key
from homework.rnn_lstm.suites_long import credit, held_out_mse
from tests.autograder.test_cli import ROOT, failed, grade

LONG = ROOT / "tests" / "fixtures" / "long"


@pytest.mark.parametrize("mse,expected", [(0.001, 1.0), (0.01, 1.0), (0.0316227766, 0.5),
                                          (0.1, 0.0), (0.5, 0.0), (float("nan"), 0.0)],
                         ids=["good", "at-target", "half", "at-zero", "mean-predictor", "nan"])
def test_credit_is_log_linear_between_the_thresholds(mse, expected):
    assert credit(mse) == pytest.approx(expected, abs=1e-6)


def test_held_out_mse_refuses_weights_that_are_not_an_lstm():
    tensors = {f"{Key.TRAINED}core.{k}": v
               for k, v in nn.GRU(2, 32, batch_first=True).state_dict().items()}
    mse, why = held_out_mse(tensors, torch.zeros(4, 5, 2), torch.zeros(4, 1))
    assert mse is None and "are not those of nn.LSTM(2, 32)" in why


def test_held_out_mse_evaluates_returned_weights_in_the_trusted_model():
    torch.manual_seed(0)
    lstm, readout = reference.LSTM(2, 32, batch_first=True), nn.Linear(32, 1)
    tensors = {**{f"{Key.TRAINED}core.{k}": v for k, v in lstm.state_dict().items()},
               **{f"{Key.TRAINED}readout.{k}": v for k, v in readout.state_dict().items()}}
    x, y = torch.randn(600, 5, 2), torch.randn(600, 1)
    mse, _ = held_out_mse(tensors, x, y)
    with torch.no_grad():
        assert mse == pytest.approx(((readout(lstm(x)[0][:, -1]) - y) ** 2).mean().item())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rnn_as_lstm", "detached_output"])
def test_models_that_cannot_learn_long_dependencies_fail(tmp_path, name):
    results, _ = grade(LONG / f"{name}.py", tmp_path, "--only", "7")
    assert results["score"] == 0
    assert "are not what" in failed(results)["7.1"] and "cut off" in failed(results)["7.1"]


@pytest.mark.slow
def test_gate_swapped_lstm_is_told_why_its_training_does_not_count(tmp_path):
    results, _ = grade(ROOT / "examples/submissions/lstm_gate_order_fiog.py", tmp_path,
                       "--only", "4,7")
    assert "No credit while test 4.7 (LSTM: outputs match the trusted model) is not passed" \
        in failed(results)["7.1"]


PASTED = '''
    def load_state_dict(self, state_dict, strict=True):
        result = super().load_state_dict(state_dict, strict)
        if self.hidden_size == 32:  # Part 7 only: weights "trained offline", frozen
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.full_like(p, 0.01))
                    p.requires_grad_(False)
        return result
'''


@pytest.mark.slow
def test_weights_that_did_not_come_from_training_the_lstm_earn_nothing(tmp_path):
    """The judge replays the first updates with reference.LSTM from its own initial weights:
    pasted (or frozen) weights do not match, whatever their held-out error."""
    source = (ROOT / "examples/submissions/solution.py").read_text()
    head = 'class LSTM(nn.Module):\n    """'
    assert head in source
    source = source.replace("class LSTM(nn.Module):\n", "class LSTM(nn.Module):" + PASTED, 1)
    (tmp_path / "pasted.py").write_text(source)
    results, _ = grade(tmp_path / "pasted.py", tmp_path, "--only", "4,7")
    assert "4.7" not in failed(results)  # Part 4 is untouched: hidden size 5
    assert "are not what" in failed(results)["7.1"]
