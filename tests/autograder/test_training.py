"""autograder.training (the worker's Part 7 loop) is reference.tasks.train's loop: on a fixed
seed the two take the same steps, record the same validation losses and end with the same weights."""
from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder import training
from reference.tasks import ADDING, SequenceToOne, TrainConfig, adding_problem, train
from reference.lstm import LSTM


def test_the_workers_loop_and_reference_tasks_train_agree_step_for_step():
    gen = torch.Generator().manual_seed(0)
    x_pool, y_pool = adding_problem(256, 12, gen)
    x_val, y_val = adding_problem(64, 12, gen)
    cfg = TrainConfig(seq_len=12, hidden_size=8, max_steps=40, eval_every=20, batch_size=16,
                      val_size=64, test_size=64)

    def pool_sample(n, T, g):  # the reference's sampler, drawing batches from the judge's pool
        if n == cfg.val_size and g.initial_seed() == 10_000:
            return x_val, y_val
        idx = torch.randint(0, x_pool.size(0), (n,), generator=g)
        return x_pool[idx], y_pool[idx]

    task = dataclasses.replace(ADDING, sample=pool_sample)
    torch.manual_seed(3)
    theirs = SequenceToOne(LSTM(2, 8, batch_first=True), 8)
    ours = SequenceToOne(LSTM(2, 8, batch_first=True), 8)
    ours.load_state_dict(theirs.state_dict())

    result = train(theirs, task, cfg, seed=0)
    steps, history = training.fit(
        training.last_step_readout(ours.core, ours.readout), list(ours.parameters()),
        training.pool_batches(x_pool, y_pool, cfg.batch_size, seed=0), x_val, y_val,
        lr=cfg.lr, clip_norm=cfg.clip_norm, max_steps=cfg.max_steps, eval_every=cfg.eval_every,
        stop_below=cfg.stop_fraction * task.target)

    assert steps == result.steps == 40
    assert [s for s, _ in history] == [s for s, _ in result.history] == [20, 40]
    torch.testing.assert_close(torch.tensor([v for _, v in history]),
                               torch.tensor([v for _, v in result.history]))
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_training_stops_early_once_validation_is_good_enough():
    x = torch.zeros(8, 3, 2)
    steps, history = training.fit(lambda b: b[:, -1, :1] * 0, [torch.zeros(1, requires_grad=True)],
                                  lambda: (x, x[:, -1, :1]), x, x[:, -1, :1], lr=1e-2,
                                  clip_norm=1.0, max_steps=100, eval_every=5, stop_below=0.1,
                                  backward=lambda loss: None)
    assert steps == 5 and history == [(5, 0.0)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("lr", [1e-2, 3e-4], ids=["lr1e-2", "lr3e-4"])
def test_the_written_out_adam_gives_torchs_weights_exactly(dtype, lr):
    torch.manual_seed(0)
    core = nn.LSTM(2, 8, batch_first=True).to(dtype)
    readout = nn.Linear(8, 1).to(dtype)
    twin = copy.deepcopy((core, readout))
    ours = [*core.parameters(), *readout.parameters()]
    theirs = [*twin[0].parameters(), *twin[1].parameters()]
    start = [p.detach().clone() for p in ours]
    optimizers = (training.Adam(ours, lr=lr), torch.optim.Adam(theirs, lr=lr))
    for _ in range(100):
        x, y = torch.randn(16, 10, 2, dtype=dtype), torch.randn(16, 1, dtype=dtype)
        for (c, r), params, opt in zip(((core, readout), twin), (ours, theirs), optimizers):
            opt.zero_grad(set_to_none=True)
            F.mse_loss(r(c(x)[0][:, -1]), y).backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert all((a != s).any() for a, s in zip(ours, start))  # it did train


def test_training_backward_and_devices_import_neither_dynamo_nor_sympy():
    """torch.optim's constructor imports torch._dynamo (1.6 CPU-s), a dispatch mode's first call
    too (0.7), autograd.backward with gradient tensors sympy (0.3): the judge's replay, the
    worker's training, its backward and its shadow device do without."""
    code = ("import sys, torch\nfrom torch import nn\nfrom autograder import elsewhere, training\n"
            "y = (torch.randn(3, 2, requires_grad=True) * 2).tanh()\n"
            "training.backward([y], [torch.ones_like(y)])\n"
            "with elsewhere.Elsewhere():\n"
            "    s = elsewhere.shadow(torch.randn(2, 2))\n"
            "    assert (s @ s + torch.zeros(2, device='meta')).device.type == 'meta'\n"
            "core, readout = nn.LSTM(2, 8, batch_first=True), nn.Linear(8, 1)\n"
            "x, y = torch.randn(64, 10, 2), torch.randn(64, 1)\n"
            "training.fit(training.last_step_readout(core, readout), [*core.parameters(), "
            "*readout.parameters()], training.pool_batches(x, y, 8, 0), x, y, lr=1e-2, "
            "clip_norm=1.0, max_steps=20, eval_every=5, stop_below=-1)\n"
            "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_the_vjp_backward_gives_autograds_gradients_exactly(dtype):
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, batch_first=True).to(dtype)
    twin = copy.deepcopy(lstm)
    x = torch.randn(2, 5, 3, dtype=dtype, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    out, (h, c) = lstm(x)
    out2, (h2, c2) = twin(x2)
    cots = [torch.randn_like(t) for t in (out, h, c)]
    training.backward([out, h, c], cots)
    torch.autograd.backward([out2, h2, c2], cots)
    torch.testing.assert_close(x.grad, x2.grad, rtol=0, atol=0)
    for a, b in zip(lstm.parameters(), twin.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=0)
