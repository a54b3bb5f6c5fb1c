"""reference.tasks: the generators are what they claim, and the calibrated configuration separates
an LSTM from a vanilla RNN on the adding problem."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from reference.tasks import (ADDING, TrainConfig, adding_problem, latch, latch_task,
                             make_generator, make_model, train)


def test_adding_problem_has_one_marker_per_half_and_sums_marked_values():
    x, y = adding_problem(256, 50, make_generator(0))
    assert x.shape == (256, 50, 2) and y.shape == (256, 1)
    markers = x[..., 1]
    assert (markers[:, :25].sum(1) == 1).all() and (markers[:, 25:].sum(1) == 1).all()
    torch.testing.assert_close(y[:, 0], (x[..., 0] * markers).sum(1))
    assert 0 <= x[..., 0].min() and x[..., 0].max() < 1


def test_adding_problem_mean_predictor_scores_about_one_sixth():
    _, y = adding_problem(20000, 50, make_generator(1))
    assert abs(((y - 1.0) ** 2).mean().item() - 1 / 6) < 0.01


@pytest.mark.parametrize("sampler", [adding_problem, latch_task], ids=["adding", "latch"])
def test_generators_are_deterministic_per_seed(sampler):
    a = sampler(8, 10, make_generator(3))
    b = sampler(8, 10, make_generator(3))
    c = sampler(8, 10, make_generator(4))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("lag", ["fixed", "random"])
def test_latch_label_is_the_sign_of_the_symbol(lag):
    x, y = latch_task(500, 40, make_generator(0), lag=lag)
    pos = x[..., 0].abs().argmax(dim=1)
    symbol = x[torch.arange(500), pos, 0]
    torch.testing.assert_close(symbol, 2 * y[:, 0] - 1)
    if lag == "fixed":
        assert (pos == 0).all()
    else:
        assert pos.max() > 20


def test_latch_rejects_unknown_lag():
    with pytest.raises(ValueError, match="lag must be 'fixed' or 'random', got 'sometimes'"):
        latch_task(2, 5, make_generator(0), lag="sometimes")


def test_generators_keep_the_generators_device_and_requested_dtype():
    x, y = adding_problem(4, 6, make_generator(0), dtype=torch.float64)
    assert x.dtype == y.dtype == torch.float64 and x.device.type == "cpu"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_reference_lstm_learns_the_adding_problem(seed):
    torch.set_num_threads(1)
    cfg = TrainConfig()
    result = train(make_model("lstm", ADDING, cfg, seed), ADDING, cfg, seed=seed)
    assert result.success, f"seed {seed}: held-out MSE {result.test_metric:.4f} " \
                           f"after {result.steps} steps; history {result.history}"
    assert result.steps <= 800


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_vanilla_rnn_fails_the_adding_problem_within_the_budget(seed):
    torch.set_num_threads(1)
    cfg = TrainConfig()
    result = train(make_model("rnn", ADDING, cfg, seed), ADDING, cfg, seed=seed)
    assert not result.success and result.test_metric > 0.1  # no better than predicting the mean
    assert result.steps == cfg.max_steps


def test_train_stops_early_once_validation_is_good(monkeypatch):
    cfg = dataclasses.replace(TrainConfig(), seq_len=4, max_steps=400, eval_every=10)
    task = latch("random")
    result = train(make_model("nn.lstm", task, cfg, 0), task, cfg, seed=0)
    assert result.success and result.steps < 400
    assert result.history[-1][1] < cfg.stop_fraction * task.target
