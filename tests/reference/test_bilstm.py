"""reference.bilstm: the classifier reads both directions' final states."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from reference import BiLSTMClassifier
from tests.reference.helpers import assert_same_module


class TorchBiLSTMClassifier(nn.Module):
    """The same model on nn.LSTM, so state_dicts are interchangeable."""

    def __init__(self, I, H, L, K):
        super().__init__()
        self.lstm = nn.LSTM(I, H, L, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * H, K)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(torch.cat([h_n[-2], h_n[-1]], dim=1))


@pytest.mark.parametrize("num_layers", [1, 2, 3], ids=lambda n: f"L{n}")
def test_bilstm_classifier_matches_nn_lstm_version(num_layers):
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    assert_same_module(BiLSTMClassifier(4, 5, num_layers, 6),
                       TorchBiLSTMClassifier(4, 5, num_layers, 6), x)


def test_bilstm_classifier_backward_half_is_not_last_output():
    model = BiLSTMClassifier(4, 5, 2, 3).double()
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    out, (h_n, _) = model.lstm(x)
    torch.testing.assert_close(out[:, -1, :5], h_n[-2])  # forward half: same
    torch.testing.assert_close(out[:, 0, 5:], h_n[-1])  # backward half ends at t = 0
    assert (out[:, -1, 5:] - h_n[-1]).abs().max() > 1e-3
    assert model(x).shape == (3, 3)
