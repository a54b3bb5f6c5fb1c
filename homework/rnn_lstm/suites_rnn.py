"""Hidden tests of Parts 1-3: the vanilla RNN, BPTT by hand, gradient norms.

Expected values come from ``reference`` (forward) and autograd (BPTT's gradients), in the judge.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

import reference
from autograder.cases import CaseBuilder, params_spec
from autograder.compare import dtype_name
from autograder.spec import Out, OutputSpec, Suite, Test

F64, F32 = torch.float64, torch.float32
GRAD_NAMES = ("U", "W", "V", "b", "c", "h0")


def rnn_problem(b: CaseBuilder, B: int, T: int, I: int, H: int, K: int, dtype, seen: int):
    """``seen``: the targets are drawn from classes 0..seen-1 only (one-hot encodings built
    from the targets alone, without K, come out too narrow when seen < K)."""
    params = {"U": b.randn(H, I, dtype=dtype, scale=0.5), "W": b.randn(H, H, dtype=dtype, scale=0.5),
              "V": b.randn(K, H, dtype=dtype, scale=0.5), "b": b.randn(H, dtype=dtype, scale=0.5),
              "c": b.randn(K, dtype=dtype, scale=0.5)}
    return b.randn(B, T, I, dtype=dtype), b.randint(seen, B, T), b.randn(B, H, dtype=dtype), params


def label(B, T, I, H, K, dtype, seen) -> str:
    missing = f", targets never {seen}..{K - 1}" if seen < K else ""
    return f"B={B}, T={T}, I={I}, H={H}, K={K}{missing}, {dtype_name(dtype)}"


def problem_args(x, y, h0, params, with_y: bool):
    tensors = {"x": x, "h0": h0, **({"y": y} if with_y else {})}
    args = [{"t": "x"}] + ([{"t": "y"}] if with_y else []) + [{"t": "h0"}]
    return args + [params_spec("p", tensors, params)], tensors


def autograd_bptt(x, y, h0, params):
    """The trusted answer for Part 2: autograd through the reference forward pass."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    h0 = h0.detach().clone().requires_grad_(True)
    y_hat, _ = reference.rnn_forward(x, h0, leaves)
    loss = F.nll_loss(torch.log(y_hat).flatten(0, 1), y.flatten(), reduction="sum") / x.size(0)
    grads = torch.autograd.grad(loss, [*leaves.values(), h0])
    return loss.detach(), dict(zip([*leaves, "h0"], grads))


# (B, T, I, H, K, dtype, classes seen in the targets)
SIZES = [(3, 6, 4, 5, 2, F64, 2), (1, 1, 4, 5, 2, F64, 2), (2, 9, 3, 7, 4, F64, 4),
         (3, 6, 4, 5, 2, F32, 2), (1, 5, 3, 4, 6, F64, 3)]


MISSING_CLASSES = ((r"size of tensor|must match|shape|out of bounds|one_hot",
                    "this case's targets never contain the last classes (K = V.shape[0]): a "
                    "one-hot encoding built from y alone, F.one_hot(y), comes out too narrow; "
                    "pass num_classes=K"),)


def suites(b: CaseBuilder) -> list[Suite]:
    count = [b.function_case(f"I={i}, H={h}, K={k}", "rnn_param_count", [i, h, k], {},
                             [Out(OutputSpec("count"), reference.rnn_param_count(i, h, k))],
                             "an int")
             for i, h, k in [(3, 5, 2), (10, 20, 7), (1, 1, 1)]]
    forward, bptt, norms = [], [], []
    for B, T, I, H, K, dtype, seen in SIZES:
        x, y, h0, params = rnn_problem(b, B, T, I, H, K, dtype, seen)
        y_hat, h = reference.rnn_forward(x, h0, params)
        args, tensors = problem_args(x, y, h0, params, with_y=False)
        forward.append(b.function_case(
            label(B, T, I, H, K, dtype, seen), "rnn_forward", args, tensors,
            [Out(OutputSpec("y_hat", (0,), "(B, T, K)", 1), y_hat),
             Out(OutputSpec("h", (1,), "(B, T, H)", 1), h)],
            "(y_hat, h)", dtype=dtype, replay_inputs=[x, h0, params]))
        loss, grads = autograd_bptt(x, y, h0, params)
        args, tensors = problem_args(x, y, h0, params, with_y=True)
        bptt.append(b.function_case(
            label(B, T, I, H, K, dtype, seen), "rnn_bptt", args, tensors,
            [Out(OutputSpec("loss", (0,), "() (a 0-dim tensor)"), loss)] +
            [Out(OutputSpec(f"grads['{k}']", (1, k)), grads[k]) for k in GRAD_NAMES],
            "(loss, grads) with grads a dict of U, W, V, b, c, h0", dtype=dtype,
            replay_inputs=[x, y, h0, params], grad_enabled=False, no_autograd=True))
        norms.append(b.function_case(
            label(B, T, I, H, K, dtype, seen), "hidden_grad_norms", args, tensors,
            [Out(OutputSpec("norms", (), "(T,)", 0), reference.hidden_grad_norms(x, y, h0, params))],
            "a tensor of shape (T,)", dtype=dtype, replay_inputs=[x, y, h0, params]))
        if seen < K:  # an error here is most likely a one-hot encoding as wide as the targets
            for case in (bptt[-1], norms[-1]):
                case.error_hints = case.error_hints + MISSING_CLASSES
    grad_outputs = tuple(f"grads['{k}']" for k in GRAD_NAMES)
    return [
        Suite("rnn_param_count", 1, [Test("rnn_param_count: counts U, W, V, b, c", "values", 2)],
              count),
        Suite("rnn_forward", 1, [
            Test("rnn_forward: output shapes, dtype and device", "shapes", 3),
            Test("rnn_forward: y_hat and h match the lecture's equations", "values", 6)], forward),
        Suite("rnn_bptt", 2, [
            Test("rnn_bptt: loss (mean over the batch, sum over time)", "values", 4, ("loss",)),
            Test("rnn_bptt: every gradient matches autograd", "values", 9, grad_outputs)],
            bptt, forbid_autograd=True),
        Suite("hidden_grad_norms", 3, [
            Test("hidden_grad_norms: matches || dL_T / dh_t || averaged over the batch",
                 "values", 7)], norms),
    ]
