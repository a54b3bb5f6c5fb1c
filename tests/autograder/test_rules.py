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
                              "def f(x):\n    return x.io",
    "F.linear": "import torch.nn.functional as F\ndef f(x, w):\n    return F.linear(x, w)",
    "nn.init": "from torch import nn\ndef f(w):\n    return nn.init.xavier_uniform_(w)",
}


@pytest.mark.parametrize("source", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_module_use_is_allowed(source):
    assert violations_by_name(source) == {}
