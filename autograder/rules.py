"""What graded code may not use, name by name: the rules the static scan (``forbidden``)
applies to each dotted name it resolves, and what a dotted name really stands for.

A module is reachable through any other module that imported it: ``torch.builtins`` is the
``builtins`` module, ``typing.sys`` is ``sys``, ``torch.nn.functional.torch`` is ``torch`` and
``dataclasses.inspect`` is ``inspect``. The scan judges a name by what it is, not by how it is
spelled: ``real_name("torch.builtins.getattr") == "builtins.getattr"``.

The walk follows the judge's own modules, attribute by attribute, through each one's namespace
(``vars``: no ``__getattr__`` runs, and nothing is imported but a root from
``IMPORTABLE_ROOTS``, modules that graded code may import and that have no side effects). At
the first object that is not a module it stops and keeps the rest as spelled. A root it cannot
import keeps the whole name as spelled; ``MODULE_ATTRS`` covers that case and any expression the
scan cannot resolve (``[torch][0].builtins``): an attribute with one of those names is refused
whatever its owner but a method's own ``self``.
"""
from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from types import ModuleType

# modules that hand out the interpreter: never an attribute of anything graded code needs
MODULE_ATTRS = frozenset({
    "builtins", "os", "sys", "posix", "nt", "ctypes", "inspect", "importlib", "gc", "marshal",
    "subprocess", "socket", "signal", "pickle", "shutil", "threading", "multiprocessing",
    "runpy", "pty", "code", "codeop", "pdb", "traceback", "types", "weakref", "io", "site",
    "mmap", "resource", "fcntl", "tempfile", "pathlib", "glob", "zipimport", "pkgutil",
    "sysconfig", "faulthandler", "tracemalloc", "dis", "linecache", "atexit", "asyncio",
    "concurrent", "selectors", "urllib", "http", "ssl", "ftplib", "smtplib",
})


@lru_cache(maxsize=4096)
def real_name(dotted: str) -> str:
    """``dotted`` with every module on its path replaced by the module's own name."""
    parts = dotted.split(".")
    obj = _root(parts[0])
    if obj is None:
        return dotted
    real = obj.__name__
    for i, attr in enumerate(parts[1:], 1):
        if not isinstance(obj, ModuleType):
            return ".".join([real, *parts[i:]])
        child = vars(obj).get(attr, _MISSING)
        if child is _MISSING:  # not there (or only through a module __getattr__): as spelled
            return ".".join([real, *parts[i:]])
        obj = child
        real = obj.__name__ if isinstance(obj, ModuleType) and isinstance(
            getattr(obj, "__name__", None), str) else f"{real}.{attr}"
    return real


_MISSING = object()


def _root(name: str) -> ModuleType | None:
    """The root module, only if it is one of ``IMPORTABLE_ROOTS`` (what else the judge has
    imported must not change the verdict)."""
    if name not in IMPORTABLE_ROOTS:
        return None
    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except Exception:  # not installed here (or broken): judged as spelled
            return None
    return module if isinstance(module, ModuleType) else None


RECURRENT_CLASSES = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNNCellBase"}
RECURRENT_FUNCTIONS = {"lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",
                       "rnn_tanh_cell", "rnn_relu_cell", "quantized_lstm", "quantized_gru",
                       "quantized_lstm_cell", "quantized_gru_cell", "quantized_rnn_tanh_cell",
                       "quantized_rnn_relu_cell", "mkldnn_rnn_layer", "mkldnn_rnn", "miopen_rnn",
                       "cudnn_rnn"}
AUTOGRAD = ("torch.autograd", "torch.enable_grad", "torch.set_grad_enabled", "torch.func",
            "torch.inference_mode", "torch.vmap")
RESTRICTED_TORCH = ("torch.ops", "torch.jit", "torch.hub", "torch.load", "torch.package",
                    "torch.library", "torch.compile", "torch.utils.cpp_extension",
                    "torch.autograd.graph", "torch.nn.modules.module", "torch.overrides",
                    "torch.fx", "torch.export", "torch.serialization", "torch.utils.model_zoo",
                    "torch.multiprocessing", "torch.distributed", "torch.utils.hooks")
# what hands out attributes, objects or code by a name given as a string, or unpickles
RESTRICTED_ELSEWHERE = ("operator.attrgetter", "operator.methodcaller", "string.Formatter",
                        "typing.get_type_hints", "typing.ForwardRef", "numpy.load",
                        "numpy.lib.format", "functools.singledispatch")
