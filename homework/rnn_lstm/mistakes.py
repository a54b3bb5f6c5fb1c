"""The usual mistakes, each a hint and the outputs a submission making it would return.

``MISTAKES[target](replay)`` yields ``(hint, compute)`` pairs; ``diagnosis.diagnose`` calls
``compute()`` only for failed cases. Every candidate is ``torch.nn`` or ``reference`` itself, run
on transformed weights, inputs or outputs, so no equation is written twice:

- a gate block order: the weights' row blocks permuted;
- a sigmoid gate and its complement swapped (z and 1 - z, f and 1 - f): that block negated,
  since sigma(-a) = 1 - sigma(a);
- an input gate of 1 (the coupled cell's ungated write): an LSTM cell whose i block is saturated;
- a peephole looking at the old cell state: an LSTM cell whose input is [x, C_{t-1}];
- the lecture's GRU: ``reference.LectureGRUCell``; other nonlinearities: ``reference.lstm``'s
  ``lstm_step_with``; a bias never added, a state ignored, a layout mix-up: zeroed weights,
  dropped inputs, permuted outputs.

Only BPTT's mistakes live inside its backward recursion, which no transform of the right answer
can express: ``bptt_with`` replays the lecture's recursion with the one step a student got wrong.
"""
from __future__ import annotations

import itertools
import re

import torch
import torch.nn.functional as F
from torch import nn

import reference
from autograder.diagnosis import Replay
from reference.lstm import lstm_step_with
from reference.rnn import rnn_hidden_states

WEIGHT = re.compile(r"(^|\.)(weight|bias)_(ih|hh)")


def permuted(state_dict: dict, order: tuple[str, ...], canonical: str) -> dict:
    """Weights with which PyTorch computes what a student reading the row blocks in ``order``
    computes: the block the student takes as gate X goes where PyTorch expects X."""
    out = {}
    for k, v in state_dict.items():
        if WEIGHT.search(k):
            blocks, new = v.chunk(len(canonical), 0), [None] * len(canonical)
            for j, gate in enumerate(order):
                new[canonical.index(gate)] = blocks[j]
            v = torch.cat(new)
        out[k] = v
    return out


def zeroed(state_dict: dict, which: str) -> dict:
    return {k: torch.zeros_like(v) if re.search(rf"(^|\.){which}", k) else v
            for k, v in state_dict.items()}


def doubled(state_dict: dict, which: str) -> dict:
    return {k: 2 * v if re.search(rf"(^|\.){which}", k) else v for k, v in state_dict.items()}


def forget_plus_one(state_dict: dict) -> dict:
    """An extra +1 on the forget gate's pre-activation (TensorFlow's ``forget_bias``): the f
    block of ``bias_ih`` raised by 1."""
    out = {}
    for k, v in state_dict.items():
        if re.search(r"(^|\.)bias_ih", k):
            blocks = list(v.chunk(4, 0))
            blocks[1] = blocks[1] + 1
            v = torch.cat(blocks)
        out[k] = v
    return out


def negated(state_dict: dict, canonical: str, gate: str) -> dict:
    """Weights with gate block ``gate`` negated: sigma(-a) = 1 - sigma(a) swaps the gate with its
    complement (z with 1 - z, f with 1 - f)."""
    out = {}
    for k, v in state_dict.items():
        if WEIGHT.search(k):
            blocks = list(v.chunk(len(canonical), 0))
            blocks[canonical.index(gate)] = -blocks[canonical.index(gate)]
            v = torch.cat(blocks)
        out[k] = v
    return out


def gate_orders(r: Replay, canonical: str, layer: str, make, suffix: str = ""):
    """Every other order of the gate blocks: what ``make()`` computes on permuted weights."""
    for order in itertools.permutations(canonical):
        if order != tuple(canonical):
            hint = (f"your outputs match {layer} with the gates in the order {', '.join(order)}; "
                    f"PyTorch's order is {', '.join(canonical)} (the row blocks of weight_ih and "
                    f"weight_hh){suffix}")
            yield hint, lambda o=order: r.module(make(), permuted(r.state_dict, o, canonical))


def variant(base_layer, base_cell, step):
    """The reference's layer and cell with another step function."""
    cell = type("Mistaken" + base_cell.__name__, (base_cell,), {"step": staticmethod(step)})
    return type("Mistaken" + base_layer.__name__, (base_layer,), {"cell": cell}), cell


def ident(t):
    return t


LSTM_STEPS = [
    ("h = o * c: the output skips the tanh of the cell state; it is h = o * tanh(c)",
     lstm_step_with(output=ident)),
    ("the candidate g uses a sigmoid where a tanh belongs (g = tanh(W_ig x + W_hg h + b_g))",
     lstm_step_with(candidate=torch.sigmoid)),
    ("the gates i, f, o use tanh where a sigmoid belongs (gates lie between 0 and 1)",
     lstm_step_with(gate=torch.tanh)),
    ("the gates i, f, o have no sigmoid at all", lstm_step_with(gate=ident)),
]


