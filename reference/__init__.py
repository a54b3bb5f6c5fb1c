"""The instructor's reference solution of the homework "Recurrent networks" (see HOMEWORK.md).

Depends on torch alone. Every name students implement is exported here, so this package can be
graded exactly as a student's submission would be.
"""
from .bilstm import BiLSTMClassifier
from .bptt import rnn_bptt
from .gru import GRU, GRUCell, LectureGRUCell
from .lstm import LSTM, LSTMCell
from .lstm_variants import CoupledLSTM, CoupledLSTMCell, PeepholeLSTM, PeepholeLSTMCell
from .rnn import hidden_grad_norms, rnn_forward, rnn_param_count

__all__ = [
    "rnn_param_count", "rnn_forward", "rnn_bptt", "hidden_grad_norms",  # Parts 1-3
    "LSTMCell", "LSTM",  # Part 4
    "PeepholeLSTMCell", "CoupledLSTMCell", "GRUCell",  # Part 5
    "BiLSTMClassifier",  # Part 6
    "PeepholeLSTM", "CoupledLSTM", "GRU", "LectureGRUCell",  # beyond the student API
]
