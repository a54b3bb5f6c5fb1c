# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

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
    torch.manual_seed(0)  # the same weights as PyTorch's cell: the outputs must agree
    theirs = torch.nn.GRUCell(3, 5).double()
    cell.double().load_state_dict(theirs.state_dict())
    x, h0 = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    gap = (cell(x, h0) - theirs(x, h0)).abs().max().item()
    assert gap < 1e-8, (f"h' differs from nn.GRUCell's with the same weights (by up to {gap:.2g}): "
                        "PyTorch applies r after the matrix product, r * (W_hn h + b_hn), and "
                        "returns (1 - z) * n + z * h")


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
