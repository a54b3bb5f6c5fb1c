"""Hidden tests of Parts 4-6: LSTMCell, LSTM, the variants, GRUCell, the bidirectional LSTM and
the classifier. Equivalence is with ``torch.nn`` where PyTorch has the layer, else ``reference``.

Legend in messages: B batch, T time, I input_size, H hidden_size, L num_layers, D directions.
"""
from __future__ import annotations

import torch
from torch import nn

import reference

from .cases import CaseBuilder
from .checks import Suite, Test
from .compare import dtype_name

F64, F32 = torch.float64, torch.float32
B, T, I, H = 3, 7, 4, 5  # distinct sizes, so a transposed result cannot have the right shape


def tests(target: str, points: dict[str, float], title: str | None = None) -> list[Test]:
    """One test per aspect with points: 'LSTMCell: matches nn.LSTMCell', ..."""
    title = title or target
    names = {"parameters": "parameters named and shaped as PyTorch's", "shapes":
             "output shapes, dtype and device", "values": "outputs match the trusted model",
             "gradients": "gradients match (input, initial state, every parameter)"}
    return [Test(f"{title}: {names[a]}", a, p) for a, p in points.items()]


def layer_legend(gates: str, num_layers: int, bidirectional: bool, extra=()) -> dict[str, str]:
    """How each PyTorch parameter's shape is written: weight_ih_l1 -> (4H, D*H)."""
    out = {}
    for k in range(num_layers):
        for sfx in ("", "_reverse")[: 2 if bidirectional else 1]:
            out[f"weight_ih_l{k}{sfx}"] = f"({gates}, {'I' if k == 0 else 'D*H'})"
            out[f"weight_hh_l{k}{sfx}"] = f"({gates}, H)"
            out[f"bias_ih_l{k}{sfx}"] = out[f"bias_hh_l{k}{sfx}"] = f"({gates},)"
            for name in extra:
                out[f"{name}_l{k}{sfx}"] = "(3H, H)"
    return out


def cell_legend(gates: str, extra=()) -> dict[str, str]:
    return {"weight_ih": f"({gates}, I)", "weight_hh": f"({gates}, H)", "bias_ih": f"({gates},)",
            "bias_hh": f"({gates},)", **{n: "(3H, H)" for n in extra}}


def lstm_cases(b: CaseBuilder, configs) -> list:
    cases = []
    for L, bi, bf, init, bias, dtype, (bb, tt) in configs:
        D = 2 if bi else 1
        x = b.randn(*((bb, tt, I) if bf else (tt, bb, I)), dtype=dtype)
        hx = [("h_0", b.randn(L * D, bb, H, dtype=dtype)),
              ("c_0", b.randn(L * D, bb, H, dtype=dtype))] if init else None
        kw = dict(num_layers=L, bias=bias, batch_first=bf, bidirectional=bi)
        label = (f"num_layers={L}, {'bidirectional' if bi else 'unidirectional'}, "
                 f"batch_first={bf}, {'hx given' if init else 'hx=None'}, bias={bias}, "
                 f"B={bb}, T={tt}, {dtype_name(dtype)}")
        out_legend = "(B, T, D*H)" if bf else "(T, B, D*H)"
        cases.append(b.module_case(
            label, "LSTM", nn.LSTM(I, H, **kw), [I, H], kw, [("input", x), hx],
            [("output", (0,), out_legend, 1 if bf else 0), ("h_n", (1, 0), "(L*D, B, H)", None),
             ("c_n", (1, 1), "(L*D, B, H)", None)],
            "(output, (h_n, c_n))", dtype, layer_legend("4H", L, bi)))
    return cases


def cell_cases(b: CaseBuilder, target: str, make, gates: str, state: int, extra=(),
               bias_option: bool = True) -> list:
    """state: 2 for (h, c) cells, 1 for GRUCell (h alone). bias_option: the constructor takes
    ``bias`` (PyTorch's cells do; HOMEWORK.md's variants are built with two arguments only)."""
    cases = []
    for init, bias, dtype, bb in [(True, True, F64, B), (False, True, F64, B),
                                  (True, not bias_option, F64, 1), (True, True, F32, B)]:
        x = b.randn(bb, I, dtype=dtype)
        if state == 2:
            st = [("h", b.randn(bb, H, dtype=dtype)), ("c", b.randn(bb, H, dtype=dtype))]
            outs = [("h'", (0,), "(B, H)", None), ("c'", (1,), "(B, H)", None)]
            returns = "(h', c')"
        else:
            st = ("hx", b.randn(bb, H, dtype=dtype))
            outs, returns = [("h'", (), "(B, H)", None)], "h'"
        label = f"{'state given' if init else 'state=None'}, bias={bias}, B={bb}, {dtype_name(dtype)}"
        kwargs = {"bias": bias} if bias_option else {}
        cases.append(b.module_case(label, target, make(bias), [I, H], kwargs,
                                   [("x", x), st if init else None], outs, returns, dtype,
                                   cell_legend(gates, extra)))
    return cases


def classifier_cases(b: CaseBuilder) -> list:
    cases = []
    for L, K, dtype in [(1, 3, F64), (2, 6, F64), (3, 2, F32)]:
        torch.manual_seed(0)
        x = b.randn(B, T, I, dtype=dtype)
        cases.append(b.module_case(
            f"num_layers={L}, num_classes={K}, {dtype_name(dtype)}", "BiLSTMClassifier",
            reference.BiLSTMClassifier(I, H, L, K), [I, H, L, K], {}, [("x", x)],
            [("logits", (), "(B, K)", None)], "logits", dtype,
            {"fc.weight": "(K, 2H)", "fc.bias": "(K,)",
             **{f"lstm.{k}": v for k, v in layer_legend("4H", L, True).items()}}))
    return cases


