# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: rnn_lstm
# init_cell: true
# check_all_cell: false
# run_tests: false
# generate: false
# show_question_points: true
# tests:
#     files: false
#     ok_format: false
# export_cell:
#     pdf: false
#     run_tests: true
#     instructions: "Upload the zip file this cell makes to Gradescope (or submit the notebook itself)."

# %% [markdown]
# # Homework: recurrent networks (RNNs, BPTT, LSTMs, GRUs, BiLSTMs)
#
# This homework follows the lecture on recurrent networks. You will write, from the equations:
#
# | Part | You write | Points |
# |---|---|---|
# | 1. Vanilla RNN | `rnn_param_count`, `rnn_forward` | 11 |
# | 2. Backpropagation through time, by hand | `rnn_bptt` | 13 |
# | 3. Vanishing gradients | `hidden_grad_norms` | 7 |
# | 4. LSTM | `LSTMCell.forward`, `LSTM.forward` | 25 |
# | 5. LSTM variants and GRU | `PeepholeLSTMCell`, `CoupledLSTMCell`, `GRUCell` (`forward`) | 24 |
# | 6. BiLSTM | bidirectional `LSTM`, `BiLSTMClassifier.forward` | 14 |
# | 7. Long-range dependencies | nothing new: the grader trains *your* `LSTM` | 6 |
#
# **How you are graded.** The cells below `grader.check(...)` run *public* tests: shapes and
# sanity only, a few seconds in all. After you submit, hidden tests compare your code with
# PyTorch's `nn.LSTM`, `nn.GRUCell` and with the course's reference, in float32 and float64, check
# every gradient, and train your `LSTM` on the adding problem. Passing the public tests does not
# mean full marks; the feedback after submission tells you what is wrong, and often why.
#
# **Rules.**
# * Tensors in, tensors out, on the device and in the dtype of the inputs: never write
#   `torch.zeros(B, H)` (always float32 on the CPU); write `x.new_zeros(B, H)`.
# * Do not call PyTorch's recurrent layers for the part you implement (`nn.RNN`, `nn.LSTM`,
#   `nn.GRU`, `nn.*Cell`, `torch.lstm`, ...): the grader rejects that part. `nn.Linear`,
#   `F.linear`, `torch.sigmoid`, `torch.tanh` and friends are fine.
# * Write your code only where it says so. Keep the function and class names; the grader reads
#   the cells marked as answers, and only the definitions in them (`def`, `class`, `import`).

# %% rnngrade={"role": "setup"}
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# %% rnngrade={"role": "instructor"}
# Helpers for the experiments and plots below (not graded; nothing to change here).
# FAST is for the course's own automatic checks: it shrinks every experiment to a few steps.
import matplotlib.pyplot as plt

FAST = os.environ.get("RNNGRADE_FAST") == "1"
torch.manual_seed(0)


def not_done_yet(what, error):
    """The message a plot shows instead of a traceback while your code is unfinished."""
    plt.close("all")
    if isinstance(error, NotImplementedError):
        print(f"Plot skipped: finish {what} first, then run this cell again.")
    else:
        print(f"Plot skipped: {what} raised {type(error).__name__}: {error}\n"
              "Run the public tests of that part to find the problem.")


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
    assert rnn_param_count(3, 5, 4) == 5 * 3 + 5 * 5 + 4 * 5 + 5 + 4, \
        "count every entry of U (H, I), W (H, H), V (K, H), b (H,) and c (K,)"


# %%
def test_rnn_forward_shapes_and_probabilities(rnn_forward, torch):
    B, T, I, H, K = 2, 4, 3, 5, 6
    g = torch.Generator().manual_seed(0)
    params = {"U": torch.randn(H, I, generator=g), "W": torch.randn(H, H, generator=g),
              "V": torch.randn(K, H, generator=g), "b": torch.randn(H, generator=g),
              "c": torch.randn(K, generator=g)}
    y_hat, h = rnn_forward(torch.randn(B, T, I, generator=g), torch.zeros(B, H), params)
    assert tuple(y_hat.shape) == (B, T, K), f"y_hat: expected (B, T, K) = {(B, T, K)}, got {tuple(y_hat.shape)}"
    assert tuple(h.shape) == (B, T, H), f"h: expected (B, T, H) = {(B, T, H)}, got {tuple(h.shape)}"
    assert torch.allclose(y_hat.sum(dim=2), torch.ones(B, T)), "each y_hat[b, t] must sum to 1 (softmax over K)"
    assert h.abs().max() < 1, "h_t = tanh(a_t) lies in (-1, 1)"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 2: backpropagation through time, by hand
