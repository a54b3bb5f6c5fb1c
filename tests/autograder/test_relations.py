"""The relation search names what a received tensor is, relative to the expected one, only when
the relation reproduces it exactly; anything else gets no name (the comparison locates it)."""
from __future__ import annotations

import pytest
import torch

from autograder.compare import TOLERANCES
from autograder.relations import relation, sizes_of
from autograder.spec import Out, OutputSpec

TOL = TOLERANCES["diagnosis"]["float64"]
g = torch.Generator().manual_seed(0)
E = torch.randn(7, 3, 10, generator=g, dtype=torch.float64)  # (T, B, 2H), H = 5
W = torch.randn(20, 4, generator=g, dtype=torch.float64)  # (4H, I), gates i, f, g, o
S = torch.randn(4, 3, 5, generator=g, dtype=torch.float64)  # (L*D, B, H), L = 2, D = 2
SQ = torch.randn(5, 5, generator=g, dtype=torch.float64)
OUT = OutputSpec("output", (0,), "(T, B, D*H)", time_dim=0, directions=2)
H_N = OutputSpec("h_n", (1, 0), "(L*D, B, H)", directions=2, stacked=True)


def flipped_backward(t):
    return torch.cat([t[..., :5], t[..., 5:].flip(0)], dim=-1)


CASES = {  # id: (received, expected, spec, gates, words the cause must contain)
    "batch_sum": (3 * E, E, OUT, "", "B = 3 times"),
    "batch_mean": (E / 7, E, OUT, "", "divided by T = 7"),
    "sign": (-E, E, OUT, "", "sign flipped"),
    "twice": (2 * SQ, SQ, None, "", "twice"),
    "zeros": (torch.zeros_like(E), E, OUT, "", "all zeros"),
    "transpose": (SQ.T, SQ, None, "", "transpose"),
    "one_step_late": (torch.cat([torch.zeros_like(E[:1]), E[:-1]]), E, OUT, "", "one step late"),
    "one_step_early": (torch.cat([E[1:], torch.ones_like(E[:1])]), E, OUT, "", "one step early"),
    "last_step_wrong": (torch.cat([E[:-1], E[-1:] + 1]), E, OUT, "", "every step but the last"),
    "reversed": (E.flip(0), E, OUT, "", "reversed in time"),
    "halves_swapped": (torch.cat([E[..., 5:], E[..., :5]], -1), E, OUT, "", "halves swapped"),
    "backward_reversed": (flipped_backward(E), E, OUT, "", "reverse time order"),
    "rows_direction_major": (S[[0, 2, 1, 3]], S, H_N, "", "layer 0 forward, layer 1 forward"),
    "gates_fiog": (torch.cat([W[5:10], W[:5], W[10:]]), W, None, "ifgo", "order f, i, g, o"),
    "one_gate_off": (torch.cat([W[:10], W[10:15] * 1.5, W[15:]]), W, None, "ifgo", "gate g (10:15)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_relation_that_reproduces_the_numbers_is_named(case):
    got, expected, spec, gates, words = CASES[case]
    said = relation("x", got, expected, TOL, spec=spec, sizes={"B": 3, "T": 7}, gates=gates)
    assert said is not None and words in said, said


def test_an_output_holding_another_outputs_values_is_called_swapped():
    h, c = E[0], E[1]
    said = relation("h'", c, h, TOL, others={"h'": h, "c'": c})
    assert said is not None and "holds what c' should" in said


@pytest.mark.parametrize("case", ["noise", "almost_a_factor", "half_the_rows_shuffled"])
def test_no_relation_is_named_that_does_not_reproduce_the_numbers(case):
    got = {"noise": torch.randn(7, 3, 10, generator=g, dtype=torch.float64),
           "almost_a_factor": 3 * E + 1e-3 * torch.randn(7, 3, 10, generator=g, dtype=torch.float64),
           "half_the_rows_shuffled": torch.cat([S[:2], S[2:] + 0.1])}[case]
    expected = S if case == "half_the_rows_shuffled" else E
    spec = H_N if case == "half_the_rows_shuffled" else OUT
    assert relation("x", got, expected, TOL, spec=spec, sizes={"B": 3, "T": 7}) is None


@pytest.mark.parametrize("got", [torch.zeros(3, dtype=torch.int64), torch.zeros(2, 2),
                                 torch.full((7, 3, 10), float("nan"), dtype=torch.float64)],
                         ids=["integer", "other_shape", "nan"])
def test_tensors_that_cannot_be_related_give_no_name(got):
    assert relation("x", got, E, TOL, spec=OUT) is None


def test_sizes_come_from_the_label_and_the_legends():
    outs = [Out(OutputSpec("y_hat", (0,), "(B, T, K)", 1), torch.zeros(3, 6, 2))]
    assert sizes_of(outs, "B=3, T=6, I=4") == {"B": 3, "T": 6, "K": 2}
