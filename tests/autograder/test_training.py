"""autograder.training (the worker's Part 7 loop) is reference.tasks.train's loop: on a fixed
seed the two take the same steps, record the same validation losses and end with the same weights."""
from __future__ import annotations

import dataclasses

import torch

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
