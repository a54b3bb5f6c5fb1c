"""reference.lstm_variants: each cell against a step-by-step transcription of the lecture's
equations, gradcheck, and each sequence layer against a loop over its cell."""
from __future__ import annotations

import pytest
import torch

from reference import CoupledLSTM, CoupledLSTMCell, PeepholeLSTM, PeepholeLSTMCell
from tests.conftest import TOL

f64 = dict(dtype=torch.float64)


def peephole_transcribed(cell, x, h, C):
    """f = sigma(W_f . [C_{t-1}, h_{t-1}, x_t] + b_f), etc., as the lecture writes it."""
    W_x = dict(zip("ifgo", cell.weight_ih.chunk(4)))
    W_h = dict(zip("ifgo", cell.weight_hh.chunk(4)))
    W_c = dict(zip("ifo", cell.weight_ch.chunk(3)))
    b = {k: bi + bh for k, bi, bh in zip("ifgo", cell.bias_ih.chunk(4), cell.bias_hh.chunk(4))}

    def gate(k, c_seen):
        W = torch.cat([W_c[k], W_h[k], W_x[k]], dim=1)  # acts on [C, h, x]
        return torch.sigmoid(torch.cat([c_seen, h, x], dim=1) @ W.T + b[k])

    i, f = gate("i", C), gate("f", C)
    C_new = f * C + i * torch.tanh(x @ W_x["g"].T + h @ W_h["g"].T + b["g"])
    o = gate("o", C_new)
    return o * torch.tanh(C_new), C_new


def coupled_transcribed(cell, x, h, C):
    W_x = dict(zip("fgo", cell.weight_ih.chunk(3)))
    W_h = dict(zip("fgo", cell.weight_hh.chunk(3)))
    b = {k: bi + bh for k, bi, bh in zip("fgo", cell.bias_ih.chunk(3), cell.bias_hh.chunk(3))}
    pre = {k: x @ W_x[k].T + h @ W_h[k].T + b[k] for k in "fgo"}
    f = torch.sigmoid(pre["f"])
    C_new = f * C + (1 - f) * torch.tanh(pre["g"])
    return torch.sigmoid(pre["o"]) * torch.tanh(C_new), C_new


CELLS = [pytest.param(PeepholeLSTMCell, peephole_transcribed, id="peephole"),
         pytest.param(CoupledLSTMCell, coupled_transcribed, id="coupled")]


@pytest.mark.parametrize("cls,transcribed", CELLS)
def test_variant_cell_follows_lecture_equations(cls, transcribed):
    cell = cls(3, 5).double()
    x, h, C = (torch.randn(4, n, **f64) for n in (3, 5, 5))
    for a, b in zip(cell(x, (h, C)), transcribed(cell, x, h, C)):
        torch.testing.assert_close(a, b, **TOL[torch.float64])


@pytest.mark.parametrize("cls,transcribed", CELLS)
def test_variant_cell_passes_gradcheck(cls, transcribed):
    cell = cls(3, 4).double()
    x, h, C = (torch.randn(2, n, **f64, requires_grad=True) for n in (3, 4, 4))
    assert torch.autograd.gradcheck(lambda x, h, C, *ps: cell(x, (h, C)),
                                    (x, h, C, *cell.parameters()))


def test_variant_parameter_shapes():
    assert PeepholeLSTMCell(3, 5).weight_ch.shape == (15, 5)
    assert {n: tuple(p.shape) for n, p in CoupledLSTMCell(3, 5).named_parameters()} == {
        "weight_ih": (15, 3), "weight_hh": (15, 5), "bias_ih": (15,), "bias_hh": (15,)}
    assert PeepholeLSTM(3, 5, bidirectional=True).weight_ch_l0_reverse.shape == (15, 5)


@pytest.mark.parametrize("layer_cls", [PeepholeLSTM, CoupledLSTM], ids=lambda c: c.__name__)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_variant_layer_equals_loop_over_its_cell(layer_cls, bidirectional):
    T, B, I, H = 6, 3, 4, 5
    layer = layer_cls(I, H, num_layers=2, bidirectional=bidirectional).double()
    x = torch.randn(T, B, I, **f64)
    out, (h_n, c_n) = layer(x)
    D = 2 if bidirectional else 1
    inp, finals = x, []
    for k in range(2):
        outs = []
        for d in range(D):
            cell = layer.cell(inp.size(-1), H).double()
            sfx = f"_l{k}" + ("_reverse" if d else "")
            cell.load_state_dict({n: getattr(layer, n + sfx) for n in cell.state_dict()})
            state, seq = None, [None] * T
            for t in (reversed(range(T)) if d else range(T)):
                state = cell(inp[t], state)
                seq[t] = state[0]
            outs.append(torch.stack(seq))
            finals.append(state)
        inp = torch.cat(outs, dim=2)
    torch.testing.assert_close(out, inp, **TOL[torch.float64])
    torch.testing.assert_close(h_n, torch.stack([s[0] for s in finals]), **TOL[torch.float64])
    torch.testing.assert_close(c_n, torch.stack([s[1] for s in finals]), **TOL[torch.float64])


@pytest.mark.parametrize("layer_cls", [PeepholeLSTM, CoupledLSTM], ids=lambda c: c.__name__)
def test_variant_layer_passes_gradcheck(layer_cls):
    layer = layer_cls(2, 3, bidirectional=True, batch_first=True).double()
    x = torch.randn(2, 4, 2, **f64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, *ps: layer(x)[0], (x, *layer.parameters()))
