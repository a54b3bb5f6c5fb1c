"""The homework "Recurrent networks: RNNs, BPTT, LSTMs, GRUs and BiLSTMs" (HOMEWORK.md).

``HOMEWORK`` is all the engine is given: the parts, the hidden seed, and the suites.
"""
from __future__ import annotations

from pathlib import Path

import reference
from autograder.cases import CaseBuilder
from autograder.spec import Homework, Suite

from . import suites_long, suites_lstm, suites_rnn
from .mistakes import MISTAKES
from .parts import PARTS

QUESTIONS = {f"q{n}": n for n in range(1, 7)}  # the notebook's autograded questions -> parts
HIDDEN_SEED = 522  # the hidden cases are the same on every run, and differ from the public ones
ERROR_HINTS = (  # (pattern in the student's error, hint), for this homework's parts
    (r"does not require grad and does not have a grad_fn",
     "a tensor you differentiate is not part of the autograd graph: in hidden_grad_norms, start "
     "from h0.detach().requires_grad_() (or mark the inputs that need gradients)"),
)
_LSTM = {"weight_ih": "ifgo", "weight_hh": "ifgo", "bias_ih": "ifgo", "bias_hh": "ifgo"}
GATES = {  # the gate blocks along dim 0 of each module's parameters, in PyTorch's order
    "LSTMCell": _LSTM, "LSTM": _LSTM, "BiLSTMClassifier": _LSTM,
    "PeepholeLSTMCell": {**_LSTM, "weight_ch": "ifo"},
    "CoupledLSTMCell": {k: "fgo" for k in _LSTM},
    "GRUCell": {k: "rzn" for k in _LSTM},
}


def suites(seed: int, **settings) -> list[Suite]:
    """Every hidden suite, Parts 1-7, built from ``seed`` (about 0.3 s); ``settings``: a
    course's values for ``suites_long.SETTINGS`` (Part 7's only)."""
    builder = lambda: CaseBuilder(seed, MISTAKES, ERROR_HINTS, GATES)  # noqa: E731
    return (suites_rnn.suites(builder()) + suites_lstm.suites(builder())
            + suites_long.suites(seed, **settings))



def _hidden() -> tuple[Path, ...]:
    """What the worker must not read: in a checkout, all of it (the solution is in examples/);
    installed, the homework and the reference packages."""
    package, checkout = Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "reference").is_dir():
        return (checkout,)
    return (package, Path(reference.__file__).resolve().parent)


HOMEWORK = Homework("rnn_lstm", PARTS, HIDDEN_SEED, suites, hidden=_hidden(),
                    settings=suites_long.SETTINGS)