def _lstm_common(r: Replay, make_nn, make_variant, state_key: str, layer: str = "nn.LSTM"):
    """Mistakes shared by LSTMCell and LSTM: gate order, biases, activations, initial state."""
    yield from gate_orders(r, "ifgo", layer, make_nn)
    if any(k.startswith("bias") or ".bias" in k for k in r.state_dict):
        for which in ("bias_hh", "bias_ih"):
            yield f"{which} is never added (PyTorch adds both bias_ih and bias_hh)", \
                lambda w=which: r.module(make_nn(), zeroed(r.state_dict, w))
            yield f"{which} is added twice (once is enough: PyTorch adds bias_ih and bias_hh " \
                "once each)", lambda w=which: r.module(make_nn(), doubled(r.state_dict, w))
        yield ("the forget gate gets an extra +1 in forward (TensorFlow's forget_bias); PyTorch "
               "adds no constant: to start with f near 1, initialise the f block of the biases "
               "instead"), lambda: r.module(make_nn(), forget_plus_one(r.state_dict))
    for hint, step in LSTM_STEPS:
        yield hint, lambda s=step: r.module(make_variant(s))
    if r.inputs[1] is not None:
        yield (f"the initial state {state_key} you are given is ignored (you start from zeros)",
               lambda: r.module(make_nn(), inputs=[r.inputs[0], None]))


def lstm_cell_mistakes(r: Replay):
    I, H = r.init_args
    bias = r.init_kwargs.get("bias", True)
    yield from _lstm_common(r, lambda: nn.LSTMCell(I, H, bias=bias),
                            lambda s: variant(reference.LSTM, reference.LSTMCell, s)[1](I, H, bias),
                            "(h, c)", "nn.LSTMCell")


def lstm_mistakes(r: Replay):
    I, H = r.init_args
    kw = r.init_kwargs
    L, D, bf = kw.get("num_layers", 1), 2 if kw.get("bidirectional") else 1, kw.get("batch_first")
    make = lambda **over: nn.LSTM(I, H, **{**kw, **over})
    yield from _lstm_common(r, make, lambda s: variant(reference.LSTM, reference.LSTMCell, s)[0](
        I, H, **kw), "hx = (h_0, c_0)")
    t_dim = 1 if bf else 0
    if D == 2:
        def not_rereversed():
            out, h_n, c_n = r.module(make())
            back = out[..., H:].flip(t_dim)
            return [torch.cat([out[..., :H], back], dim=-1), h_n, c_n]
        yield ("the backward direction's outputs are stored in the order it processed them: "
               "reverse them back so output[t] lines up with x[t]"), not_rereversed

        def dirs_swapped():
            out, h_n, c_n = r.module(make())
            swap = lambda s: s.view(L, 2, *s.shape[1:]).flip(1).reshape(s.shape)
            return [out, swap(h_n), swap(c_n)]
        yield "h_n and c_n hold the two directions swapped: PyTorch's order is forward, " \
              "then backward, for each layer", dirs_swapped
    if L > 1:
        def layers_swapped():
            out, h_n, c_n = r.module(make())
            flip = lambda s: s.view(L, D, *s.shape[1:]).flip(0).reshape(s.shape)
            return [out, flip(h_n), flip(c_n)]
        yield "h_n and c_n list the layers in reverse order: layer 0 comes first", layers_swapped
    if bf:
        yield ("batch_first=True is ignored: the input is (B, T, I) and must be transposed to "
               "(T, B, I) before the loop over time, and the output back"),\
            lambda: r.module(make(batch_first=False))


def peephole_mistakes(r: Replay):
    I, H = r.init_args
    sd = r.state_dict

    def o_sees_old_c():
        """All three gates look at C_{t-1}: an LSTM cell on the input [x, C_{t-1}]."""
        w_ci, w_cf, w_co = sd["weight_ch"].chunk(3)
        w_c = torch.cat([w_ci, w_cf, torch.zeros_like(w_ci), w_co])  # (4H, H): no peephole on g
        x, (h, c) = r.inputs[0], r.inputs[1]
        cell = {**{k: v for k, v in sd.items() if k != "weight_ch"},
                "weight_ih": torch.cat([sd["weight_ih"], w_c], dim=1)}  # (4H, I + H)
        return r.module(reference.LSTMCell(I + H, H), cell, [torch.cat([x, c], 1), (h, c)])

    if r.inputs[1] is not None:
        yield ("the output gate looks at the old cell state C_{t-1}; in this variant it looks at "
               "the new C_t (i and f look at C_{t-1})"), o_sees_old_c
    no_peep = {k: v for k, v in sd.items() if k != "weight_ch"}
    yield "the gates do not look at the cell state at all (weight_ch is unused)", \
        lambda: r.module(reference.LSTMCell(I, H), no_peep)
    yield from gate_orders(r, "ifgo", "the peephole LSTM",
                           lambda: reference.PeepholeLSTMCell(I, H))


