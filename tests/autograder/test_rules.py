"""autograder.rules: a name is judged by what it is, not by how it is spelled. A module that
another module imported (``torch.builtins`` is ``builtins``) is reached through it."""
from __future__ import annotations

import pytest

from autograder.forbidden import violations_by_name
from autograder.rules import real_name


@pytest.mark.parametrize("dotted,real", [
    ("torch.builtins.getattr", "builtins.getattr"),
    ("typing.sys.modules", "sys.modules"),
    ("torch.nn.functional.torch.lstm", "torch.lstm"),
    ("dataclasses.inspect.stack", "inspect.stack"),
    ("torch.nn.functional.linear", "torch.nn.functional.linear"),
    ("torch.random.manual_seed", "torch.random.manual_seed"),
    ("math.sqrt", "math.sqrt"),
    ("torch.no_such_thing.x", "torch.no_such_thing.x"),
    ("not_a_module_anywhere.x", "not_a_module_anywhere.x"),
], ids=["torch.builtins", "typing.sys", "F.torch", "dataclasses.inspect", "F.linear",
        "torch.random", "math", "missing-attribute", "unknown-root"])
def test_real_name_replaces_each_module_by_its_own_name(dotted, real):
    assert real_name(dotted) == real


def test_real_name_imports_no_module_outside_the_harmless_roots():
    import sys

    before = set(sys.modules)
    real_name("antigravity.fly")
    real_name("this.s")
    assert {"antigravity", "this"}.isdisjoint(set(sys.modules) - before)


# the interpreter reached through a module graded code may import: each must cost the part
THROUGH = {
    "torch.builtins": "import torch\ndef f(x):\n    g = torch.builtins.getattr\n"
                      "    return g(g(torch, '_C'), '_VariableFunctions')",
    "torch.os": "import torch\ndef f(x):\n    return torch.os.system('true')",
    "torch.ctypes": "import torch\ndef f(x):\n    return torch.ctypes.CDLL(None)",
    "torch.inspect": "import torch\ndef f(x):\n    return torch.inspect.getclosurevars(f)",
    "typing.sys": "import typing\ndef f(x):\n    return typing.sys.modules['os']",
    "warnings.sys": "import warnings\ndef f(x):\n    return warnings.sys.modules",
    "from-typing-import-sys": "from typing import sys\ndef f(x):\n    return sys.modules",
    "getattr-literal": "import torch\ndef f(x):\n    return getattr(torch, 'builtins').eval('1')",
    "F.torch.lstm": "import torch.nn.functional as F\ndef f(x):\n    return F.torch.lstm(x)",
    "alias-then-attribute": "import torch\nt = torch\ndef f(x):\n    return t.os.getpid()",
    "unresolved-base": "import torch\ndef f(x):\n    return [torch][0].builtins.getattr",
    "call-result-base": "import torch\ndef f(x):\n    return (lambda: torch)().sys.modules",
}


@pytest.mark.parametrize("source", THROUGH.values(), ids=THROUGH.keys())
def test_a_module_reached_through_another_is_found(source):
    found = violations_by_name(source)
    assert "f" in found, found
    assert found["f"].rule in ("restricted", "recurrent")


# what students write: none of it reaches a module through another
ORDINARY = {
    "numpy-array": "import numpy as np\ndef f(x):\n    return np.array([1.0])",
    "torch.random": "import torch\ndef f(x):\n    torch.random.manual_seed(0)\n    return x",
    "collections.abc": "import collections\ndef f(x):\n    return collections.abc.Mapping",
    "os.path.join": "import os\ndef f(x):\n    return os.path.join('a', 'b')",
    "functools.reduce": "import functools\ndef f(x):\n    return functools.reduce(max, x)",
    "tensor.select": "import torch\ndef f(x):\n    return x.select(0, 1)",
    "own-attribute-named-io": "class Net:\n    def __init__(self):\n        self.io = 1\n"
                              "    def f(self, x):\n        return self.io",
    "F.linear": "import torch.nn.functional as F\ndef f(x, w):\n    return F.linear(x, w)",
    "nn.init": "from torch import nn\ndef f(w):\n    return nn.init.xavier_uniform_(w)",
}


