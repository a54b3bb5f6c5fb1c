"""Name the student's mistake: replay a failed case with deliberate mistakes, in the judge, and
see which one reproduces the student's numbers.

A mistake is a hint (a sentence a student understands, revealing no hidden input and no
reference code) and a function computing what a submission with that mistake would return on
the case's inputs. The mistakes themselves belong to the homework (``case.mistakes``). When none
matches, the comparison messages already say where outputs first differ (time step, layer,
direction, half).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from .compare import TOLERANCES
from .protocol import Reply
from .replies import find

ERROR_HINTS = (  # (pattern in the student's error, hint), for any homework
    (r"is not on the expected device|Expected all tensors to be on the same device|"
     r"on device meta|meta tensors",
     "a tensor in your code is created on the CPU whatever the inputs' device: make it with "
     "x.new_zeros(...), torch.zeros_like(...) or torch.zeros(..., device=x.device, dtype=x.dtype)"),
    (r"same dtype|expected scalar type|must have the same dtype|Found dtype",
     "a tensor in your code has a fixed dtype (torch.zeros(...) is float32): make it with "
     "x.new_zeros(...) or dtype=x.dtype so float64 inputs stay float64"),
)


def pick(value, path):
    """Follow ``path`` (tuple indices, dict keys) into a return value."""
    for step in path:
        value = value[step]
    return value


@dataclass
class Replay:
    """What the judge needs to recompute a case: the call's inputs (tensors, tuples of tensors,
    dicts of tensors or None), where each expected output is in the return value, and for a
    module its constructor arguments and weights."""

    inputs: list
    paths: list[tuple]
    dtype: torch.dtype = torch.float64
    init_args: list = field(default_factory=list)
    init_kwargs: dict = field(default_factory=dict)
    state_dict: dict[str, Tensor] = field(default_factory=dict)

    def outputs(self, result) -> list[Tensor]:
        return [pick(result, path) for path in self.paths]

    def module(self, module: nn.Module, state_dict: dict | None = None,
               inputs: list | None = None) -> list[Tensor]:
        module = module.to(self.dtype)
        module.load_state_dict(self.state_dict if state_dict is None else state_dict)
        with torch.no_grad():
            return self.outputs(module(*(self.inputs if inputs is None else inputs)))

    def function(self, fn: Callable, inputs: list | None = None) -> list[Tensor]:
        with torch.no_grad():
            return self.outputs(fn(*(self.inputs if inputs is None else inputs)))


Mistakes = Callable[[Replay], Iterator[tuple[str, Callable[[], list[Tensor]]]]]


def student_outputs(case, reply: Reply) -> list[Tensor] | None:
    got = []
    for out in case.outputs:
        tensor = find(reply, out.path).tensor
        if tensor is None:
            return None
        got.append(tensor)
    return got


def _matches(got: list[Tensor], candidate: list[Tensor], tol: dict) -> bool:
    for g, c in zip(got, candidate):
        if not isinstance(c, Tensor) or g.shape != c.shape:
            return False
        if not torch.allclose(g.double(), c.detach().double().cpu(), **tol):
            return False
    return True


def diagnose(case, reply: Reply) -> str | None:
    """The hint of the first mistake that reproduces the student's outputs, if any."""
    if case.replay is None or case.mistakes is None:
        return None
    got = student_outputs(case, reply)
    if got is None:
        return None
    tol = TOLERANCES["diagnosis"][case.dtype]
    for hint, compute in case.mistakes(case.replay):
        try:
            candidate = compute()
        except Exception:  # a mistake that cannot apply to this configuration
            continue
        if _matches(got, candidate, tol):
            return hint
    return None


def error_hint(message: str, extra: tuple[tuple[str, str], ...] = ()) -> str | None:
    """The hint for a usual error message: ``extra`` (the homework's) first, then ours."""
    for pattern, hint in (*extra, *ERROR_HINTS):
        if re.search(pattern, message):
            return hint
    return None
