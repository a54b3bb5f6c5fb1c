# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# ## Part 3: vanishing gradients
#
# How much does the loss at the *last* step care about the hidden state long before? By the chain
# rule, $\frac{\partial L_T}{\partial h_t} = \frac{\partial L_T}{\partial h_T}
# \prod_{k=t+1}^{T} \operatorname{diag}(1 - h_k^2)\, W$: a product of $T - t$ Jacobians. When their
# norms are below 1 the product shrinks exponentially with the distance $T - t$, so a plain RNN
# receives almost no signal to learn dependencies that span many steps (Bengio, Simard and
# Frasconi, 1994). The plot after this part shows it for three scales of $W$; with a large $W$
# the units saturate and the gradient no longer vanishes, but the state is then chaotic. After
# Part 4 you will see what the LSTM changes.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 7

# %% [markdown]
# **3.1** Write `hidden_grad_norms(x, y, h0, params)`: a tensor of shape `(T,)` whose entry `t` is
# the mean over the batch of $\lVert \partial L_T / \partial h_t[b] \rVert_2$, where $L_T$ is the
# *sum* over the batch of the cross-entropy at the last time step only. Autograd is allowed here
# (`torch.autograd.grad` with the list of hidden states is the shortest way).

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "hidden_grad_norms"}
def hidden_grad_norms(x, y, h0, params):
    """x (B, T, I), y (B, T) int64, h0 (B, H) -> (T,): mean over b of ||dL_T / dh_t[b]||."""
    # BEGIN SOLUTION NO PROMPT
    with torch.enable_grad():
        U, W, V, b, c = (params[k].detach() for k in "UWVbc")
        h = h0.detach().requires_grad_(True)
        hs = []
        for t in range(x.shape[1]):
            h = torch.tanh(b + h @ W.T + x[:, t] @ U.T)
            hs.append(h)
        loss = F.cross_entropy(c + h @ V.T, y[:, -1], reduction="sum")
        grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm(dim=1).mean() for g in grads])
    # END SOLUTION
    """ # BEGIN PROMPT
    raise NotImplementedError("Part 3: write hidden_grad_norms")
    """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_hidden_grad_norms_shape_and_sign(hidden_grad_norms, random_rnn, torch):
    x, y, h0, params = random_rnn(B=3, T=6, I=2, H=4, K=3, seed=2)
    norms = hidden_grad_norms(x, y, h0, params)
    assert tuple(norms.shape) == (6,), f"expected shape (T,) = (6,), got {tuple(norms.shape)}"
    assert bool((norms >= 0).all()) and norms[-1] > 0, "norms are >= 0, and the last one is > 0"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% rnngrade={"role": "instructor"}
# The vanishing gradient, measured with your hidden_grad_norms: a random RNN, T = 60.
# What a correct hidden_grad_norms shows: every curve rises towards t = T (the loss's own step);
# at W scale 0.5 it falls by many orders of magnitude going back to t = 1 (a straight line on
# this log scale: exponential decay); the larger the scale, the flatter the curve.
def plot_rnn_grad_norms(T=60, B=32, I=4, H=32, K=3):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for w_scale in (0.5, 1.0, 2.0):
        norms = hidden_grad_norms(*random_rnn(B, T, I, H, K, w_scale=w_scale))
        ax.semilogy(range(1, T + 1), norms.detach(), label=f"RNN, W scale {w_scale}")
    ax.set(xlabel="time step t", ylabel="mean ||dL_T / dh_t||",
           title="How far back does the last step's loss reach?")
    ax.legend()
    plt.show()


try:
    plot_rnn_grad_norms()
except Exception as error:
    not_done_yet("Part 3 (hidden_grad_norms)", error)
