"""autograder.judge in process: the loop over suites against a fake sandbox, blocked parts, the
time budget, and how results become a numbered report."""
from __future__ import annotations

import time

import torch

from autograder.judge import OUT_OF_TIME, Budget, forbidden_parts, report, run_suites
from autograder.protocol import CallRequest, ErrorKind, Reply
from autograder.spec import Case, Out, OutputSpec, Suite, Test

E = torch.ones(2, dtype=torch.float64)


def case(label: str, target: str = "f") -> Case:
    return Case(label, CallRequest(target), {}, [Out(OutputSpec("y"), E)], "y")


class FakeSandbox:
    """Answers from a script: target -> a list of replies, one per request, in order."""

    def __init__(self, script: dict[str, list]):
        self.script, self.asked = {k: list(v) for k, v in script.items()}, []

    def request(self, request, tensors, timeout, max_payload=None):
        self.asked.append(request.target)
        make = self.script[request.target].pop(0)
        return make(len(self.asked))


def good(i):
    return Reply(i, True, outputs={"t": "o.0"}, tensors={"o.0": E})


def wrong(i):
    return Reply(i, True, outputs={"t": "o.0"}, tensors={"o.0": 2 * E})


def hang(i):
    return Reply.failure(i, ErrorKind.TIMEOUT, "timed out (an infinite loop)")


def crash(i):
    return Reply.failure(i, ErrorKind.CRASHED, "your code exited while being graded")


def suite(target: str, n: int, part: int = 1) -> Suite:
    return Suite(target, part, [Test(f"{target}: values", "values", 2.0)],
                 [case(f"{target} {i}", target) for i in range(n)])


def far() -> float:
    return time.monotonic() + 3600


def test_every_case_is_asked_and_scored_in_order():
    sandbox = FakeSandbox({"f": [good, wrong], "g": [good]})
    results = run_suites(sandbox, [suite("f", 2), suite("g", 1)], {}, Budget(), far())
    assert sandbox.asked == ["f", "f", "g"]
    assert [[it.error is None for r in s.cases for it in r.items if it.aspect == "values"]
            for s in results] == [[True, False], [True]]


def test_a_blocked_target_is_never_asked_and_fails_with_the_reason():
    sandbox = FakeSandbox({"g": [good]})
    results = run_suites(sandbox, [suite("f", 2), suite("g", 1)], {"f": "uses nn.LSTM"},
                         Budget(), far())
    assert sandbox.asked == ["g"]
    assert {it.error for r in results[0].cases for it in r.items} == {"uses nn.LSTM"}


def test_a_timeout_skips_the_rest_of_that_suite_only():
    sandbox = FakeSandbox({"f": [hang], "g": [good]})
    results = run_suites(sandbox, [suite("f", 3), suite("g", 1)], {}, Budget(), far())
    assert sandbox.asked == ["f", "g"]
    assert len(results[0].cases) == 3
    assert all("timed out" in it.error for r in results[0].cases for it in r.items)


def test_a_crash_fails_that_case_and_the_next_case_is_still_asked():
    sandbox = FakeSandbox({"f": [crash, good]})
    results = run_suites(sandbox, [suite("f", 2)], {}, Budget(), far())
    assert sandbox.asked == ["f", "f"]
    assert results[0].cases[1].items[1].error is None


def test_past_the_deadline_nothing_more_is_asked():
    sandbox = FakeSandbox({})
    results = run_suites(sandbox, [suite("f", 2)], {}, Budget(), time.monotonic() - 1)
    assert sandbox.asked == []
    assert all(it.error == OUT_OF_TIME for r in results[0].cases for it in r.items)


def test_the_report_numbers_tests_within_parts_and_gives_partial_credit():
    sandbox = FakeSandbox({"f": [good, wrong], "g": [good]})
    suites = [suite("g", 1, part=2), suite("f", 2, part=1)]
    graded = report("s.py", run_suites(sandbox, suites, {}, Budget(), far()), 1.0, "", "")
    assert [(t.number, t.score, t.max_score) for t in graded.tests] == [("1.1", 1.0, 2.0),
                                                                        ("2.1", 2.0, 2.0)]
    assert graded.score == 3.0 and graded.tests[0].tags == ["f", "Part 1"]


def test_forbidden_parts_names_the_line_and_the_rule():
    source = "import torch\ndef f(x):\n    return torch.nn.LSTM(2, 3)(x)\ndef g(x):\n    return x\n"
    blocked, refused = forbidden_parts(source, [suite("f", 1), suite("g", 1)])
    assert set(blocked) == {"f"} and refused == {}
    assert "uses torch.nn.LSTM (line 3 of the graded code)" in blocked["f"]


def test_a_scratch_statement_that_breaks_a_rule_is_not_run_and_says_where():
    source = "import torch\ndef g(x):\n    return x\nprint(g.__code__)\n"
    blocked, refused = forbidden_parts(source, [suite("g", 1)],
                                       where=lambda line: f"line {line} of code cell 2")
    assert blocked == {}
    assert refused[4].startswith("Line 4 of code cell 2 was not run: it uses .__code__")


def test_a_failure_explained_by_an_earlier_part_the_code_uses_says_fix_that_part_first():
    sandbox = FakeSandbox({"f": [wrong], "g": [wrong], "h": [wrong]})
    suites = [suite("f", 1, part=1), suite("g", 1, part=2), suite("h", 1, part=2)]
    graded = report("s.py", run_suites(sandbox, suites, {}, Budget(), far()), 1.0, "", "",
                    uses={"g": {"f"}, "h": set()})
    by_target = {t.tags[0]: t.output for t in graded.tests}
    assert by_target["g"].startswith("Your g uses your f, which fails test 1.1: fix Part 1 first")
    assert "first" not in by_target["h"] and "first" not in by_target["f"]


def test_uses_follows_the_students_own_calls_transitively():
    from autograder.dependencies import uses
    src = ("def a(x):\n    return x\n\ndef b(x):\n    return a(x)\n\n"
           "class C:\n    def __init__(self):\n        self.f = b\n\nD = C\n")
    found = uses(src)
    assert found["a"] == set() and found["b"] == {"a"} and found["C"] == {"a", "b"}