#
# Unrolled over time, the RNN is a deep feed-forward network whose layers share their weights;
# backpropagation through this unrolled graph is *backpropagation through time* (BPTT). With the
# loss $L = \frac{1}{B}\sum_b \sum_t -\log \hat y_t[y_t]$, the lecture's recursion runs backwards
# from $t = T$ (per example; divide by $B$ for the batch mean):
#
# $$\frac{\partial L}{\partial o_t} = \hat y_t - \mathbf{1}_{y_t}, \qquad
# \frac{\partial L}{\partial h_t} = V^\top \frac{\partial L}{\partial o_t}
#   + W^\top \frac{\partial L}{\partial a_{t+1}}, \qquad
# \frac{\partial L}{\partial a_t} = (1 - h_t^2) \odot \frac{\partial L}{\partial h_t}$$
#
# (the second term is absent at $t = T$), and the parameter gradients are sums over time:
#
# $$\nabla_c = \sum_t \frac{\partial L}{\partial o_t}, \quad
# \nabla_V = \sum_t \frac{\partial L}{\partial o_t} h_t^\top, \quad
# \nabla_b = \sum_t \frac{\partial L}{\partial a_t}, \quad
# \nabla_W = \sum_t \frac{\partial L}{\partial a_t} h_{t-1}^\top, \quad
# \nabla_U = \sum_t \frac{\partial L}{\partial a_t} x_t^\top, \quad
# \nabla_{h_0} = W^\top \frac{\partial L}{\partial a_1}.$$

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 13

