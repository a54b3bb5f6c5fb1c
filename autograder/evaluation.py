"""Evaluating one reply: every item of every aspect of a case, with the wording a student reads
and, on failed items, the likely cause (``diagnosis``)."""
from __future__ import annotations

from torch import Tensor

from .compare import TOLERANCES, check_close, check_tensor_meta, fmt_shape
from .diagnosis import diagnose, error_hint
from .relations import relation, sizes_of
from .protocol import ErrorInfo, ErrorKind, Key, Reply
from .replies import MAX_ELEMENTS, find
from .spec import Case, Item, ParamSpec


def evaluate(case: Case, reply: Reply) -> list[Item]:
    """Every item of every aspect for one case, with a hint on the failed ones when a usual
    mistake (or a usual error message) explains them."""
    if case.judge is not None:
        return case.judge(reply)
    items = _evaluate(case, reply)
    failed = [it for it in items if it.error is not None]
    if failed:
        if reply.ok:
            hint = diagnose(case, reply) \
                if any(it.aspect in ("shapes", "values") for it in failed) else None
        else:
            hint = error_hint(failed[0].error, case.error_hints)
        for it in failed:
            it.hint = hint
        if reply.ok and hint is None:
            _relate(case, reply, failed)
    return items


def _relate(case: Case, reply: Reply, failed: list[Item]) -> None:
    """A relation between received and expected values (``relations``) as the hint of each
    failed values or gradients item that no listed mistake explains."""
    tol = TOLERANCES["diagnosis"][case.dtype]
    sizes = sizes_of(case.outputs, case.label)
    outs = {o.name: o for o in case.outputs if isinstance(o.expected, Tensor)}
    others = {n: o.expected for n, o in outs.items()}
    grads = {name: (got, expected) for name, _, got, expected in _gradients(case, reply)}
    for it in failed:
        if it.aspect == "values" and it.name in outs:
            out = outs[it.name]
            got = find(reply, out.path).tensor
            if isinstance(got, Tensor):
                it.hint = relation(it.name, got, out.expected, tol, spec=out.spec,
                                   others=others, sizes=sizes)
        elif it.aspect == "gradients" and it.name in grads:
            got, expected = grads[it.name]
            if isinstance(got, Tensor):
                gates = next((v for k, v in case.gates.items() if k in it.name), "")
                it.hint = relation(f"the gradient of {it.name}", got, expected, tol,
                                   sizes=sizes, gates=gates)


def failed_items(case: Case, message: str) -> list[Item]:
    """Every item of ``case``, failed with ``message``: the case was not run, or the student's
    code raised. The parameters item, if the case has one, comes first."""
    names = [o.name for o in case.outputs] or ["result"]  # a custom judge has no outputs
    items = [Item(a, n, message) for a in ("shapes", "values") for n in names] + \
        [Item("gradients", n, message) for n, _ in case.input_grads.values()] + \
        [Item("gradients", n, message) for n in case.param_grads]
    return ([Item("parameters", "parameters", message)] if case.params is not None else []) + items


def _evaluate(case: Case, reply: Reply) -> list[Item]:
    if not reply.ok:
        err = reply.error or ErrorInfo(ErrorKind.PROTOCOL, "the worker gave no reason")
        msg = error_message(err)
        items = failed_items(case, msg)
        if case.params is None:
            return items
        if err.exc_type == "NotImplementedError":
            items[0].error = (f"{msg}. The parameters come with the skeleton: they count once "
                              "your forward runs")
        elif reply.params is not None:  # the module was constructed before the error
            items[0].error = _check_params(case.params, reply.params)
        return items
    items: list[Item] = []
    if case.params is not None:
        items.append(Item("parameters", "parameters",
                          _check_params(case.params, reply.params or {})))
    tol = TOLERANCES["check"][case.dtype]
    for out in case.outputs:
        found = find(reply, out.path)
        if found.missing is not None:
            err = (f"{out.name}: expected the return value {case.returns}, but where "
                   f"{out.name} belongs there is {found.missing}")
            items += [Item("shapes", out.name, err), Item("values", out.name, err)]
            continue
        if isinstance(out.expected, Tensor):
            tensor = found.tensor
            if not found.is_tensor:
                err = f"{out.name}: expected a tensor, got {_describe(found.value)}"
            elif tensor is None:
                err = f"{out.name}: the tensor did not come back from the worker"
            elif tensor.numel() > MAX_ELEMENTS:
                err = f"{out.name}: the tensor is too large"
            else:
                err = check_tensor_meta(out.name, out.spec.legend, tensor, out.expected,
                                        found.device)
            items.append(Item("shapes", out.name, err))
            if err is None and out.expected.device.type != "meta":  # meta: no values to compare
                err = check_close(out.name, tensor, out.expected, time_dim=out.spec.time_dim,
                                  directions=out.spec.directions, stacked=out.spec.stacked, **tol)
            items.append(Item("values", out.name, err))
        else:
            value = found.value
            if found.tensor is not None and found.tensor.dim() == 0:  # torch.tensor(57): a number
                value = found.tensor.item()
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = is_number and value == out.expected
            err = None if ok else f"{out.name}: expected {out.expected!r}, got {_describe(value)}"
            items += [Item("shapes", out.name, None if is_number else err),
                      Item("values", out.name, err)]
    shapes_ok = all(it.error is None for it in items if it.aspect == "shapes")
    return items + _gradient_items(case, reply, tol, shapes_ok)


