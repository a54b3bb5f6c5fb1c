"""autograder.worker's server, in process: the requests a worker answers and how it answers them.
(The real process, its confinement and its restarts: test_sandbox.py.)"""
from __future__ import annotations

import types

import pytest
import torch
from torch import nn

from autograder import worker
from autograder.protocol import (CallRequest, ErrorKind, Init, Key, TrainConfig, TrainRequest)

SOURCE = '''
import torch
from torch import nn

def pair(x, y):
    return x + y, {"sum": (x + y).sum(), "n": 3, "obj": object()}

def fails(x):
    raise ValueError("shapes are off")

class Affine(nn.Module):
    def __init__(self, n, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None
    def forward(self, x):
        out = x @ self.weight.T
        return out + self.bias if self.bias is not None else out

class Skeleton(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, n))
    def forward(self, x):
        raise NotImplementedError
'''


class Flags:
    """The guards' switches without patching torch in the test process."""

    active = no_autograd = False


@pytest.fixture
def server():
    module = types.ModuleType("submission")
    exec(compile(SOURCE, worker.STUDENT_FILE, "exec"), module.__dict__)
    return worker.Server(module, torch, Flags())


def test_a_function_call_returns_its_structure_and_tensors(server):
    x, y = torch.ones(2), torch.full((2,), 2.0)
    reply, sent = server.handle(CallRequest("pair", args=({"t": "a"}, {"t": "b"}), id=4),
                                {"a": x, "b": y})
    assert reply.id == 4 and reply.ok
    assert reply.outputs == {"tuple": [{"t": "o.0"}, {"dict": {
        "sum": {"t": "o.1"}, "n": {"v": 3}, "obj": {"unsupported": "object"}}}]}
    torch.testing.assert_close(sent["o.0"], torch.full((2,), 3.0))


def test_a_missing_name_is_its_own_kind_of_failure(server):
    reply, _ = server.handle(CallRequest("LSTM", id=2), {})
    assert not reply.ok and reply.error.kind == ErrorKind.MISSING and "`LSTM`" in reply.error.message


def test_a_student_exception_keeps_only_the_students_frames(server):
    reply, _ = server.handle(CallRequest("fails", args=({"t": "a"},)), {"a": torch.ones(1)})
    assert reply.error.kind == ErrorKind.RAISED and reply.error.exc_type == "ValueError"
    (where,) = reply.error.where  # the worker's own frames are gone
    assert where.startswith("line 9 of submission.py, in fails")


def test_a_module_is_built_in_the_dtype_asked_loaded_called_and_differentiated(server):
    w, b = torch.randn(3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    x, cot = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    req = CallRequest("Affine", "module", ({"t": "in.x"},), init=Init((3,)), dtype="float64",
                      load_state_dict=True, requires_grad=("in.x",),
                      cotangents=(((), "cot.out"),))
    reply, sent = server.handle(req, {f"{Key.STATE_DICT}weight": w, f"{Key.STATE_DICT}bias": b,
                                      "in.x": x, "cot.out": cot})
    assert reply.ok and reply.backward == "ok" and reply.params == {"weight": [3, 3], "bias": [3]}
    torch.testing.assert_close(sent["o.0"], x @ w.T + b)
    torch.testing.assert_close(sent[f"{Key.INPUT_GRAD}in.x"], cot @ w)
    torch.testing.assert_close(sent[f"{Key.PARAM_GRAD}weight"], cot.T @ x)


def test_outputs_cut_off_from_the_graph_are_reported_not_differentiated(server):
    req = CallRequest("pair", args=({"t": "a"}, {"t": "a"}), requires_grad=("a",),
                      cotangents=(((7,), "cot"),))
    reply, sent = server.handle(req, {"a": torch.ones(2), "cot": torch.ones(2)})
    assert reply.backward == "outputs are not connected to the autograd graph"
    assert not any(k.startswith(Key.INPUT_GRAD) for k in sent)


def test_a_skeleton_that_raises_still_reports_its_parameters(server):
    req = CallRequest("Skeleton", "module", ({"t": "in.x"},), init=Init((2,)))
    reply, _ = server.handle(req, {"in.x": torch.ones(1, 2, dtype=torch.float64)})
    assert reply.error.exc_type == "NotImplementedError" and reply.params == {"weight": [2, 2]}


def test_meta_tensors_travel_as_zeros_of_their_shape_and_dtype_with_their_device():
    out = worker.to_cpu(torch, {"o.0": torch.empty(2, 3, device="meta", dtype=torch.float64)})
    assert out["o.0"].device.type == "cpu" and out["o.0"].shape == (2, 3)
    assert out["o.0"].dtype == torch.float64


def test_training_returns_only_the_trained_weights(server):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(64, 5, 3, generator=gen)
    y = x[:, :, :1].sum(1)

    class Core(nn.Module):  # batch-first "recurrent" layer: (B, T, I) -> ((B, T, H), None)
        def __init__(self, i, h):
            super().__init__()
            self.proj = nn.Linear(i, h)

        def forward(self, x):
            return self.proj(x).cumsum(1), None

    server.module.Core = Core
    cfg = TrainConfig(hidden_size=4, lr=1e-2, batch_size=8, clip_norm=1.0, max_steps=20,
                      eval_every=10, stop_below=0.0)
    data = {f"{Key.TRAIN_DATA}{k}": v for k, v in
            {"x_train": x, "y_train": y, "x_val": x[:16], "y_val": y[:16]}.items()}
    reply, sent = server.handle(TrainRequest("Core", Init((3, 4)), cfg, id=9), data)
    assert reply.ok and reply.steps == 20 and [s for s, _ in reply.history] == [10, 20]
    assert set(sent) == {f"{Key.TRAINED}core.proj.weight", f"{Key.TRAINED}core.proj.bias",
                         f"{Key.TRAINED}readout.weight", f"{Key.TRAINED}readout.bias"}


def test_numpy_numbers_come_back_as_plain_numbers(server):
    import numpy as np
    assert server.encode((np.int64(57), np.float32(0.5)), {}) == \
        {"tuple": [{"v": 57}, {"v": 0.5}]}


def test_inputs_on_another_device_are_followed_and_a_cpu_tensor_is_reported(server):
    req = CallRequest("pair", args=({"t": "a"}, {"t": "b"}), device="meta", grad_enabled=False)
    reply, sent = server.handle(req, {"a": torch.ones(2), "b": torch.ones(2)})
    assert reply.ok and sent["o.0"].device.type == "meta"