ALLOWED_IMPORTS = ("torch", "torch.nn", "torch.optim", "torch.special", "torch.linalg",
                   "torch.fft", "torch.distributions", "torch.testing", "torch.utils.data",
                   "math", "cmath", "numpy", "random", "typing", "typing_extensions",
                   "dataclasses", "functools", "itertools", "collections", "abc", "enum",
                   "numbers", "warnings", "time", "copy", "string", "re", "statistics",
                   "operator", "contextlib", "fractions", "decimal", "textwrap", "pprint",
                   "matplotlib", "otter", "IPython", "tqdm", "scipy", "pandas", "os", "sys",
                   "__future__")
OS_ALLOWED = {"environ", "getenv", "path", "cpu_count", "getcwd", "sep", "linesep", "name"}
SYS_ALLOWED = {"stdout", "stderr", "version", "version_info", "platform", "maxsize",
               "float_info", "float_repr_style", "byteorder"}
DUNDERS_ALLOWED = {"__init__", "__name__", "__class__", "__doc__", "__call__", "__repr__",
                   "__len__", "__qualname__", "__module__", "__version__", "__str__",
                   "__getitem__", "__iter__", "__next__"}
INTROSPECTION = {"cell_contents", "f_globals", "f_locals", "f_back", "f_builtins", "gi_frame",
                 "cr_frame", "tb_frame", "tb_next", "co_code", "co_consts", "func_globals",
                 "ag_frame", "f_code", "gi_code", "cr_code", "ag_code", "f_trace"}
BUILTINS = {"eval": "write the code out", "exec": "write the code out",
            "compile": "write the code out", "__import__": "use an import statement",
            "globals": "use the names directly", "locals": "use the names directly",
            "vars": "use the attributes directly", "breakpoint": "remove it",
            "__builtins__": "use the built-ins directly", "memoryview": "use tensors",
            "setattr": "assign the attribute (obj.name = value)", "delattr": "use del obj.name"}
NAME_BUILTINS = ("getattr", "hasattr")  # fine with a literal name: getattr(self, "bias")
IMPORT_ROOTS = frozenset(m.split(".")[0] for m in ALLOWED_IMPORTS)
# the roots real_name may import: the allowed standard modules, torch and numpy (not matplotlib,
# pandas, IPython...: slow to import, with side effects)
IMPORTABLE_ROOTS = frozenset(r for r in IMPORT_ROOTS if r in sys.stdlib_module_names) | {
    "torch", "numpy"}


def is_under(dotted: str, prefixes) -> bool:
    return any(dotted == p or dotted.startswith(p + ".") for p in prefixes)


def recurrent(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "torch":
        return False
    return "_VF" in parts or parts[-1] in RECURRENT_FUNCTIONS or parts[-1] in RECURRENT_CLASSES


def restricted(dotted: str) -> str | None:
    """Why this resolved name may not be used, or None: judged as spelled and as what it
    really is (``torch.builtins.getattr`` is ``builtins.getattr``)."""
    real = real_name(dotted)
    if real != dotted:
        if real in ("os", "sys"):
            return f"that is {real}: import {real} yourself and use {real}.<name> directly"
        root = real.split(".")[0]
        if root != dotted.split(".")[0] and root not in IMPORT_ROOTS | {"posixpath", "ntpath"}:
            return f"that is {real}, which graded code does not need"
        if (why := _restricted(real)) is not None or recurrent(real) or \
                is_under(real, AUTOGRAD):
            return f"that is {real}" + (f": {why}" if why else "")
    return _restricted(dotted)


def _restricted(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] == "torch" and (any(p.startswith("_") and not p.startswith("__") for p in parts)
                                or is_under(dotted, RESTRICTED_TORCH)):
        return "use PyTorch's public tensor functions"
    if parts[0] == "os" and len(parts) > 1 and parts[1] not in OS_ALLOWED:
        return f"of os, graded code may use only {', '.join(sorted(OS_ALLOWED))}"
    if parts[0] == "sys" and len(parts) > 1 and parts[1] not in SYS_ALLOWED:
        return f"of sys, graded code may use only {', '.join(sorted(SYS_ALLOWED))}"
    if parts[0] in ("builtins", "importlib", "inspect", "ctypes", "gc", "types", "marshal"):
        return "graded code does not need it"
    if is_under(dotted, RESTRICTED_ELSEWHERE):
        return "write the attribute or the call out, so the grader can read it"
    if any(p in MODULE_ATTRS for p in parts[1:]):  # matplotlib.subprocess, numpy.f2py.os...
        return "a module reached through another; graded code does not need it"
    return None
