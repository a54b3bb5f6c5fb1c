# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# ## Part 2: backpropagation through time, by hand
#
# Unrolled over time, the RNN is a deep feed-forward network whose layers share their weights;
# backpropagation through this unrolled graph is *backpropagation through time* (BPTT). With the
# loss $L = \frac{1}{B}\sum_b \sum_t -\log \hat y_t[y_t]$, the lecture's recursion runs backwards
# from $t = T$ (per example; divide by $B$ for the batch mean):
#
# $$\frac{\partial L}{\partial o_t} = \hat y_t - \mathbf{1}_{y_t}, \qquad
# \frac{\partial L}{\partial h_t} = V^\top \frac{\partial L}{\partial o_t}
#   + W^\top \frac{\partial L}{\partial a_{t+1}}, \qquad
# \frac{\partial L}{\partial a_t} = (1 - h_t^2) \odot \frac{\partial L}{\partial h_t}$$
#
# (the second term is absent at $t = T$), and the parameter gradients are sums over time:
#
# $$\nabla_c = \sum_t \frac{\partial L}{\partial o_t}, \quad
# \nabla_V = \sum_t \frac{\partial L}{\partial o_t} h_t^\top, \quad
# \nabla_b = \sum_t \frac{\partial L}{\partial a_t}, \quad
# \nabla_W = \sum_t \frac{\partial L}{\partial a_t} h_{t-1}^\top, \quad
# \nabla_U = \sum_t \frac{\partial L}{\partial a_t} x_t^\top, \quad
# \nabla_{h_0} = W^\top \frac{\partial L}{\partial a_1}.$$

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 13

# %% [markdown]
# **2.1** Write `rnn_bptt(x, y, h0, params)`: `y` `(B, T)` holds int64 class targets. Return the
# loss (a 0-dim tensor) and a dict of gradients with keys `U, W, V, b, c, h0`, each shaped like
# what it differentiates. **No autograd**: the grader runs your function under `torch.no_grad()`
# and rejects `backward`, `torch.autograd` and `enable_grad`. You may call your `rnn_forward`.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "rnn_bptt"}
def rnn_bptt(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> loss (), grads {U, W, V, b, c, h0}."""
    # BEGIN SOLUTION NO PROMPT
    W, V = params["W"], params["V"]
    B, T, _ = x.shape
    y_hat, h = rnn_forward(x, h0, params)
    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum() / B
    grads = {k: torch.zeros_like(v) for k, v in params.items()}
    dh_next = torch.zeros_like(h0)
    for t in reversed(range(T)):
        do = y_hat[:, t].clone()
        do[torch.arange(B), y[:, t]] -= 1
        do = do / B
        grads["V"] += do.T @ h[:, t]
        grads["c"] += do.sum(0)
        dh = do @ V + dh_next
        da = dh * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else h0
        grads["W"] += da.T @ h_prev
        grads["U"] += da.T @ x[:, t]
        grads["b"] += da.sum(0)
        dh_next = da @ W
    grads["h0"] = dh_next
    return loss, grads
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 2: write rnn_bptt")
    """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_rnn_bptt_returns_a_loss_and_every_gradient(rnn_bptt, random_rnn, torch):
    x, y, h0, params = random_rnn(B=2, T=3, I=3, H=4, K=5, seed=1)
    with torch.no_grad():
        loss, grads = rnn_bptt(x, y, h0, params)
    assert loss.dim() == 0 and loss > 0, "the loss is a positive 0-dim tensor"
    assert set(grads) == {"U", "W", "V", "b", "c", "h0"}, f"grads keys: got {sorted(grads)}"
    for name, value in [*params.items(), ("h0", h0)]:
        assert grads[name].shape == value.shape, \
            f"grads[{name!r}]: expected shape {tuple(value.shape)}, got {tuple(grads[name].shape)}"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
