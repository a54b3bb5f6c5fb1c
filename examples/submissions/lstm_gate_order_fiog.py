# BUGGY EXAMPLE: LSTM reads the gates in the order f, i, g, o.
# Expected to lose points in: LSTM, BiLSTMClassifier.
# A complete, correct homework, written as a student would submit it (one file, plain loops):
# the answer cells of assignments/rnn_lstm, joined by examples/make_submissions.py.
# `rnngrade grade examples/submissions/solution.py` gives it full marks.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# Part 1 --------------------------------------------------------------------------------------

def rnn_param_count(input_size, hidden_size, output_size):
    """The number of scalars in U (H, I), W (H, H), V (K, H), b (H,) and c (K,)."""
    I, H, K = input_size, hidden_size, output_size
    return H * I + H * H + K * H + H + K


def rnn_forward(x, h0, params):
    """x (B, T, I), h0 (B, H) -> y_hat (B, T, K), h (B, T, H)."""
    U, W, V, b, c = params["U"], params["W"], params["V"], params["b"], params["c"]
    h, hs, ys = h0, [], []
    for t in range(x.shape[1]):
        a = b + h @ W.T + x[:, t] @ U.T
        h = torch.tanh(a)
        o = c + h @ V.T
        hs.append(h)
        ys.append(torch.softmax(o, dim=1))
    return torch.stack(ys, dim=1), torch.stack(hs, dim=1)


# Part 2 --------------------------------------------------------------------------------------

def rnn_bptt(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> loss (), grads {U, W, V, b, c, h0}."""
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


# Part 3 --------------------------------------------------------------------------------------

def hidden_grad_norms(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> (T,): mean over b of ||dL_T / dh_t[b]||."""
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


# Part 4 --------------------------------------------------------------------------------------

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

    def _cell(self, x, h, c, layer, suffix):
        H = self.hidden_size
        get = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)
        z = F.linear(x, get("weight_ih"), get("bias_ih")) + F.linear(h, get("weight_hh"),
                                                                    get("bias_hh"))
        f, i, g, o = z.split(H, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def forward(self, x, hx=None):
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


# Part 5 --------------------------------------------------------------------------------------

class PeepholeLSTMCell(LSTMCell):
    """LSTMCell's parameters plus weight_ch (3H, H): the peepholes of i, f, o (in that order)."""

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        k = 1 / math.sqrt(hidden_size)
        self.weight_ch = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
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
        H = self.hidden_size
        if state is None:
            state = (x.new_zeros(x.shape[0], H), x.new_zeros(x.shape[0], H))
        h, c = state
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        f, g, o = torch.sigmoid(z[:, :H]), torch.tanh(z[:, H:2 * H]), torch.sigmoid(z[:, 2 * H:])
        c = f * c + (1 - f) * g
        return o * torch.tanh(c), c


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


# Part 6 --------------------------------------------------------------------------------------

class BiLSTMClassifier(nn.Module):
    """Many-to-one: x (B, T, I) -> logits (B, num_classes) from the final forward and backward states."""

    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True,
                         bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        H = self.lstm.hidden_size
        # the forward half after the last step, the backward half after the first step
        features = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)
        return self.fc(features)


# Exploration, as students leave it in their notebooks: the grader runs it as Run All would
# (a statement that takes over 20 s is stopped, with a note).
model = LSTM(2, 32, batch_first=True)
for step in range(1000):
    pass
