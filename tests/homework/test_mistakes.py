"""The diagnosis, in process, on fabricated replies: for every hidden case and every usual
mistake of this homework, a reply carrying that mistake's numbers is failed and named, by a
mistake that reproduces those numbers; no mistake's prediction equals the correct output."""
from __future__ import annotations

import pytest
import torch

from autograder.diagnosis import _matches
from autograder.compare import TOLERANCES
from autograder.evaluation import evaluate
from autograder.protocol import Reply
from homework.rnn_lstm import HOMEWORK

SUITES = HOMEWORK.suites(HOMEWORK.seed)
TARGETS = sorted({s.target for s in SUITES for c in s.cases if c.mistakes and c.replay})


def structure(paths: list[tuple]) -> dict:
    """The worker's description of a return value holding output i at ``paths[i]``."""
    root: dict = {}
    for i, path in enumerate(paths):
        node = root
        for j, step in enumerate(path):
            kind = "tuple" if isinstance(step, int) else "dict"
            node.setdefault(kind, [] if kind == "tuple" else {})
            box = node[kind]
            if kind == "tuple":
                while len(box) <= step:
                    box.append({})
            last = j == len(path) - 1
            if last:
                box[step] = {"t": f"o.{i}"}
            else:
                node = box[step]
        if not path:
            return {"t": "o.0"}
    return root


def fabricated(case, outputs: list[torch.Tensor]) -> Reply:
    return Reply(1, True, outputs=structure([o.path for o in case.outputs]),
                 tensors={f"o.{i}": t.detach() for i, t in enumerate(outputs)})


@pytest.mark.parametrize("target", TARGETS)
def test_every_mistake_is_failed_and_named_by_a_mistake_that_reproduces_it(target):
    checked, distinguished, offered = 0, set(), set()
    for suite in SUITES:
        for case in suite.cases:
            if suite.target != target or not (case.mistakes and case.replay):
                continue
            correct = fabricated(case, [o.expected for o in case.outputs])
            assert all(it.error is None for it in evaluate(case, correct)
                       if it.aspect in ("shapes", "values")), case.label
            predictions = {}
            for hint, compute in case.mistakes(case.replay):
                try:
                    predictions[hint] = compute()
                except Exception:  # a mistake that cannot apply to this configuration
                    continue
            tol = TOLERANCES["diagnosis"][case.dtype]
            for hint, predicted in predictions.items():
                offered.add(hint)
                items = [it for it in evaluate(case, fabricated(case, predicted))
                         if it.aspect in ("shapes", "values")]
                failed = [it for it in items if it.error]
                if not failed:  # indistinguishable here (no time dependency at T = 1, say)
                    continue
                distinguished.add(hint)
                named = failed[0].hint
                assert named is not None, f"{case.label}: '{hint}' is not named"
                assert _matches(predicted, predictions[named], tol), \
                    f"{case.label}: '{hint}' is named as '{named}', which does not reproduce it"
                checked += 1
    assert checked > 0
    assert offered == distinguished, f"never differ from the correct output: {offered - distinguished}"
