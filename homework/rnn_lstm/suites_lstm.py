"""Hidden tests of Parts 4-6: LSTMCell, LSTM, the variants, GRUCell, the bidirectional LSTM and
the classifier. Equivalence is with ``torch.nn`` where PyTorch has the layer, else ``reference``.

Legend in messages: B batch, T time, I input_size, H hidden_size, L num_layers, D directions.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import reference
from autograder.cases import Arg, CaseBuilder, ModuleCall
from autograder.compare import dtype_name
from autograder.protocol import Init
from autograder.spec import OutputSpec, Suite, Test

F64, F32 = torch.float64, torch.float32
B, T, I, H = 3, 7, 4, 5  # distinct sizes, so a transposed result cannot have the right shape


@dataclass(frozen=True)
class LSTMConfig:
    """One hidden configuration of the LSTM layer."""

    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    hx_given: bool = False  # pass (h_0, c_0), else hx=None
    bias: bool = True
    dtype: torch.dtype = F64
    batch: int = B
    steps: int = T

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def label(self) -> str:
        return (f"num_layers={self.num_layers}, "
                f"{'bidirectional' if self.bidirectional else 'unidirectional'}, "
                f"batch_first={self.batch_first}, {'hx given' if self.hx_given else 'hx=None'}, "
                f"bias={self.bias}, B={self.batch}, T={self.steps}, {dtype_name(self.dtype)}")


def lstm_outputs(batch_first: bool, directions: int) -> tuple[OutputSpec, ...]:
    """(output, (h_n, c_n)) as nn.LSTM returns them."""
    return (OutputSpec("output", (0,), "(B, T, D*H)" if batch_first else "(T, B, D*H)",
                       1 if batch_first else 0, directions=directions),
            OutputSpec("h_n", (1, 0), "(L*D, B, H)", directions=directions, stacked=True),
            OutputSpec("c_n", (1, 1), "(L*D, B, H)", directions=directions, stacked=True))


CELL_HC = (OutputSpec("h'", (0,), "(B, H)"), OutputSpec("c'", (1,), "(B, H)"))
CELL_H = (OutputSpec("h'", (), "(B, H)"),)
LOGITS = (OutputSpec("logits", (), "(B, K)"),)


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


def lstm_cases(b: CaseBuilder, configs: list[LSTMConfig]) -> list:
    cases = []
    for c in configs:
        L, D, dtype = c.num_layers, c.directions, c.dtype
        x = b.randn(*((c.batch, c.steps, I) if c.batch_first else (c.steps, c.batch, I)),
                    dtype=dtype)
        hx = (Arg("h_0", b.randn(L * D, c.batch, H, dtype=dtype)),
              Arg("c_0", b.randn(L * D, c.batch, H, dtype=dtype))) if c.hx_given else None
        kw = dict(num_layers=L, bias=c.bias, batch_first=c.batch_first,
                  bidirectional=c.bidirectional)
        cases.append(b.module_case(c.label(), ModuleCall(
            "LSTM", nn.LSTM(I, H, **kw), Init((I, H), kw), (Arg("input", x), hx),
            lstm_outputs(c.batch_first, D), "(output, (h_n, c_n))", dtype,
            layer_legend("4H", L, c.bidirectional))))
    return cases


def cell_cases(b: CaseBuilder, target: str, make, gates: str, state: int, extra=(),
               bias_option: bool = True) -> list:
    """state: 2 for (h, c) cells, 1 for GRUCell (h alone). bias_option: the constructor takes
    ``bias`` (PyTorch's cells do; HOMEWORK.md's variants are built with two arguments only)."""
    cases = []
    for init, bias, dtype, bb in [(True, True, F64, B), (False, True, F64, B),
                                  (True, not bias_option, F64, 1), (False, True, F64, 1),
                                  (True, True, F32, B)]:
        x = b.randn(bb, I, dtype=dtype)
        if state == 2:
            st = (Arg("h", b.randn(bb, H, dtype=dtype)), Arg("c", b.randn(bb, H, dtype=dtype)))
            outs, returns = CELL_HC, "(h', c')"
        else:
            st = Arg("hx", b.randn(bb, H, dtype=dtype))
            outs, returns = CELL_H, "h'"
        label = f"{'state given' if init else 'state=None'}, bias={bias}, B={bb}, {dtype_name(dtype)}"
        kwargs = {"bias": bias} if bias_option else {}
        cases.append(b.module_case(label, ModuleCall(
            target, make(bias), Init((I, H), kwargs), (Arg("x", x), st if init else None), outs,
            returns, dtype, cell_legend(gates, extra))))
    return cases


def classifier_cases(b: CaseBuilder) -> list:
    cases = []
    for L, K, dtype, bb in [(1, 3, F64, B), (2, 6, F64, B), (3, 2, F32, B), (2, 4, F64, 1)]:
        torch.manual_seed(0)
        x = b.randn(bb, T, I, dtype=dtype)
        cases.append(b.module_case(f"num_layers={L}, num_classes={K}, B={bb}, {dtype_name(dtype)}",
                                   ModuleCall(
            "BiLSTMClassifier", reference.BiLSTMClassifier(I, H, L, K), Init((I, H, L, K)),
            (Arg("x", x),), LOGITS, "logits", dtype,
            {"fc.weight": "(K, 2H)", "fc.bias": "(K,)",
             **{f"lstm.{k}": v for k, v in layer_legend("4H", L, True).items()}})))
    return cases


def device_suite(b: CaseBuilder, target: str, part: int, make, init: Init, inputs, outs,
                 returns: str) -> Suite:
    """The same call with every input on the meta device (no GPU needed), and on CUDA when the
    judge has one: code that makes a tensor without ``device=x.device`` fails here."""
    devices = ["meta"] + (["cuda"] if torch.cuda.is_available() else [])
    cases = [b.module_case(f"inputs on the {d} device", ModuleCall(
        target, make(), init, inputs(), outs, returns, F64, device=d)) for d in devices]
    return Suite(target, part, [Test(f"{target}: runs on the device of its inputs (no "
                                     "hard-coded device)", "shapes", 1)], cases)


def device_suites(b: CaseBuilder) -> list[Suite]:
    cell_in = lambda: (Arg("x", b.randn(B, I)), None)  # state=None: the zeros are made inside
    lstm_out = tuple(OutputSpec(o.name, o.path, o.legend, o.time_dim)
                     for o in lstm_outputs(False, 1))
    return [
        device_suite(b, "LSTMCell", 4, lambda: nn.LSTMCell(I, H), Init((I, H)), cell_in, CELL_HC,
                     "(h', c')"),
        device_suite(b, "LSTM", 4, lambda: nn.LSTM(I, H, 2), Init((I, H), {"num_layers": 2}),
                     lambda: (Arg("input", b.randn(T, B, I)), None), lstm_out,
                     "(output, (h_n, c_n))"),
        device_suite(b, "PeepholeLSTMCell", 5, lambda: reference.PeepholeLSTMCell(I, H),
                     Init((I, H)), cell_in, CELL_HC, "(h', c')"),
        device_suite(b, "CoupledLSTMCell", 5, lambda: reference.CoupledLSTMCell(I, H),
                     Init((I, H)), cell_in, CELL_HC, "(h', c')"),
        device_suite(b, "GRUCell", 5, lambda: nn.GRUCell(I, H), Init((I, H)), cell_in, CELL_H,
                     "h'"),
        device_suite(b, "BiLSTMClassifier", 6, lambda: reference.BiLSTMClassifier(I, H, 2, 3),
                     Init((I, H, 2, 3)), lambda: (Arg("x", b.randn(B, T, I)),), LOGITS,
                     "logits"),
    ]


def suites(b: CaseBuilder) -> list[Suite]:
    C = LSTMConfig
    uni = [C(), C(batch_first=True, hx_given=True), C(num_layers=2, hx_given=True),
           C(num_layers=3, batch_first=True, bias=False),
           C(num_layers=2, hx_given=True, dtype=F32), C(hx_given=True, batch=1, steps=1),
           C(num_layers=2, batch=1)]
    bi = [C(bidirectional=True, hx_given=True),
          C(num_layers=2, bidirectional=True, batch_first=True),
          C(num_layers=3, bidirectional=True, hx_given=True, bias=False, dtype=F32),
          C(num_layers=2, bidirectional=True, batch_first=True, hx_given=True, batch=1, steps=1),
          C(bidirectional=True, batch_first=True, batch=1)]
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