def coupled_mistakes(r: Replay):
    I, H = r.init_args
    sd = r.state_dict

    def ungated_write():
        """C = f * C + g: an LSTM cell whose input gate is saturated at 1."""
        f, g, o = sd["weight_ih"].chunk(3)  # (H, I) each
        f_h, g_h, o_h = sd["weight_hh"].chunk(3)  # (H, H) each
        i_bias = torch.full_like(sd["bias_ih"][:H], 1e4)  # sigma(1e4) = 1 exactly
        cell = {"weight_ih": torch.cat([torch.zeros_like(f), f, g, o]),
                "weight_hh": torch.cat([torch.zeros_like(f_h), f_h, g_h, o_h]),
                "bias_ih": torch.cat([i_bias, sd["bias_ih"]]),
                "bias_hh": torch.cat([torch.zeros_like(i_bias), sd["bias_hh"]])}
        return r.module(reference.LSTMCell(I, H), cell)

    yield ("the new content is written ungated, C = f * C + g, as if an input gate of 1 were "
           "kept; the coupled cell writes (1 - f) * g"), ungated_write
    yield "f and 1 - f are swapped: the coupled cell keeps f * C_{t-1} and writes (1 - f) * g", \
        lambda: r.module(reference.CoupledLSTMCell(I, H), negated(sd, "fgo", "f"))
    yield from gate_orders(r, "fgo", "the coupled cell", lambda: reference.CoupledLSTMCell(I, H))


def gru_mistakes(r: Replay):
    I, H = r.init_args
    bias = r.init_kwargs.get("bias", True)
    z_swapped = negated(r.state_dict, "rzn", "z")
    yield ("your GRUCell computes the lecture's formula: reset applied to h before the matrix "
           "product and z, 1 - z swapped. PyTorch applies r after (r * (W_hn h + b_hn)) and "
           "returns (1 - z) * n + z * h"), lambda: r.module(reference.LectureGRUCell(I, H, bias))
    yield "z and 1 - z are swapped: PyTorch returns h' = (1 - z) * n + z * h", \
        lambda: r.module(nn.GRUCell(I, H, bias=bias), z_swapped)
    yield ("the reset gate is applied to h before the matrix product (the lecture's form); "
           "PyTorch computes n = tanh(W_in x + b_in + r * (W_hn h + b_hn))"),\
        lambda: r.module(reference.LectureGRUCell(I, H, bias), z_swapped)  # its z swap undone
    yield from gate_orders(r, "rzn", "nn.GRUCell", lambda: nn.GRUCell(I, H, bias=bias))
    if r.inputs[1] is not None:
        yield "the hidden state hx you are given is ignored (you start from zeros)", \
            lambda: r.module(nn.GRUCell(I, H, bias=bias), inputs=[r.inputs[0], None])


def classifier_mistakes(r: Replay):
    I, H, L, K = r.init_args

    def reading(features):
        class Mistaken(reference.BiLSTMClassifier):
            def forward(self, x):
                out, (h_n, _) = self.lstm(x)
                return self.fc(features(out, h_n))
        return lambda: r.module(Mistaken(I, H, L, K))

    yield from gate_orders(r, "ifgo", "a classifier on nn.LSTM",
                           lambda: reference.BiLSTMClassifier(I, H, L, K),
                           suffix=": fix your LSTM (Part 4) first")
    yield ("the classifier reads out[:, -1, :], whose backward half has seen only the last "
           "token; use the final states of both directions, h_n[-2] and h_n[-1]"),\
        reading(lambda out, h_n: out[:, -1, :])
    yield "the two directions' final states are concatenated backward first: use " \
          "[h_n[-2], h_n[-1]]", reading(lambda out, h_n: torch.cat([h_n[-1], h_n[-2]], 1))
    if L > 1:
        yield "the classifier reads the first layer's states (h_n[0], h_n[1]); use the last " \
              "layer's, h_n[-2] and h_n[-1]", reading(lambda out, h_n: torch.cat([h_n[0], h_n[1]], 1))


def linear_rnn_forward(x, h0, p):
    """The RNN with h_t = a_t (no tanh): the one forward mistake no transform of the reference's
    results can express."""
    h, hs = h0, []
    for x_t in x.unbind(1):
        h = p["b"] + h @ p["W"].t() + x_t @ p["U"].t()  # (B, H)
        hs.append(h)
    h_all = torch.stack(hs, dim=1)  # (B, T, H)
    return torch.softmax(F.linear(h_all, p["V"], p["c"]), dim=-1), h_all


