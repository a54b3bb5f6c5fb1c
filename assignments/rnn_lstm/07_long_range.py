# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# ## Part 7: long-range dependencies
#
# The gradient plots suggest the LSTM can learn what the RNN cannot. Here you test that by
# training. Two tasks, both sequence-to-one (a linear read-out of the last hidden state):
#
# * **The adding problem** (Hochreiter and Schmidhuber, 1997): two channels, values $U(0, 1)$ and a
#   marker channel with one marker in each half of the sequence; the target is the sum of the two
#   marked values (MSE; predicting the mean gives 0.167, success is below 0.01).
# * **The latch task** (Bengio, Simard and Frasconi, 1994): one channel of noise $N(0, 0.2^2)$
#   with a single symbol $\pm 1$ at a random position; the class is the symbol's sign. The
#   network must *latch* the symbol and hold it, through the noise, until the end.
#
# After you submit, the grader trains your `LSTM` on the adding problem with $T = 50$ and checks
# the held-out error (6 points). Below, the same training loop compares your `LSTM` with
# PyTorch's tanh `nn.RNN` (allowed here: it is the baseline, not your answer). Each run stops
# early once it succeeds; on a laptop the two cells take two to three minutes together (a loop
# LSTM in Python is slower than PyTorch's fused one).

# %% rnngrade={"role": "instructor"}
def adding_problem(n, T, generator):
    """x (n, T, 2): [value, marker]; y (n, 1): the sum of the two marked values."""
    values = torch.rand(n, T, generator=generator)
    first = torch.randint(0, T // 2, (n,), generator=generator)
    second = torch.randint(T // 2, T, (n,), generator=generator)
    markers = torch.zeros(n, T)
    markers[torch.arange(n), first] = 1.0
    markers[torch.arange(n), second] = 1.0
    return torch.stack([values, markers], dim=2), (values * markers).sum(1, keepdim=True)


def latch_task(n, T, generator, noise=0.2):
    """x (n, T, 1): noise and one symbol +-1 at a random step; y (n, 1): 1.0 if the symbol is +1."""
    x = noise * torch.randn(n, T, generator=generator)
    label = torch.randint(0, 2, (n,), generator=generator)
    x[torch.arange(n), torch.randint(0, T, (n,), generator=generator)] = 2.0 * label - 1
    return x.unsqueeze(2), label.float().unsqueeze(1)


class SequenceToOne(nn.Module):
    """A batch-first recurrent core read out by a linear layer at the last step: (B, T, I) -> (B, 1)."""

    def __init__(self, core, hidden_size):
        super().__init__()
        self.core, self.readout = core, nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.core(x)  # (B, T, H)
        return self.readout(out[:, -1])


TASKS = {  # sampler, loss, error metric (lower is better), success threshold
    "adding": (adding_problem, F.mse_loss, lambda p, y: F.mse_loss(p, y).item(), 0.01),
    "latch": (latch_task, F.binary_cross_entropy_with_logits,
              lambda p, y: ((p > 0).float() != y).float().mean().item(), 0.05),
}


def train(kind, task, T, steps, hidden_size=32, seed=0):
    """Adam (lr 1e-2), batch 64, clipped gradients, early stopping; returns [(step, val error)]."""
    sample, loss_fn, metric, target = TASKS[task]
    torch.manual_seed(seed)
    I = 2 if task == "adding" else 1
    core = (LSTM(I, hidden_size, batch_first=True) if kind == "LSTM"
            else nn.RNN(I, hidden_size, batch_first=True))
    model = SequenceToOne(core, hidden_size)
    g = torch.Generator().manual_seed(seed)
    x_val, y_val = sample(500, T, torch.Generator().manual_seed(10_000 + seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = []
    for step in range(1, steps + 1):
        x, y = sample(64, T, g)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps:
            with torch.no_grad():
                history.append((step, metric(model(x_val), y_val)))
            if history[-1][1] < target / 2:
                break
    return history


# %% rnngrade={"role": "instructor"}
# Training curves on the adding problem, T = 50 (your LSTM against a tanh RNN).
# What a correct LSTM shows: its validation MSE drops below the dashed 0.01 line within 1,500
# steps (usually a few hundred), while the RNN stays near 0.17, what predicting the mean gives.
def plot_training_curves(T=50, steps=5 if FAST else 1500):
    LSTM(2, 4, batch_first=True)(torch.zeros(1, 3, 2))  # your LSTM runs, before minutes of training
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for kind in ("RNN", "LSTM"):
        history = train(kind, "adding", T, steps)
        ax.semilogy(*zip(*history), label=f"{kind} (final {history[-1][1]:.4f})")
    ax.axhline(0.01, color="gray", linestyle="--", label="success: MSE < 0.01")
    ax.set(xlabel="training step", ylabel="validation MSE", title=f"Adding problem, T = {T}")
    ax.legend()
    plt.show()


try:
    plot_training_curves()
except Exception as error:
    not_done_yet("Part 4 (LSTM.forward with batch_first=True)", error)

# %% rnngrade={"role": "instructor"}
# The latch task: accuracy against the sequence length, RNN vs your LSTM (one seed per point).
# What a correct LSTM shows: accuracy near 1 at every length on most seeds, while the RNN falls
# towards chance (0.5) as T grows (one seed per point, so one LSTM point may miss).
def plot_latch_accuracy(lengths=(5, 10) if FAST else (10, 25, 50, 100), steps=5 if FAST else 3000):
    LSTM(1, 4, batch_first=True)(torch.zeros(1, 3, 1))  # your LSTM runs, before minutes of training
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for kind in ("RNN", "LSTM"):
        accuracy = []
        for T in lengths:
            start = time.perf_counter()
            history = train(kind, "latch", T, steps)
            accuracy.append(1 - history[-1][1])
            print(f"{kind:4} T = {T:3}: accuracy {accuracy[-1]:.2f} after {history[-1][0]} steps "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        ax.plot(lengths, accuracy, marker="o", label=kind)
    ax.axhline(0.5, color="gray", linestyle=":", label="chance")
    ax.set(xlabel="sequence length T", ylabel="validation accuracy", ylim=(0.4, 1.02),
           title="Latch task (symbol at a random step)")
    ax.legend()
    plt.show()


try:
    plot_latch_accuracy()
except Exception as error:
    not_done_yet("Part 4 (LSTM.forward with batch_first=True)", error)

# %% [raw]
# # BEGIN QUESTION
# name: w3
# manual: true
# points: 0

# %% [markdown]
# **Written question w3.** Why does the tanh RNN fail the latch task at $T = 100$ while the LSTM
# learns it? Use your plots from Parts 3 and 4.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# To learn to latch, the loss at step $T$ must send gradient back to the step where the symbol
# appeared, up to 100 steps earlier. In the RNN that gradient is a product of one Jacobian
# $\operatorname{diag}(1 - h_k^2) W$ per step; its norm shrinks exponentially with the distance
# (the Part 3 plot falls by orders of magnitude), so the signal from distant symbols is lost and
# the noise dominates. The LSTM's cell state is updated additively, and its gradient is scaled by
# the forget gate at each step; with $f$ close to 1 it survives for many steps (the flat LSTM
# curve), so the network can learn to store the symbol and keep it.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: w4
# manual: true
# points: 0

# %% [markdown]
# **Written question w4.** If the symbol is always at step 1 (a fixed lag of $T$ steps), an LSTM
# with PyTorch's initialisation usually stays at chance. Its forget gate starts near
# $\sigma(0) = 0.5$. What does that do to the memory of the first step after 100 steps, and why
# does initialising the forget-gate bias to 1 (or more) help?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# With $f \approx 0.5$ the cell state keeps about $0.5^{99} \approx 10^{-30}$ of what was written at
# step 1, and the gradient along the cell state shrinks by the same factor, so nothing links the
# output to the symbol and training cannot start. With the forget-gate bias at 1, $f \approx
# \sigma(1) = 0.73$ at first and moves towards 1 quickly once it helps; with a bias of 3,
# $f \approx 0.95$. The memory then decays slowly enough for a learning signal to reach step 1,
# and the network can learn to hold the symbol (Gers, Schmidhuber and Cummins, 2000; Jozefowicz
# et al., 2015).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
