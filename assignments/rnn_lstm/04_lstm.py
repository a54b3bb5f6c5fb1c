# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

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
    torch.manual_seed(0)  # the same weights as PyTorch's cell: the outputs must agree
    theirs = torch.nn.LSTMCell(3, 5).double()
    cell.load_state_dict(theirs.state_dict())
    x, h0, c0 = (torch.randn(2, n, dtype=torch.float64) for n in (3, 5, 5))
    for name, got, want in zip(("h'", "c'"), cell(x, (h0, c0)), theirs(x, (h0, c0))):
        gap = (got - want).abs().max().item()
        assert gap < 1e-8, (f"{name} differs from nn.LSTMCell's with the same weights (by up to "
                            f"{gap:.2g}): check the gate order i, f, g, o, that both biases are "
                            "added, and sigmoid for i, f, o but tanh for g and the output")


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
    torch.manual_seed(0)  # the same weights as nn.LSTM's: the outputs must agree
    mine.double().load_state_dict(theirs.double().state_dict())
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    for name, got, want in zip(("output", "h_n", "c_n"), (lambda o, s: (o, *s))(*mine(x)),
                               (lambda o, s: (o, *s))(*theirs(x))):
        gap = (got - want).abs().max().item()
        assert gap < 1e-8, (f"{name} differs from nn.LSTM's with the same weights (by up to "
                            f"{gap:.2g}), 2 layers, bidirectional: check the gate order, that "
                            "the backward direction's outputs are put back in time order, and "
                            "h_n's order (layer 0 forward, layer 0 backward, layer 1 ...)")


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### The LSTM against the vanishing gradient
#
# The same measurement as in Part 3, through your `LSTMCell`, next to a tanh RNN of the same size
# (log scale). Along the cell state the gradient is multiplied by the forget gate $f$ at every
# step. At PyTorch's initialisation $f \approx \sigma(0) = 0.5$, so *at first* the LSTM's gradient
# vanishes too; what the LSTM adds is a path that stays open when $f$ is near 1, which training
# can learn, or which you can start from by adding a constant to the forget gate's bias. The
# curves below add 0, 1 and 3 (question w4 comes back to this).

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
    """What a correct LSTMCell shows: with forget bias +0 its curve falls about as fast as the
    RNN's (or faster); +1 and then +3 flatten it, +3 being the flattest."""
    x, y, h0, params = random_rnn(B, T, I, H, K)
    rnn_norms = hidden_grad_norms(x, y, h0, params)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.semilogy(range(1, T + 1), rnn_norms.detach(), label="tanh RNN", color="black")
    for forget_bias in (0.0, 1.0, 3.0):
        torch.manual_seed(0)
        cell, readout = LSTMCell(I, H), nn.Linear(H, K)
        with torch.no_grad():
            cell.bias_ih[H:2 * H] += forget_bias  # the f block of (i, f, g, o)
        norms = lstm_hidden_grad_norms(cell, readout, x, y).detach()
        ax.semilogy(range(1, T + 1), norms, label=f"your LSTMCell, forget bias +{forget_bias:g}")
    ax.set(xlabel="time step t", ylabel="mean ||dL_T / dh_t||", title="RNN vs LSTM")
    ax.legend()
    plt.show()


try:
    plot_lstm_vs_rnn_grad_norms()
except Exception as error:
    not_done_yet("Parts 3 and 4 (hidden_grad_norms, LSTMCell)", error)
