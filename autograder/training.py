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


def backward(outputs: list[Tensor], cotangents: list[Tensor]) -> None:
    """Accumulate the vector-Jacobian product sum_i <cotangent_i, output_i> into the leaves'
    ``.grad``: the gradients ``torch.autograd.backward(outputs, cotangents)`` gives, to the bit
    (d/do of sum(o * c) is 1 * c), without torch's check of explicit gradient tensors, which
    imports sympy (0.3 CPU-s). Used by the judge and the worker alike."""
    total = sum((o * c).sum() for o, c in zip(outputs, cotangents))
    total.backward()


class Adam:
    """``torch.optim.Adam(params, lr)``'s update, operation for operation as torch runs it on
    CPU tensors (its single-tensor path: betas 0.9 and 0.999, eps 1e-8, no weight decay), so
    the weights come out the same. Written out because constructing torch's imports
    ``torch._dynamo`` (1.6 CPU-s in every judge and worker that trains)."""

    def __init__(self, params: list[Tensor], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format)
                        for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format)
                           for p in self.params]
        self.steps = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        bias_correction1 = 1 - beta1 ** self.steps
        bias_correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        step_size = self.lr / bias_correction1
        for p, exp_avg, exp_avg_sq in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            grad = p.grad
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)


def fit(predict: Callable[[Tensor], Tensor], params: list[Tensor],
        next_batch: Callable[[], tuple[Tensor, Tensor]], x_val: Tensor, y_val: Tensor, *,
        lr: float, clip_norm: float, max_steps: int, eval_every: int, stop_below: float,
        backward: Callable[[Tensor], None] = Tensor.backward,
        on_step: Callable[[int], None] | None = None) -> tuple[int, list]:
    """Train until ``max_steps`` or a validation MSE below ``stop_below``.

    ``backward(loss)`` runs the grader's own backward pass (the worker lifts its guards there);
    ``on_step(n)`` is called after the n-th update (a checkpoint for the judge to replay).
    Returns (steps taken, [(step, validation MSE), ...])."""
    opt = Adam(params, lr=lr)
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
