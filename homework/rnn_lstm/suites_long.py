"""Part 7: can the student's LSTM learn a long-range dependency?

The worker trains the student's ``LSTM(2, 32, batch_first=True)`` with the grader's linear read-out
on the adding problem (HOMEWORK.md Part 7), from initial weights and on a pool of examples the
judge sends, and returns the trained weights and those after the first ``CHECK_STEPS`` updates.
The judge trusts none of it:

* it replays those first updates itself, with ``reference.LSTM`` from the same weights on the same
  batches: weights that did not come from training the student's LSTM earn nothing;
* it loads the final weights into ``reference.LSTM`` and evaluates them on held-out examples the
  worker never sees (drawn, like everything else here, from the grading's fresh seed);
* the credit needs the LSTM's own equivalence test (Part 4) passed in full.

Scoring by held-out MSE: full credit at or below 0.01, none at or above 0.1 (predicting the mean
scores 0.167), log-linear between (0.0316 earns half).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

import reference
from autograder import training
from autograder.evaluation import error_message
from autograder.protocol import Init, Key, Reply, TrainConfig, TrainRequest
from autograder.spec import Case, Item, Setting, SettingError, Suite, Test
from reference.tasks import adding_problem

T, HIDDEN, POOL, VAL, TEST = 50, 32, 8192, 1000, 2000
FULL_CREDIT_MSE, NO_CREDIT_MSE = 0.01, 0.1
CONFIG = TrainConfig(  # HOMEWORK.md's calibrated configuration, early stopping at half the target
    hidden_size=HIDDEN, lr=1e-2, batch_size=64, clip_norm=1.0, max_steps=1500, eval_every=50,
    stop_below=FULL_CREDIT_MSE / 2)
TRAIN_TIMEOUT_S = 240.0  # a loop LSTM needs about 10 s here; Gradescope's 0.5 vCPU is slower
CHECK_STEPS = 10  # updates the judge replays
SETTINGS = (  # what a course file's [homework] table may change (the defaults are the above)
    Setting("part7_full_credit_mse", FULL_CREDIT_MSE, "Part 7: held-out MSE at or below which "
            "the training earns full credit (predicting the mean gives 0.167)", 1e-4, 0.167),
    Setting("part7_no_credit_mse", NO_CREDIT_MSE, "Part 7: held-out MSE from which it earns "
            "nothing; log-linear in between", 1e-4, 1.0),
    Setting("part7_max_steps", CONFIG.max_steps, "Part 7: training steps at most (it stops "
            "early at half the full-credit MSE); a correct LSTM needs 550 at the median",
            CHECK_STEPS, 20000, integer=True),
    Setting("part7_timeout_s", TRAIN_TIMEOUT_S, "Part 7: seconds the training may take (a "
            "loop LSTM needs about 10 s on 2 cores)", 10, 3600),
)


FORGET_BIAS: float | None = 1.0  # the initial forget-gate bias (None: PyTorch's init)
# Relative difference of the weights' change over those updates. Measured: a correct LSTM
# (loop or fast path) 2e-7; pasted, frozen or detached weights and a tanh RNN 1.0 to 1.13;
# gates in another order 0.11 (its Part 4 failure withholds the credit anyway). Adam's first
# updates are nearly sign(gradient), so rounding can flip a component whose gradient is about
# zero and move the measure by about 0.03 each: the margin allows for a few.
CHECK_TOLERANCE = 0.25
NEEDS = ("LSTM: outputs match the trusted model",)  # Part 4, in full


@dataclass(frozen=True)
class Thresholds:
    """Part 7's scoring: full credit at or below ``full`` held-out MSE, none from ``none``."""

    full: float = FULL_CREDIT_MSE
    none: float = NO_CREDIT_MSE

    def credit(self, mse: float) -> float:
        if not math.isfinite(mse) or mse >= self.none:
            return 0.0
        if mse <= self.full:
            return 1.0
        return math.log10(self.none / mse) / math.log10(self.none / self.full)


def credit(mse: float) -> float:
    """The default thresholds' credit (``Thresholds.credit``)."""
    return Thresholds().credit(mse)


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


def fresh_model(seed: int) -> tuple[nn.Module, nn.Module]:
    """The initial weights: reference.LSTM's and the read-out's, from the grading's seed, with
    the forget gate's bias at ``FORGET_BIAS`` (``bias_ih`` rows H:2H; ``bias_hh``'s zero), as
    Jozefowicz et al. (2015) recommend: the cell state is kept from the first step, so the
    LSTM learns the adding problem sooner; None keeps PyTorch's initialisation."""
    torch.manual_seed(seed)
    core, readout = reference.LSTM(2, HIDDEN, batch_first=True), nn.Linear(HIDDEN, 1)
    if FORGET_BIAS is not None:
        with torch.no_grad():
            core.bias_ih_l0[HIDDEN:2 * HIDDEN].fill_(FORGET_BIAS)  # (4H,): i, f, g, o
            core.bias_hh_l0[HIDDEN:2 * HIDDEN].zero_()
    return core, readout


def replay(seed: int, x: torch.Tensor, y: torch.Tensor, x_val, y_val) -> dict[str, torch.Tensor]:
    """The weights after CHECK_STEPS updates of training reference.LSTM as the worker trains
    the student's: same initial weights, same batches, same loop."""
    core, readout = fresh_model(seed)
    training.fit(training.last_step_readout(core, readout),
                 [*core.parameters(), *readout.parameters()],
                 training.pool_batches(x, y, CONFIG.batch_size, seed), x_val, y_val,
                 lr=CONFIG.lr, clip_norm=CONFIG.clip_norm, max_steps=CHECK_STEPS,
                 eval_every=CHECK_STEPS + 1, stop_below=-1.0)
    return {**{f"core.{k}": v for k, v in core.state_dict().items()},
            **{f"readout.{k}": v for k, v in readout.state_dict().items()}}


