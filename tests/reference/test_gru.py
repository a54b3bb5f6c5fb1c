"""reference.gru: GRUCell and GRU against torch.nn, and the lecture's formula as written."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from reference import GRU, GRUCell, LectureGRUCell
from tests.conftest import TOL
from tests.reference.helpers import assert_same_module

DTYPES = [pytest.param(torch.float64, id="f64"), pytest.param(torch.float32, id="f32")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,init,bias", [
    pytest.param(*c, id="L{}-{}-{}-{}-{}".format(c[0], "bi" if c[1] else "uni",
                                                 "bf" if c[2] else "tf", "hx" if c[3] else "nohx",
                                                 "bias" if c[4] else "nobias"))
    for c in itertools.product([1, 2, 3], [False, True], [False, True], [False, True],
                               [True, False])])
def test_gru_matches_nn_gru(num_layers, bidirectional, batch_first, init, bias, dtype):
    I, H, B, T, D = 4, 5, 3, 6, 2 if bidirectional else 1
    kw = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
              bidirectional=bidirectional)
    x = torch.randn((B, T, I) if batch_first else (T, B, I), dtype=dtype)
    h0 = torch.randn(num_layers * D, B, H, dtype=dtype) if init else None
    assert_same_module(GRU(I, H, **kw), nn.GRU(I, H, **kw), x, h0, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("init", [True, False], ids=["hx", "nohx"])
def test_gru_cell_matches_nn_gru_cell(init, bias, dtype):
    x = torch.randn(4, 3, dtype=dtype)
    hx = torch.randn(4, 6, dtype=dtype) if init else None
    assert_same_module(GRUCell(3, 6, bias=bias), nn.GRUCell(3, 6, bias=bias), x, hx, dtype=dtype)


def lecture_gru_transcribed(cell, x, h):
    """The lecture's equations, each gate with its own weight blocks."""
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    h_tilde = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * h + z * h_tilde


def test_lecture_gru_cell_follows_lecture_equations_and_differs_from_pytorch():
    cell = LectureGRUCell(3, 5).double()
    x, h = torch.randn(4, 3, dtype=torch.double), torch.randn(4, 5, dtype=torch.double)
    torch.testing.assert_close(cell(x, h), lecture_gru_transcribed(cell, x, h),
                               **TOL[torch.double])
    pytorch_cell = GRUCell(3, 5).double()
    pytorch_cell.load_state_dict(cell.state_dict())
    assert (cell(x, h) - pytorch_cell(x, h)).abs().max() > 1e-3


@pytest.mark.parametrize("cls", [GRUCell, LectureGRUCell], ids=lambda c: c.__name__)
def test_gru_cells_pass_gradcheck(cls):
    cell = cls(3, 4).double()
    x = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h, *ps: cell(x, h), (x, h, *cell.parameters()))
