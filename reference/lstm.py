"""Part 4: the LSTM, equal to ``torch.nn.LSTMCell`` and ``torch.nn.LSTM``.

.. math::
    i_t = \\sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})
    f_t = \\sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})
    g_t = \\tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})
    o_t = \\sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})
    c_t = f_t \\odot c_{t-1} + i_t \\odot g_t
    h_t = o_t \\odot \\tanh(c_t)

Weight layout (as PyTorch's, on which the equivalence tests depend): ``weight_ih`` stacks the row
blocks (W_ii | W_if | W_ig | W_io), shape ``(4H, I)``; ``weight_hh`` likewise ``(4H, H)``; gate
order i, f, g, o. See ``reference/_recurrent.py`` for the legend (B, T, I, H, L, D).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ._recurrent import Params, RecurrentCell, RecurrentLayer, State, Step

Activation = Callable[[Tensor], Tensor]


def lstm_project(x: Tensor, p: Params) -> Tensor:
    """Input projection ``(..., I) -> (..., 4H)``, with both biases folded in once."""
    bias = None if p["bias_ih"] is None else p["bias_ih"] + p["bias_hh"]
    return F.linear(x, p["weight_ih"], bias)


def lstm_step_with(gate: Activation = torch.sigmoid, candidate: Activation = torch.tanh,
                   output: Activation = torch.tanh) -> Step:
    """The LSTM step with its three nonlinearities named: ``gate`` for i, f, o (sigma),
    ``candidate`` for g (tanh) and ``output`` on the cell state (tanh). The LSTM is
    ``lstm_step_with()``; other choices are the variants the lecture's question asks about."""

    def step(gi: Tensor, state: State, p: Params) -> State:
        """One LSTM step. ``gi (B, 4H)`` already holds W_ih x_t + b_ih + b_hh."""
        h, c = state  # (B, H) each
        gates = torch.addmm(gi, h, p["weight_hh"].t())  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # (B, H) each, PyTorch's order
        c = gate(f) * c + gate(i) * candidate(g)
        h = gate(o) * output(c)
        return h, c

    return step


lstm_step = lstm_step_with()


class LSTMCell(RecurrentCell):
    """One LSTM step, equal to ``nn.LSTMCell`` (same parameter names and shapes).

    Args:
        input_size: I. hidden_size: H. bias: if False, no ``bias_ih``/``bias_hh``.
    Inputs: ``x (B, I)``, ``state = (h, c)`` each ``(B, H)``, zeros when None.
    Outputs: ``(h', c')`` each ``(B, H)``.
    """

    num_gates, state_size = 4, 2
    project, step = staticmethod(lstm_project), staticmethod(lstm_step)

    def forward(self, x: Tensor, state: State | None = None) -> State:
        return self._forward(x, state)


class LSTM(RecurrentLayer):
    """A multi-layer, optionally bidirectional LSTM, equal to ``nn.LSTM`` (no dropout, no proj_size).

    Args:
        input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False.
    Inputs: ``input (T, B, I)`` or ``(B, T, I)`` if batch_first; ``hx = (h_0, c_0)``, each
        ``(L*D, B, H)``, zeros when None.
    Outputs: ``output (T, B, D*H)`` (batch first if batch_first), ``(h_n, c_n)`` each ``(L*D, B, H)``.
    """

    cell = LSTMCell
