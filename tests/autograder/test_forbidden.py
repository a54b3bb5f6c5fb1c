"""autograder.forbidden: the static scan finds built-ins however they are imported."""
from __future__ import annotations

import pytest

from autograder.forbidden import violations_by_name

CASES = [
    ("import torch.nn as nn\nclass LSTM:\n    def f(self):\n        return nn.LSTM(1, 1)",
     "LSTM", "torch.nn.LSTM"),
    ("from torch.nn import LSTMCell as Cell\ndef f():\n    return Cell(1, 1)", "f",
     "torch.nn.LSTMCell"),
    ("import torch\ndef f(x):\n    return torch.lstm(x)", "f", "torch.lstm"),
    ("import torch\ndef f(x):\n    return torch._VF.gru_cell(x)", "f", "torch._VF.gru_cell"),
    ("from torch import nn\ndef f():\n    return nn.modules.rnn.GRU(1, 1)", "f",
     "torch.nn.modules.rnn.GRU"),
    ("import torch\ndef helper():\n    return torch.nn.GRUCell(1, 1)\n"
     "class GRUCell:\n    def forward(self):\n        return helper()", "GRUCell",
     "torch.nn.GRUCell (through helper)"),
]


@pytest.mark.parametrize("source,name,what", CASES,
                         ids=["alias", "from-import", "torch.lstm", "_VF", "modules.rnn",
                              "through-helper"])
def test_recurrent_builtins_are_found(source, name, what):
    found = violations_by_name(source)
    assert found[name].what == what


def test_own_classes_named_like_builtins_are_allowed():
    src = ("import torch\nfrom torch import nn\nclass LSTMCell(nn.Module):\n    pass\n"
           "class LSTM(nn.Module):\n    def forward(self, x):\n        c = LSTMCell()\n"
           "        return torch.tanh(nn.functional.linear(x, x))\n")
    assert violations_by_name(src) == {}


@pytest.mark.parametrize("body,what", [
    ("loss.backward()", "loss.backward"),
    ("torch.autograd.grad(loss, [x])", "torch.autograd.grad"),
    ("with torch.enable_grad():\n        pass", "torch.enable_grad"),
], ids=["backward", "autograd.grad", "enable_grad"])
def test_autograd_is_found_only_where_forbidden(body, what):
    src = f"import torch\ndef rnn_bptt(loss, x):\n    {body}\ndef other(loss, x):\n    {body}\n"
    found = violations_by_name(src, forbid_autograd={"rnn_bptt"})
    assert found["rnn_bptt"].what.startswith(what)
    assert "other" not in found


def test_no_grad_is_allowed_in_bptt():
    src = "import torch\ndef rnn_bptt(x):\n    with torch.no_grad():\n        return x * 2\n"
    assert violations_by_name(src, forbid_autograd={"rnn_bptt"}) == {}


def test_each_violation_says_which_rule_it_breaks():
    src = ("import torch\nfrom torch import nn\ndef rnn_bptt(inner):\n    inner.backward()\n"
           "def LSTM(x):\n    return nn.LSTM(1, 1)(x)\n")
    found = violations_by_name(src, forbid_autograd={"rnn_bptt"})
    assert found["rnn_bptt"].rule == "autograd"  # "inner" contains "nn": no longer misread
    assert found["LSTM"].rule == "recurrent"