def rnn_forward_mistakes(r: Replay):
    x, h0, p = r.inputs

    def softmax_over(dim):
        _, h = reference.rnn_forward(x, h0, p)  # (B, T, H)
        return [torch.softmax(F.linear(h, p["V"], p["c"]), dim=dim), h]

    def shifted():
        y_hat, h = reference.rnn_forward(x, h0, p)
        return [y_hat, torch.cat([h0.unsqueeze(1), h[:, :-1]], 1)]  # h_0..h_{T-1}

    yield ("W is used transposed: a_t = b + W h_{t-1} + U x_t means h_prev @ W.T in batched form",
           lambda: r.function(reference.rnn_forward, [x, h0, {**p, "W": p["W"].t()}]))
    yield ("the softmax runs over the time axis; it normalises over the K classes (dim=-1)",
           lambda: softmax_over(1))
    yield ("the softmax runs over the batch; it normalises over the K classes (dim=-1)",
           lambda: softmax_over(0))
    yield "h holds h_0..h_{T-1}; it should hold h_1..h_T (the states after each step)", shifted
    yield "h_t has no tanh: h_t = tanh(a_t)", lambda: r.function(linear_rnn_forward)


def bptt_with(x, y, h0, p, tanh_grad=True, shift=True, through_time=True):
    """The lecture's BPTT recursion with one step changed (the reference's forward pass)."""
    B, T, _ = x.shape
    h = torch.stack(rnn_hidden_states(x, h0, p), dim=1)  # (B, T, H)
    o = F.linear(h, p["V"], p["c"])
    loss = F.cross_entropy(o.flatten(0, 1), y.flatten(), reduction="sum") / B
    d_o = (torch.softmax(o, -1) - F.one_hot(y, o.size(-1)).to(o.dtype)) / B
    d_a, nxt = torch.empty_like(h), torch.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        d_h = d_o[:, t] @ p["V"] + (nxt @ p["W"] if through_time else 0)
        nxt = d_h * (1 - h[:, t] ** 2) if tanh_grad else d_h
        d_a[:, t] = nxt
    h_prev = torch.cat([h0.unsqueeze(1), h[:, :-1]], 1) if shift else h
    flat = lambda t: t.reshape(B * T, -1)
    return loss, {"U": flat(d_a).t() @ flat(x), "W": flat(d_a).t() @ flat(h_prev),
                  "V": flat(d_o).t() @ flat(h), "b": d_a.sum((0, 1)), "c": d_o.sum((0, 1)),
                  "h0": d_a[:, 0] @ p["W"]}


def bptt_mistakes(r: Replay):
    for hint, kw in [
        ("the tanh derivative (1 - h_t^2) is missing from dL/da_t = dL/dh_t * (1 - h_t^2)",
         dict(tanh_grad=False)),
        ("dW uses h_t where h_{t-1} belongs: a_t depends on W through h_{t-1}",
         dict(shift=False)),
        ("the gradient is not carried back through time: dL/dh_t must include "
         "dL/da_{t+1} W from the next step", dict(through_time=False)),
    ]:
        yield hint, lambda kw=kw: r.function(lambda *a: bptt_with(*a, **kw))
    T = r.inputs[0].size(1)

    def time_mean():  # the right answer, divided by T
        loss, grads = reference.rnn_bptt(*r.inputs)
        return [loss / T] + [grads[path[1]] / T for path in r.paths[1:]]

    if T > 1:
        yield ("the loss is averaged over time; it is the mean over the batch of the sum over "
               "time"), time_mean


def grad_norm_mistakes(r: Replay):
    def scaled(transform):
        return lambda: [transform(r.function(reference.hidden_grad_norms)[0])]
    B = r.inputs[0].size(0)
    if B > 1:
        yield ("L_T is averaged over the batch; here it is the sum over the batch, so each "
               "example's gradient is its own"), scaled(lambda n: n / B)
    yield "the norms are in reverse time order: entry t is for h_t, t = 1..T", \
        scaled(lambda n: n.flip(0))


MISTAKES = {
    "rnn_forward": rnn_forward_mistakes, "rnn_bptt": bptt_mistakes,
    "hidden_grad_norms": grad_norm_mistakes, "LSTMCell": lstm_cell_mistakes,
    "LSTM": lstm_mistakes, "PeepholeLSTMCell": peephole_mistakes,
    "CoupledLSTMCell": coupled_mistakes, "GRUCell": gru_mistakes,
    "BiLSTMClassifier": classifier_mistakes,
}