# %% [markdown]
# **2.1** Write `rnn_bptt(x, y, h0, params)`: `y` `(B, T)` holds int64 class targets. Return the
# loss (a 0-dim tensor) and a dict of gradients with keys `U, W, V, b, c, h0`, each shaped like
# what it differentiates. **No autograd**: the grader runs your function under `torch.no_grad()`
# and rejects `backward`, `torch.autograd` and `enable_grad`. You may call your `rnn_forward`.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "rnn_bptt"}
def rnn_bptt(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> loss (), grads {U, W, V, b, c, h0}."""
    # BEGIN SOLUTION NO PROMPT
    W, V = params["W"], params["V"]
    B, T, _ = x.shape
    y_hat, h = rnn_forward(x, h0, params)
    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum() / B
    grads = {k: torch.zeros_like(v) for k, v in params.items()}
    dh_next = torch.zeros_like(h0)
    for t in reversed(range(T)):
        do = y_hat[:, t].clone()
        do[torch.arange(B), y[:, t]] -= 1
        do = do / B
        grads["V"] += do.T @ h[:, t]
        grads["c"] += do.sum(0)
        dh = do @ V + dh_next
        da = dh * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else h0
        grads["W"] += da.T @ h_prev
        grads["U"] += da.T @ x[:, t]
        grads["b"] += da.sum(0)
        dh_next = da @ W
    grads["h0"] = dh_next
    return loss, grads
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 2: write rnn_bptt")
    """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_rnn_bptt_returns_a_loss_and_every_gradient(rnn_bptt, torch):
    B, T, I, H, K = 2, 3, 3, 4, 5
    g = torch.Generator().manual_seed(1)
    params = {"U": torch.randn(H, I, generator=g), "W": torch.randn(H, H, generator=g),
              "V": torch.randn(K, H, generator=g), "b": torch.randn(H, generator=g),
              "c": torch.randn(K, generator=g)}
    x, h0 = torch.randn(B, T, I, generator=g), torch.zeros(B, H)
    y = torch.randint(0, K, (B, T), generator=g)
    with torch.no_grad():
        loss, grads = rnn_bptt(x, y, h0, params)
    assert loss.dim() == 0 and loss > 0, "the loss is a positive 0-dim tensor"
    assert set(grads) == {"U", "W", "V", "b", "c", "h0"}, f"grads keys: got {sorted(grads)}"
    for name, value in [*params.items(), ("h0", h0)]:
        assert grads[name].shape == value.shape, \
            f"grads[{name!r}]: expected shape {tuple(value.shape)}, got {tuple(grads[name].shape)}"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 3: vanishing gradients
#
# How much does the loss at the *last* step care about the hidden state long before? By the chain
# rule, $\frac{\partial L_T}{\partial h_t} = \frac{\partial L_T}{\partial h_T}
# \prod_{k=t+1}^{T} \operatorname{diag}(1 - h_k^2)\, W$: a product of $T - t$ Jacobians. When their
# norms are below 1 the product shrinks exponentially with the distance $T - t$, so a plain RNN
# receives almost no signal to learn dependencies that span many steps (Bengio, Simard and
# Frasconi, 1994). You will see it below, and see the LSTM avoid it after Part 4.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 7

# %% [markdown]
# **3.1** Write `hidden_grad_norms(x, y, h0, params)`: a tensor of shape `(T,)` whose entry `t` is
# the mean over the batch of $\lVert \partial L_T / \partial h_t[b] \rVert_2$, where $L_T$ is the
# *sum* over the batch of the cross-entropy at the last time step only. Autograd is allowed here
# (`torch.autograd.grad` with the list of hidden states is the shortest way).

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "hidden_grad_norms"}
def hidden_grad_norms(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> (T,): mean over b of ||dL_T / dh_t[b]||."""
    # BEGIN SOLUTION NO PROMPT
    with torch.enable_grad():
        U, W, V, b, c = (params[k].detach() for k in "UWVbc")
        h = h0.detach().requires_grad_(True)
        hs = []
        for t in range(x.shape[1]):
            h = torch.tanh(b + h @ W.T + x[:, t] @ U.T)
            hs.append(h)
        loss = F.cross_entropy(c + h @ V.T, y[:, -1], reduction="sum")
        grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm(dim=1).mean() for g in grads])
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 3: write hidden_grad_norms")
    """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_hidden_grad_norms_shape_and_sign(hidden_grad_norms, torch):
    B, T, I, H, K = 3, 6, 2, 4, 3
    g = torch.Generator().manual_seed(2)
    params = {"U": torch.randn(H, I, generator=g), "W": torch.randn(H, H, generator=g),
              "V": torch.randn(K, H, generator=g), "b": torch.randn(H, generator=g),
              "c": torch.randn(K, generator=g)}
    y = torch.randint(0, K, (B, T), generator=g)
    norms = hidden_grad_norms(torch.randn(B, T, I, generator=g), y, torch.zeros(B, H), params)
    assert tuple(norms.shape) == (T,), f"expected shape (T,) = ({T},), got {tuple(norms.shape)}"
    assert bool((norms >= 0).all()) and norms[-1] > 0, "norms are >= 0, and the last one is > 0"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% rnngrade={"role": "instructor"}
# The vanishing gradient, measured with your hidden_grad_norms: a random RNN, T = 60.
def random_rnn_params(I, H, K, w_scale, generator):
    return {"U": torch.randn(H, I, generator=generator) / math.sqrt(I),
            "W": w_scale * torch.randn(H, H, generator=generator) / math.sqrt(H),
            "V": torch.randn(K, H, generator=generator) / math.sqrt(H),
            "b": torch.zeros(H), "c": torch.zeros(K)}


def plot_rnn_grad_norms(T=60, B=32, I=4, H=32, K=3):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(B, T, I, generator=g), torch.randint(0, K, (B, T), generator=g)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for w_scale in (0.5, 1.0, 2.0):
        norms = hidden_grad_norms(x, y, torch.zeros(B, H), random_rnn_params(I, H, K, w_scale, g))
        ax.semilogy(range(1, T + 1), norms.detach(), label=f"RNN, W scale {w_scale}")
    ax.set(xlabel="time step t", ylabel="mean ||dL_T / dh_t||",
           title="How far back does the last step's loss reach?")
    ax.legend()
    plt.show()


try:
    plot_rnn_grad_norms()
except Exception as error:
    not_done_yet("Part 3 (hidden_grad_norms)", error)

# %% [markdown]
# ## Part 4: the LSTM
#
# The LSTM adds a *cell state* $C_t$ that is updated additively, with gates deciding what to
# forget, what to write and what to show. With $z = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$
# split into four blocks of $H$ rows, **in PyTorch's order i, f, g, o**:
#
# $$i = \sigma(z_i), \quad f = \sigma(z_f), \quad g = \tanh(z_g), \quad o = \sigma(z_o)$$
# $$C_t = f \odot C_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(C_t)$$
#
# The gradient along $C$ is multiplied by $f$ at each step, not by a squashing Jacobian times
# $W$: with $f \approx 1$ it flows back over many steps.
#
# Your modules keep PyTorch's parameter names and shapes, so `state_dict()` loads both ways between
# yours and `nn.LSTMCell` / `nn.LSTM`. The skeletons create the parameters (with PyTorch's
# initialisation, $U(-1/\sqrt{H}, 1/\sqrt{H})$); you write `forward`.
#
# `LSTM` is multi-layer and (for Part 6) bidirectional, and follows `nn.LSTM`: input `(T, B, I)`,
# or `(B, T, I)` with `batch_first=True`; `hx = (h_0, c_0)`, each `(num_layers * D, B, H)` with
# `D = 2` if bidirectional; it returns `output` `(T, B, D * H)` (the last layer's $h_t$ at every
# step) and `(h_n, c_n)`. Layer $l > 0$ reads the output of layer $l - 1$.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 25

# %% [markdown]
# **4.1** Write `LSTMCell.forward(x, state=None)`: `x` `(B, I)`, `state = (h, c)`, each `(B, H)`,
# or `None` for zeros. Return `(h', c')`.
#
# **4.2** Write `LSTM.forward(x, hx=None)`. Parameter names: `weight_ih_l{k}`, `weight_hh_l{k}`,
# `bias_ih_l{k}`, `bias_hh_l{k}`, with the suffix `_reverse` for the backward direction.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "LSTMCell"}
class LSTMCell(nn.Module):
    """One LSTM step, parameters as nn.LSTMCell: weight_ih (4H, I), weight_hh (4H, H),
    bias_ih (4H,), bias_hh (4H,); gate blocks in the order i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        k = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def forward(self, x, state=None):
        # BEGIN SOLUTION NO PROMPT
        H = self.hidden_size
        if state is None:
            h = x.new_zeros(x.shape[0], H)
            c = x.new_zeros(x.shape[0], H)
        else:
            h, c = state
        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i = torch.sigmoid(z[:, 0:H])
        f = torch.sigmoid(z[:, H:2 * H])
        g = torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:4 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 4: write LSTMCell.forward")
        """ # END PROMPT


# %% rnngrade={"role": "answer", "part": "LSTM"}
class LSTM(nn.Module):
    """A multi-layer, optionally bidirectional LSTM with nn.LSTM's parameters and interface.
    x (T, B, I), or (B, T, I) if batch_first; hx = (h_0, c_0), each (num_layers * D, B, H).
    Returns output (T, B, D * H) (batch-first if batch_first) and (h_n, c_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        D = 2 if bidirectional else 1
        k = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else D * hidden_size
            for suffix in ["", "_reverse"][:D]:
                shapes = {"weight_ih": (4 * hidden_size, n_in),
                          "weight_hh": (4 * hidden_size, hidden_size)}
                if bias:
                    shapes["bias_ih"] = (4 * hidden_size,)
                    shapes["bias_hh"] = (4 * hidden_size,)
                for name, shape in shapes.items():
                    p = nn.Parameter(torch.empty(*shape).uniform_(-k, k))
                    setattr(self, f"{name}_l{layer}{suffix}", p)

    # BEGIN SOLUTION NO PROMPT
    def _cell(self, x, h, c, layer, suffix):
        H = self.hidden_size
        get = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)
        z = F.linear(x, get("weight_ih"), get("bias_ih")) + F.linear(h, get("weight_hh"),
                                                                    get("bias_hh"))
        i, f, g, o = z.split(H, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    # END SOLUTION
    def forward(self, x, hx=None):
        # BEGIN SOLUTION NO PROMPT
        if self.batch_first:
            x = x.transpose(0, 1)
        T, B, _ = x.shape
        D = 2 if self.bidirectional else 1
        if hx is None:
            zeros = x.new_zeros(self.num_layers * D, B, self.hidden_size)
            hx = (zeros, zeros)
        h0, c0 = hx
        h_n, c_n = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(["", "_reverse"][:D]):
                h, c = h0[layer * D + d], c0[layer * D + d]
                out = x.new_empty(T, B, self.hidden_size)  # written into, step by step
                steps = range(T) if d == 0 else range(T - 1, -1, -1)
                for t in steps:
                    h, c = self._cell(layer_input[t], h, c, layer, suffix)
                    out[t] = h
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = torch.cat(outputs, dim=2)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        return output, (torch.stack(h_n), torch.stack(c_n))
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 4: write LSTM.forward")
        """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lstm_cell_shapes_and_zero_state(LSTMCell, torch):
    cell = LSTMCell(3, 5)
    x = torch.randn(2, 3)
    h, c = cell(x)
    assert tuple(h.shape) == (2, 5) and tuple(c.shape) == (2, 5), \
        f"expected h and c of shape (B, H) = (2, 5), got {tuple(h.shape)} and {tuple(c.shape)}"
    h0, c0 = torch.zeros(2, 5), torch.zeros(2, 5)
    h2, c2 = cell(x, (h0, c0))
    assert torch.allclose(h, h2) and torch.allclose(c, c2), "state=None must mean zeros"
    h64, _ = cell.double()(x.double())
    assert h64.dtype == torch.float64, "float64 in, float64 out: make new tensors with x.new_zeros"


# %%
def test_lstm_parameters_and_shapes(LSTM, torch):
    mine = LSTM(3, 5, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = {k: tuple(v.shape) for k, v in mine.state_dict().items()}
    expected = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert names == expected, f"parameters must be named and shaped as nn.LSTM's: {expected}"
    lstm = LSTM(3, 5, num_layers=2)
    out, (h_n, c_n) = lstm(torch.randn(7, 2, 3))
    assert tuple(out.shape) == (7, 2, 5), f"output: expected (T, B, H) = (7, 2, 5), got {tuple(out.shape)}"
    assert tuple(h_n.shape) == (2, 2, 5) == tuple(c_n.shape), \
        f"h_n and c_n: expected (num_layers, B, H) = (2, 2, 5), got {tuple(h_n.shape)}"
    out, _ = LSTM(3, 5, batch_first=True)(torch.randn(2, 7, 3))
    assert tuple(out.shape) == (2, 7, 5), f"batch_first output: expected (B, T, H), got {tuple(out.shape)}"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### The LSTM against the vanishing gradient
#
# The same measurement as in Part 3, now through your `LSTMCell` (with PyTorch's initialisation)
# next to a tanh RNN with the same hidden size. Note the log scale.

# %% rnngrade={"role": "instructor"}
def lstm_hidden_grad_norms(cell, readout, x, y):
    """Like hidden_grad_norms, through an LSTM cell: mean over b of ||dL_T / dh_t[b]||."""
    B, T = x.shape[:2]
    state, hs = None, []
    for t in range(T):
        state = cell(x[:, t], state)
        hs.append(state[0])
    loss = F.cross_entropy(readout(state[0]), y[:, -1], reduction="sum")
    per_step = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([torch.zeros(B) if g is None else g.norm(dim=1) for g in per_step]).mean(1)


def plot_lstm_vs_rnn_grad_norms(T=60, B=32, I=4, H=32, K=3):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(B, T, I, generator=g), torch.randint(0, K, (B, T), generator=g)
    torch.manual_seed(0)
    cell, readout = LSTMCell(I, H), nn.Linear(H, K)
    lstm_norms = lstm_hidden_grad_norms(cell, readout, x, y).detach()
    rnn_norms = hidden_grad_norms(x, y, torch.zeros(B, H), random_rnn_params(I, H, K, 1.0, g))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.semilogy(range(1, T + 1), rnn_norms.detach(), label="tanh RNN")
    ax.semilogy(range(1, T + 1), lstm_norms, label="your LSTMCell")
    ax.set(xlabel="time step t", ylabel="mean ||dL_T / dh_t||", title="RNN vs LSTM")
    ax.legend()
    plt.show()


try:
    plot_lstm_vs_rnn_grad_norms()
except Exception as error:
    not_done_yet("Parts 3 and 4 (hidden_grad_norms, LSTMCell)", error)

# %% [markdown]
# ## Part 5: LSTM variants and the GRU
#
# **Peephole LSTM** (the lecture's "look at memory" variant): the gates also see the cell state.
# $i$ and $f$ see $C_{t-1}$, $o$ sees the new $C_t$:
#
# $$i = \sigma(z_i + W_{ci} C_{t-1}), \quad f = \sigma(z_f + W_{cf} C_{t-1}), \quad
# C_t = f \odot C_{t-1} + i \odot \tanh(z_g), \quad o = \sigma(z_o + W_{co} C_t)$$
#
# with $z$ as in the LSTM and `weight_ch` `(3H, H)` holding $W_{ci}, W_{cf}, W_{co}$ in row blocks
# (i, f, o).
#
# **Coupled LSTM**: no input gate; what is forgotten is replaced,
# $C_t = f \odot C_{t-1} + (1 - f) \odot \tilde C_t$. Parameters `(3H, ...)` with blocks (f, g, o).
#
# **GRU**, as PyTorch computes it (`nn.GRUCell`, blocks r, z, n):
#
# $$r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
# z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})$$
# $$n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})), \qquad h' = (1 - z) \odot n + z \odot h$$
#
# The lecture writes the GRU differently; question w1 below asks how.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 24

# %% [markdown]
# **5.1** `PeepholeLSTMCell.forward(x, state=None)`, **5.2** `CoupledLSTMCell.forward(x,
# state=None)`, **5.3** `GRUCell.forward(x, hx=None)` (equal to `nn.GRUCell`). The first two
# return `(h', c')`, the GRU returns `h'`.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "PeepholeLSTMCell"}
class PeepholeLSTMCell(LSTMCell):
    """LSTMCell's parameters plus weight_ch (3H, H): the peepholes of i, f, o (in that order)."""

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        k = 1 / math.sqrt(hidden_size)
        self.weight_ch = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        # BEGIN SOLUTION NO PROMPT
        H = self.hidden_size
        if state is None:
            state = (x.new_zeros(x.shape[0], H), x.new_zeros(x.shape[0], H))
        h, c = state
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        W_ci, W_cf, W_co = self.weight_ch[:H], self.weight_ch[H:2 * H], self.weight_ch[2 * H:]
        i = torch.sigmoid(z[:, :H] + c @ W_ci.T)
        f = torch.sigmoid(z[:, H:2 * H] + c @ W_cf.T)
        c_new = f * c + i * torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:] + c_new @ W_co.T)
        return o * torch.tanh(c_new), c_new
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 5: write PeepholeLSTMCell.forward")
        """ # END PROMPT


# %% rnngrade={"role": "answer", "part": "CoupledLSTMCell"}
class CoupledLSTMCell(nn.Module):
    """No input gate: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,);
    blocks f, g, o."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        # BEGIN SOLUTION NO PROMPT
        H = self.hidden_size
        if state is None:
            state = (x.new_zeros(x.shape[0], H), x.new_zeros(x.shape[0], H))
        h, c = state
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        f, g, o = torch.sigmoid(z[:, :H]), torch.tanh(z[:, H:2 * H]), torch.sigmoid(z[:, 2 * H:])
        c = f * c + (1 - f) * g
        return o * torch.tanh(c), c
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 5: write CoupledLSTMCell.forward")
        """ # END PROMPT


# %% rnngrade={"role": "answer", "part": "GRUCell"}
class GRUCell(nn.Module):
    """Parameters as nn.GRUCell: weight_ih (3H, I), weight_hh (3H, H), biases (3H,); blocks r, z, n."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))
        else:
            self.bias_ih = self.bias_hh = None

    def forward(self, x, hx=None):
        # BEGIN SOLUTION NO PROMPT
        if hx is None:
            hx = x.new_zeros(x.shape[0], self.hidden_size)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(hx, self.weight_hh, self.bias_hh)
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * hx
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 5: write GRUCell.forward")
        """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lstm_variants_shapes(PeepholeLSTMCell, CoupledLSTMCell, torch):
    x = torch.randn(2, 3)
    for cls, n_blocks in [(PeepholeLSTMCell, 4), (CoupledLSTMCell, 3)]:
        cell = cls(3, 5)
        assert tuple(cell.weight_ih.shape) == (n_blocks * 5, 3), f"{cls.__name__}.weight_ih"
        h, c = cell(x)
        assert tuple(h.shape) == (2, 5) == tuple(c.shape), \
            f"{cls.__name__}: expected h and c of shape (B, H) = (2, 5), got {tuple(h.shape)}"
        h2, c2 = cell(x, (h, c))
        assert torch.isfinite(h2).all() and torch.isfinite(c2).all(), f"{cls.__name__}: finite outputs"


# %%
def test_gru_cell_shape_and_zero_state(GRUCell, torch):
    cell = GRUCell(3, 5)
    x = torch.randn(2, 3)
    h = cell(x)
    assert tuple(h.shape) == (2, 5), f"expected h' of shape (B, H) = (2, 5), got {tuple(h.shape)}"
    assert torch.allclose(h, cell(x, torch.zeros(2, 5))), "hx=None must mean zeros"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: w1
# manual: true
# points: 0

# %% [markdown]
# **Written question w1 (not graded automatically).** The lecture writes the GRU as
# $r = \sigma(W_r [h_{t-1}, x_t])$, $z = \sigma(W_z [h_{t-1}, x_t])$,
# $\tilde h_t = \tanh(W [r \odot h_{t-1}, x_t])$, $h_t = (1 - z) \odot h_{t-1} + z \odot \tilde h_t$.
# Name the two ways PyTorch's `nn.GRUCell` differs, and say whether either changes what a GRU can
# represent.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# PyTorch applies the reset gate after the matrix product, $r \odot (W_{hn} h + b_{hn})$, where the
# lecture resets the state before it, $W (r \odot h)$; with the hidden bias inside the product the
# two are not the same function of the weights. And the roles of $z$ and $1 - z$ are swapped:
# PyTorch keeps the old state with weight $z$, the lecture with $1 - z$. The swap is only a
# relabelling ($z \to 1 - z$ by negating the gate's weights and bias); the reset placement is a
# genuinely different (but equally expressive in practice) parameterisation.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 6: the bidirectional LSTM
#
# A bidirectional layer runs a second LSTM (parameters `..._reverse`) from $t = T$ down to $t = 1$
# and concatenates the two hidden states at each step: `output[t] = [forward h_t, backward h_t]`,
# `(T, B, 2H)`. `h_n` and `c_n` are `(num_layers * 2, B, H)`, ordered layer by layer, forward
# before backward. Make your Part 4 `LSTM` handle `bidirectional=True` (the skeleton already makes
# the `_reverse` parameters).
#
# `BiLSTMClassifier` is the lecture's many-to-one BiRNN: it classifies a whole sequence from the
# last layer's final forward state and final backward state, `h_n[-2]` and `h_n[-1]`.

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 14

# %% [markdown]
# **6.1** Write `BiLSTMClassifier.forward(x)`: `x` `(B, T, I)` -> logits `(B, K)`, from your
# `LSTM` (made in the skeleton with `batch_first=True, bidirectional=True`) and `self.fc`.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "BiLSTMClassifier"}
class BiLSTMClassifier(nn.Module):
    """Many-to-one: x (B, T, I) -> logits (B, num_classes) from the final forward and backward states."""

    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True,
                         bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x):
        # BEGIN SOLUTION NO PROMPT
        out, _ = self.lstm(x)
        H = self.lstm.hidden_size
        # the forward half after the last step, the backward half after the first step
        features = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)
        return self.fc(features)
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 6: write BiLSTMClassifier.forward")
        """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_bidirectional_lstm_shapes(LSTM, torch):
    lstm = LSTM(3, 5, num_layers=2, bidirectional=True)
    out, (h_n, c_n) = lstm(torch.randn(7, 2, 3))
    assert tuple(out.shape) == (7, 2, 10), f"output: expected (T, B, 2H) = (7, 2, 10), got {tuple(out.shape)}"
    assert tuple(h_n.shape) == (4, 2, 5) == tuple(c_n.shape), \
        f"h_n, c_n: expected (num_layers * 2, B, H) = (4, 2, 5), got {tuple(h_n.shape)}"


