"""The checks library: cases (one worker request each, with the trusted answers) and graded
tests that score one aspect of a suite's cases.

A ``Suite`` is one student name (``LSTM``) checked on several ``Case``s (a grid of configurations).
Each case yields *items*, one per aspect and output: "parameters", "shapes" (shape, dtype and
device of each output), "values" (each output against the trusted one) and "gradients" (each
input and each named parameter). A ``Test`` scores one aspect (optionally only some outputs) as
points times the fraction of its items that pass: partial credit by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from .diagnosis import Replay, diagnose, error_hint
from .compare import MAX_ELEMENTS, TOLERANCES, check_close, check_tensor_meta, fmt_shape

ASPECTS = ("parameters", "shapes", "values", "gradients")


@dataclass
class Out:
    """One expected output, in the order the student's return value is flattened."""

    name: str  # "h_n"
    expected: Tensor | int | float
    legend: str | None = None  # "(L*D, B, H)"
    time_dim: int | None = None  # where T is, to say at which step outputs first differ
    path: tuple = ()  # where it is in the return value: tuple indices and dict keys
    directions: int | None = None  # D, to say which direction (and layer, if stacked) differs
    stacked: bool = False  # dim 0 is layer * D + direction (h_n, c_n)


@dataclass
class Case:
    label: str  # "num_layers=2, bidirectional, float64"
    request: dict  # the worker request (see worker.py)
    tensors: dict[str, Tensor]  # sent with the request
    outputs: list[Out]
    returns: str  # how the return value should look, for messages: "(output, (h_n, c_n))"
    input_grads: dict[str, tuple[str, Tensor]] = field(default_factory=dict)  # key -> (name, grad)
    param_grads: dict[str, Tensor] = field(default_factory=dict)
    params: dict[str, tuple[tuple[int, ...], str]] | None = None  # name -> (shape, legend)
    dtype: str = "float64"
    judge: Callable[[dict, dict], list["Item"]] | None = None  # custom evaluation (Part 7)
    replay: Replay | None = None  # the case's inputs and weights, to replay with mistakes
    mistakes: Callable | None = None  # mistakes.MISTAKES[target]


@dataclass
class Item:
    aspect: str
    name: str  # output, input or parameter name
    error: str | None  # None when it passes fully
    credit: float | None = None  # partial credit in [0, 1]; default 1 if no error, else 0
    hint: str | None = None  # the mistake that reproduces the student's numbers, if one does

    @property
    def earned(self) -> float:
        return self.credit if self.credit is not None else float(self.error is None)


@dataclass
class Test:
    __test__ = False  # not a pytest class

    name: str
    aspect: str
    points: float
    only: tuple[str, ...] = ()  # restrict to these output names (empty: all)
    visibility: str = "visible"


@dataclass
class Suite:
    target: str  # the student's name being checked: also the test tag
    part: int
    tests: list[Test]
    cases: list[Case]
    forbid_autograd: bool = False


def lookup(struct, path: tuple) -> tuple[dict | None, object, str | None]:
    """Follow ``path`` (tuple indices, dict keys) in the worker's output structure.

    Returns (tensor description or None, the plain value, an error or None)."""
    for step in path:
        if isinstance(step, int):
            items = (struct or {}).get("tuple")
            if items is None or step >= len(items):
                return None, None, "a tuple" if items is None else f"only {len(items)} value(s)"
            struct = items[step]
        else:
            items = (struct or {}).get("dict")
            if items is None or step not in items:
                return None, None, ("a dict" if items is None else
                                    f"a dict without key {step!r} (keys: {sorted(items)})")
            struct = items[step]
    if struct is None:
        return None, None, None
    if "t" in struct:
        return struct, None, None
    if "unsupported" in struct:
        return None, f"<{struct['unsupported']}>", None
    return None, struct.get("v"), None


def _describe(value) -> str:
    return f"{value!r}"[:60]


def evaluate(case: Case, reply: dict, tensors: dict[str, Tensor]) -> list[Item]:
    """Every item of every aspect for one case, with a hint on the failed ones when a usual
    mistake (or a usual error message) explains them."""
    if case.judge is not None:
        return case.judge(reply, tensors)
    items = _evaluate(case, reply, tensors)
    failed = [it for it in items if it.error is not None]
    if failed:
        if reply.get("ok"):
            hint = diagnose(case, reply, tensors) \
                if any(it.aspect in ("shapes", "values") for it in failed) else None
        else:
            hint = error_hint(failed[0].error)
        for it in failed:
            it.hint = hint
    return items


def failed_items(case: Case, message: str) -> list[Item]:
    """Every item of ``case``, failed with ``message``: the case was not run, or the student's
    code raised. The parameters item, if the case has one, comes first."""
    names = [o.name for o in case.outputs] or ["result"]  # a custom judge has no outputs
    items = [Item(a, n, message) for a in ("shapes", "values") for n in names] + \
        [Item("gradients", n, message) for n, _ in case.input_grads.values()] + \
        [Item("gradients", n, message) for n in case.param_grads]
    return ([Item("parameters", "parameters", message)] if case.params is not None else []) + items


