"""Part 7: long-range dependency tasks, a training loop with early stopping, held-out evaluation.

* The adding problem (Hochreiter & Schmidhuber 1997): two input channels, values U(0, 1) and a
  marker channel with one marker in each half of the sequence; the target is the sum of the two
  marked values; MSE loss. Predicting the mean (1.0) gives MSE 1/6 = 0.167; success is MSE < 0.01.
* The latch task (Bengio, Simard & Frasconi 1994): one channel of noise N(0, 0.2^2) with one
  symbol +-1 at position p; the class is the symbol's sign. ``lag="fixed"`` puts the symbol at
  step 0 (every example needs T steps of memory), ``lag="random"`` at a uniform position (short
  lags are easy, so the network can learn to latch step by step). Success is error rate < 5%.

Every sampler takes a ``torch.Generator`` and makes its tensors on that generator's device, so the
same seed gives the same data on one device; nothing is downloaded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def adding_problem(n: int, seq_len: int, generator: torch.Generator,
                   dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """``x (n, T, 2)``: [value, marker]; ``y (n, 1)``: the sum of the two marked values."""
    T, dev = seq_len, generator.device
    values = torch.rand(n, T, generator=generator, device=dev, dtype=dtype)  # (n, T)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=generator, device=dev)  # one in each half
    second = torch.randint(half, T, (n,), generator=generator, device=dev)
    markers = torch.zeros(n, T, device=dev, dtype=dtype)
    rows = torch.arange(n, device=dev)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values * markers).sum(dim=1, keepdim=True)  # (n, 1)
    return torch.stack([values, markers], dim=2), y  # (n, T, 2), (n, 1)


def latch_task(n: int, seq_len: int, generator: torch.Generator, lag: str = "fixed",
               noise: float = 0.2, dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """``x (n, T, 1)``: noise plus one symbol +-1; ``y (n, 1)``: 1.0 if the symbol is +1 else 0.0."""
    if lag not in ("fixed", "random"):
        raise ValueError(f"lag must be 'fixed' or 'random', got {lag!r}")
    T, dev = seq_len, generator.device
    x = noise * torch.randn(n, T, generator=generator, device=dev, dtype=dtype)  # (n, T)
    label = torch.randint(0, 2, (n,), generator=generator, device=dev)
    if lag == "fixed":
        pos = torch.zeros(n, dtype=torch.long, device=dev)
    else:
        pos = torch.randint(0, T, (n,), generator=generator, device=dev)
    x[torch.arange(n, device=dev), pos] = (2 * label - 1).to(dtype)
    return x.unsqueeze(2), label.to(dtype).unsqueeze(1)  # (n, T, 1), (n, 1)


@dataclass(frozen=True)
class Task:
    """A sequence-to-one task: how to sample it, train on it, and judge success."""

    name: str
    in_features: int
    sample: Callable[[int, int, torch.Generator], tuple[Tensor, Tensor]]
    loss: Callable[[Tensor, Tensor], Tensor]  # training loss on (prediction, target)
    metric: Callable[[Tensor, Tensor], float]  # lower is better
    target: float  # success when the held-out metric is below this


def _error_rate(logits: Tensor, y: Tensor) -> float:
    return ((logits > 0).to(y.dtype) != y).float().mean().item()


ADDING = Task("adding", 2, adding_problem, F.mse_loss,
              lambda p, y: F.mse_loss(p, y).item(), target=0.01)


def latch(lag: str) -> Task:
    return Task(f"latch-{lag}", 1, lambda n, T, g: latch_task(n, T, g, lag=lag),
                F.binary_cross_entropy_with_logits, _error_rate, target=0.05)


@dataclass(frozen=True)
class TrainConfig:
    """The calibrated configuration of HOMEWORK.md Part 7 (measured in benchmarks/)."""

    seq_len: int = 50  # T
    hidden_size: int = 32
    lr: float = 1e-2  # Adam
    batch_size: int = 64
    clip_norm: float = 1.0  # gradient-norm clipping
    max_steps: int = 1500  # budget; a correct LSTM needs fewer than 800
    eval_every: int = 50  # validation period, in steps
    stop_fraction: float = 0.5  # stop once the validation metric < stop_fraction * task.target
    val_size: int = 1000  # one fixed validation batch
    test_size: int = 2000  # held-out data, never seen in training or early stopping


class SequenceToOne(nn.Module):
    """A recurrent core read out by a linear layer at the last time step.

    ``core`` is any batch-first recurrent layer returning ``(output (B, T, H), state)``.
    Inputs: ``x (B, T, I)``. Output: ``(B, 1)``.
    """

    def __init__(self, core: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.core, self.readout = core, nn.Linear(hidden_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.core(x)  # (B, T, H)
        return self.readout(out[:, -1])  # (B, 1)


@dataclass
class TrainResult:
    steps: int  # optimisation steps taken
    val_metric: float
    test_metric: float
    success: bool
    seconds: float
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, validation metric)


def evaluate(model: nn.Module, task: Task, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return task.metric(model(x), y)


def train(model: nn.Module, task: Task, config: TrainConfig = TrainConfig(), seed: int = 0,
          device: str | torch.device = "cpu") -> TrainResult:
    """Adam on fresh batches, clipped gradients, early stopping on a fixed validation batch.

    The three data streams (train, validation, test) use different seeds derived from ``seed``.
    """
    start, T = time.perf_counter(), config.seq_len
    x_val, y_val = task.sample(config.val_size, T, make_generator(10_000 + seed, device))
    x_test, y_test = task.sample(config.test_size, T, make_generator(20_000 + seed, device))
    g_train = make_generator(seed, device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: list[tuple[int, float]] = []
    step, val = 0, float("inf")
    while step < config.max_steps:
        x, y = task.sample(config.batch_size, T, g_train)
        loss = task.loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        opt.step()
        step += 1
        if step % config.eval_every == 0:
            val = evaluate(model, task, x_val, y_val)
            history.append((step, val))
            if val < config.stop_fraction * task.target:
                break
    test = evaluate(model, task, x_test, y_test)
    return TrainResult(step, val, test, test < task.target, time.perf_counter() - start, history)


def make_model(kind: str, task: Task, config: TrainConfig, seed: int,
               device: str | torch.device = "cpu") -> SequenceToOne:
    """``kind``: "lstm" (this package's LSTM), "nn.lstm" (PyTorch's) or "rnn" (tanh ``nn.RNN``)."""
    from .lstm import LSTM  # late import: tasks depends on nothing else at module level

    torch.manual_seed(seed)
    I, H = task.in_features, config.hidden_size
    cores = {"lstm": lambda: LSTM(I, H, batch_first=True),
             "nn.lstm": lambda: nn.LSTM(I, H, batch_first=True),
             "rnn": lambda: nn.RNN(I, H, batch_first=True)}
    if kind not in cores:
        raise ValueError(f"kind must be one of {sorted(cores)}, got {kind!r}")
    return SequenceToOne(cores[kind](), H).to(device)
