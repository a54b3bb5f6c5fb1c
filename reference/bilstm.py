"""Part 6: the lecture's many-to-one bidirectional LSTM classifier."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .lstm import LSTM


class BiLSTMClassifier(nn.Module):
    """Classify a whole sequence from both directions' final states.

    ``lstm = LSTM(I, H, num_layers, batch_first=True, bidirectional=True)``, ``fc = nn.Linear(2H, K)``.

    The features are ``[h_n[-2], h_n[-1]]``: the last layer's forward state after reading x_T and
    its backward state after reading x_1, i.e. each direction having read the whole sequence.
    ``out[:, -1, :]`` would be wrong: its backward half is the backward LSTM after one token only.

    Inputs: ``x (B, T, I)``. Output: ``logits (B, K)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, num_classes: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True,
                         bidirectional=True, **factory)
        self.fc = nn.Linear(2 * hidden_size, num_classes, **factory)

    def forward(self, x: Tensor) -> Tensor:
        _, (h_n, _) = self.lstm(x)  # h_n (2L, B, H)
        features = torch.cat([h_n[-2], h_n[-1]], dim=1)  # (B, 2H): last layer, fwd | bwd
        return self.fc(features)  # (B, K)
