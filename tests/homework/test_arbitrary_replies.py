"""No reply crashes the judge: for every hidden case (Part 7's included), evaluating an arbitrary
reply (any structure, tensors of any rank, dtype and shape, any error, lies about devices)
yields items, and a grader bug in one case fails that case only."""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.evaluation import evaluate
from autograder.judge import CANNOT_CHECK, safely_evaluated
from autograder.protocol import ErrorInfo, ErrorKind, Reply
from homework.rnn_lstm import HOMEWORK

CASES = [c for s in HOMEWORK.suites(HOMEWORK.seed) for c in s.cases[:2]]
KEYS = ["o.0", "o.1", "o.2", "o.3", "g.in.x", "g.in.input", "pg.weight_ih", "pg.weight_ih_l0",
        "trained.core.weight_ih_l0", "trained.readout.weight", "junk"]
DTYPES = [torch.float64, torch.float32, torch.float16, torch.int64, torch.bool, torch.complex64]

leaf = st.one_of(
    st.fixed_dictionaries({"t": st.sampled_from(KEYS)}),
    st.fixed_dictionaries({"v": st.one_of(st.none(), st.booleans(), st.integers(),
                                          st.floats(allow_nan=True), st.text(max_size=5))}),
    st.fixed_dictionaries({"unsupported": st.text(max_size=5)}),
    st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))
structure = st.recursive(leaf, lambda inner: st.one_of(
    st.fixed_dictionaries({"tuple": st.lists(inner, max_size=4)}),
    st.fixed_dictionaries({"dict": st.dictionaries(st.sampled_from(
        ["U", "W", "V", "b", "c", "h0", "x"]), inner, max_size=4)})), max_leaves=8)


@st.composite
def tensors(draw):
    shape = draw(st.lists(st.integers(0, 4), max_size=4))
    dtype = draw(st.sampled_from(DTYPES))
    t = torch.zeros(shape, dtype=dtype)
    if dtype.is_floating_point and t.numel():
        t = t + draw(st.sampled_from([0.0, 1.0, float("nan"), float("inf"), -1e300]))
    return t


replies = st.builds(
    Reply, id=st.just(1), ok=st.booleans(),
    error=st.one_of(st.none(), st.builds(ErrorInfo, st.sampled_from(ErrorKind.ALL),
                                         st.text(max_size=20), st.text(max_size=10))),
    outputs=structure,
    params=st.one_of(st.none(), st.dictionaries(st.text(max_size=8), st.lists(
        st.integers(0, 9), max_size=3), max_size=3)),
    backward=st.one_of(st.none(), st.just("ok"), st.text(max_size=5)),
    steps=st.one_of(st.none(), st.integers(0, 2000)),
    history=st.lists(st.tuples(st.integers(0, 2000), st.floats(allow_nan=True)),
                     max_size=3).map(tuple),
    devices=st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(
        ["cpu", "meta", "cuda", "xpu"]), max_size=3)),
    tensors=st.dictionaries(st.sampled_from(KEYS), tensors(), max_size=5))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.request.target}:{c.label}"[:60] for c in CASES])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply=replies)
def test_any_reply_to_any_case_is_evaluated_without_a_crash(case, reply):
    items = evaluate(case, reply)
    assert items and all(it.error is None or isinstance(it.error, str) for it in items)


def test_a_grader_bug_fails_that_case_only_and_tells_staff(monkeypatch):
    import autograder.judge

    def broken(case, reply):
        raise ZeroDivisionError("grader bug")

    monkeypatch.setattr(autograder.judge, "evaluate", broken)
    staff = []
    items = safely_evaluated(CASES[0], Reply(1, True), staff)
    assert items and all(it.error == CANNOT_CHECK for it in items)
    assert "ZeroDivisionError: grader bug" in staff[0]
