"""A synthetic class in a gradebook, for the report tests, the browser test and the screenshots.

The test table is the homework's (numbers, names, points); the feedback texts follow the
grader's own wording ("N/M checks passed.", "Likely cause: ...", the torch.testing-style
mismatch message), the likely causes are real hints of homework/rnn_lstm/mistakes.py. Each
student makes each mistake with its probability, drawn from a seeded generator, and the truth
(who made which mistake) is returned so tests can check the report against it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from autograder.results import GradeReport, TestResult
from classroom.gradebook import Gradebook

TESTS = [  # (number, name, points): the homework's table (100 points)
    ('1.1', 'rnn_param_count: counts U, W, V, b, c', 2),
    ('1.2', 'rnn_forward: output shapes, dtype and device', 3),
    ('1.3', "rnn_forward: y_hat and h match the lecture's equations", 6),
    ('2.1', 'rnn_bptt: loss (mean over the batch, sum over time)', 4),
    ('2.2', 'rnn_bptt: every gradient matches autograd', 9),
    ('3.1', 'hidden_grad_norms: matches || dL_T / dh_t || averaged over the batch', 7),
    ('4.1', "LSTMCell: parameters named and shaped as PyTorch's", 1),
    ('4.2', 'LSTMCell: output shapes, dtype and device', 1),
    ('4.3', 'LSTMCell: outputs match the trusted model', 4),
    ('4.4', 'LSTMCell: gradients match (input, initial state, every parameter)', 2),
    ('4.5', "LSTM: parameters named and shaped as PyTorch's", 1),
    ('4.6', 'LSTM: output shapes, dtype and device', 2),
    ('4.7', 'LSTM: outputs match the trusted model', 8),
    ('4.8', 'LSTM: gradients match (input, initial state, every parameter)', 4),
    ('4.9', 'LSTMCell: runs on the device of its inputs (no hard-coded device)', 1),
    ('4.10', 'LSTM: runs on the device of its inputs (no hard-coded device)', 1),
    ('5.1', "PeepholeLSTMCell: parameters named and shaped as PyTorch's", 1),
    ('5.2', 'PeepholeLSTMCell: output shapes, dtype and device', 1),
    ('5.3', 'PeepholeLSTMCell: outputs match the trusted model', 3),
    ('5.4', 'PeepholeLSTMCell: gradients match (input, initial state, every parameter)', 2),
    ('5.5', "CoupledLSTMCell: parameters named and shaped as PyTorch's", 1),
    ('5.6', 'CoupledLSTMCell: output shapes, dtype and device', 1),
    ('5.7', 'CoupledLSTMCell: outputs match the trusted model', 3),
    ('5.8', 'CoupledLSTMCell: gradients match (input, initial state, every parameter)', 2),
    ('5.9', "GRUCell: parameters named and shaped as PyTorch's", 1),
    ('5.10', 'GRUCell: output shapes, dtype and device', 1),
    ('5.11', 'GRUCell: outputs match the trusted model', 3),
    ('5.12', 'GRUCell: gradients match (input, initial state, every parameter)', 2),
    ('5.13', 'PeepholeLSTMCell: runs on the device of its inputs (no hard-coded device)', 1),
    ('5.14', 'CoupledLSTMCell: runs on the device of its inputs (no hard-coded device)', 1),
    ('5.15', 'GRUCell: runs on the device of its inputs (no hard-coded device)', 1),
    ('6.1', 'LSTM (bidirectional): output shapes, dtype and device', 1),
    ('6.2', 'LSTM (bidirectional): outputs match the trusted model', 5),
    ('6.3', 'LSTM (bidirectional): gradients match (input, initial state, every parameter)', 2),
    ('6.4', 'BiLSTMClassifier: output shapes, dtype and device', 1),
    ('6.5', 'BiLSTMClassifier: outputs match the trusted model', 3),
    ('6.6', 'BiLSTMClassifier: gradients match (input, initial state, every parameter)', 1),
    ('6.7', 'BiLSTMClassifier: runs on the device of its inputs (no hard-coded device)', 1),
    ('7.1', 'LSTM: learns the adding problem (long-range dependency)', 6),
]
MAX = {n: p for n, _, p in TESTS}
FIOG = ("your outputs match nn.LSTM with the gates in the order f, i, g, o; PyTorch's order is "
        "i, f, g, o (the row blocks of weight_ih and weight_hh)")
MISTAKES = [  # (likely cause, the tests it fails, probability)
    (FIOG, ["4.7", "4.8", "6.2", "7.1"], 0.3),
    ("z and 1 - z are swapped: PyTorch returns h' = (1 - z) * n + z * h", ["5.11", "5.12"], 0.2),
    ("the tanh derivative (1 - h_t^2) is missing from dL/da_t = dL/dh_t * (1 - h_t^2)", ["2.2"],
     0.15),
    ("the classifier reads out[:, -1, :], whose backward half has seen only the last token; use "
     "the final states of both directions, h_n[-2] and h_n[-1]", ["6.5", "6.6"], 0.15),
    ("h = o * c: the output skips the tanh of the cell state; it is h = o * tanh(c)",
     ["4.3", "4.7"], 0.1),
    ("the softmax runs over the time axis; it normalises over the K classes (dim=-1)", ["1.3"],
     0.05),
]
ISOLATION = ("sandbox: as user rnngrade-sandbox; seccomp on (no network sockets); grader's files "
             "hidden (private mount and network namespaces)")
CASE = "[num_layers=1, unidirectional, batch_first=False, hx=None, bias=True, B=3, T=7, float64]"


def mismatch(rng: random.Random, name: str = "output") -> str:
    diff, step = rng.uniform(0.05, 1.5), rng.randrange(0, 7)
    return (f"{CASE} {name}: tensors are not close. Mismatched elements: 105 / 105 (100.0%). "
            f"Greatest absolute difference: {diff:.3g} at index (4, 1, 3) (up to 1e-09 allowed). "
            f"Greatest relative difference: 43.2 at index (4, 0, 3) (up to 1e-07 allowed). "
            f"The first mismatch in time is at step t = {step} (of 7).")


@dataclass
class SyntheticClass:
    """What was stored, and the truth to check the report against."""

    keys: list[str] = field(default_factory=list)
    made: dict[str, list[str]] = field(default_factory=dict)  # likely cause -> keys, graded only
    statuses: dict[str, str] = field(default_factory=dict)


def report_for(key: str, causes: list[str], rng: random.Random, *, printed: str = "",
               timeout: bool = False, evil: str = "") -> GradeReport:
    """A graded report failing the tests of ``causes`` with the grader's wording."""
    failing: dict[str, list[str]] = {}
    for cause, tests, _ in MISTAKES:
        if cause in causes:
            for n in tests:
                failing.setdefault(n, []).append(cause)
    tests = []
    for number, name, points in TESTS:
        if number in failing:
            lines = ["0/21 checks passed."] + [f"Likely cause: {c}." for c in failing[number]]
            lines.append(mismatch(rng) if number != "7.1" else
                         "[adding problem, T=50, hidden_size=32, at most 1500 steps] after 650 "
                         f"training steps, held-out MSE {rng.uniform(0.1, 0.4):.4f} (full credit "
                         "at or below 0.01, none from 0.1; predicting the mean gives 0.167)")
            tests.append(TestResult(name, number, 0.0, points, "\n".join(lines) + evil,
                                    [name.split(":")[0], f"Part {number.split('.')[0]}"]))
        elif timeout and number == "7.1":
            tests.append(TestResult(name, number, 0.0, points, "0/1 checks passed.\n[adding "
                                    "problem] timed out (an infinite loop, or far too slow); the "
                                    "worker was stopped", ["LSTM", "Part 7"]))
        else:
            tests.append(TestResult(name, number, float(points), points, "", [
                name.split(":")[0], f"Part {number.split('.')[0]}"]))
    tests.append(TestResult("Grading seed (staff only)", "0.9", 0.0, 0.0, "Hidden cases drawn "
                            "from seed 1810538161 (STAFF-ONLY-SEED)", ["staff"], "hidden"))
    output = f"Graded in a sandbox: {ISOLATION}."
    if printed:
        output = f"{output}\n\nYour code printed (truncated):\n{printed}"
    return GradeReport(f"{key}.py", tests, 30.0, output, ISOLATION)


