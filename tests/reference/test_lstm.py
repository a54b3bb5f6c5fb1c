"""reference.lstm against torch.nn.LSTM / nn.LSTMCell: outputs, final states and gradients."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from reference import LSTM, LSTMCell
from tests.reference.helpers import assert_same_module

DTYPES = [pytest.param(torch.float64, id="f64"), pytest.param(torch.float32, id="f32")]
GRID = [
    pytest.param(L, bi, bf, init, bias, B, T,
                 id=f"L{L}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tf'}-"
                    f"{'hx' if init else 'nohx'}-{'bias' if bias else 'nobias'}-B{B}-T{T}")
    for L, bi, bf, init, bias, B, T in itertools.product(
        [1, 2, 3], [False, True], [False, True], [False, True], [True, False], [1, 3], [1, 5])
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,init,bias,B,T", GRID)
def test_lstm_matches_nn_lstm(num_layers, bidirectional, batch_first, init, bias, B, T, dtype):
    I, H, D = 4, 5, 2 if bidirectional else 1
    kw = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
              bidirectional=bidirectional)
    x = torch.randn((B, T, I) if batch_first else (T, B, I), dtype=dtype)
    hx = (torch.randn(num_layers * D, B, H, dtype=dtype),
          torch.randn(num_layers * D, B, H, dtype=dtype)) if init else None
    assert_same_module(LSTM(I, H, **kw), nn.LSTM(I, H, **kw), x, hx, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("init", [True, False], ids=["state", "nostate"])
@pytest.mark.parametrize("B", [1, 4], ids=["B1", "B4"])
def test_lstm_cell_matches_nn_lstm_cell(B, init, bias, dtype):
    x = torch.randn(B, 3, dtype=dtype)
    state = (torch.randn(B, 6, dtype=dtype), torch.randn(B, 6, dtype=dtype)) if init else None
    assert_same_module(LSTMCell(3, 6, bias=bias), nn.LSTMCell(3, 6, bias=bias), x, state,
                       dtype=dtype)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_lstm_state_dict_loads_both_ways(bidirectional):
    ours, theirs = LSTM(3, 4, 2, bidirectional=bidirectional), nn.LSTM(3, 4, 2,
                                                                      bidirectional=bidirectional)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
           {k: v.shape for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())


def test_lstm_rejects_wrong_input_size_with_pytorch_message():
    with pytest.raises(ValueError, match=r"input.size\(-1\) must be equal to input_size. "
                                         r"Expected 3, got 7"):
        LSTM(3, 4)(torch.randn(5, 2, 7))


def test_lstm_rejects_wrong_hidden_shape():
    with pytest.raises(ValueError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[2, 4\]"):
        LSTM(3, 4, num_layers=2)(torch.randn(5, 2, 3), (torch.zeros(2, 4), torch.zeros(2, 4)))


def test_lstm_cell_rejects_wrong_hidden_shape():
    with pytest.raises(ValueError, match=r"Expected hx\[1\] size \(2, 4\), got \[2, 5\]"):
        LSTMCell(3, 4)(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))


def test_lstm_initialisation_is_pytorchs_uniform_range():
    """U(-1/sqrt(H), 1/sqrt(H)) for every parameter: inside the range, and filling it."""
    lstm = LSTM(3, 16, 2)
    bound = 0.25  # 1/sqrt(16)
    for name, p in lstm.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.max() > 0.8 * bound and p.min() < -0.8 * bound, name  # not zeros, not narrow
        std = bound / 3 ** 0.5  # of U(-b, b)
        assert abs(p.std().item() - std) < 0.25 * std, name
