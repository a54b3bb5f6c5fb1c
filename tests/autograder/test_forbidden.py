"""autograder.forbidden: the static scan finds built-ins however they are imported."""
from __future__ import annotations

import pytest

from autograder.forbidden import MODULE, violations_by_name

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


# -- no false positives: what students write -----------------------------------------------------
CLEAN = {
    "own-backward-layers": (
        "import torch\nclass Affine:\n    def forward(self, x):\n        return x\n"
        "    def backward(self, d):\n        return d\n"
        "def rnn_bptt(x, y, h0, params):\n    layer = Affine()\n    return layer.backward(x)\n"),
    "local-named-grad": (
        "import torch\nfrom torch.autograd import grad\n"
        "def rnn_bptt(x, y, h0, params):\n    grad = x * 2\n    return grad.sum(), {}\n"),
    "annotation-only": (
        "import torch\nfrom torch import nn\ndef describe(layer: nn.LSTM) -> nn.LSTM:\n"
        "    return layer\nclass LSTM(nn.Module):\n    def forward(self, x):\n"
        "        describe(self)\n        return x\n"),
    "super-init-and-self-lstm": (
        "import torch\nfrom torch import nn\nclass BiLSTMClassifier(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.lstm = None\n"
        "    def forward(self, x):\n        return self.lstm(x)\n"),
    "getattr-literal": (
        "import torch\nclass LSTMCell(torch.nn.Module):\n    def forward(self, x):\n"
        "        b = getattr(self, 'bias_ih', None)\n        return x if b is None else x + b\n"),
    "os-environ-and-setup": (
        "import os\nimport math\nimport matplotlib.pyplot as plt\nfrom dataclasses import "
        "dataclass\nFAST = os.environ.get('RNNGRADE_FAST')\nsigmoid = torch.nn.Sigmoid() if False "
        "else None\n"),
    "nn-functional-and-init": (
        "import torch\nimport torch.nn.functional as F\nfrom torch.nn import init\n"
        "def rnn_forward(x, h0, p):\n    init.zeros_(h0)\n    return F.softmax(x, -1), x\n"),
    "no-grad-in-bptt": (
        "import torch\ndef rnn_bptt(x):\n    with torch.no_grad():\n        return x * 2\n"),
    "scratch-cell-backward": (
        "import torch\ndef rnn_bptt(x):\n    return x\nloss = torch.ones(1, requires_grad=True)\n"
        "(loss * 2).sum().backward()\n"),
}


@pytest.mark.parametrize("source", list(CLEAN.values()), ids=list(CLEAN))
def test_ordinary_student_code_is_not_a_violation(source):
    assert violations_by_name(source, forbid_autograd={"rnn_bptt"}) == {}


# -- evasions: each is found, and named where it is --------------------------------------------
EVASIONS = {
    "vf-through-c": ("import torch\ndef LSTM(x):\n    return torch._C._VariableFunctions.lstm(x)\n",
                     "LSTM", "recurrent"),
    "closure-of-guard": ("import torch\nclass LSTM:\n    g = torch.lstm.__closure__\n",
                         MODULE, "restricted"),
    "module-alias-by-assignment": ("import torch\nn = torch.nn\nL = n.LSTM\ndef LSTM(x):\n"
                                   "    return L(1, 1)(x)\n", "LSTM", "recurrent"),
    "computed-getattr": ("import torch\ndef LSTM(x):\n    return getattr(torch.nn, 'LS' + 'TM')\n",
                         "LSTM", "restricted"),
    "getattr-literal-builtin": ("import torch\ndef LSTM(x):\n    return getattr(torch.nn, 'LSTM')\n",
                                "LSTM", "recurrent"),
    "set-grad-enabled": ("import torch\ndef rnn_bptt(x):\n    with torch.set_grad_enabled(True):\n"
                         "        return x\n", "rnn_bptt", "autograd"),
    "autograd-in-helper": ("import torch\ndef helper(l, p):\n    return torch.autograd.grad(l, p)\n"
                           "def rnn_bptt(l, p):\n    return helper(l, p)\n", "rnn_bptt", "autograd"),
    "autograd-in-decorator": ("import torch\ndef wrap(f):\n    def g(*a):\n        a[0].backward()\n"
                              "        return f(*a)\n    return g\n@wrap\ndef rnn_bptt(l):\n"
                              "    return l\n", "rnn_bptt", "autograd"),
    "eval": ("def rnn_forward(x):\n    return eval('x')\n", "rnn_forward", "restricted"),
    "sys-modules": ("import sys\ndef f():\n    return sys.modules['torch']\n", "f", "restricted"),
    "import-importlib": ("import importlib\n", MODULE, "restricted"),
    "torch-jit": ("import torch\ndef f(m):\n    return torch.jit.script(m)\n", "f", "restricted"),
    "star-import": ("from torch.nn import *\n", MODULE, "restricted"),
    "through-a-container": ("import torch\ndef LSTM(x):\n    return [torch.nn][0].LSTM(1, 1)\n",
                            "LSTM", "recurrent"),
    "class-body-runs-at-import": ("import os\nclass A:\n    os._exit(0)\n", MODULE, "restricted"),
    "default-argument": ("import torch\ndef f(x, g=torch.nn.GRUCell):\n    return g(1, 1)(x)\n",
                         "f", "recurrent"),
    "alias-of-a-class": ("import torch\nclass Mine(torch.nn.LSTM):\n    pass\nLSTM = Mine\n",
                         "LSTM", "recurrent"),
}


@pytest.mark.parametrize("source,name,rule", list(EVASIONS.values()), ids=list(EVASIONS))
def test_evasions_are_found_where_they_are(source, name, rule):
    found = violations_by_name(source, forbid_autograd={"rnn_bptt"})
    if name == MODULE:  # code that runs at import: that statement is refused
        assert any(k.startswith(MODULE) and v.rule == rule for k, v in found.items()), found
    else:
        assert name in found, found
        assert found[name].rule == rule


def test_scratch_statements_that_break_a_rule_are_refused_not_the_parts():
    from autograder.forbidden import check

    src = ("import torch\nfrom torch import nn\ndef LSTM(x):\n    return x\n"
           "ref = nn.LSTM(2, 3)\nprint(torch.__version__)\nloss = torch.ones(1)\n"
           "loss.backward()\n")
    found = check(src, {"rnn_bptt"})
    assert found.parts == {}
    assert sorted(found.refused) == [5]  # nn.LSTM in a scratch cell; __version__ and backward ok


def test_a_violation_says_what_to_write_instead():
    found = violations_by_name("import torch\ndef f(x):\n    return getattr(x, name)\n")
    assert "write the attribute out" in found["f"].instead and found["f"].line == 3


def test_a_helper_modules_definitions_are_the_students_and_are_scanned_with_theirs():
    src = ("import torch\n\ndef step(x):\n    return torch.nn.LSTM(2, 3)(x)\n\n"  # helpers.py
           "import helpers\nfrom helpers import step as s\n\n"
           "def rnn_forward(x):\n    return s(x)\n\ndef LSTM(x):\n    return helpers.step(x)\n\n"
           "def other(x):\n    return x\n")
    found = violations_by_name(src, local=frozenset({"helpers"}))
    assert {"step", "rnn_forward", "LSTM"} <= set(found) and "other" not in found
    assert not any(k.startswith("<module>") for k in found)  # import helpers is allowed