def build_class(outdir: Path, n: int = 24, seed: int = 0, *, evil: str = "") -> SyntheticClass:
    """``n`` students in ``OUTDIR/gradebook.sqlite`` (plus one unreadable, one grader error);
    student s00 also prints ``evil`` and has it in a failed test's output."""
    rng = random.Random(seed)
    truth = SyntheticClass(made={cause: [] for cause, _, _ in MISTAKES})
    with Gradebook(outdir / "gradebook.sqlite") as book:
        book.start_run("0.1.0", ["grade", "class", "--out", str(outdir)])
        for i in range(n):
            key = f"s{i:02d}"
            causes = [c for c, _, p in MISTAKES if rng.random() < p]
            if i == 0:  # the hostile one always fails something
                causes = causes or [MISTAKES[0][0]]
            report = report_for(key, causes, rng, printed=f"epoch 1 loss 0.52{evil}" if i == 0
                                else "", timeout=i == 1, evil=evil if i == 0 else "")
            book.store(key=key, name=f"Student {i:02d}", email=f"{key}@example.edu",
                       layout="flat", path=f"/class/{key}.py", content_hash=f"h{i}",
                       grader_version="0.1.0", seed=1810538161, started_at=1.0e9 + i,
                       wall_s=rng.uniform(15, 90), report=report)
            truth.keys.append(key)
            truth.statuses[key] = "graded"
            for c in causes:
                truth.made[c].append(key)
        unreadable = GradeReport("empty.zip", [], 0.1, "", ISOLATION,
                                 unreadable="expected one notebook (.ipynb) or one .py file")
        failed = GradeReport("crash.py", [
            TestResult("Autograder error", "0.1", 0.0, 0.0, "The autograder itself failed.", []),
            TestResult("Autograder error (staff only)", "0.2", 0.0, 0.0,
                       "Traceback...\nRuntimeError: internal bug", [], "hidden")], 2.0,
            "The autograder itself failed.", ISOLATION, failed=True)
        for key, report in (("zz_empty", unreadable), ("zz_crash", failed)):
            book.store(key=key, name=key, email="", layout="flat", path=f"/class/{key}",
                       content_hash=key, grader_version="0.1.0", seed=None, started_at=2.0e9,
                       wall_s=report.execution_time, report=report)
            truth.keys.append(key)
            truth.statuses[key] = "unreadable" if report.unreadable else "grader_error"
    return truth