def checkpoint_error(tensors: dict, start: dict, expected: dict) -> float:
    """||change returned - change replayed|| / ||change replayed|| over every weight (inf when
    the checkpoint is missing or malformed)."""
    got = {k[len(Key.CHECKPOINT):]: v for k, v in tensors.items() if k.startswith(Key.CHECKPOINT)}
    if set(got) != set(expected) or any(not isinstance(got[k], torch.Tensor)
                                        or got[k].shape != v.shape for k, v in expected.items()):
        return math.inf
    diff = sum(((got[k].double() - expected[k].double()) ** 2).sum() for k in expected)
    change = sum(((expected[k].double() - start[k].double()) ** 2).sum() for k in expected)
    err = math.sqrt(float(diff) / max(float(change), 1e-30))
    return err if math.isfinite(err) else math.inf


def judge_training(x_test, y_test, check, thresholds: Thresholds, reply: Reply) -> list[Item]:
    name = "adding problem"
    if not reply.ok:
        why = error_message(reply.error) if reply.error else "no reason given"
        return [Item("values", name, f"training your LSTM failed: {why}")]
    start, expected = check()
    err = checkpoint_error(reply.tensors, start, expected)
    if not err <= CHECK_TOLERANCE:
        return [Item("values", name, (
            f"the weights after your LSTM's first {CHECK_STEPS} training steps are not what "
            f"{CHECK_STEPS} steps of training PyTorch's LSTM from the same weights on the same "
            f"batches give (relative difference {err:.3g}, at most {CHECK_TOLERANCE} allowed): "
            "your LSTM does not compute PyTorch's LSTM (see Part 4), or its output is cut off "
            "from the autograd graph (.detach(), .data or torch.no_grad() in forward)"))]
    mse, why = held_out_mse(reply.tensors, x_test, y_test)
    if mse is None:
        return [Item("values", name, why)]
    earned = thresholds.credit(mse)
    own = reply.history[-1][1] if reply.history else float("nan")
    msg = (f"after {reply.steps} training steps, held-out MSE {mse:.4f} (full credit at "
           f"or below {thresholds.full:g}, none from {thresholds.none:g}; predicting the mean "
           f"gives 0.167)")
    if own < thresholds.full and earned < 1:
        msg += (f". Your own model reached validation MSE {own:.4f}, but the same weights in a "
                "standard LSTM do not: your LSTM does not compute PyTorch's LSTM (see Part 4)")
    elif earned < 1 and own > 0.1:
        msg += (". It did not learn: is the output connected to the autograd graph (no .detach(),"
                " .data or torch.no_grad() in forward), and is it really an LSTM (a cell state "
                "with a forget gate)?")
    return [Item("values", name, None if earned == 1 else msg, earned)]


def suites(seed: int, part7_full_credit_mse: float = FULL_CREDIT_MSE,
           part7_no_credit_mse: float = NO_CREDIT_MSE, part7_max_steps: int = CONFIG.max_steps,
           part7_timeout_s: float = TRAIN_TIMEOUT_S) -> list[Suite]:
    """Part 7's suite from ``seed``, with a course's settings (``SETTINGS``)."""
    if not part7_full_credit_mse < part7_no_credit_mse:
        raise SettingError(f"part7_full_credit_mse ({part7_full_credit_mse:g}) must be below "
                           f"part7_no_credit_mse ({part7_no_credit_mse:g})")
    thresholds = Thresholds(part7_full_credit_mse, part7_no_credit_mse)
    config = dataclasses.replace(CONFIG, max_steps=part7_max_steps,
                                 stop_below=part7_full_credit_mse / 2)
    gen = torch.Generator().manual_seed(seed)
    x, y = adding_problem(POOL, T, gen)
    x_val, y_val = adding_problem(VAL, T, gen)
    x_test, y_test = adding_problem(TEST, T, gen)  # stays in the judge
    core, readout = fresh_model(seed)
    start = {**{f"core.{k}": v.clone() for k, v in core.state_dict().items()},
             **{f"readout.{k}": v.clone() for k, v in readout.state_dict().items()}}
    request = TrainRequest("LSTM", Init((2, HIDDEN), {"batch_first": True}), config,
                           dtype="float32", seed=seed, load_state_dict=True,
                           check_steps=CHECK_STEPS)
    data = {f"{Key.TRAIN_DATA}{k}": v for k, v in
            {"x_train": x, "y_train": y, "x_val": x_val, "y_val": y_val}.items()}
    data.update({f"{Key.STATE_DICT}{k}": v for k, v in core.state_dict().items()})
    data.update({f"{Key.READOUT}{k}": v for k, v in readout.state_dict().items()})
    check = lambda: (start, replay(seed, x, y, x_val, y_val))  # noqa: E731 (only when graded)
    case = Case(f"adding problem, T={T}, hidden_size={HIDDEN}, at most {config.max_steps} "
                "steps", request, data, [], "", timeout_s=part7_timeout_s,
                judge=partial(judge_training, x_test, y_test, check, thresholds))
    return [Suite("LSTM", 7, [Test("LSTM: learns the adding problem (long-range dependency)",
                                   "values", 6)], [case], needs=NEEDS)]
