"""Name a mistake nobody listed: search for a simple relation between what the student's code
returned and what was expected, and say it only if it reproduces the student's numbers.

Relations, tried in order on one received tensor ``got`` against the trusted ``expected``:
all zeros (nothing flows: a detached path), a scale factor (B, T, 2, their inverses, -1), a
transpose, another output's values (swapped in the return value), a shift in time or all steps
right but one, a reversed time axis, the two halves of a bidirectional output swapped or one
half reversed in time, the rows of stacked states (layer, direction) in another order, and gate
blocks (rows of ``G*H``) permuted or a single block off. Each is checked with ``allclose`` at the
diagnosis tolerance: a relation that does not reproduce the student's numbers is never named.
"""
from __future__ import annotations

import itertools
import re

import torch
from torch import Tensor

SIZE_NAMES = ("B", "T", "K")  # sizes worth naming as a factor, read from the outputs' legends


def sizes_of(outputs, label: str = "") -> dict[str, int]:
    """{"B": 3, "T": 7, ...} from a case's label ("B=3, T=7, ...") and from legends such as
    "(B, T, K)" with the expected shapes."""
    found: dict[str, int] = {n: int(v) for n, v in re.findall(r"\b([BTK])=(\d+)", label)
                             if int(v) > 1}
    for out in outputs:
        legend, expected = out.spec.legend, out.expected
        if not legend or not isinstance(expected, Tensor):
            continue
        names = [n.strip() for n in re.sub(r"\(([^)]*)\).*", r"\1", legend).split(",")]
        if len(names) == expected.dim():
            for n, size in zip(names, expected.shape):
                if n in SIZE_NAMES and size > 1:
                    found.setdefault(n, int(size))
    return found


def _close(a: Tensor, b: Tensor, tol: dict) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, **tol))


def _factor_words(s: float, sizes: dict[str, int]) -> str | None:
    candidates = [(-1.0, "the expected values with the sign flipped: a minus sign too many or "
                         "too few (h - x where x - h belongs?)")]
    for name, n in sizes.items():
        what = {"B": "the batch", "T": "time", "K": "the classes"}[name]
        candidates += [(float(n), f"exactly {name} = {n} times the expected: a sum over {what} "
                                  "where a mean belongs (or a division by "
                                  f"{name} missing)?"),
                       (1.0 / n, f"exactly the expected divided by {name} = {n}: a mean over "
                                 f"{what} where a sum belongs (or a division by {name} too "
                                 "many)?")]
    candidates += [(2.0, "exactly twice the expected: a term added twice (both biases, or the "
                         "same contribution counted twice)?"),
                   (0.5, "exactly half the expected: a factor 1/2 too many?")]
    for value, words in candidates:
        if abs(s - value) <= 1e-6 * max(1.0, abs(value)):
            return words
    return None


def relation(name: str, got: Tensor, expected: Tensor, tol: dict, *, spec=None,
             others: dict[str, Tensor] | None = None, sizes: dict[str, int] | None = None,
             gates: str = "") -> str | None:
    """The first simple relation of ``got`` to ``expected`` (same shape) that reproduces
    ``got``, in words for the student, or None. ``others``: the other expected outputs (for a
    swap); ``gates``: the gate blocks along dim 0 of a parameter ("ifgo"); ``spec``: the
    output's ``OutputSpec`` (time dim, directions, stacked)."""
    if not (got.is_floating_point() and expected.is_floating_point()) or \
            "meta" in (got.device.type, expected.device.type):  # no values to relate
        return None
    g, e = got.detach().double().cpu(), expected.detach().double().cpu()
    if g.shape != e.shape or g.numel() == 0 or not torch.isfinite(g).all():
        return None
    if not e.abs().max() > 0:
        return None
    if not g.abs().max() > 0:
        return (f"{name} is all zeros: nothing reaches it (a .detach(), .data or torch.no_grad() "
                "on the way, or a value that is never written?)")
    s = float((g * e).sum() / (e * e).sum())
    if _close(g, s * e, tol):
        words = _factor_words(s, sizes or {})
        if words:
            return f"{name} is {words}"
    if g.dim() >= 2 and g.shape[-1] == g.shape[-2] and _close(g.transpose(-1, -2), e, tol):
        return (f"{name} is the transpose of the expected values: a weight used as W where "
                "W.T belongs (or the other way round)?")
    for other, value in (others or {}).items():
        if other != name and isinstance(value, Tensor) and _close(g, value.double().cpu(), tol):
            return f"{name} holds what {other} should: the two are swapped (or the wrong one " \
                   "returned)?"
    time_dim = getattr(spec, "time_dim", None)
    if time_dim is not None and g.dim() > time_dim and g.size(time_dim) > 1:
        words = _in_time(name, g, e, time_dim, tol)
        if words:
            return words
    directions = getattr(spec, "directions", None)
    if directions == 2 and getattr(spec, "stacked", False) is False and g.size(-1) % 2 == 0:
        words = _halves(name, g, e, time_dim, tol)
        if words:
            return words
    if getattr(spec, "stacked", False) and g.size(0) > 1:
        words = _rows(name, g, e, directions or 1, tol)
        if words:
            return words
    if gates and g.dim() >= 1 and g.size(0) % len(gates) == 0:
        return _blocks(name, g, e, gates, tol)
    return None


