"""reference.rnn and reference.bptt: the lecture's RNN, BPTT by hand, gradient norms."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import hidden_grad_norms, rnn_bptt, rnn_forward, rnn_param_count
from tests.conftest import TOL

SHAPES = dict(U=lambda I, H, K: (H, I), W=lambda I, H, K: (H, H), V=lambda I, H, K: (K, H),
              b=lambda I, H, K: (H,), c=lambda I, H, K: (K,))


def make_problem(B=3, T=5, I=4, H=6, K=3, dtype=torch.float64, scale=0.5):
    params = {k: scale * torch.randn(*f(I, H, K), dtype=dtype) for k, f in SHAPES.items()}
    x = torch.randn(B, T, I, dtype=dtype)
    return x, torch.randint(0, K, (B, T)), torch.randn(B, H, dtype=dtype), params


def autograd_loss_and_grads(x, y, h0, params):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    leaves["h0"] = h0.detach().clone().requires_grad_(True)
    y_hat, _ = rnn_forward(x, leaves["h0"], {k: leaves[k] for k in params})
    loss = F.nll_loss(torch.log(y_hat).flatten(0, 1), y.flatten(), reduction="sum") / x.size(0)
    loss.backward()
    return loss.detach(), {k: v.grad for k, v in leaves.items()}


def test_rnn_param_count_counts_U_W_V_b_c():
    assert rnn_param_count(4, 6, 3) == 6 * 4 + 6 * 6 + 3 * 6 + 6 + 3
    x, y, h0, params = make_problem()
    assert rnn_param_count(4, 6, 3) == sum(p.numel() for p in params.values())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_rnn_forward_follows_lecture_equations(dtype):
    x, _, h0, p = make_problem(dtype=dtype)
    y_hat, h = rnn_forward(x, h0, p)
    assert y_hat.shape == (3, 5, 3) and h.shape == (3, 5, 6)
    assert y_hat.dtype == h.dtype == dtype
    h_prev = h0
    for t in range(5):
        a_t = p["b"] + h_prev @ p["W"].T + x[:, t] @ p["U"].T
        h_prev = torch.tanh(a_t)
        torch.testing.assert_close(h[:, t], h_prev, **TOL[dtype])
        torch.testing.assert_close(y_hat[:, t], torch.softmax(p["c"] + h_prev @ p["V"].T, -1),
                                   **TOL[dtype])
    torch.testing.assert_close(y_hat.sum(-1), torch.ones(3, 5, dtype=dtype), **TOL[dtype])


@pytest.mark.parametrize("B,T", [(1, 1), (1, 7), (4, 1), (4, 7)], ids=lambda v: str(v))
def test_rnn_bptt_matches_autograd_in_float64(B, T):
    x, y, h0, params = make_problem(B=B, T=T)
    loss, grads = rnn_bptt(x, y, h0, params)
    ref_loss, ref_grads = autograd_loss_and_grads(x, y, h0, params)
    assert loss.dim() == 0
    torch.testing.assert_close(loss, ref_loss, rtol=1e-9, atol=0)
    assert set(grads) == {"U", "W", "V", "b", "c", "h0"}
    for k, g in grads.items():
        rel = (g - ref_grads[k]).norm() / ref_grads[k].norm().clamp_min(1e-300)
        assert rel < 1e-9, f"{k}: relative error {rel:.2e}"


def test_rnn_bptt_uses_no_autograd(monkeypatch):
    """Statically (the grader's own scan of the source) and at run time: every way into
    autograd raises while it runs, and it still matches autograd."""
    import inspect

    import reference.bptt
    from autograder.forbidden import scan

    assert [v for v in scan(inspect.getsource(reference.bptt), {"rnn_bptt"})
            if v.rule == "autograd"] == []
    x, y, h0, params = make_problem()
    ref_loss, ref_grads = autograd_loss_and_grads(x, y, h0, params)

    class Refuse:  # stands in for autograd's engine: every backward pass goes through it
        def __getattr__(self, name):
            raise AssertionError(f"rnn_bptt used autograd ({name})")

    monkeypatch.setattr(torch.autograd.variable.Variable, "_execution_engine", Refuse())
    monkeypatch.setattr(torch, "enable_grad", Refuse)
    with torch.autograd.set_grad_enabled(False):
        loss, grads = rnn_bptt(x, y, h0, params)
    monkeypatch.undo()
    assert not loss.requires_grad and not any(g.requires_grad for g in grads.values())
    torch.testing.assert_close(loss, ref_loss, **TOL[torch.float64])
    for k, g in ref_grads.items():
        torch.testing.assert_close(grads[k], g, **TOL[torch.float64], msg=k)


def test_hidden_grad_norms_match_per_step_autograd():
    x, y, h0, params = make_problem(B=2, T=6)
    norms = hidden_grad_norms(x, y, h0, params)
    assert norms.shape == (6,)
    for t in range(6):  # recompute dL_T/dh_t for one t, from a graph cut at h_t
        h_t = rnn_forward(x[:, : t + 1], h0, params)[1][:, -1].detach().requires_grad_(True)
        if t < 5:
            _, h_rest = rnn_forward(x[:, t + 1:], h_t, params)
            h_T = h_rest[:, -1]
        else:
            h_T = h_t
        loss = F.cross_entropy(h_T @ params["V"].T + params["c"], y[:, -1], reduction="sum")
        (g,) = torch.autograd.grad(loss, h_t)
        torch.testing.assert_close(norms[t], g.norm(dim=1).mean(), **TOL[torch.float64])


def test_hidden_grad_norms_vanish_for_a_small_weight_rnn():
    x, y, h0, params = make_problem(B=8, T=30, scale=0.3)
    norms = hidden_grad_norms(x, y, h0, params)
    assert norms[0] < 1e-6 * norms[-1]


def test_hidden_grad_norms_work_under_no_grad():
    x, y, h0, params = make_problem()
    with torch.no_grad():
        assert torch.isfinite(hidden_grad_norms(x, y, h0, params)).all()