@pytest.mark.parametrize("source", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_module_use_is_allowed(source):
    assert violations_by_name(source) == {}


# each way of reaching a forbidden thing that the scan once missed (one per category)
EVASIONS = {
    "annotation-runs": ("import torch\ndef f(x: __import__('os').getpid()):\n    return x", "f"),
    "module-annassign": ("import torch\nx: __import__('os').system('true') = 1\n"
                         "def f(x):\n    return x", "<module>:2"),
    "type-hints-eval": ("import typing\ndef f(x):\n    return typing.get_type_hints(f)", "f"),
    "match-class-keyword": ("import torch\ndef f(x):\n    match torch:\n"
                            "        case object(lstm=k):\n            return k(x)", "f"),
    "attrgetter": ("import operator, torch\ndef f(x):\n"
                   "    return operator.attrgetter('_VF.lstm')(torch)", "f"),
    "formatter": ("import string\ndef f(x):\n    return string.Formatter().get_field("
                  "'0.x', (x,), {})", "f"),
    "getattr-as-value": ("import functools, torch\ndef f(x):\n"
                         "    return functools.reduce(getattr, ['nn', 'LSTM'], torch)", "f"),
    "dead-import-rebinds": ("import torch\nM = [torch][0]\nif False:\n    import math as M\n"
                            "def f(x):\n    return M.builtins.eval('1')", "f"),
    "global-rebind": ("import math as M\nimport torch\ndef g():\n    global M\n"
                      "    M = [torch][0]\ndef f(x):\n    return M.os.getpid()", "f"),
    "dead-def-shadows-import": ("from torch import lstm as kernel\nif False:\n"
                                "    def kernel():\n        pass\n"
                                "def f(x):\n    return kernel(x)", "f"),
    "comprehension-first-iterable": ("import os\ndef f(x):\n"
                                     "    return [os for os in [os.system]][0]('true')", "f"),
    "parameter-named-self": ("import torch\ndef f(x, self=torch):\n    return self._VF.lstm(x)",
                             "f"),
    "lambda-named-cls": ("import typing\ndef f(x):\n"
                         "    return (lambda cls: cls.sys.modules)(typing)", "f"),
    "own-attribute-exempts-name": ("import torch\nclass Net:\n    def __init__(self):\n"
                                   "        self._VF = 1\ndef f(x):\n    t = [torch][0]\n"
                                   "    return t._VF.lstm(x)", "f"),
    "spelled-root-chain": ("import matplotlib\ndef f(x):\n"
                           "    return matplotlib.subprocess.run(['true'])", "f"),
    "numpy-lazy-submodule": ("import numpy\ndef f(x):\n    return numpy.f2py.os.system('true')",
                             "f"),
    "fused-kernel-by-other-name": ("import torch\ndef f(x):\n"
                                   "    return torch.mkldnn_rnn_layer(x)", "f"),
    "overridable-functions": ("import torch\ndef f(x):\n"
                              "    return torch.overrides.get_overridable_functions()", "f"),
    "no-grad-prev": ("import torch\ndef rnn_bptt(x):\n    ng = torch.no_grad()\n"
                     "    with ng:\n        ng.prev = True\n    return x", "rnn_bptt"),
    "grad-fn-called": ("import torch\ndef rnn_bptt(x):\n    return x.grad_fn(x)", "rnn_bptt"),
    "unpickle": ("import numpy\ndef f(x):\n    return numpy.load(x, allow_pickle=True)", "f"),
    "serialization-load": ("import torch\ndef f(x):\n    return torch.serialization.load(x)",
                           "f"),
    "sys-path-changed": ("import sys\ndef f(x):\n    sys.path.insert(0, '/tmp')\n    return x",
                         "f"),
}


@pytest.mark.parametrize("source,where", EVASIONS.values(), ids=EVASIONS.keys())
def test_each_evasion_is_found_where_it_is(source, where):
    found = violations_by_name(source, forbid_autograd={"rnn_bptt"})
    assert where in found, found


TYPED = {
    "tensor-annotations": "import torch\ndef f(x: torch.Tensor, h: 'torch.Tensor | None' = None"
                          ") -> tuple[torch.Tensor, torch.Tensor]:\n    return x, x",
    "typing-annotations": "from typing import Literal, Optional\nimport torch\n"
                          "def f(x: Optional[int], k: Literal[-1] = -1) -> int | None:\n"
                          "    y: list[int] = []\n    return x",
    "match-on-strings": "import torch\ndef f(x, kind):\n    match kind:\n"
                        "        case 'tanh':\n            return torch.tanh(x)\n"
                        "        case other:\n            return x",
    "comprehension-over-outer": "import torch\ndef f(xs):\n"
                                "    return [torch.tanh(x) for x in xs if x.numel()]",
    "own-self-computed-getattr": "class Net:\n    def f(self, k):\n"
                                 "        return getattr(self, f'weight_ih_l{k}')",
    "reassigned-local": "import torch\ndef f(x, h):\n    h = torch.tanh(h)\n    h = h * x\n"
                        "    return h",
}


@pytest.mark.parametrize("source", TYPED.values(), ids=TYPED.keys())
def test_annotations_patterns_and_rebinding_that_students_write_are_allowed(source):
    assert violations_by_name(source, forbid_autograd={"rnn_bptt"}) == {}
