"""Static scan for what a part may not use: PyTorch's recurrent built-ins, and (in ``rnn_bptt``)
autograd. A part is the student's top-level definition plus every top-level definition it refers
to, transitively, so a helper that calls ``nn.LSTM`` taints the part that uses it.

The worker's runtime guard catches what a static scan cannot see (``getattr`` tricks)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

RECURRENT = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase"}
TORCH_FUNCTIONS = {"lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",
                   "rnn_tanh_cell", "rnn_relu_cell", "_VF"}
AUTOGRAD = {"backward", "autograd", "enable_grad", "func"}  # torch.<these>, and x.backward()
AUTOGRAD_IMPORTS = ("torch.autograd", "torch.enable_grad", "torch.func")  # imported by name


@dataclass(frozen=True)
class Violation:
    name: str  # the student's top-level definition where it was found
    what: str  # e.g. "torch.nn.LSTM"
    line: int
    rule: str = "recurrent"  # "recurrent" (PyTorch's recurrent layers) or "autograd"


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Top-level import aliases: ``nn`` -> ``torch.nn``, ``TorchLSTM`` -> ``torch.nn.LSTM``."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _is_recurrent_builtin(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "torch":
        return False
    if "_VF" in parts or "rnn" in parts[:-1] and parts[-1] in RECURRENT:
        return True
    if parts[-1] in RECURRENT and len(parts) >= 2 and parts[-2] in ("nn", "modules"):
        return True
    return len(parts) == 2 and parts[1] in TORCH_FUNCTIONS or \
        (len(parts) >= 3 and parts[-1] in TORCH_FUNCTIONS and parts[-2] in ("aten", "_C"))


def _uses_autograd(dotted: str, attr_only: str | None) -> bool:
    parts = dotted.split(".") if dotted else []
    if parts[:1] == ["torch"] and len(parts) >= 2 and parts[1] in AUTOGRAD:
        return True
    return attr_only == "backward"


def scan(source: str, forbid_autograd: set[str] = frozenset()) -> list[Violation]:
    """Every violation, attributed to the top-level definition it is in (transitively)."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    defs = {n.name: n for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    direct: dict[str, list[Violation]] = {}
    refs: dict[str, set[str]] = {}
    for name, node in defs.items():
        found, imported_autograd, used = [], [], set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                used.add(sub.id)
                target = aliases.get(sub.id)
                if target and _is_recurrent_builtin(target):
                    found.append(Violation(name, target, sub.lineno))
                elif name in forbid_autograd and target and target.startswith(AUTOGRAD_IMPORTS):
                    imported_autograd.append(Violation(name, target, sub.lineno, "autograd"))
            elif isinstance(sub, ast.Attribute):
                dotted = _dotted(sub, aliases) or ""
                if dotted and _is_recurrent_builtin(dotted):
                    found.append(Violation(name, dotted, sub.lineno))
                elif name in forbid_autograd and _uses_autograd(dotted, sub.attr):
                    found.append(Violation(name, dotted or f".{sub.attr}", sub.lineno, "autograd"))
        direct[name] = found + imported_autograd
        refs[name] = used & set(defs) - {name}
    return [v for name in defs for v in _closure(name, direct, refs)]


def _closure(name, direct, refs) -> list[Violation]:
    seen, stack, out = {name}, [name], []
    while stack:
        cur = stack.pop()
        out += [Violation(name, v.what, v.line, v.rule) if cur == name else
                Violation(name, f"{v.what} (through {cur})", v.line, v.rule) for v in direct[cur]]
        for r in refs[cur] - seen:
            seen.add(r)
            stack.append(r)
    return out


def violations_by_name(source: str, forbid_autograd: set[str] = frozenset()) -> dict[str, Violation]:
    """The first violation of each top-level definition that has one."""
    out: dict[str, Violation] = {}
    for v in scan(source, forbid_autograd):
        out.setdefault(v.name, v)
    return out
