"""The hidden suites, in process: every case (Parts 1-6) answered by the worker's server with
``reference`` as the student gets every item; answered by a reference with one mistake, only that
target's items fail. CaseBuilder, the worker's server and the evaluation, without a process."""
from __future__ import annotations

import dataclasses
import types

import pytest
import torch

import reference
from autograder import worker
from autograder.evaluation import evaluate
from autograder.spec import CaseResult
from autograder.scoring import score
from homework.rnn_lstm import HOMEWORK


class Flags:
    active = no_autograd = False


SUITES = [s for s in HOMEWORK.suites(HOMEWORK.seed) if s.part != 7]


def answer(module, case):
    """What the worker would reply for ``case`` with ``module`` as the submission."""
    tensors = {k: v.clone() for k, v in case.tensors.items()}
    reply, sent = worker.Server(module, torch, Flags()).handle(case.request, tensors)
    devices = {k: v.device.type for k, v in sent.items()}  # as worker.serve sends them
    return dataclasses.replace(reply, tensors=worker.to_cpu(torch, sent), devices=devices)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"{s.part}-{s.target}")
def test_the_reference_as_a_submission_passes_every_item(suite):
    for case in suite.cases:
        items = evaluate(case, answer(reference, case))
        assert [it for it in items if it.error] == [], case.label
    for test in suite.tests:
        points, _ = score(test, [CaseResult(c, evaluate(c, answer(reference, c)))
                                 for c in suite.cases])
        assert points == test.points, test.name


def test_a_mistake_in_one_target_fails_that_target_only():
    wrong = types.ModuleType("submission")
    wrong.__dict__.update({k: getattr(reference, k) for k in dir(reference)})

    class Scaled(reference.GRUCell):
        def forward(self, x, hx=None):
            return 1.5 * super().forward(x, hx)

    wrong.GRUCell = Scaled
    failed = {s.target for s in SUITES for c in s.cases
              if any(it.error for it in evaluate(c, answer(wrong, c)))}
    assert failed == {"GRUCell"}
