"""Helpers for comparing a reference module with its torch.nn twin, forward and backward."""
from __future__ import annotations

import torch
from torch import nn

from tests.conftest import TOL


def leaves(*tensors):
    """Detached copies that require grad, one set per model under test."""
    return [None if t is None else t.detach().clone().requires_grad_(True) for t in tensors]


def flatten_outputs(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in flatten_outputs(o)]


def assert_same_module(ours: nn.Module, theirs: nn.Module, *inputs, dtype=torch.float64):
    """Load ours' weights into theirs, run both on copies of ``inputs`` (tensors or tuples of
    tensors), and compare every output, then the gradients of one random projection of all
    outputs with respect to every input and every named parameter."""
    ours, theirs = ours.to(dtype), theirs.to(dtype)
    theirs.load_state_dict(ours.state_dict())
    tol = TOL[dtype]
    runs = []
    for model in (ours, theirs):
        args, grads_of = [], []
        for inp in inputs:
            if isinstance(inp, tuple):
                copy = tuple(leaves(*inp))
                grads_of += list(copy)
            else:
                copy = None if inp is None else leaves(inp)[0]
                grads_of += [] if copy is None else [copy]
            args.append(copy)
        outs = flatten_outputs(model(*args))
        runs.append((model, args, grads_of, outs))
    (_, _, g_ours, o_ours), (_, _, g_theirs, o_theirs) = runs
    assert len(o_ours) == len(o_theirs)
    for a, b in zip(o_ours, o_theirs):
        assert a.dtype == b.dtype == dtype
        torch.testing.assert_close(a, b, **tol)
    weights = [torch.randn_like(o) for o in o_ours]
    for _, _, _, outs in runs:
        sum((w * o).sum() for w, o in zip(weights, outs)).backward()
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a.grad, b.grad, **tol)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, named[name].grad, **tol, msg=lambda m: f"{name}: {m}")
