"""Part 7: can the student's LSTM learn a long-range dependency?

The worker trains the student's ``LSTM(2, 32, batch_first=True)`` with the grader's linear read-out
on the adding problem (HOMEWORK.md Part 7), on a pool of examples the judge sends, and returns the
trained weights. The judge loads them into the trusted ``reference.LSTM`` and evaluates on held-out
examples the worker never sees, so neither a model that memorised its data nor a result the worker
makes up can score.

Scoring by held-out MSE: full credit at or below 0.01, none at or above 0.1 (predicting the mean
scores 0.167), log-linear between (0.0316 earns half).
"""
from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

import reference
from autograder.evaluation import error_message
from autograder.protocol import Init, Key, Reply, TrainConfig, TrainRequest
from autograder.spec import Case, Item, Suite, Test
from reference.tasks import adding_problem

T, HIDDEN, POOL, VAL, TEST = 50, 32, 8192, 1000, 2000
FULL_CREDIT_MSE, NO_CREDIT_MSE = 0.01, 0.1
CONFIG = TrainConfig(  # HOMEWORK.md's calibrated configuration, early stopping at half the target
    hidden_size=HIDDEN, lr=1e-2, batch_size=64, clip_norm=1.0, max_steps=1500, eval_every=50,
    stop_below=FULL_CREDIT_MSE / 2)
TRAIN_TIMEOUT_S = 240.0  # a loop LSTM needs about 10 s here; Gradescope's 0.5 vCPU is slower


def credit(mse: float) -> float:
    if not math.isfinite(mse) or mse >= NO_CREDIT_MSE:
        return 0.0
    if mse <= FULL_CREDIT_MSE:
        return 1.0
    return math.log10(NO_CREDIT_MSE / mse) / math.log10(NO_CREDIT_MSE / FULL_CREDIT_MSE)


def held_out_mse(tensors: dict, x: torch.Tensor, y: torch.Tensor) -> tuple[float | None, str | None]:
    """Load the returned weights (``trained.core.*``, ``trained.readout.*``) into the trusted
    model; (MSE, None) or (None, why not)."""
    lstm, readout = reference.LSTM(2, HIDDEN, batch_first=True), nn.Linear(HIDDEN, 1)
    for prefix, module in ((f"{Key.TRAINED}core.", lstm), (f"{Key.TRAINED}readout.", readout)):
        got = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        want = module.state_dict()
        if set(got) != set(want) or any(not isinstance(got[k], torch.Tensor)
                                        or got[k].shape != want[k].shape for k in want):
            names = ", ".join(f"{k} {tuple(v.shape)}" for k, v in want.items())
            return None, (f"the trained LSTM's parameters are not those of nn.LSTM(2, {HIDDEN}) "
                          f"(expected {names}); got {', '.join(sorted(got)) or 'none'}")
        module.load_state_dict({k: v.float() for k, v in got.items()})
    with torch.no_grad():  # in chunks: the judge's memory counts against Gradescope's limit
        se = sum(F.mse_loss(readout(lstm(xc)[0][:, -1]), yc, reduction="sum").item()
                 for xc, yc in zip(x.split(250), y.split(250)))
    return se / y.numel(), None


def judge_training(x_test, y_test, reply: Reply) -> list[Item]:
    name = "adding problem"
    if not reply.ok:
        why = error_message(reply.error) if reply.error else "no reason given"
        return [Item("values", name, f"training your LSTM failed: {why}")]
    mse, why = held_out_mse(reply.tensors, x_test, y_test)
    if mse is None:
        return [Item("values", name, why)]
    earned = credit(mse)
    own = reply.history[-1][1] if reply.history else float("nan")
    msg = (f"after {reply.steps} training steps, held-out MSE {mse:.4f} (full credit at "
           f"or below {FULL_CREDIT_MSE}, none from {NO_CREDIT_MSE}; predicting the mean gives "
           f"0.167)")
    if own < FULL_CREDIT_MSE and earned < 1:
        msg += (f". Your own model reached validation MSE {own:.4f}, but the same weights in a "
                "standard LSTM do not: your LSTM does not compute PyTorch's LSTM (see Part 4)")
    elif earned < 1 and own > 0.1:
        msg += (". It did not learn: is the output connected to the autograd graph (no .detach(),"
                " .data or torch.no_grad() in forward), and is it really an LSTM (a cell state "
                "with a forget gate)?")
    return [Item("values", name, None if earned == 1 else msg, earned)]


def suites(seed: int) -> list[Suite]:
    gen = torch.Generator().manual_seed(seed)
    x, y = adding_problem(POOL, T, gen)
    x_val, y_val = adding_problem(VAL, T, gen)
    x_test, y_test = adding_problem(TEST, T, gen)  # stays in the judge
    request = TrainRequest("LSTM", Init((2, HIDDEN), {"batch_first": True}), CONFIG,
                           dtype="float32", seed=seed)
    data = {"x_train": x, "y_train": y, "x_val": x_val, "y_val": y_val}
    case = Case(f"adding problem, T={T}, hidden_size={HIDDEN}, at most {CONFIG.max_steps} "
                "steps", request, {f"{Key.TRAIN_DATA}{k}": v for k, v in data.items()}, [], "",
                timeout_s=TRAIN_TIMEOUT_S, judge=partial(judge_training, x_test, y_test))
    return [Suite("LSTM", 7, [Test("LSTM: learns the adding problem (long-range dependency)",
                                   "values", 6)], [case])]
