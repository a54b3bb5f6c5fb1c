"""autograder.evaluation and autograder.scoring: one reply into items, items into points."""
from __future__ import annotations

import torch

from autograder.evaluation import evaluate, failed_items
from autograder.protocol import ErrorInfo, ErrorKind, Reply
from autograder.replies import lookup
from autograder.scoring import score
from autograder.spec import Case, CaseResult, Item, Out, OutputSpec, ParamSpec, Test

F64 = torch.float64


def make_case(**kw):
    e = torch.arange(6, dtype=F64).reshape(2, 3)
    return Case("B=2", None, {}, [Out(OutputSpec("h", (0,), "(B, H)"), e),
                                  Out(OutputSpec("c", (1,), "(B, H)"), e)], "(h, c)", **kw), e


def two_outputs(h, c):
    return Reply(1, True, outputs={"tuple": [{"t": "o.0"}, {"t": "o.1"}]},
                 tensors={"o.0": h, "o.1": c})


def test_lookup_follows_tuples_and_dict_keys_and_explains_what_is_there():
    struct = {"tuple": [{"v": 1}, {"dict": {"W": {"t": "o.0"}}}]}
    assert lookup(struct, (1, "W"))[0] == {"t": "o.0"}
    assert "without key 'U'" in lookup(struct, (1, "U"))[2]
    assert lookup({"v": 3}, (0,))[2] == "a tuple"


def test_evaluate_scores_each_output_and_score_gives_partial_credit():
    case, e = make_case()
    items = evaluate(case, two_outputs(e, e + 1))
    assert [(i.aspect, i.name, i.error is None) for i in items] == [
        ("shapes", "h", True), ("values", "h", True), ("shapes", "c", True), ("values", "c", False)]
    points, feedback = score(Test("cell: values", "values", 4.0), [CaseResult(case, items)])
    assert points == 2.0
    assert feedback.startswith("1/2 checks passed.\n[B=2] c: tensors are not close.")


def test_shape_and_dtype_come_from_the_received_tensor_not_a_claim():
    case, e = make_case()
    reply = Reply(1, True, outputs={"tuple": [{"t": "o.0", "shape": [2, 3], "dtype": "float64"},
                                              {"t": "o.1"}]}, tensors={"o.0": e.float(), "o.1": e})
    items = evaluate(case, reply)
    assert "expected dtype float64" in items[0].error


def test_a_described_tensor_that_did_not_come_back_earns_nothing():
    case, e = make_case()
    reply = Reply(1, True, outputs={"tuple": [{"t": "o.0"}, {"t": "o.1"}]}, tensors={"o.1": e})
    items = evaluate(case, reply)
    assert "did not come back" in items[0].error and items[1].error is not None


def test_the_device_comes_from_the_reply_and_is_checked():
    case, e = make_case()
    reply = Reply(1, True, outputs={"tuple": [{"t": "o.0"}, {"t": "o.1"}]},
                  tensors={"o.0": e, "o.1": e}, devices={"o.0": "cpu", "o.1": "meta"})
    items = evaluate(case, reply)
    assert "expected it on the inputs' device (cpu), got meta" in items[2].error


def test_evaluate_turns_a_student_exception_into_their_own_words():
    case, _ = make_case()
    reply = Reply.failure(1, ErrorKind.RAISED, "bad", exc_type="ValueError",
                          where=("line 3, in forward: x = y",))
    items = evaluate(case, reply)
    assert all(i.error == "your code raised ValueError: bad (line 3, in forward: x = y)"
               for i in items)


def test_a_forbidden_call_and_a_timeout_read_as_sentences():
    case, _ = make_case()
    forbidden = evaluate(case, Reply.failure(1, ErrorKind.FORBIDDEN, "torch.nn.LSTM"))
    assert "called torch.nn.LSTM, which this part forbids" in forbidden[0].error
    timeout = evaluate(case, Reply.failure(1, ErrorKind.TIMEOUT, "timed out (an infinite loop)"))
    assert timeout[0].error == "timed out (an infinite loop)"


def test_parameters_count_once_forward_runs_and_are_checked_when_it_raises():
    case, _ = make_case(params={"weight_ih": ParamSpec((8, 3), "(4H, I)")})
    skeleton = Reply(1, False, ErrorInfo(ErrorKind.RAISED, "", "NotImplementedError"),
                     params={"weight_ih": [8, 3]})
    assert "they count once your forward runs" in evaluate(case, skeleton)[0].error
    wrong = Reply(1, False, ErrorInfo(ErrorKind.RAISED, "boom", "ValueError"),
                  params={"weight_ih": [3, 8]})
    assert "weight_ih: expected (4H, I) = (8, 3), got (3, 8)" in evaluate(case, wrong)[0].error


def test_score_of_a_test_with_no_items_is_zero():
    result = CaseResult(make_case()[0], [Item("values", "h", None)])
    assert score(Test("t", "gradients", 2.0), [result]) == (0.0, "not checked")


def test_failed_items_cover_every_output_gradient_and_parameter():
    e = torch.ones(2, dtype=F64)
    case, _ = make_case(params={"w": ParamSpec((1,), "(1,)")},
                        input_grads={"in.x": ("x", e)}, param_grads={"w": e})
    items = failed_items(case, "not run")
    assert [(i.aspect, i.name) for i in items] == [
        ("parameters", "parameters"), ("shapes", "h"), ("shapes", "c"), ("values", "h"),
        ("values", "c"), ("gradients", "x"), ("gradients", "w")]
    assert all(i.error == "not run" for i in items)


def test_a_student_error_message_gets_a_hint_when_it_is_a_usual_one():
    case, _ = make_case()
    reply = Reply.failure(1, ErrorKind.RAISED,
                          "Tensor on device meta is not on the expected device cpu!",
                          exc_type="RuntimeError")
    items = evaluate(case, reply)
    assert "x.new_zeros" in items[0].hint
    _, feedback = score(Test("t", "values", 1.0), [CaseResult(case, items)])
    assert "Likely cause: a tensor in your code is created on the CPU" in feedback


def test_a_homework_adds_its_own_error_hints():
    case, _ = make_case(error_hints=((r"my pattern", "the homework's hint"),))
    items = evaluate(case, Reply.failure(1, ErrorKind.RAISED, "my pattern here", exc_type="E"))
    assert items[0].hint == "the homework's hint"