def _in_time(name: str, g: Tensor, e: Tensor, td: int, tol: dict) -> str | None:
    T = g.size(td)
    n = T - 1
    if _close(g.narrow(td, 1, n), e.narrow(td, 0, n), tol):
        return (f"{name} is one step late: step t holds what step t-1 should (the initial state "
                "returned as the first step, or the state saved before it is updated?)")
    if _close(g.narrow(td, 0, n), e.narrow(td, 1, n), tol):
        return f"{name} is one step early: step t holds what step t+1 should"
    if _close(g.flip(td), e, tol):
        return f"{name} is reversed in time: step t holds what step T-1-t should"
    if _close(g.narrow(td, 0, n), e.narrow(td, 0, n), tol):
        return (f"{name} is right at every step but the last (t = {T - 1}): does the loop stop "
                "one step early (range(T - 1))?")
    if _close(g.narrow(td, 1, n), e.narrow(td, 1, n), tol):
        return f"{name} is right at every step but the first (t = 0): how is the first step " \
               "computed from the initial state?"
    return None


def _halves(name: str, g: Tensor, e: Tensor, td: int | None, tol: dict) -> str | None:
    H = g.size(-1) // 2
    gf, gb, ef, eb = g[..., :H], g[..., H:], e[..., :H], e[..., H:]
    if _close(gf, eb, tol) and _close(gb, ef, tol):
        return (f"{name} has its two halves swapped: PyTorch puts the forward direction first, "
                "[forward, backward] along the last dimension")
    if td is not None and g.size(td) > 1 and _close(gf, ef, tol) and _close(gb.flip(td), eb, tol):
        return (f"the backward half of {name} is in reverse time order: the backward direction "
                "reads x from t = T-1 down to 0, and its output at step t goes back in place t "
                "(flip it back before concatenating)")
    return None


def _state_name(k: int, directions: int) -> str:
    if directions == 2:
        return f"layer {k // 2} {('forward', 'backward')[k % 2]}"
    return f"layer {k}"


def _rows(name: str, g: Tensor, e: Tensor, directions: int, tol: dict) -> str | None:
    """Stacked states (dim 0 = layer * D + direction) in another order."""
    order = []
    for i in range(g.size(0)):
        match = [j for j in range(e.size(0)) if _close(g[i], e[j], tol)]
        if not match:
            return None
        order.append(match[0])
    if order == list(range(g.size(0))) or sorted(order) != list(range(g.size(0))):
        return None
    yours = ", ".join(_state_name(j, directions) for j in order)
    return (f"{name} holds the right states in another order: yours are [{yours}]; PyTorch "
            "stacks them layer by layer, forward before backward "
            f"({', '.join(_state_name(j, directions) for j in range(g.size(0)))})")


def _blocks(name: str, g: Tensor, e: Tensor, gates: str, tol: dict) -> str | None:
    G = len(gates)
    H = g.size(0) // G
    gb, eb = g.split(H), e.split(H)
    for perm in itertools.permutations(range(G)):
        if list(perm) != list(range(G)) and all(_close(gb[k], eb[p], tol)
                                                for k, p in enumerate(perm)):
            return (f"{name} has the right gate blocks in the order "
                    f"{', '.join(gates[p] for p in perm)}; PyTorch's order is "
                    f"{', '.join(gates)}")
    wrong = [k for k in range(G) if not _close(gb[k], eb[k], tol)]
    if len(wrong) == 1:
        k = wrong[0]
        return (f"in {name}, only the rows of gate {gates[k]} ({k * H}:{(k + 1) * H}) are wrong; "
                "the other gates match: look at how that gate is computed")
    return None
