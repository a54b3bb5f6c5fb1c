"""Comparisons that explain themselves: shapes with their legend, values in torch.testing's manner.

Every function returns ``None`` when all is well, or one sentence for the student.
"""
from __future__ import annotations

import torch
from torch import Tensor

# The one tolerance table, per dtype.
# - "reference": how closely reference/ matches torch.nn (its own tests): the instructor's code
#   is held tighter than any student's.
# - "check": grading. float64 is tight; float32 allows for summation order over T steps.
# - "diagnosis": naming a mistake. Looser on purpose: the student's code and our replay of a
#   mistake compute the same thing in another order (and the student's numbers already failed
#   "check"), so a mistake that reproduces them up to summation order is the one they made.
TOLERANCES = {
    "reference": {"float64": dict(rtol=1e-8, atol=1e-10), "float32": dict(rtol=1e-4, atol=2e-5)},
    "check": {"float64": dict(rtol=1e-7, atol=1e-9), "float32": dict(rtol=1e-4, atol=2e-5)},
    "diagnosis": {"float64": dict(rtol=1e-6, atol=1e-8), "float32": dict(rtol=1e-3, atol=1e-4)},
}


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float64`` -> ``"float64"``, as the worker describes a tensor's dtype."""
    return str(dtype).split(".")[-1]


def fmt_shape(shape) -> str:
    shape = tuple(shape)
    return "()" if not shape else "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def check_tensor_meta(name: str, legend: str | None, got: Tensor, expected: Tensor,
                      device: str = "cpu") -> str | None:
    """Shape and dtype of a received tensor, and the device it was on in the worker."""
    exp_shape, got_shape = tuple(expected.shape), tuple(got.shape)
    if got_shape != exp_shape:
        formula = f"{legend} = " if legend else ""
        hint = ""
        if sorted(got_shape) == sorted(exp_shape):
            hint = " (the same sizes in another order: a transpose or batch_first mix-up?)"
        elif got_shape == tuple(d for d in exp_shape if d != 1):
            hint = (" (a size-1 dimension is missing: .squeeze() without a dim also drops the "
                    "batch dimension when B = 1; squeeze the dimension you mean)")
        elif tuple(d for d in got_shape if d != 1) == tuple(d for d in exp_shape if d != 1):
            hint = " (an extra size-1 dimension: an unsqueeze or keepdim=True too many?)"
        elif len(got_shape) == len(exp_shape) and sum(
                g != e for g, e in zip(got_shape, exp_shape)) == 1:
            k = next(i for i, (g, e) in enumerate(zip(got_shape, exp_shape)) if g != e)
            names = legend.strip("()").replace(" ", "").split(",") if legend else []
            dim = names[k] if len(names) == len(exp_shape) else f"dimension {k}"
            if abs(got_shape[k] - exp_shape[k]) == 1:
                hint = (f" (one {dim} {'short' if got_shape[k] < exp_shape[k] else 'too many'}: "
                        f"a loop or slice bound off by one, such as range({dim} - 1)?)")
        return f"{name}: expected shape {formula}{fmt_shape(exp_shape)}, got {fmt_shape(got_shape)}{hint}"
    exp_dtype = dtype_name(expected.dtype)
    if dtype_name(got.dtype) != exp_dtype:
        return (f"{name}: expected dtype {exp_dtype} (the dtype of the inputs), got "
                f"{dtype_name(got.dtype)}. Create new tensors with x.new_zeros(...) or "
                "dtype=x.dtype, not a fixed dtype")
    if device != expected.device.type:
        return (f"{name}: expected it on the inputs' device ({expected.device.type}), got "
                f"{device}. Create new tensors with device=x.device")
    return None


def _index(flat_index: int, shape) -> str:
    idx = []
    for size in reversed(tuple(shape)):
        idx.append(flat_index % size)
        flat_index //= size
    return fmt_shape(tuple(reversed(idx)))


def check_close(name: str, actual: Tensor, expected: Tensor, *, rtol: float, atol: float,
                time_dim: int | None = None, directions: int | None = None,
                stacked: bool = False) -> str | None:
    """Element-wise closeness, described like torch.testing.assert_close, plus where it starts:
    the time step (``time_dim``), the layer and direction of stacked states (``stacked``: dim 0
    is layer * directions + direction), the half of a bidirectional output (``directions`` 2)."""
    if actual.shape != expected.shape:
        return f"{name}: expected shape {fmt_shape(expected.shape)}, got {fmt_shape(actual.shape)}"
    if actual.numel() == 0:
        return None
    a, e = actual.detach().cpu().to(torch.float64), expected.detach().cpu().to(torch.float64)
    if not torch.isfinite(a).all():
        bad = (~torch.isfinite(a)).flatten().nonzero()[0, 0].item()
        return (f"{name}: contains NaN or inf (first at index {_index(bad, a.shape)}); "
                "look for a division by zero, a log of 0, or an exploding state")
    diff = (a - e).abs()
    allowed = atol + rtol * e.abs()
    mismatched = diff > allowed
    n = int(mismatched.sum())
    if n == 0:
        return None
    total = a.numel()
    abs_i = int(diff.flatten().argmax())
    rel = diff / e.abs().clamp_min(torch.finfo(torch.float64).tiny)
    rel_i = int(rel.flatten().argmax())
    msg = (f"{name}: tensors are not close. Mismatched elements: {n} / {total} "
           f"({100 * n / total:.1f}%). Greatest absolute difference: {diff.flatten()[abs_i]:.3g} "
           f"at index {_index(abs_i, a.shape)} (up to {atol:g} allowed). Greatest relative "
           f"difference: {rel.flatten()[rel_i]:.3g} at index {_index(rel_i, a.shape)} "
           f"(up to {rtol:g} allowed).")
    if time_dim is not None and a.dim() > time_dim and a.size(time_dim) > 1:
        per_step = mismatched.movedim(time_dim, 0).reshape(a.size(time_dim), -1).any(dim=1)
        first = int(per_step.nonzero()[0, 0])
        msg += f" The first mismatch in time is at step t = {first} (of {a.size(time_dim)})."
    return msg + _where(mismatched, directions, stacked)


def _where(mismatched: Tensor, directions: int | None, stacked: bool) -> str:
    if not directions:
        return ""
    names = ("forward", "backward")
    if stacked:
        first = int(mismatched.flatten(1).any(dim=1).nonzero()[0, 0])
        where = f" The first mismatching state is layer {first // directions}"
        return where + (f", {names[first % directions]} direction." if directions == 2 else ".")
    if directions == 2:
        H = mismatched.size(-1) // 2
        bad = [mismatched[..., :H].any().item(), mismatched[..., H:].any().item()]
        if bad.count(True) == 1:
            half = names[bad.index(True)]
            return f" Only the {half} half ({'[..., :H]' if half == 'forward' else '[..., H:]'}) differs."
    return ""
