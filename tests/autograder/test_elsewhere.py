"""Inputs on another device without a GPU (``elsewhere``): code that follows its inputs runs,
data-dependent guards included; a tensor made on the CPU whatever the inputs fails as on CUDA."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.elsewhere import Elsewhere, Shadow, plain, shadow


def run(fn, *inputs):
    with torch.no_grad(), Elsewhere():
        return fn(*(shadow(t) for t in inputs))


FOLLOWING = {
    "new_zeros": lambda x: 2 * x + x.new_zeros(x.shape),
    "zeros_device_dtype": lambda x: 2 * x + torch.zeros(x.shape, device=x.device, dtype=x.dtype),
    "zeros_like": lambda x: torch.zeros_like(x) + 2 * x,
    "tensor_on_device": lambda x: x * torch.tensor([2.0], device=x.device, dtype=x.dtype),
    "nan_guard": lambda x: (_ for _ in ()).throw(ValueError) if torch.isnan(x).any() else x * 2,
    "item_in_python": lambda x: x * (2.0 if x.abs().max().item() < 100 else 1.0),
    "zero_dim_cpu_scalar": lambda x: x * torch.tensor(2.0, dtype=x.dtype),
    "cpu_index": lambda x: x[torch.arange(2)] * 2,
    "written_into": lambda x: x.new_empty(x.shape).copy_(x) * 2,
    "to_the_inputs_device": lambda x: 2 * x + torch.ones(x.shape, dtype=x.dtype).to(x.device) - 1,
}


@pytest.mark.parametrize("name", sorted(FOLLOWING))
def test_code_that_follows_its_inputs_runs_and_stays_on_their_device(name):
    x = torch.randn(3, 4, dtype=torch.float64)
    out = run(FOLLOWING[name], x)
    assert isinstance(out, Shadow) and out.device.type == "meta"
    value, device = plain(out)
    assert device == "meta"
    torch.testing.assert_close(value[:2], (x * 2)[:2])


HARD_CODED = {
    "zeros": lambda x: x + torch.zeros(x.shape, dtype=x.dtype),
    "randn": lambda x: x * torch.randn(x.shape, dtype=x.dtype),
    "cat_with_cpu": lambda x: torch.cat([x, torch.zeros(1, x.shape[1], dtype=x.dtype)]),
    "matmul_with_cpu": lambda x: x @ torch.eye(x.shape[1], dtype=x.dtype),
}


@pytest.mark.parametrize("name", sorted(HARD_CODED))
def test_a_tensor_made_on_the_cpu_whatever_the_inputs_fails_as_it_would_on_cuda(name):
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        run(HARD_CODED[name], torch.randn(3, 4, dtype=torch.float64))


def test_a_returned_cpu_tensor_reports_the_cpu():
    out = run(lambda x: (x * 2, torch.zeros(3)), torch.randn(3, 4))
    assert [plain(t)[1] for t in out] == ["meta", "cpu"]


def test_a_module_moved_there_computes_what_it_computes_on_the_cpu():
    torch.manual_seed(0)
    cell, x = nn.LSTMCell(4, 5).double(), torch.randn(3, 4, dtype=torch.float64)
    expected = cell(x)
    moved = cell._apply(shadow)
    assert all(p.device.type == "meta" for p in moved.parameters())
    with torch.no_grad(), Elsewhere():
        got = moved.forward(shadow(x))  # nn.LSTMCell itself: its kernel runs on the CPU data
    for g, e in zip(got, expected):
        torch.testing.assert_close(plain(g)[0], e.detach())