def _describe(value) -> str:
    return f"{value!r}"[:60]


SHAPES_FIRST = "not checked while the outputs' shapes are wrong: fix the shapes first"


def _gradient_items(case: Case, reply: Reply, tol, shapes_ok: bool = True) -> list[Item]:
    if not (case.input_grads or case.param_grads):
        return []
    if not shapes_ok:
        return [Item("gradients", n, f"gradient with respect to {n}: {SHAPES_FIRST}")
                for n in [*(n for n, _ in case.input_grads.values()), *case.param_grads]]
    detached = reply.backward not in (None, "ok")
    return [Item("gradients", name, _grad_error(label, got, expected, detached, tol))
            for name, label, got, expected in _gradients(case, reply)]


def _gradients(case: Case, reply: Reply):
    """(name, label, received gradient or None, expected) for each input and parameter."""
    for key, (name, expected) in case.input_grads.items():
        yield (name, f"gradient with respect to {name}",
               reply.tensors.get(f"{Key.INPUT_GRAD}{key}"), expected)
    for name, expected in case.param_grads.items():
        yield (name, f"gradient with respect to parameter {name}",
               reply.tensors.get(f"{Key.PARAM_GRAD}{name}"), expected)


def _grad_error(label: str, got: Tensor | None, expected: Tensor, detached: bool, tol) -> str | None:
    if got is None:
        if detached:
            return (f"{label}: your outputs are not connected to the autograd graph (a .detach(), "
                    "torch.no_grad() or .data in forward?)")
        if not expected.abs().max() > 0:
            return None
        return f"{label}: no gradient reached it (is it used in forward?)"
    return check_close(label, got, expected, **tol)


def _check_params(expected: dict[str, ParamSpec], got: dict[str, list[int]]) -> str | None:
    missing = [n for n in expected if n not in got]
    extra = [n for n in got if n not in expected]
    wrong = [n for n in expected if n in got and tuple(got[n]) != expected[n].shape]
    if not (missing or extra or wrong):
        return None
    parts = []
    if missing:
        parts.append("missing " + ", ".join(f"{n} {expected[n].legend} = "
                                            f"{fmt_shape(expected[n].shape)}" for n in missing[:4]))
    if extra:
        parts.append("unexpected " + ", ".join(extra[:4]))
    if wrong:
        parts.append(", ".join(f"{n}: expected {expected[n].legend} = "
                               f"{fmt_shape(expected[n].shape)}, got {fmt_shape(got[n])}"
                               for n in wrong[:4]))
    return "parameters must be named and shaped as PyTorch's: " + "; ".join(parts)


def error_message(err: ErrorInfo) -> str:
    """Why a reply failed, in the student's own terms (their frames only)."""
    if err.kind == ErrorKind.FORBIDDEN:
        return (f"your code called {err.message}, which this part forbids: write the recurrence "
                "yourself with tensor operations")
    if err.kind != ErrorKind.RAISED:
        return err.message
    where = "; ".join(err.where)
    return f"your code raised {err.exc_type or 'an error'}: {err.message}" + \
        (f" ({where})" if where else "")
