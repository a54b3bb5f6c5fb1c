"""Name resolution as Python scopes it, for the static scan: what each name in the student's
module stands for (an imported object's dotted path, one of the student's own top-level
definitions, or a local value), module, function, class and comprehension scopes apart."""
from __future__ import annotations

import ast
from dataclasses import dataclass


LOCAL = "student-module:"  # what a name bound to one of the student's helper modules stands for


class ClassTable(dict):
    """A class body's names: seen by its own statements, not by its methods."""


class Scopes:
    """Name -> what it stands for ("torch.nn.LSTM", a student definition "student:f", or None
    for a local value), per scope, as Python resolves them."""

    def __init__(self, tree: ast.Module, local: frozenset[str] = frozenset()):
        self.local = local  # the student's own helper modules (a zip's helpers.py): their code
        # a name bound to different things in one scope (an import and a dead ``def``, a
        # ``global`` rebinding...): a local value for resolution, each meaning judged besides
        self.several: dict[tuple[int, str], set[str | None]] = {}
        self.module: dict[str, str | None] = {}
        self.scopes: dict[ast.AST, dict[str, str | None]] = {}
        self._bind(tree.body, self.module)

    def _bind(self, body, table) -> None:
        for node in body:
            for sub in self._own_nodes(node):
                self._bind_one(sub, table)

    def _own_nodes(self, node):
        """Nodes of ``node`` that bind in the current scope (not inside nested scopes)."""
        stack = [node]
        while stack:
            n = stack.pop()
            yield n
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                self._new_scope(n)
                continue
            if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                self._new_scope(n)
                continue
            stack.extend(ast.iter_child_nodes(n))

    def _new_scope(self, n) -> None:
        if n in self.scopes:
            return
        table: dict[str, str | None] = {}
        self.scopes[n] = table
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = n.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None:
                    self._set(table, arg.arg, None)
            body = n.body if isinstance(n.body, list) else [n.body]
        elif isinstance(n, ast.ClassDef):
            body = n.body
        else:  # comprehension: its targets are its own
            for gen in n.generators:
                for t in ast.walk(gen.target):
                    if isinstance(t, ast.Name):
                        self._set(table, t.id, None)
            body = [ast.Expr(e) for e in ([n.key, n.value] if isinstance(n, ast.DictComp)
                                          else [n.elt])]
            body += [ast.Expr(c) for gen in n.generators for c in [gen.iter, *gen.ifs]]
        self._bind(body, table)

    def _bind_one(self, n, table) -> None:
        if isinstance(n, ast.Import):
            for a in n.names:
                self._set(table, a.asname or a.name.split(".")[0], LOCAL if a.name in self.local
                          else a.name if a.asname else a.name.split(".")[0])
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            for a in n.names:
                if a.name != "*":  # a helper module's names are the student's definitions
                    self._set(table, a.asname or a.name, f"student:{a.name}"
                              if n.module in self.local else f"{n.module}.{a.name}")
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._set(table, n.name, f"student:{n.name}" if table is self.module else None)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):  # bound elsewhere: a value everywhere
            for name in n.names:
                self._set(table, name, None)
                self._set(self.module, name, None)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            self._set(table, n.name, None)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            self._set(table, n.rest, None)
        elif isinstance(n, ast.Assign):
            for target in n.targets:
                self._assign(target, n.value, table)
        elif isinstance(n, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and \
                isinstance(n.target, ast.Name):
            self._set(table, n.target.id, None)
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.ExceptHandler)):
            targets = [n.target] if isinstance(n, (ast.For, ast.AsyncFor)) else \
                [i.optional_vars for i in getattr(n, "items", [])] if not \
                isinstance(n, ast.ExceptHandler) else []
            if isinstance(n, ast.ExceptHandler) and n.name:
                self._set(table, n.name, None)
            for t in targets:
                for x in ast.walk(t) if t is not None else []:
                    if isinstance(x, ast.Name):
                        self._set(table, x.id, None)

    def _assign(self, target, value, table) -> None:
        if isinstance(target, ast.Name):
            # an alias keeps what it stands for (L = nn.LSTM); anything else is a local value
            self._set(table, target.id, self.resolve_in(value, [table, self.module])
                      if isinstance(value, (ast.Name, ast.Attribute)) else None)
        else:
            for x in ast.walk(target):
                if isinstance(x, ast.Name):
                    self._set(table, x.id, None)

    def _set(self, table, name: str, value: str | None) -> None:
        key = (id(table), name)
        if key in self.several or name in table and table[name] != value:
            self.several.setdefault(key, {table.get(name)}).add(value)
            table[name] = None
        else:
            table[name] = value

    def meanings(self, node, chain) -> set[str]:
        """What an expression ``a.b.c`` may stand for when ``a`` is bound to several things
        in its scope (each import among them, with ``.b.c``); empty otherwise."""
        name, attrs, table = _lookup(node, chain)
        found = self.several.get((id(table), name), ()) if table is not None else ()
        return {".".join([m, *attrs]) for m in found
                if m and m != LOCAL and not m.startswith("student:")}

    def resolve_in(self, node, chain) -> str | None:
        name, attrs, table = _lookup(node, chain)
        base = table[name] if table is not None else None  # None: a built-in, or undefined
        if base is None:
            return None
        if base == LOCAL:  # helpers.f: the student's f
            return f"student:{attrs[0]}" if attrs else None
        return ".".join([base, *attrs])


def _lookup(node, chain) -> tuple[str | None, list[str], dict | None]:
    """``a.b.c`` -> ("a", ["b", "c"], the innermost table of ``chain`` that binds ``a``, or
    None); (None, [], None) when the expression does not start with a name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None, [], None
    return node.id, attrs[::-1], next((t for t in chain if node.id in t), None)


@dataclass
class Facts:
    """What the student's own classes define, for telling their attributes from torch's."""

    methods: dict[str, set[str]]  # class -> its plain methods
    attrs: set[str]  # every method name, class attribute and self.<name> the student sets
    plain_methods: set[ast.AST]  # methods whose self is a plain instance

    @property
    def plain_names(self) -> set[str]:
        return set().union(*self.methods.values())

    @staticmethod
    def of(tree: ast.Module) -> "Facts":
        methods, attrs, plain = {}, set(), set()
        for c in ast.walk(tree):
            if not isinstance(c, ast.ClassDef):
                continue
            own = methods.setdefault(c.name, set())
            for m in c.body:
                if isinstance(m, (ast.Assign, ast.AnnAssign)):
                    attrs.update(t.id for t in ast.walk(m) if isinstance(t, ast.Name)
                                 and isinstance(t.ctx, ast.Store))
                if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                attrs.add(m.name)
                decorators = {text(d) for d in m.decorator_list}
                args = m.args.posonlyargs + m.args.args
                rebinds = any(isinstance(n, ast.Name) and n.id == "self" and
                              isinstance(n.ctx, ast.Store) for n in ast.walk(m))
                if args and args[0].arg == "self" and not rebinds and \
                        not decorators & {"staticmethod", "classmethod"}:
                    plain.add(m)
                    if not dunder(m.name):
                        own.add(m.name)
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and \
                    isinstance(n.value, ast.Name) and n.value.id == "self":
                attrs.add(n.attr)
        return Facts(methods, attrs, plain)


def dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def is_type_of(node) -> bool:
    """``type(x)`` or ``x.__class__``: a way to reach a method through the class."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id == "type" or isinstance(node, ast.Attribute) and node.attr == "__class__"


def text(node) -> str:
    try:
        return ast.unparse(node)[:40]
    except Exception:
        return "..."
