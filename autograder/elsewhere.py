"""Inputs on another device, without a GPU: does the student's code run wherever its inputs are?

A ``Shadow`` is a CPU tensor that says it lives on the ``meta`` device. Code that follows its
inputs (``x.new_zeros(...)``, ``torch.zeros(..., device=x.device)``, ``zeros_like``) gets
shadows back; code that makes a tensor on the CPU whatever the inputs (``torch.zeros(B, H)``)
gets a plain CPU tensor, and mixing it with a shadow raises the error CUDA would raise. Unlike
real meta tensors, shadows hold data, so a data-dependent guard (``if torch.isnan(x).any():``)
runs as it would on a GPU.

The rules are CUDA's: a 0-dim CPU tensor mixes with anything (a Python scalar in disguise);
``copy_`` and ``to`` cross devices. Sandbox side: torch only.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

DEVICE = torch.device("meta")  # what a shadow reports
CROSSING = {"copy_", "_to_copy", "_copy_from", "_copy_from_and_resize", "lift_fresh",
            "lift_fresh_copy", "_local_scalar_dense", "is_nonzero", "index", "index_put",
            "index_put_", "_index_put_impl_"}  # CPU indices into a CUDA tensor are allowed


class Shadow(torch.Tensor):
    """A CPU tensor (``elem``) reporting ``DEVICE``. Shape, strides and dtype are elem's."""

    elem: torch.Tensor
    __slots__ = ("elem",)

    @staticmethod
    def __new__(cls, elem: torch.Tensor):
        r = torch.Tensor._make_wrapper_subclass(
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(),
            dtype=elem.dtype, layout=elem.layout, device=DEVICE,
            requires_grad=elem.requires_grad)
        r.elem = elem
        return r

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return run(func, args, kwargs or {})

    def __repr__(self) -> str:
        return f"Shadow({self.elem!r})"


def _is_other(d) -> bool:
    return isinstance(d, torch.device) and d.type == DEVICE.type or d == DEVICE.type


def run(func, args, kwargs):
    """``func`` on the CPU tensors behind the shadows; its tensors shadowed when any input was
    (or ``device=`` named the shadow device)."""
    flat, _ = tree_flatten((args, kwargs))
    shadowed = any(isinstance(a, Shadow) for a in flat) or _is_other(kwargs.get("device"))
    name = func.__name__.split(".")[0]
    if shadowed and name not in CROSSING:
        plain = [a for a in flat if isinstance(a, torch.Tensor) and not isinstance(a, Shadow)
                 and a.dim() > 0]
        if plain:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two "
                f"devices, {DEVICE.type} and {plain[0].device.type}! (a tensor of shape "
                f"{tuple(plain[0].shape)} was made on the {plain[0].device.type} whatever the "
                "inputs' device)")
    unwrapped_args, unwrapped_kwargs = tree_map(_unwrap, (args, kwargs))
    to_cpu = name in ("_to_copy", "_copy_from") and not _is_other(kwargs.get("device"))
    if _is_other(unwrapped_kwargs.get("device")):
        unwrapped_kwargs["device"] = torch.device("cpu")
    out = func(*unwrapped_args, **unwrapped_kwargs)
    if not shadowed or (to_cpu and kwargs.get("device") is not None):
        return out
    if name == "copy_":  # in place into its first argument: keep that argument's kind
        return args[0]
    return tree_map(lambda t: Shadow(t) if isinstance(t, torch.Tensor) else t, out)


def _unwrap(a):
    return a.elem if isinstance(a, Shadow) else (torch.device("cpu") if _is_other(a) else a)


class _Factories(TorchDispatchMode):
    """A factory call with ``device=`` the shadow device makes a shadow."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # otherwise torch wraps __torch_dispatch__ in torch._dynamo.disable, importing dynamo
        # (0.7 CPU-s) on the first factory call; nothing here is ever compiled
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return run(func, args, kwargs or {})


class _Constructors(TorchFunctionMode):
    """``torch.tensor(data, device=...)`` copies its data below the dispatcher: made on the
    CPU, then shadowed."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in CONSTRUCTORS and _is_other(kwargs.get("device")):
            return Shadow(func(*args, **{**kwargs, "device": "cpu"}))
        return func(*args, **kwargs)


CONSTRUCTORS = {torch.tensor, torch.as_tensor, torch.asarray, torch.from_numpy}


class Elsewhere:
    """While active, tensors made for the shadow device are shadows."""

    def __enter__(self):
        self.modes = (_Constructors(), _Factories())
        for m in self.modes:
            m.__enter__()
        return self

    def __exit__(self, *exc):
        for m in reversed(self.modes):
            m.__exit__(*exc)
        return False


def shadow(t):
    """A tensor (or a module's parameter and buffer, through ``Module._apply``) as a shadow."""
    return Shadow(t.detach().requires_grad_(t.requires_grad)) if isinstance(t, torch.Tensor) \
        and not isinstance(t, Shadow) else t


def plain(t):
    """The CPU tensor behind a shadow (and the device it reported), for sending back."""
    return (t.elem, DEVICE.type) if isinstance(t, Shadow) else (t, t.device.type)
