"""autograder.compare: messages a student reads about shapes, dtypes, devices and values."""
from __future__ import annotations

import pytest
import torch

from autograder.compare import TOLERANCES, check_close, check_tensor_meta

F64 = torch.float64


def test_shape_message_spells_out_the_legend():
    msg = check_tensor_meta("h_n", "(L*D, B, H)", torch.zeros(3, 20, dtype=F64),
                            torch.zeros(4, 3, 20, dtype=F64))
    assert msg == "h_n: expected shape (L*D, B, H) = (4, 3, 20), got (3, 20)"


def test_shape_message_suspects_a_transpose():
    msg = check_tensor_meta("output", "(T, B, D*H)", torch.zeros(3, 7, 5, dtype=F64),
                            torch.zeros(7, 3, 5, dtype=F64))
    assert "transpose or batch_first" in msg


@pytest.mark.parametrize("got,expected,words", [
    ((3,), (1, 3), "a size-1 dimension is missing: .squeeze()"),
    ((1, 3, 1), (1, 3), "an extra size-1 dimension"),
    ((3, 5, 2), (3, 6, 2), "one T short: a loop or slice bound off by one, such as range(T - 1)"),
    ((3, 7, 2), (3, 6, 2), "one T too many"),
], ids=["squeezed_batch_of_one", "extra_dimension", "one_step_short", "one_step_too_many"])
def test_shape_message_suspects_the_usual_causes(got, expected, words):
    msg = check_tensor_meta("y_hat", "(B, T, K)" if len(expected) == 3 else "(B, K)",
                            torch.zeros(got, dtype=F64), torch.zeros(expected, dtype=F64))
    assert words in msg, msg


@pytest.mark.parametrize("got,device,expected_words", [
    (torch.zeros(2), "cpu", "expected dtype float64"),
    (torch.zeros(2, dtype=F64), "cuda", "expected it on the inputs' device (cpu)"),
], ids=["dtype", "device"])
def test_dtype_and_device_messages(got, device, expected_words):
    assert expected_words in check_tensor_meta("h", None, got, torch.zeros(2, dtype=F64), device)


def test_close_message_reads_like_torch_testing_and_names_the_first_step():
    expected = torch.zeros(5, 2, 3, dtype=F64)
    actual = expected.clone()
    actual[3, 1, 2] = 0.5
    msg = check_close("output", actual, expected, rtol=1e-7, atol=1e-9, time_dim=0)
    assert "Mismatched elements: 1 / 30 (3.3%)" in msg
    assert "Greatest absolute difference: 0.5 at index (3, 1, 2) (up to 1e-09 allowed)" in msg
    assert "first mismatch in time is at step t = 3 (of 5)" in msg


def test_close_accepts_within_tolerance_and_flags_nan():
    e = torch.ones(3, dtype=F64)
    assert check_close("x", e + 1e-12, e, rtol=1e-7, atol=1e-9) is None
    assert "NaN or inf" in check_close("x", torch.tensor([1.0, float("nan"), 1.0]), e,
                                       rtol=1e-7, atol=1e-9)


def test_stacked_states_name_the_first_layer_and_direction_that_differ():
    expected = torch.zeros(4, 2, 3, dtype=F64)  # (L*D, B, H), L=2, D=2
    actual = expected.clone()
    actual[3] = 1.0
    msg = check_close("h_n", actual, expected, rtol=1e-7, atol=1e-9, directions=2, stacked=True)
    assert msg.endswith("The first mismatching state is layer 1, backward direction.")


def test_bidirectional_output_says_which_half_differs():
    expected = torch.zeros(5, 2, 6, dtype=F64)  # (T, B, 2H), H=3
    actual = expected.clone()
    actual[..., 4] = 1.0
    msg = check_close("output", actual, expected, rtol=1e-7, atol=1e-9, time_dim=0, directions=2)
    assert msg.endswith("Only the backward half ([..., H:]) differs.")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_diagnosis_is_looser_than_grading_in_the_one_table(dtype):
    check, diagnosis = TOLERANCES["check"][dtype], TOLERANCES["diagnosis"][dtype]
    assert diagnosis["rtol"] > check["rtol"] and diagnosis["atol"] > check["atol"]


@pytest.mark.parametrize("shape,time_dim,step", [((6,), 0, 4), ((2, 6), 1, 4), ((6, 2, 3), 0, 4)],
                         ids=["1-D", "batch-first", "time-first"])
def test_the_first_mismatching_step_is_found_for_outputs_of_any_rank(shape, time_dim, step):
    expected = torch.zeros(*shape, dtype=F64)
    actual = expected.clone()
    actual.select(time_dim, step).fill_(1.0)
    msg = check_close("x", actual, expected, rtol=1e-7, atol=1e-9, time_dim=time_dim)
    assert f"first mismatch in time is at step t = {step} (of 6)" in msg
