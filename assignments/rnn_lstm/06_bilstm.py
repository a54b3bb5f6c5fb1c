# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# ## Part 6: the bidirectional LSTM
#
# A bidirectional layer runs a second LSTM (parameters `..._reverse`) from $t = T$ down to $t = 1$
# and concatenates the two hidden states at each step: `output[t] = [forward h_t, backward h_t]`,
# `(T, B, 2H)`. `h_n` and `c_n` are `(num_layers * 2, B, H)`, ordered layer by layer, forward
# before backward. Make your Part 4 `LSTM` handle `bidirectional=True` (the skeleton already makes
# the `_reverse` parameters).
#
# `BiLSTMClassifier` is the lecture's many-to-one BiRNN: it classifies a whole sequence from the
# last layer's final forward state and final backward state, `h_n[-2]` and `h_n[-1]`.

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 14

# %% [markdown]
# **6.1** Write `BiLSTMClassifier.forward(x)`: `x` `(B, T, I)` -> logits `(B, K)`, from your
# `LSTM` (made in the skeleton with `batch_first=True, bidirectional=True`) and `self.fc`.

# %% [raw]
# # BEGIN SOLUTION

# %% rnngrade={"role": "answer", "part": "BiLSTMClassifier"}
class BiLSTMClassifier(nn.Module):
    """Many-to-one: x (B, T, I) -> logits (B, num_classes) from the final forward and backward states."""

    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True,
                         bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x):
        # BEGIN SOLUTION NO PROMPT
        out, _ = self.lstm(x)
        H = self.lstm.hidden_size
        # the forward half after the last step, the backward half after the first step
        features = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)
        return self.fc(features)
        # END SOLUTION
        """ # BEGIN PROMPT
        raise NotImplementedError("Part 6: write BiLSTMClassifier.forward")
        """ # END PROMPT


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_bidirectional_lstm_shapes(LSTM, torch):
    lstm = LSTM(3, 5, num_layers=2, bidirectional=True)
    out, (h_n, c_n) = lstm(torch.randn(7, 2, 3))
    assert tuple(out.shape) == (7, 2, 10), f"output: expected (T, B, 2H) = (7, 2, 10), got {tuple(out.shape)}"
    assert tuple(h_n.shape) == (4, 2, 5) == tuple(c_n.shape), \
        f"h_n, c_n: expected (num_layers * 2, B, H) = (4, 2, 5), got {tuple(h_n.shape)}"


# %%
def test_bilstm_classifier_shape(BiLSTMClassifier, torch):
    logits = BiLSTMClassifier(3, 5, 2, 4)(torch.randn(2, 7, 3))
    assert tuple(logits.shape) == (2, 4), f"expected logits (B, K) = (2, 4), got {tuple(logits.shape)}"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: w2
# manual: true
# points: 0

# %% [markdown]
# **Written question w2.** Why would `self.fc(out[:, -1, :])` be a poor classifier input for a
# bidirectional LSTM, even though its forward half is fine?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown] rnngrade={"role": "written"}
# At the last position the backward direction has just started: its hidden state there has read
# one token only (the last one), so half of the features know almost nothing about the sequence.
# The backward direction's summary of the whole sequence is its state after reaching $t = 1$,
# which is `out[:, 0, H:]` = `h_n[-1]`; the forward summary is `out[:, -1, :H]` = `h_n[-2]`.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
