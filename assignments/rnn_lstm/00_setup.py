# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: rnn_lstm
# init_cell: true
# check_all_cell: true
# run_tests: false
# generate: false
# show_question_points: true
# tests:
#     files: false
#     ok_format: false
# export_cell:
#     pdf: false
#     run_tests: false
#     instructions: "First Kernel, Restart and Run All; the cell above these lines then reruns every public test. Upload the zip file the cell below makes to Gradescope (or submit the notebook itself). Your written answers travel inside the notebook: no PDF is made (that would need LaTeX on your machine)."

# %% [markdown]
# # Homework: recurrent networks (RNNs, BPTT, LSTMs, GRUs, BiLSTMs)
#
# This homework follows the lecture on recurrent networks. You will write, from the equations:
#
# | Part | You write | Points |
# |---|---|---|
# | 1. Vanilla RNN | `rnn_param_count`, `rnn_forward` | 11 |
# | 2. Backpropagation through time, by hand | `rnn_bptt` | 13 |
# | 3. Vanishing gradients | `hidden_grad_norms` | 7 |
# | 4. LSTM | `LSTMCell.forward`, `LSTM.forward` | 25 |
# | 5. LSTM variants and GRU | `PeepholeLSTMCell`, `CoupledLSTMCell`, `GRUCell` (`forward`) | 24 |
# | 6. BiLSTM | bidirectional `LSTM`, `BiLSTMClassifier.forward` | 14 |
# | 7. Long-range dependencies | nothing new: the grader trains *your* `LSTM` | 6 |
#
# **How you are graded.** The cells below `grader.check(...)` run *public* tests, a few seconds in
# all: shapes, sanity, and agreement with PyTorch's `nn.LSTMCell`, `nn.LSTM` and `nn.GRUCell` on
# public inputs with the same weights (so a gate in the wrong place shows up before you submit). After you submit, hidden tests compare your code with
# PyTorch's `nn.LSTM`, `nn.GRUCell` and with the course's reference, in float32 and float64, check
# every gradient, and train your `LSTM` on the adding problem. Passing the public tests does not
# mean full marks; the feedback after submission tells you what is wrong, and often why.
#
# **Setup.** The notebook needs `torch`, `matplotlib` and `otter-grader` (for the checks and the
# export): `pip install torch matplotlib otter-grader` if your environment lacks them. A CPU is
# enough; the whole notebook runs in a few minutes.
#
# **Rules.**
# * Tensors in, tensors out, on the device and in the dtype of the inputs: never write
#   `torch.zeros(B, H)` (always float32 on the CPU); write `x.new_zeros(B, H)`.
# * Do not call PyTorch's recurrent layers for the part you implement (`nn.RNN`, `nn.LSTM`,
#   `nn.GRU`, `nn.*Cell`, `torch.lstm`, ...): the grader rejects that part. `nn.Linear`,
#   `F.linear`, `torch.sigmoid`, `torch.tanh` and friends are fine.
# * Write your code only where it says so. Keep the function and class names; the grader reads
#   the cells marked as answers, and only the definitions in them (`def`, `class`, `import`).

# %% rnngrade={"role": "setup"}
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# %% rnngrade={"role": "instructor"}
# Helpers for the experiments and plots below (not graded; nothing to change here).
# FAST is for the course's own automatic checks: it shrinks every experiment to a few steps.
import time

import matplotlib.pyplot as plt

FAST = os.environ.get("RNNGRADE_FAST") == "1"
torch.manual_seed(0)
# The experiments' models are tiny: one thread is fastest (torch's default of one thread per core
# runs them up to 20x slower on a shared 2-core machine, where the other cores are busy).
torch.set_num_threads(1)


def random_rnn(B, T, I, H, K, seed=0, w_scale=1.0):
    """A random RNN and data for it: x (B, T, I), y (B, T) int64, h0 (B, H) zeros, params."""
    g = torch.Generator().manual_seed(seed)
    params = {"U": torch.randn(H, I, generator=g) / math.sqrt(I),
              "W": w_scale * torch.randn(H, H, generator=g) / math.sqrt(H),
              "V": torch.randn(K, H, generator=g) / math.sqrt(H),
              "b": 0.1 * torch.randn(H, generator=g), "c": 0.1 * torch.randn(K, generator=g)}
    x, y = torch.randn(B, T, I, generator=g), torch.randint(0, K, (B, T), generator=g)
    return x, y, torch.zeros(B, H), params


def not_done_yet(what, error):
    """The message a plot shows instead of a traceback while your code is unfinished."""
    plt.close("all")
    if isinstance(error, NotImplementedError):
        print(f"Plot skipped: finish {what} first, then run this cell again.")
    else:
        print(f"Plot skipped: {what} raised {type(error).__name__}: {error}\n"
              "Run the public tests of that part to find the problem.")
