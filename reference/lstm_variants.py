"""Part 5: the lecture's LSTM variants, as cells and as sequence layers.

Peephole ("let the gates look at memory", Gers & Schmidhuber 2000, the lecture's full-matrix
form): the input and forget gates see C_{t-1}, the output gate sees C_t.

.. math::
    i_t = \\sigma(W_{ii} x_t + W_{hi} h_{t-1} + W_{ci} C_{t-1} + b_i)
    f_t = \\sigma(W_{if} x_t + W_{hf} h_{t-1} + W_{cf} C_{t-1} + b_f)
    g_t = \\tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g)
    C_t = f_t \\odot C_{t-1} + i_t \\odot g_t
    o_t = \\sigma(W_{io} x_t + W_{ho} h_{t-1} + W_{co} C_t + b_o)
    h_t = o_t \\odot \\tanh(C_t)

``weight_ch (3H, H)`` stacks (W_ci | W_cf | W_co); the other parameters are ``LSTMCell``'s.

Coupled forget and input gates (one gate decides both what to forget and what to write):

.. math::
    f_t = \\sigma(W_{if} x_t + W_{hf} h_{t-1} + b_f)
    g_t = \\tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g)
    o_t = \\sigma(W_{io} x_t + W_{ho} h_{t-1} + b_o)
    C_t = f_t \\odot C_{t-1} + (1 - f_t) \\odot g_t ;  h_t = o_t \\odot \\tanh(C_t)

``weight_ih (3H, I)``, ``weight_hh (3H, H)``, ``bias_ih``, ``bias_hh (3H)``, blocks (f, g, o).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._recurrent import Params, RecurrentCell, RecurrentLayer, State
from .lstm import lstm_project


def peephole_step(gi: Tensor, state: State, p: Params) -> State:
    """One peephole-LSTM step. ``gi (B, 4H)`` holds W_ih x_t + b_ih + b_hh."""
    h, c = state  # (B, H) each
    H = h.size(1)
    gates = torch.addmm(gi, h, p["weight_hh"].t())  # (B, 4H): i, f, g, o
    i, f, g, o = gates.chunk(4, dim=1)
    w_ch = p["weight_ch"]  # (3H, H): W_ci | W_cf | W_co
    peep_if = F.linear(c, w_ch[: 2 * H])  # (B, 2H): i and f look at C_{t-1}
    i = torch.sigmoid(i + peep_if[:, :H])
    f = torch.sigmoid(f + peep_if[:, H:])
    c = f * c + i * torch.tanh(g)
    o = torch.sigmoid(o + F.linear(c, w_ch[2 * H:]))  # o looks at the new C_t
    return o * torch.tanh(c), c


def coupled_step(gi: Tensor, state: State, p: Params) -> State:
    """One coupled-gate step. ``gi (B, 3H)`` holds W_ih x_t + b_ih + b_hh, blocks (f, g, o)."""
    h, c = state
    gates = torch.addmm(gi, h, p["weight_hh"].t())  # (B, 3H)
    f, g, o = gates.chunk(3, dim=1)
    f = torch.sigmoid(f)
    c = f * c + (1 - f) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class PeepholeLSTMCell(RecurrentCell):
    """One peephole-LSTM step. Parameters: those of ``LSTMCell`` plus ``weight_ch (3H, H)``.

    Inputs: ``x (B, I)``, ``state = (h, c)`` each ``(B, H)``. Outputs: ``(h', c')``.
    """

    num_gates, state_size, extra_weights = 4, 2, {"weight_ch": 3}
    project, step = staticmethod(lstm_project), staticmethod(peephole_step)

    def forward(self, x: Tensor, state: State | None = None) -> State:
        return self._forward(x, state)


class CoupledLSTMCell(RecurrentCell):
    """One coupled-gate LSTM step (no input gate: i = 1 - f).

    Inputs: ``x (B, I)``, ``state = (h, c)`` each ``(B, H)``. Outputs: ``(h', c')``.
    """

    num_gates, state_size = 3, 2
    project, step = staticmethod(lstm_project), staticmethod(coupled_step)

    def forward(self, x: Tensor, state: State | None = None) -> State:
        return self._forward(x, state)


class PeepholeLSTM(RecurrentLayer):
    """Sequence layer of ``PeepholeLSTMCell``; as ``LSTM``, plus ``weight_ch_l{k}`` ``(3H, H)``."""

    cell = PeepholeLSTMCell


class CoupledLSTM(RecurrentLayer):
    """Sequence layer of ``CoupledLSTMCell``; as ``LSTM`` with 3 gate blocks (f, g, o)."""

    cell = CoupledLSTMCell
