"""Parts 1 and 3: the lecture's vanilla RNN, and how its gradients vanish.

.. math::
    a_t = b + W h_{t-1} + U x_t ;\\quad h_t = \\tanh(a_t) ;\\quad
    o_t = c + V h_t ;\\quad \\hat y_t = \\mathrm{softmax}(o_t)

Shapes (batch first): x ``(B, T, I)``, h0 ``(B, H)``; params U ``(H, I)``, W ``(H, H)``,
V ``(K, H)``, b ``(H,)``, c ``(K,)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

PARAM_NAMES = ("U", "W", "V", "b", "c")


def rnn_param_count(input_size: int, hidden_size: int, output_size: int) -> int:
    """Number of scalars in U, W, V, b, c: H*I + H*H + K*H + H + K."""
    I, H, K = input_size, hidden_size, output_size
    return H * I + H * H + K * H + H + K


def rnn_hidden_states(x: Tensor, h0: Tensor, params: dict[str, Tensor]) -> list[Tensor]:
    """The hidden states h_1..h_T as a list of ``(B, H)`` tensors (kept apart for Part 3)."""
    U, W, b = params["U"], params["W"], params["b"]
    xu = F.linear(x, U, b)  # (B, T, H): b + U x_t for every step at once
    h, hs = h0, []
    for xu_t in xu.unbind(1):  # unbind: one backward for all steps (indexing would be O(T^2))
        h = torch.tanh(torch.addmm(xu_t, h, W.t()))  # (B, H)
        hs.append(h)
    return hs


def rnn_forward(x: Tensor, h0: Tensor, params: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """Run the RNN over a batch of sequences.

    Returns ``y_hat (B, T, K)`` (each row a probability vector) and ``h (B, T, H)`` = h_1..h_T.
    """
    h = torch.stack(rnn_hidden_states(x, h0, params), dim=1)  # (B, T, H)
    o = F.linear(h, params["V"], params["c"])  # (B, T, K)
    return torch.softmax(o, dim=-1), h


def hidden_grad_norms(x: Tensor, y: Tensor, h0: Tensor, params: dict[str, Tensor]) -> Tensor:
    """How much the last step's loss depends on each earlier hidden state.

    Entry t of the result ``(T,)`` is the mean over the batch b of ``|| dL_T / dh_t[b] ||_2``,
    where ``L_T`` is the *sum* over the batch of the cross-entropy at the last step (so example
    b's gradient is its own, not divided by B). For a tanh RNN it decays geometrically as t moves
    away from T: the vanishing gradient (Bengio, Simard & Frasconi 1994).
    """
    with torch.enable_grad():
        h0 = h0.detach().requires_grad_(True)  # so every h_t is part of a graph
        hs = rnn_hidden_states(x, h0, params)
        o_T = F.linear(hs[-1], params["V"], params["c"])  # (B, K)
        loss_T = F.cross_entropy(o_T, y[:, -1], reduction="sum")
        grads = torch.autograd.grad(loss_T, hs)  # T tensors (B, H)
    return torch.stack([g.norm(dim=1).mean() for g in grads])  # (T,)
