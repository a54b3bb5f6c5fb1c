"""Part 2: backpropagation through time for the vanilla RNN, by hand (no autograd).

Loss: the mean over the batch of the sum over time of the cross-entropy,
``L = (1/B) sum_b sum_t -log y_hat_t[b, y_t[b]]``.

The lecture's formulas, for one step t (batched, row vectors):

.. math::
    \\partial L/\\partial o_t = (\\hat y_t - \\mathrm{onehot}(y_t)) / B
    \\partial L/\\partial h_t = (\\partial L/\\partial o_t) V + (\\partial L/\\partial a_{t+1}) W
    \\partial L/\\partial a_t = \\partial L/\\partial h_t \\odot (1 - h_t^2)
    \\partial L/\\partial V = \\sum_t (\\partial L/\\partial o_t)^T h_t ,\\quad
    \\partial L/\\partial c = \\sum_t \\partial L/\\partial o_t
    \\partial L/\\partial W = \\sum_t (\\partial L/\\partial a_t)^T h_{t-1} ,\\quad
    \\partial L/\\partial U = \\sum_t (\\partial L/\\partial a_t)^T x_t ,\\quad
    \\partial L/\\partial b = \\sum_t \\partial L/\\partial a_t
    \\partial L/\\partial h_0 = (\\partial L/\\partial a_1) W
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .rnn import rnn_hidden_states


def rnn_bptt(x: Tensor, y: Tensor, h0: Tensor,
             params: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """Loss and gradients of the RNN of Part 1, computed by BPTT with no autograd.

    Inputs: x ``(B, T, I)``, y ``(B, T)`` int64 class targets, h0 ``(B, H)``, params as Part 1.
    Returns: loss (0-dim) and grads with keys U, W, V, b, c, h0, each shaped as its input.
    """
    with torch.no_grad():  # guarantees no graph is built, even if the params require grad
        B, T, _ = x.shape
        W, V = params["W"], params["V"]
        h = torch.stack(rnn_hidden_states(x, h0, params), dim=1)  # (B, T, H)
        o = F.linear(h, V, params["c"])  # (B, T, K)
        loss = F.cross_entropy(o.flatten(0, 1), y.flatten(), reduction="sum") / B

        one_hot = F.one_hot(y, o.size(-1)).to(o.dtype)  # (B, T, K)
        d_o = (torch.softmax(o, dim=-1) - one_hot) / B  # dL/do_t = (y_hat_t - onehot(y_t)) / B
        h_prev = torch.cat([h0.unsqueeze(1), h[:, :-1]], dim=1)  # (B, T, H): h_{t-1}

        d_a = torch.empty_like(h)  # (B, T, H): dL/da_t
        d_a_next = torch.zeros_like(h0)  # dL/da_{T+1} = 0
        d_h_out = F.linear(d_o, V.t())  # (B, T, H): the output's share, (dL/do_t) V
        for t in range(T - 1, -1, -1):
            d_h = d_h_out[:, t] + d_a_next @ W  # (B, H): from o_t and from a_{t+1}
            d_a_next = d_h * (1 - h[:, t] ** 2)  # tanh'(a_t) = 1 - h_t^2
            d_a[:, t] = d_a_next

        flat = lambda t: t.reshape(B * T, -1)  # (B*T, ...): sums over batch and time at once
        grads = {
            "U": flat(d_a).t() @ flat(x),  # (H, I)
            "W": flat(d_a).t() @ flat(h_prev),  # (H, H)
            "V": flat(d_o).t() @ flat(h),  # (K, H)
            "b": d_a.sum(dim=(0, 1)),  # (H,)
            "c": d_o.sum(dim=(0, 1)),  # (K,)
            "h0": d_a[:, 0] @ W,  # (B, H)
        }
    return loss, grads
