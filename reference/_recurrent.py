"""Machinery shared by every recurrent family: parameters named as in ``torch.nn``, a cell that
applies one step, and a multi-layer, bidirectional sequence layer that loops only over the
recurrence.

Legend used in every docstring of this package:
    B = batch size, T = sequence length, I = input_size, H = hidden_size,
    L = num_layers, D = 2 if bidirectional else 1, G = number of gate blocks (LSTM 4, GRU 3).

A family (LSTM, GRU, peephole LSTM, ...) is two functions:

* ``project(x, p)``: the input projection of all time steps at once, ``(..., I) -> (..., G*H)``
  (the fast path: one matrix product instead of T small ones);
* ``step(gi, state, p)``: one step of the recurrence from the projected input ``gi (B, G*H)`` and
  the state tuple ``(h,)`` or ``(h, c)``, each ``(B, H)``, to the new state tuple.

``p`` is a dict of the parameters with the layer suffix stripped (``weight_hh``, ``bias_ih``...).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]
Params = dict[str, "Tensor | None"]
Project = Callable[[Tensor, Params], Tensor]
Step = Callable[[Tensor, State, Params], State]


def check_input_size(x: Tensor, input_size: int, name: str = "input") -> None:
    """Raise PyTorch's message when the feature dimension is wrong."""
    if x.size(-1) != input_size:
        raise ValueError(f"{name}.size(-1) must be equal to input_size. "
                         f"Expected {input_size}, got {x.size(-1)}")


def check_state_shape(t: Tensor, expected: tuple[int, ...], name: str) -> None:
    if tuple(t.shape) != expected:
        raise ValueError(f"Expected {name} size {expected}, got {list(t.shape)}")


class _ParameterMaker:
    """Creates PyTorch-shaped parameters on one module, recording them in registration order."""

    def __init__(self, module: nn.Module, device, dtype):
        self.module, self.factory = module, {"device": device, "dtype": dtype}

    def add(self, name: str, *shape: int) -> None:
        self.module.register_parameter(name, nn.Parameter(torch.empty(*shape, **self.factory)))


def reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """PyTorch's initialisation for every recurrent layer: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        nn.init.uniform_(weight, -bound, bound)


class RecurrentCell(nn.Module):
    """One step of a recurrent family, with parameters named as ``nn.LSTMCell``/``nn.GRUCell``.

    Parameters: ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H)``,
    ``bias_hh (G*H)`` and the family's extra weights (``extra_weights``: name -> rows in units of H,
    each ``(rows*H, H)``).
    """

    num_gates: int = 4
    state_size: int = 2  # (h, c) for the LSTM family, (h,) for GRU
    extra_weights: dict[str, int] = {}
    project: Project
    step: Step

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gh = self.num_gates * hidden_size
        make = _ParameterMaker(self, device, dtype)
        make.add("weight_ih", gh, input_size)
        make.add("weight_hh", gh, hidden_size)
        if bias:
            make.add("bias_ih", gh)
            make.add("bias_hh", gh)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        for name, rows in self.extra_weights.items():
            make.add(name, rows * hidden_size, hidden_size)
        reset_uniform(self, hidden_size)

    def params(self) -> Params:
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", *self.extra_weights]
        return {name: getattr(self, name) for name in names}

    def _forward(self, x: Tensor, state: State | None) -> State:
        if x.dim() != 2:
            raise ValueError(f"{type(self).__name__}: expected input of shape (B, I) = "
                             f"(B, {self.input_size}), got {tuple(x.shape)}")
        check_input_size(x, self.input_size)
        B, H = x.size(0), self.hidden_size
        if state is None:
            state = tuple(x.new_zeros(B, H) for _ in range(self.state_size))
        for k, s in enumerate(state):
            check_state_shape(s, (B, H), f"hx[{k}]")
        p = self.params()
        return type(self).step(type(self).project(x, p), state, p)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RecurrentLayer(nn.Module):
    """A multi-layer, optionally bidirectional sequence layer over one family's ``step``.

    Parameters are named and shaped exactly as ``nn.LSTM``/``nn.GRU``: ``weight_ih_l{k}``
    ``(G*H, I)`` for k = 0 and ``(G*H, D*H)`` above, ``weight_hh_l{k} (G*H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k} (G*H)``, plus ``_reverse`` for the backward direction, so a
    ``state_dict()`` loads both ways.

    Inputs: ``input (T, B, I)`` (``(B, T, I)`` if batch_first), ``hx``: ``(h_0, c_0)`` for the LSTM
    family, ``h_0`` for GRU, each ``(L*D, B, H)``; zeros when omitted.
    Outputs: ``output (T, B, D*H)`` (``(B, T, D*H)`` if batch_first): the last layer's h_t, the
    forward and backward halves concatenated; ``h_n`` (and ``c_n``) ``(L*D, B, H)`` in PyTorch's
    order (layer 0 forward, layer 0 backward, layer 1 forward, ...).
    """

    cell: type[RecurrentCell]

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        gh, D = self.cell.num_gates * hidden_size, 2 if bidirectional else 1
        make = _ParameterMaker(self, device, dtype)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else D * hidden_size
            for suffix in self._suffixes()[:D]:
                make.add(f"weight_ih_l{layer}{suffix}", gh, layer_input)
                make.add(f"weight_hh_l{layer}{suffix}", gh, hidden_size)
                if bias:
                    make.add(f"bias_ih_l{layer}{suffix}", gh)
                    make.add(f"bias_hh_l{layer}{suffix}", gh)
                for name, rows in self.cell.extra_weights.items():
                    make.add(f"{name}_l{layer}{suffix}", rows * hidden_size, hidden_size)
        reset_uniform(self, hidden_size)

    @staticmethod
    def _suffixes() -> tuple[str, str]:
        return ("", "_reverse")

    def layer_params(self, layer: int, direction: int) -> Params:
        """The parameters of one layer and direction, keyed by their cell names."""
        suffix = f"_l{layer}{self._suffixes()[direction]}"
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", *self.cell.extra_weights]
        return {name: getattr(self, name + suffix, None) for name in names}

    def _initial_state(self, hx, x: Tensor) -> State:
        B, H = x.size(1), self.hidden_size
        LD = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return tuple(x.new_zeros(LD, B, H) for _ in range(self.cell.state_size))
        hx = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(hx) != self.cell.state_size:
            raise ValueError(f"{type(self).__name__} expects hx with {self.cell.state_size} "
                             f"tensor(s), got {len(hx)}")
        for k, s in enumerate(hx):
            check_state_shape(s, (LD, B, H), f"hidden[{k}]")
        return hx

    def _run_direction(self, x: Tensor, state: State, p: Params, reverse: bool):
        """One layer, one direction. ``x (T, B, I_layer)`` -> ``(out (T, B, H), final state)``."""
        # (T, B, G*H): every step's input projection at once. unbind, not gi[t]: indexing would
        # make autograd build a zero-filled (T, B, G*H) gradient per step, O(T^2) in backward.
        gi = self.cell.project(x, p).unbind(0)
        T = x.size(0)
        out: list = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            state = self.cell.step(gi[t], state, p)
            out[t] = state[0]  # the backward direction's output stays aligned with time t
        return torch.stack(out), state  # (T, B, H)

    def forward(self, input: Tensor, hx=None):
        if input.dim() != 3:
            shape = "(B, T, I)" if self.batch_first else "(T, B, I)"
            raise ValueError(f"{type(self).__name__}: expected a 3-D input {shape}, "
                             f"got shape {tuple(input.shape)}")
        check_input_size(input, self.input_size)
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        state0 = self._initial_state(hx, x)
        D = 2 if self.bidirectional else 1
        finals: list[State] = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                s = tuple(t[layer * D + d] for t in state0)  # each (B, H)
                out, s = self._run_direction(x, s, self.layer_params(layer, d), reverse=d == 1)
                outs.append(out)
                finals.append(s)
            x = outs[0] if D == 1 else torch.cat(outs, dim=2)  # (T, B, D*H)
        output = x.transpose(0, 1) if self.batch_first else x
        h_n = tuple(torch.stack([s[k] for s in finals]) for k in range(self.cell.state_size))
        return output, (h_n if len(h_n) > 1 else h_n[0])  # each (L*D, B, H)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in [("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("bidirectional", False)]:
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s
