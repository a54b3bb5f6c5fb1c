# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# ## Part 1: the vanilla RNN
#
# A recurrent network reads a sequence $x_1, \dots, x_T$ one step at a time and keeps a hidden state
# $h_t$ that summarises what it has seen. The lecture's RNN:
#
# $$a_t = b + W h_{t-1} + U x_t, \qquad h_t = \tanh(a_t), \qquad o_t = c + V h_t, \qquad
# \hat y_t = \operatorname{softmax}(o_t)$$
#
# with $U \in \mathbb{R}^{H \times I}$ (input to hidden), $W \in \mathbb{R}^{H \times H}$ (hidden to
# hidden), $V \in \mathbb{R}^{K \times H}$ (hidden to output), and biases $b \in \mathbb{R}^H$,
# $c \in \mathbb{R}^K$. The *same* parameters are used at every time step: that is what lets one
# network read sequences of any length.
#
# Shapes are batch-first: `x` is `(B, T, I)` (B sequences of T steps of I features), `h0` is
# `(B, H)`. With a batch, $W h_{t-1}$ becomes `h @ W.T` of shape `(B, H)`.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 11

# %% [markdown]
# **1.1** Write `rnn_param_count(input_size, hidden_size, output_size)`: the number of scalars in
# $U, W, V, b, c$.
#
# **1.2** Write `rnn_forward(x, h0, params)`. `params` is a dict with keys `"U"`, `"W"`, `"V"`,
# `"b"`, `"c"`. Return `y_hat` `(B, T, K)` (probabilities: each row sums to 1) and `h` `(B, T, H)`,
# the hidden states $h_1 \dots h_T$ (not $h_0$).

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "rnn_param_count"}
def rnn_param_count(input_size, hidden_size, output_size):
    """The number of scalars in U (H, I), W (H, H), V (K, H), b (H,) and c (K,)."""
    # BEGIN SOLUTION NO PROMPT
    I, H, K = input_size, hidden_size, output_size
    return H * I + H * H + K * H + H + K
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 1: write rnn_param_count")
    """ # END PROMPT


# %% rnngrade={"role": "answer", "part": "rnn_forward"}
def rnn_forward(x, h0, params):
    """x (B, T, I), h0 (B, H) -> y_hat (B, T, K), h (B, T, H)."""
    # BEGIN SOLUTION NO PROMPT
    U, W, V, b, c = params["U"], params["W"], params["V"], params["b"], params["c"]
    h, hs, ys = h0, [], []
    for t in range(x.shape[1]):
        a = b + h @ W.T + x[:, t] @ U.T
        h = torch.tanh(a)
        o = c + h @ V.T
        hs.append(h)
        ys.append(torch.softmax(o, dim=1))
    return torch.stack(ys, dim=1), torch.stack(hs, dim=1)
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 1: write rnn_forward")
    """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_rnn_param_count(rnn_param_count):
    n = rnn_param_count(3, 5, 4)
    assert n == 69, (f"rnn_param_count(3, 5, 4) gave {n!r}: count every entry of U (H, I), "
                     "W (H, H), V (K, H), b (H,) and c (K,)")


# %%
def test_rnn_forward_shapes_and_probabilities(rnn_forward, random_rnn, torch):
    B, T, I, H, K = 2, 4, 3, 5, 6
    x, _, h0, params = random_rnn(B, T, I, H, K, w_scale=3.0)
    probs, states = rnn_forward(x, h0, params)
    assert tuple(probs.shape) == (B, T, K), f"y_hat: expected (B, T, K) = {(B, T, K)}, got {tuple(probs.shape)}"
    assert tuple(states.shape) == (B, T, H), f"h: expected (B, T, H) = {(B, T, H)}, got {tuple(states.shape)}"
    assert torch.allclose(probs.sum(dim=2), torch.ones(B, T)), "each y_hat[b, t] must sum to 1 (softmax over K)"
    assert states.abs().max() < 1, "h_t = tanh(a_t) lies in (-1, 1)"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
