"""Reading a worker's reply, judge side: follow a path into the described return value and take
the tensor found there from the payload. Nothing in a reply is believed that the judge cannot see:
shape and dtype come from the received tensor itself, never from a description.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .protocol import Reply

MAX_ELEMENTS = 1 << 24  # a returned tensor larger than this is refused outright


@dataclass(frozen=True)
class Found:
    """What is at a path in the return value: a tensor (with its device), or a plain value, or
    why nothing is there (``missing``)."""

    tensor: Tensor | None = None
    device: str = "cpu"
    value: object = None
    missing: str | None = None  # "a tuple", "only 1 value(s)", "a dict without key 'U'"
    is_tensor: bool = False  # the return value has a tensor here (even if it did not come back)


def lookup(struct, path: tuple) -> tuple[dict | None, object, str | None]:
    """Follow ``path`` (tuple indices, dict keys) in the worker's output structure.

    Returns (the tensor's spec ``{"t": key}`` or None, the plain value, an error or None)."""
    for step in path:
        node = struct if isinstance(struct, dict) else {}
        if isinstance(step, int):
            items = node.get("tuple")
            if not isinstance(items, list) or step >= len(items):
                return None, None, "a tuple" if not isinstance(items, list) else \
                    f"only {len(items)} value(s)"
            struct = items[step]
        else:
            items = node.get("dict")
            if not isinstance(items, dict) or step not in items:
                return None, None, ("a dict" if not isinstance(items, dict) else
                                    f"a dict without key {step!r} (keys: {sorted(items)[:8]})")
            struct = items[step]
    if not isinstance(struct, dict):
        return None, struct, None
    if isinstance(struct.get("t"), str):
        return struct, None, None
    if isinstance(struct.get("unsupported"), str):
        return None, f"<{struct['unsupported'][:40]}>", None
    return None, struct.get("v"), None


def find(reply: Reply, path: tuple) -> Found:
    spec, value, missing = lookup(reply.outputs, path)
    if missing is not None:
        return Found(missing=missing)
    if spec is None:
        return Found(value=value)
    tensor = reply.tensors.get(spec["t"])
    device = (reply.devices or {}).get(spec["t"], "cpu")
    return Found(tensor if isinstance(tensor, Tensor) else None, device, is_tensor=True)
