"""What a homework's hidden tests are made of: the data model, and nothing that computes.

A ``Suite`` is one student name (``LSTM``) checked on several ``Case``s (a grid of configurations).
Each case is one worker request plus the trusted answers, and yields *items*, one per aspect and
output: "parameters", "shapes" (shape, dtype and device of each output), "values" (each output
against the trusted one) and "gradients" (each input and each named parameter). A ``Test`` scores
one aspect (optionally only some outputs) as points times the fraction of its items that pass.

A homework (``homework/<name>/``) is a ``Homework``: its parts, its seed, and a function that
builds its suites. The engine knows nothing else about it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from torch import Tensor

from .protocol import Request

ASPECTS = ("parameters", "shapes", "values", "gradients")


@dataclass(frozen=True)
class OutputSpec:
    """Where an output is in the return value and how to talk about it (no tensor yet)."""

    name: str  # "h_n"
    path: tuple = ()  # tuple indices and dict keys into the return value: (1, 0) for h_n
    legend: str | None = None  # "(L*D, B, H)"
    time_dim: int | None = None  # where T is, to say at which step outputs first differ
    directions: int | None = None  # D, to say which direction (and layer, if stacked) differs
    stacked: bool = False  # dim 0 is layer * D + direction (h_n, c_n)


@dataclass(frozen=True)
class Out:
    """One expected output: its spec and the trusted value (a tensor, or a number)."""

    spec: OutputSpec
    expected: Tensor | int | float

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path(self) -> tuple:
        return self.spec.path


@dataclass(frozen=True)
class ParamSpec:
    shape: tuple[int, ...]
    legend: str  # "(4H, I)"


@dataclass
class Case:
    label: str  # "num_layers=2, bidirectional, float64"
    request: Request  # the worker request (its id is given by the sandbox)
    tensors: dict[str, Tensor]  # sent with the request
    outputs: list[Out]
    returns: str  # how the return value should look, for messages: "(output, (h_n, c_n))"
    input_grads: dict[str, tuple[str, Tensor]] = field(default_factory=dict)  # key -> (name, grad)
    param_grads: dict[str, Tensor] = field(default_factory=dict)
    params: dict[str, ParamSpec] | None = None  # the parameters a module must have
    dtype: str = "float64"
    timeout_s: float | None = None  # this request's own limit (else the budget's)
    judge: Callable[..., list["Item"]] | None = None  # custom evaluation (Part 7): reply -> items
    replay: object | None = None  # diagnosis.Replay: the inputs and weights, to replay mistakes
    mistakes: Callable | None = None  # replay -> (hint, compute) pairs: the homework's mistakes
    error_hints: tuple[tuple[str, str], ...] = ()  # (pattern in an error, hint): the homework's
    gates: dict[str, str] = field(default_factory=dict)  # parameter name part -> gate blocks


@dataclass
class Item:
    aspect: str
    name: str  # output, input or parameter name
    error: str | None  # None when it passes fully
    credit: float | None = None  # partial credit in [0, 1]; default 1 if no error, else 0
    hint: str | None = None  # the mistake that reproduces the student's numbers, if one does

    @property
    def earned(self) -> float:
        return self.credit if self.credit is not None else float(self.error is None)


@dataclass(frozen=True)
class Test:
    __test__ = False  # not a pytest class

    name: str
    aspect: str
    points: float
    only: tuple[str, ...] = ()  # restrict to these output names (empty: all)
    visibility: str = "visible"


@dataclass
class Suite:
    target: str  # the student's name being checked: also the test tag
    part: int
    tests: list[Test]
    cases: list[Case]
    forbid_autograd: bool = False
    needs: tuple[str, ...] = ()  # tests (by name) that must score full marks for this to count


@dataclass(frozen=True)
class CaseResult:
    case: Case
    items: list[Item]


@dataclass(frozen=True)
class SuiteResult:
    suite: Suite
    cases: list[CaseResult]


@dataclass(frozen=True)
class Part:
    number: int
    title: str
    names: tuple[str, ...]  # functions and classes the student defines


@dataclass(frozen=True)
class Homework:
    """Everything the engine needs to know about one homework."""

    name: str
    parts: tuple[Part, ...]
    seed: int  # the hidden cases' seed
    suites: Callable[..., list[Suite]]  # (seed, **settings) -> every suite, in order
    hidden: tuple[Path, ...] = ()  # folders the worker must not read (the homework, reference/)
    settings: tuple[Setting, ...] = ()  # what a course file's [homework] table may set


class SettingError(ValueError):
    """A course file's value for a homework setting that cannot be used, in words."""


@dataclass(frozen=True)
class Setting:
    """A number of the homework's that a course file may set (its ``[homework]`` table), passed
    to ``Homework.suites`` by name."""

    name: str
    default: float
    help: str
    low: float = 0.0  # the allowed range, both ends included
    high: float = float("inf")
    integer: bool = False

    def check(self, value) -> float | int:
        """``value`` if allowed, else ``SettingError`` saying what is."""
        kind = "a whole number" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (self.integer and value != int(value)) or not self.low <= value <= self.high:
            raise SettingError(f"{self.name} must be {kind} from {self.low:g} to {self.high:g} "
                             f"({self.help}), not {value!r}")
        return int(value) if self.integer else float(value)


def numbered(suites: list[Suite]) -> list[tuple[Suite, Test, str]]:
    """(suite, test, "part.n"), numbered within each part in suite order, listed by number."""
    counters: dict[int, int] = {}
    rows = []
    for suite in suites:
        for test in suite.tests:
            counters[suite.part] = counters.get(suite.part, 0) + 1
            rows.append((suite, test, (suite.part, counters[suite.part])))
    return [(s, t, f"{p}.{n}") for s, t, (p, n) in sorted(rows, key=lambda r: r[2])]