# %%
def test_bilstm_classifier_shape(BiLSTMClassifier, torch):
    logits = BiLSTMClassifier(3, 5, 2, 4)(torch.randn(2, 7, 3))
    assert tuple(logits.shape) == (2, 4), f"expected logits (B, K) = (2, 4), got {tuple(logits.shape)}"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: w2
# manual: true
# points: 0

# %% [markdown]
# **Written question w2.** Why would `self.fc(out[:, -1, :])` be a poor classifier input for a
# bidirectional LSTM, even though its forward half is fine?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# At the last position the backward direction has just started: its hidden state there has read
# one token only (the last one), so half of the features know almost nothing about the sequence.
# The backward direction's summary of the whole sequence is its state after reaching $t = 1$,
# which is `out[:, 0, H:]` = `h_n[-1]`; the forward summary is `out[:, -1, :H]` = `h_n[-2]`.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 7: long-range dependencies
#
# The gradient plots suggest the LSTM can learn what the RNN cannot. Here you test that by
# training. Two tasks, both sequence-to-one (a linear read-out of the last hidden state):
#
# * **The adding problem** (Hochreiter and Schmidhuber, 1997): two channels, values $U(0, 1)$ and a
#   marker channel with one marker in each half of the sequence; the target is the sum of the two
#   marked values (MSE; predicting the mean gives 0.167, success is below 0.01).
# * **The latch task** (Bengio, Simard and Frasconi, 1994): one channel of noise $N(0, 0.2^2)$
#   with a single symbol $\pm 1$ at a random position; the class is the symbol's sign. The
#   network must *latch* the symbol and hold it, through the noise, until the end.
#
# After you submit, the grader trains your `LSTM` on the adding problem with $T = 50$ and checks
# the held-out error (6 points). Below, the same training loop compares your `LSTM` with
# PyTorch's tanh `nn.RNN` (allowed here: it is the baseline, not your answer). On a laptop the
# two cells take a few minutes.

