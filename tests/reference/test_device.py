"""Device-agnosticism and dtype preservation of every reference part.

Without a GPU, the ``meta`` device stands in for "some other device": a tensor made on the CPU by
hard-coded code cannot mix with meta tensors, so any hard-coded device fails here. With CUDA,
the same parts run on the GPU and match the CPU."""
from __future__ import annotations

import pytest
import torch

import reference as R
from tests.conftest import TOL, requires_cuda
from tests.reference.test_rnn import make_problem

MODULES = [
    pytest.param(lambda: R.LSTMCell(3, 4), lambda B: (torch.randn(B, 3),), id="LSTMCell"),
    pytest.param(lambda: R.PeepholeLSTMCell(3, 4), lambda B: (torch.randn(B, 3),), id="Peephole"),
    pytest.param(lambda: R.CoupledLSTMCell(3, 4), lambda B: (torch.randn(B, 3),), id="Coupled"),
    pytest.param(lambda: R.GRUCell(3, 4), lambda B: (torch.randn(B, 3),), id="GRUCell"),
    pytest.param(lambda: R.LectureGRUCell(3, 4), lambda B: (torch.randn(B, 3),), id="LectureGRU"),
    pytest.param(lambda: R.LSTM(3, 4, 2, bidirectional=True), lambda B: (torch.randn(5, B, 3),),
                 id="LSTM"),
    pytest.param(lambda: R.GRU(3, 4, 2, bidirectional=True), lambda B: (torch.randn(5, B, 3),),
                 id="GRU"),
    pytest.param(lambda: R.PeepholeLSTM(3, 4, 2), lambda B: (torch.randn(5, B, 3),),
                 id="PeepholeLSTM"),
    pytest.param(lambda: R.CoupledLSTM(3, 4, 2), lambda B: (torch.randn(5, B, 3),),
                 id="CoupledLSTM"),
    pytest.param(lambda: R.BiLSTMClassifier(3, 4, 2, 5), lambda B: (torch.randn(B, 5, 3),),
                 id="BiLSTMClassifier"),
]


def tensors_of(out):
    return [out] if isinstance(out, torch.Tensor) else [t for o in out for t in tensors_of(o)]


def rnn_outputs(x, y, h0, params):
    y_hat, h = R.rnn_forward(x, h0, params)
    loss, grads = R.rnn_bptt(x, y, h0, params)
    return [y_hat, h, loss, *grads.values(), R.hidden_grad_norms(x, y, h0, params)]


@pytest.mark.parametrize("make,inputs", MODULES)
def test_module_runs_on_meta_device_without_creating_cpu_tensors(make, inputs):
    module = make().to("meta")
    out = tensors_of(module(*(t.to("meta") for t in inputs(2))))
    assert all(t.device.type == "meta" for t in out)
    sum(t.sum() for t in out).backward()  # the backward pass is device-agnostic too


def test_functional_parts_run_on_meta_device():
    x, y, h0, params = make_problem()
    to_meta = lambda t: t.to("meta")
    outs = rnn_outputs(to_meta(x), to_meta(y), to_meta(h0), {k: to_meta(v) for k, v in params.items()})
    assert all(t.device.type == "meta" for t in outs)


def test_meta_device_catches_a_hard_coded_cpu_tensor():
    """The check above can fail: code that makes its state with torch.zeros(B, H) breaks on meta."""

    def hard_coded(x):
        h = torch.zeros(x.size(0), 4)  # the classic mistake: no device=x.device
        return torch.tanh(x @ torch.ones(3, 4, device=x.device) + h)

    hard_coded(torch.randn(2, 3))  # fine on the CPU
    with pytest.raises((RuntimeError, NotImplementedError)):
        hard_coded(torch.randn(2, 3, device="meta"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("make,inputs", MODULES)
def test_module_preserves_dtype(make, inputs, dtype):
    module = make().to(dtype)
    out = tensors_of(module(*(t.to(dtype) for t in inputs(2))))
    assert all(t.dtype == dtype for t in out)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_functional_parts_preserve_dtype(dtype):
    x, y, h0, params = make_problem(dtype=dtype)
    assert all(t.dtype == dtype for t in rnn_outputs(x, y, h0, params))


@requires_cuda
@pytest.mark.gpu
@pytest.mark.parametrize("make,inputs", MODULES)
def test_module_on_cuda_matches_cpu(make, inputs):
    module = make().double()
    args = [t.double() for t in inputs(3)]
    expected = tensors_of(module(*args))
    got = tensors_of(module.to("cuda")(*(t.cuda() for t in args)))
    for e, g in zip(expected, got):
        assert g.device.type == "cuda"
        torch.testing.assert_close(g.cpu(), e, **TOL[torch.float64])


@requires_cuda
@pytest.mark.gpu
def test_functional_parts_on_cuda_match_cpu():
    x, y, h0, params = make_problem()
    expected = rnn_outputs(x, y, h0, params)
    got = rnn_outputs(x.cuda(), y.cuda(), h0.cuda(), {k: v.cuda() for k, v in params.items()})
    for e, g in zip(expected, got):
        assert g.device.type == "cuda"
        torch.testing.assert_close(g.cpu(), e, **TOL[torch.float64])