def device_suite(b: CaseBuilder, target: str, part: int, make, init_args: list,
                 init_kwargs: dict, inputs, outs, returns: str) -> Suite:
    """The same call with every input on the meta device (no GPU needed), and on CUDA when the
    judge has one: code that makes a tensor without ``device=x.device`` fails here."""
    devices = ["meta"] + (["cuda"] if torch.cuda.is_available() else [])
    cases = [b.module_case(f"inputs on the {d} device", target, make(), init_args, init_kwargs,
                           inputs(), outs, returns, F64, device=d) for d in devices]
    return Suite(target, part, [Test(f"{target}: runs on the device of its inputs (no "
                                     "hard-coded device)", "shapes", 1)], cases)


def device_suites(b: CaseBuilder) -> list[Suite]:
    hc = [("h'", (0,), "(B, H)", None), ("c'", (1,), "(B, H)", None)]
    cell_in = lambda: [("x", b.randn(B, I)), None]  # state=None: the zeros are made inside
    lstm_out = [("output", (0,), "(T, B, D*H)", 0), ("h_n", (1, 0), "(L*D, B, H)", None),
                ("c_n", (1, 1), "(L*D, B, H)", None)]
    return [
        device_suite(b, "LSTMCell", 4, lambda: nn.LSTMCell(I, H), [I, H], {}, cell_in, hc,
                     "(h', c')"),
        device_suite(b, "LSTM", 4, lambda: nn.LSTM(I, H, 2), [I, H], {"num_layers": 2},
                     lambda: [("input", b.randn(T, B, I)), None], lstm_out,
                     "(output, (h_n, c_n))"),
        device_suite(b, "PeepholeLSTMCell", 5, lambda: reference.PeepholeLSTMCell(I, H), [I, H],
                     {}, cell_in, hc, "(h', c')"),
        device_suite(b, "CoupledLSTMCell", 5, lambda: reference.CoupledLSTMCell(I, H), [I, H], {},
                     cell_in, hc, "(h', c')"),
        device_suite(b, "GRUCell", 5, lambda: nn.GRUCell(I, H), [I, H], {}, cell_in,
                     [("h'", (), "(B, H)", None)], "h'"),
        device_suite(b, "BiLSTMClassifier", 6, lambda: reference.BiLSTMClassifier(I, H, 2, 3),
                     [I, H, 2, 3], {}, lambda: [("x", b.randn(B, T, I))],
                     [("logits", (), "(B, K)", None)], "logits"),
    ]


def suites(seed: int) -> list[Suite]:
    b = CaseBuilder(seed)
    uni = [  # (L, bidirectional, batch_first, hx given, bias, dtype, (B, T))
        (1, False, False, False, True, F64, (B, T)), (1, False, True, True, True, F64, (B, T)),
        (2, False, False, True, True, F64, (B, T)), (3, False, True, False, False, F64, (B, T)),
        (2, False, False, True, True, F32, (B, T)), (1, False, False, True, True, F64, (1, 1))]
    bi = [(1, True, False, True, True, F64, (B, T)), (2, True, True, False, True, F64, (B, T)),
          (3, True, False, True, False, F32, (B, T)), (2, True, True, True, True, F64, (1, 1))]
    return [
        Suite("LSTMCell", 4, tests("LSTMCell", {"parameters": 1, "shapes": 1, "values": 4,
                                                 "gradients": 2}),
              cell_cases(b, "LSTMCell", lambda bias: nn.LSTMCell(I, H, bias=bias), "4H", 2)),
        Suite("LSTM", 4, tests("LSTM", {"parameters": 1, "shapes": 2, "values": 8,
                                         "gradients": 4}), lstm_cases(b, uni)),
        Suite("PeepholeLSTMCell", 5, tests("PeepholeLSTMCell", {"parameters": 1, "shapes": 1,
                                                                 "values": 3, "gradients": 2}),
              cell_cases(b, "PeepholeLSTMCell", lambda bias: reference.PeepholeLSTMCell(I, H),
                         "4H", 2, extra=("weight_ch",), bias_option=False)),
        Suite("CoupledLSTMCell", 5, tests("CoupledLSTMCell", {"parameters": 1, "shapes": 1,
                                                               "values": 3, "gradients": 2}),
              cell_cases(b, "CoupledLSTMCell", lambda bias: reference.CoupledLSTMCell(I, H),
                         "3H", 2, bias_option=False)),
        Suite("GRUCell", 5, tests("GRUCell", {"parameters": 1, "shapes": 1, "values": 3,
                                               "gradients": 2}),
              cell_cases(b, "GRUCell", lambda bias: nn.GRUCell(I, H, bias=bias), "3H", 1)),
        Suite("LSTM", 6, tests("LSTM", {"shapes": 1, "values": 5, "gradients": 2},
                               title="LSTM (bidirectional)"), lstm_cases(b, bi)),
        Suite("BiLSTMClassifier", 6, tests("BiLSTMClassifier", {"shapes": 1, "values": 3,
                                                                 "gradients": 1}),
              classifier_cases(b)),
        *device_suites(b),
    ]
