"""autograder.compare and autograder.checks: messages a student reads, and partial credit."""
from __future__ import annotations

import pytest
import torch

from autograder.checks import Case, Item, Out, Test, evaluate, lookup, score
from autograder.compare import check_close, check_tensor_meta


def desc(shape, dtype="float64", device="cpu", key="o.0"):
    return {"t": key, "shape": list(shape), "dtype": dtype, "device": device}


def test_shape_message_spells_out_the_legend():
    msg = check_tensor_meta("h_n", "(L*D, B, H)", desc((3, 20)), torch.zeros(4, 3, 20,
                                                                             dtype=torch.float64))
    assert msg == "h_n: expected shape (L*D, B, H) = (4, 3, 20), got (3, 20)"


def test_shape_message_suspects_a_transpose():
    msg = check_tensor_meta("output", "(T, B, D*H)", desc((3, 7, 5)),
                            torch.zeros(7, 3, 5, dtype=torch.float64))
    assert "transpose or batch_first" in msg


@pytest.mark.parametrize("got,expected_words", [
    (desc((2,), dtype="float32"), "expected dtype float64"),
    (desc((2,), device="cuda"), "expected it on the inputs' device (cpu)"),
], ids=["dtype", "device"])
def test_dtype_and_device_messages(got, expected_words):
    assert expected_words in check_tensor_meta("h", None, got, torch.zeros(2, dtype=torch.float64))


def test_close_message_reads_like_torch_testing_and_names_the_first_step():
    expected = torch.zeros(5, 2, 3, dtype=torch.float64)
    actual = expected.clone()
    actual[3, 1, 2] = 0.5
    msg = check_close("output", actual, expected, rtol=1e-7, atol=1e-9, time_dim=0)
    assert "Mismatched elements: 1 / 30 (3.3%)" in msg
    assert "Greatest absolute difference: 0.5 at index (3, 1, 2) (up to 1e-09 allowed)" in msg
    assert "first mismatch in time is at step t = 3 (of 5)" in msg


def test_close_accepts_within_tolerance_and_flags_nan():
    e = torch.ones(3, dtype=torch.float64)
    assert check_close("x", e + 1e-12, e, rtol=1e-7, atol=1e-9) is None
    assert "NaN or inf" in check_close("x", torch.tensor([1.0, float("nan"), 1.0]), e,
                                       rtol=1e-7, atol=1e-9)


def test_lookup_follows_tuples_and_dict_keys_and_explains_what_is_there():
    struct = {"tuple": [{"v": 1}, {"dict": {"W": desc((2,))}}]}
    assert lookup(struct, (1, "W"))[0]["shape"] == [2]
    assert "without key 'U'" in lookup(struct, (1, "U"))[2]
    assert lookup({"v": 3}, (0,))[2] == "a tuple"


def make_case():
    e = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    return Case("B=2", {}, {}, [Out("h", e, "(B, H)", None, (0,)),
                                Out("c", e, "(B, H)", None, (1,))], "(h, c)"), e


def test_evaluate_scores_each_output_and_score_gives_partial_credit():
    case, e = make_case()
    reply = {"ok": True, "outputs": {"tuple": [desc((2, 3), key="o.0"), desc((2, 3), key="o.1")]}}
    items = evaluate(case, reply, {"o.0": e, "o.1": e + 1})
    assert [(i.aspect, i.name, i.error is None) for i in items] == [
        ("shapes", "h", True), ("values", "h", True), ("shapes", "c", True), ("values", "c", False)]
    points, feedback = score(Test("cell: values", "values", 4.0), [(case, items)])
    assert points == 2.0
    assert feedback.startswith("1/2 checks passed.\n[B=2] c: tensors are not close.")


def test_evaluate_turns_a_student_exception_into_their_own_words():
    case, _ = make_case()
    reply = {"ok": False, "error": {"type": "ValueError", "message": "bad", "where":
                                    ["line 3, in forward: x = y"]}}
    items = evaluate(case, reply, {})
    assert all(i.error == "your code raised ValueError: bad (line 3, in forward: x = y)"
               for i in items)


def test_score_of_a_test_with_no_items_is_zero():
    assert score(Test("t", "gradients", 2.0), [(make_case()[0], [Item("values", "h", None)])]) \
        == (0.0, "not checked")


def test_stacked_states_name_the_first_layer_and_direction_that_differ():
    expected = torch.zeros(4, 2, 3, dtype=torch.float64)  # (L*D, B, H), L=2, D=2
    actual = expected.clone()
    actual[3] = 1.0
    msg = check_close("h_n", actual, expected, rtol=1e-7, atol=1e-9, directions=2, stacked=True)
    assert msg.endswith("The first mismatching state is layer 1, backward direction.")


def test_bidirectional_output_says_which_half_differs():
    expected = torch.zeros(5, 2, 6, dtype=torch.float64)  # (T, B, 2H), H=3
    actual = expected.clone()
    actual[..., 4] = 1.0
    msg = check_close("output", actual, expected, rtol=1e-7, atol=1e-9, time_dim=0, directions=2)
    assert msg.endswith("Only the backward half ([..., H:]) differs.")


def test_a_student_error_message_gets_a_hint_when_it_is_a_usual_one():
    case, _ = make_case()
    reply = {"ok": False, "error": {"type": "RuntimeError", "message":
                                    "Tensor on device meta is not on the expected device cpu!"}}
    items = evaluate(case, reply, {})
    assert "x.new_zeros" in items[0].hint
    _, feedback = score(Test("t", "values", 1.0), [(case, items)])
    assert "Likely cause: a tensor in your code is created on the CPU" in feedback
