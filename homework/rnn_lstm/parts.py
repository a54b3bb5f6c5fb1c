"""The parts of the homework (HOMEWORK.md): the names students implement, by part."""
from __future__ import annotations

from autograder.spec import Part

PARTS = (
    Part(1, "Vanilla RNN", ("rnn_param_count", "rnn_forward")),
    Part(2, "Backpropagation through time, by hand", ("rnn_bptt",)),
    Part(3, "Vanishing gradients", ("hidden_grad_norms",)),
    Part(4, "LSTM", ("LSTMCell", "LSTM")),
    Part(5, "LSTM variants and GRU", ("PeepholeLSTMCell", "CoupledLSTMCell", "GRUCell")),
    Part(6, "BiLSTM", ("BiLSTMClassifier",)),
    Part(7, "Long-range dependencies", ("LSTM",)),
)
