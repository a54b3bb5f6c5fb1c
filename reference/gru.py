"""Part 5: the GRU, equal to ``torch.nn.GRUCell`` / ``torch.nn.GRU``, and the lecture's formula.

PyTorch's GRU (blocks r, z, n of ``weight_ih (3H, I)`` and ``weight_hh (3H, H)``):

.. math::
    r_t = \\sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
    z_t = \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
    n_t = \\tanh(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn}))
    h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

The lecture (Cho et al. 2014) writes it differently, on purpose kept here as ``LectureGRUCell``
with the same parameters so the two can be compared on one set of weights:

.. math::
    \\tilde h_t = \\tanh(W_{in} x_t + b_{in} + W_{hn} (r_t \\odot h_{t-1}) + b_{hn})
    h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t

Two differences: the reset gate multiplies h_{t-1} *before* the matrix product (PyTorch applies
it after, which lets all three blocks of W_hh h run as one product: "on purpose for efficiency",
as PyTorch's documentation says), and the roles of z and 1 - z are swapped.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._recurrent import Params, RecurrentCell, RecurrentLayer, State


def gru_project(x: Tensor, p: Params) -> Tensor:
    """Input projection ``(..., I) -> (..., 3H)``; ``bias_hh`` cannot be folded in (r multiplies it)."""
    return F.linear(x, p["weight_ih"], p["bias_ih"])


def gru_step(gi: Tensor, state: State, p: Params) -> State:
    """One step of PyTorch's GRU. ``gi (B, 3H)`` holds W_ih x_t + b_ih."""
    (h,) = state  # (B, H)
    gh = F.linear(h, p["weight_hh"], p["bias_hh"])  # (B, 3H): all three blocks in one product
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return ((1 - z) * n + z * h,)


def lecture_gru_step(gi: Tensor, state: State, p: Params) -> State:
    """One step of the lecture's GRU: reset before the matmul, z and 1 - z swapped."""
    (h,) = state
    H = h.size(1)
    w_hh, b_hh = p["weight_hh"], p["bias_hh"]
    b_rz = None if b_hh is None else b_hh[: 2 * H]
    b_n = None if b_hh is None else b_hh[2 * H:]
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_rz = F.linear(h, w_hh[: 2 * H], b_rz)  # (B, 2H)
    r = torch.sigmoid(i_r + h_rz[:, :H])
    z = torch.sigmoid(i_z + h_rz[:, H:])
    n = torch.tanh(i_n + F.linear(r * h, w_hh[2 * H:], b_n))  # reset applied to h first
    return ((1 - z) * h + z * n,)


class GRUCell(RecurrentCell):
    """One GRU step, equal to ``nn.GRUCell``.

    Inputs: ``x (B, I)``, ``hx (B, H)`` (zeros when None). Output: ``h' (B, H)``.
    """

    num_gates, state_size = 3, 1
    project, step = staticmethod(gru_project), staticmethod(gru_step)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._forward(x, None if hx is None else (hx,))[0]


class LectureGRUCell(GRUCell):
    """The lecture's GRU formula, with ``GRUCell``'s parameters. Not equal to ``nn.GRUCell``."""

    step = staticmethod(lecture_gru_step)


class GRU(RecurrentLayer):
    """A multi-layer, optionally bidirectional GRU, equal to ``nn.GRU`` (no dropout).

    Inputs: ``input (T, B, I)`` (``(B, T, I)`` if batch_first), ``h_0 (L*D, B, H)``.
    Outputs: ``output (T, B, D*H)``, ``h_n (L*D, B, H)``.
    """

    cell = GRUCell