# %% rnngrade={"role": "instructor"}
def adding_problem(n, T, generator):
    """x (n, T, 2): [value, marker]; y (n, 1): the sum of the two marked values."""
    values = torch.rand(n, T, generator=generator)
    first = torch.randint(0, T // 2, (n,), generator=generator)
    second = torch.randint(T // 2, T, (n,), generator=generator)
    markers = torch.zeros(n, T)
    markers[torch.arange(n), first] = 1.0
    markers[torch.arange(n), second] = 1.0
    return torch.stack([values, markers], dim=2), (values * markers).sum(1, keepdim=True)


def latch_task(n, T, generator, noise=0.2):
    """x (n, T, 1): noise and one symbol +-1 at a random step; y (n, 1): 1.0 if the symbol is +1."""
    x = noise * torch.randn(n, T, generator=generator)
    label = torch.randint(0, 2, (n,), generator=generator)
    x[torch.arange(n), torch.randint(0, T, (n,), generator=generator)] = 2.0 * label - 1
    return x.unsqueeze(2), label.float().unsqueeze(1)


class SequenceToOne(nn.Module):
    """A batch-first recurrent core read out by a linear layer at the last step: (B, T, I) -> (B, 1)."""

    def __init__(self, core, hidden_size):
        super().__init__()
        self.core, self.readout = core, nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.core(x)  # (B, T, H)
        return self.readout(out[:, -1])


TASKS = {  # sampler, loss, error metric (lower is better), success threshold
    "adding": (adding_problem, F.mse_loss, lambda p, y: F.mse_loss(p, y).item(), 0.01),
    "latch": (latch_task, F.binary_cross_entropy_with_logits,
              lambda p, y: ((p > 0).float() != y).float().mean().item(), 0.05),
}


def train(kind, task, T, steps, hidden_size=32, seed=0):
    """Adam (lr 1e-2), batch 64, clipped gradients, early stopping; returns [(step, val error)]."""
    sample, loss_fn, metric, target = TASKS[task]
    torch.manual_seed(seed)
    I = 2 if task == "adding" else 1
    core = (LSTM(I, hidden_size, batch_first=True) if kind == "LSTM"
            else nn.RNN(I, hidden_size, batch_first=True))
    model = SequenceToOne(core, hidden_size)
    g = torch.Generator().manual_seed(seed)
    x_val, y_val = sample(500, T, torch.Generator().manual_seed(10_000 + seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = []
    for step in range(1, steps + 1):
        x, y = sample(64, T, g)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps:
            with torch.no_grad():
                history.append((step, metric(model(x_val), y_val)))
            if history[-1][1] < target / 2:
                break
    return history


# %% rnngrade={"role": "instructor"}
# Training curves on the adding problem, T = 50 (your LSTM against a tanh RNN).
def plot_training_curves(T=50, steps=5 if FAST else 1500):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for kind in ("RNN", "LSTM"):
        history = train(kind, "adding", T, steps)
        ax.semilogy(*zip(*history), label=f"{kind} (final {history[-1][1]:.4f})")
    ax.axhline(0.01, color="gray", linestyle="--", label="success: MSE < 0.01")
    ax.set(xlabel="training step", ylabel="validation MSE", title=f"Adding problem, T = {T}")
    ax.legend()
    plt.show()


try:
    plot_training_curves()
except Exception as error:
    not_done_yet("Part 4 (LSTM.forward with batch_first=True)", error)

# %% rnngrade={"role": "instructor"}
# The latch task: accuracy against the sequence length, RNN vs your LSTM (one seed per point).
def plot_latch_accuracy(lengths=(5, 10) if FAST else (10, 25, 50, 100), steps=5 if FAST else 1500):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for kind in ("RNN", "LSTM"):
        accuracy = [1 - train(kind, "latch", T, steps)[-1][1] for T in lengths]
        ax.plot(lengths, accuracy, marker="o", label=kind)
        print(kind, {T: round(a, 3) for T, a in zip(lengths, accuracy)})
    ax.axhline(0.5, color="gray", linestyle=":", label="chance")
    ax.set(xlabel="sequence length T", ylabel="validation accuracy", ylim=(0.4, 1.02),
           title="Latch task (symbol at a random step)")
    ax.legend()
    plt.show()


try:
    plot_latch_accuracy()
except Exception as error:
    not_done_yet("Part 4 (LSTM.forward with batch_first=True)", error)

# %% [raw]
# # BEGIN QUESTION
# name: w3
# manual: true
# points: 0

# %% [markdown]
# **Written question w3.** Why does the tanh RNN fail the latch task at $T = 100$ while the LSTM
# learns it? Use your plots from Parts 3 and 4.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# To learn to latch, the loss at step $T$ must send gradient back to the step where the symbol
# appeared, up to 100 steps earlier. In the RNN that gradient is a product of one Jacobian
# $\operatorname{diag}(1 - h_k^2) W$ per step; its norm shrinks exponentially with the distance
# (the Part 3 plot falls by orders of magnitude), so the signal from distant symbols is lost and
# the noise dominates. The LSTM's cell state is updated additively, and its gradient is scaled by
# the forget gate at each step; with $f$ close to 1 it survives for many steps (the flat LSTM
# curve), so the network can learn to store the symbol and keep it.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: w4
# manual: true
# points: 0

# %% [markdown]
# **Written question w4.** If the symbol is always at step 1 (a fixed lag of $T$ steps), an LSTM
# with PyTorch's initialisation usually stays at chance. Its forget gate starts near
# $\sigma(0) = 0.5$. What does that do to the memory of the first step after 100 steps, and why
# does initialising the forget-gate bias to 1 (or more) help?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# With $f \approx 0.5$ the cell state keeps about $0.5^{99} \approx 10^{-30}$ of what was written at
# step 1, and the gradient along the cell state shrinks by the same factor, so nothing links the
# output to the symbol and training cannot start. With the forget-gate bias at 1, $f \approx
# \sigma(1) = 0.73$ at first and moves towards 1 quickly once it helps; with a bias of 3,
# $f \approx 0.95$. The memory then decays slowly enough for a learning signal to reach step 1,
# and the network can learn to hold the symbol (Gers, Schmidhuber and Cummins, 2000; Jozefowicz
# et al., 2015).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Submission
#
# Run every cell from the top (Kernel, Restart and Run All), check that the public tests pass,
# then run the cell below. It runs the public tests once more and makes a zip of your notebook.
