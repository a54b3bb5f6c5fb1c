"""Part 7's training loop, torch only: copied into the sandbox beside ``worker.py``.

It is the loop of ``reference.tasks.train`` (Adam, MSE, gradient-norm clipping, early stopping on
a fixed validation batch), with batches drawn from a pool the judge sends instead of sampled
afresh; ``tests/autograder/test_training.py`` shows the two agree step for step on a fixed seed.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def last_step_readout(core: nn.Module, readout: nn.Module) -> Callable[[Tensor], Tensor]:
    """``x (B, T, I) -> readout(output[:, -1]) (B, 1)`` for a batch-first recurrent ``core``."""

    def predict(x: Tensor) -> Tensor:
        out = core(x)
        out = out[0] if isinstance(out, (tuple, list)) else out  # (B, T, H)
        return readout(out[:, -1])  # (B, 1)

    return predict


def fit(predict: Callable[[Tensor], Tensor], params: list[Tensor],
        next_batch: Callable[[], tuple[Tensor, Tensor]], x_val: Tensor, y_val: Tensor, *,
        lr: float, clip_norm: float, max_steps: int, eval_every: int, stop_below: float,
        backward: Callable[[Tensor], None] = Tensor.backward,
        on_step: Callable[[int], None] | None = None) -> tuple[int, list]:
    """Train until ``max_steps`` or a validation MSE below ``stop_below``.

    ``backward(loss)`` runs the grader's own backward pass (the worker lifts its guards there);
    ``on_step(n)`` is called after the n-th update (a checkpoint for the judge to replay).
    Returns (steps taken, [(step, validation MSE), ...])."""
    opt = torch.optim.Adam(params, lr=lr)
    steps, history = 0, []
    while steps < max_steps:
        x, y = next_batch()
        loss = F.mse_loss(predict(x), y)
        opt.zero_grad(set_to_none=True)
        backward(loss)
        nn.utils.clip_grad_norm_(params, clip_norm)
        opt.step()
        steps += 1
        if on_step is not None:
            on_step(steps)
        if steps % eval_every == 0:
            with torch.no_grad():
                val = F.mse_loss(predict(x_val), y_val).item()
            history.append((steps, val))
            if val < stop_below:
                break
    return steps, history


def pool_batches(x: Tensor, y: Tensor, batch_size: int, seed: int):
    """Batches of ``batch_size`` drawn with replacement from the pool ``x (N, T, I)``, ``y (N, 1)``."""
    gen = torch.Generator().manual_seed(seed)

    def next_batch() -> tuple[Tensor, Tensor]:
        idx = torch.randint(0, x.size(0), (batch_size,), generator=gen)
        return x[idx], y[idx]

    return next_batch