def _evaluate(case: Case, reply: dict, tensors: dict[str, Tensor]) -> list[Item]:
    if not reply.get("ok"):
        msg = error_message(reply.get("error", {}))
        items = failed_items(case, msg)
        if case.params is None:
            return items
        if reply.get("error", {}).get("type") == "NotImplementedError":
            items[0].error = (f"{msg}. The parameters come with the skeleton: they count once "
                              "your forward runs")
        elif "params" in reply:  # the module was constructed before the error
            items[0].error = _check_params(case.params, reply["params"])
        return items
    items: list[Item] = []
    if case.params is not None:
        items.append(Item("parameters", "parameters",
                          _check_params(case.params, reply.get("params", {}))))
    tol = TOLERANCES[case.dtype]
    for out in case.outputs:
        desc, value, where = lookup(reply.get("outputs"), out.path)
        if where is not None:
            err = (f"{out.name}: expected the return value {case.returns}, but where "
                   f"{out.name} belongs there is {where}")
            items += [Item("shapes", out.name, err), Item("values", out.name, err)]
            continue
        if isinstance(out.expected, Tensor):
            tensor = tensors.get(desc["t"]) if desc else None
            if desc is None:
                err = f"{out.name}: expected a tensor, got {_describe(value)}"
            elif tensor is None and desc.get("device") != "meta":
                err = f"{out.name}: the tensor did not come back from the worker"
            else:
                err = check_tensor_meta(out.name, out.legend, desc, out.expected)
                if err is None and tensor is not None and tensor.numel() > MAX_ELEMENTS:
                    err = f"{out.name}: the tensor is too large"
            items.append(Item("shapes", out.name, err))
            if err is None and tensor is not None:
                err = check_close(out.name, tensor, out.expected, time_dim=out.time_dim,
                                  directions=out.directions, stacked=out.stacked, **tol)
            items.append(Item("values", out.name, err))
        else:
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = is_number and value == out.expected
            err = None if ok else f"{out.name}: expected {out.expected!r}, got {_describe(value)}"
            items += [Item("shapes", out.name, None if is_number else err),
                      Item("values", out.name, err)]
    return items + _gradient_items(case, reply, tensors, tol)


def _gradient_items(case: Case, reply: dict, tensors: dict[str, Tensor], tol) -> list[Item]:
    if not (case.input_grads or case.param_grads):
        return []
    items = []
    detached = reply.get("backward") not in (None, "ok")
    for key, (name, expected) in case.input_grads.items():
        items.append(Item("gradients", name, _grad_error(
            f"gradient with respect to {name}", tensors.get(f"g.{key}"), expected, detached, tol)))
    for name, expected in case.param_grads.items():
        items.append(Item("gradients", name, _grad_error(
            f"gradient with respect to parameter {name}", tensors.get(f"pg.{name}"), expected,
            detached, tol)))
    return items


def _grad_error(label: str, got: Tensor | None, expected: Tensor, detached: bool, tol) -> str | None:
    if got is None:
        if detached:
            return (f"{label}: your outputs are not connected to the autograd graph (a .detach(), "
                    "torch.no_grad() or .data in forward?)")
        if not expected.abs().max() > 0:
            return None
        return f"{label}: no gradient reached it (is it used in forward?)"
    return check_close(label, got, expected, **tol)


def _check_params(expected: dict[str, tuple[tuple[int, ...], str]], got: dict[str, list[int]]) -> str | None:
    missing = [n for n in expected if n not in got]
    extra = [n for n in got if n not in expected]
    wrong = [n for n in expected if n in got and tuple(got[n]) != expected[n][0]]
    if not (missing or extra or wrong):
        return None
    parts = []
    if missing:
        parts.append("missing " + ", ".join(f"{n} {expected[n][1]} = {fmt_shape(expected[n][0])}"
                                            for n in missing[:4]))
    if extra:
        parts.append("unexpected " + ", ".join(extra[:4]))
    if wrong:
        parts.append(", ".join(f"{n}: expected {expected[n][1]} = {fmt_shape(expected[n][0])}, "
                               f"got {fmt_shape(got[n])}" for n in wrong[:4]))
    return "parameters must be named and shaped as PyTorch's: " + "; ".join(parts)


def error_message(err: dict) -> str:
    """A worker-side exception, in the student's own terms (their frames only)."""
    kind, message = err.get("type", "Error"), err.get("message", "")
    if kind == "ForbiddenCall":
        return (f"your code called {message}, which this part forbids: write the recurrence "
                "yourself with tensor operations")
    if kind in ("MissingName", "WorkerFailed"):
        return message
    where = "; ".join(err.get("where", []))
    return f"your code raised {kind}: {message}" + (f" ({where})" if where else "")


def score(test: Test, results: list[tuple[Case, list[Item]]]) -> tuple[float, str]:
    """Points for one test, and the feedback: how many checks passed, and the first failures."""
    relevant = [(case, it) for case, items in results for it in items
                if it.aspect == test.aspect and (not test.only or it.name in test.only)]
    if not relevant:
        return 0.0, "not checked"
    passed = sum(it.error is None for _, it in relevant)
    fraction = sum(it.earned for _, it in relevant) / len(relevant)
    lines = [f"{passed}/{len(relevant)} checks passed."]
    hints = list(dict.fromkeys(it.hint for _, it in relevant if it.error and it.hint))
    lines += [f"Likely cause: {h}." for h in hints[:2]]
    seen = set()
    for case, it in relevant:
        if it.error is not None and it.error not in seen and len(seen) < 3:
            seen.add(it.error)
            lines.append(f"[{case.label}] {it.error}")
    return round(test.points * fraction, 4), "\n".join(lines)


def cotangents(outputs: list[Out], generator: torch.Generator) -> list[Tensor | None]:
    """Random weights w_i: the scalar back-propagated is sum_i <w_i, output_i>."""
    return [torch.randn(o.expected.shape, generator=generator, dtype=o.expected.dtype)
            if isinstance(o.expected, Tensor) and o.expected.is_floating_point() else None
            for o in outputs]
