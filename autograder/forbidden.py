"""The static scan: what graded code may not do, decided from the source text alone.

Graded code is ordinary Python minus what cannot be analysed or is not the student's to use:

* **recurrent**: PyTorch's recurrent built-ins (``nn.LSTM``, ``nn.*Cell``, ``torch.lstm``,
  ``_VF``...), however they are imported, aliased or rebound;
* **autograd** (in the parts that must do without it, ``forbid_autograd``): ``torch.autograd``,
  ``enable_grad``, ``set_grad_enabled``, ``torch.func``, and ``x.backward()`` unless the student
  defines a ``backward`` method of their own (cs231n-style layers);
* **restricted** (everywhere): what could undo the grader from inside the student's process or
  hide a call from this scan: computed attribute names (``getattr(x, name)``), dunder attributes,
  ``eval``/``exec``/``compile``/``__import__``/``globals``/``vars``, frames and closures,
  ``torch._C``/``torch.ops``/``torch.jit``/``torch.hub``/``torch.load``/``torch.package`` and
  any private ``torch._*``, ``sys`` and ``os`` beyond a few harmless names, and imports outside
  an allow-list.

Names are resolved with Python's scopes: a local variable called ``grad`` is not
``torch.autograd.grad``; a name bound to several things in one scope (an import and a dead
``def``, a ``global`` rebinding) is judged as each; a comprehension's first iterable is resolved
where Python evaluates it; each name is judged by what it really is (``rules.real_name``:
``torch.builtins`` is ``builtins``). Annotations run with their ``def``: a type is fine, code is
not. Nothing reads an attribute by a name in a string (``getattr`` as a value,
``operator.attrgetter``, a class pattern ``case C(attr=x)``). A violation belongs to the student's
top-level definition it is in, and to every definition that uses that one: that part scores
zero. A top-level statement whose code that runs at import (the statement itself, a class body,
decorators, default arguments) breaks a rule is not run at all (``Findings.refused``), with a
note. The student's helper modules (``local``) are scanned as their code. The worker's runtime
guard stays as defence in depth only."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .names import ClassTable, Facts, Scopes
from .rules import (ALLOWED_IMPORTS, AUTOGRAD, BUILTINS, DUNDERS_ALLOWED, INTROSPECTION,
                    MODULE_ATTRS, NAME_BUILTINS, RECURRENT_CLASSES, RECURRENT_FUNCTIONS, is_under,
                    real_name, recurrent, restricted)
from .names import dunder as _dunder, is_type_of as _is_type_of, text as _text

TYPE_NODES = (ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List, ast.Constant,
              ast.BinOp, ast.BitOr, ast.UnaryOp, ast.USub, ast.Load)
# attribute names never exempt because the student's own class has one (self._VF = ...)
NEVER_EXEMPT = MODULE_ATTRS | {"_VF", "_C", "ops", "_ops"}
AUTOGRAD_ATTRS = {"grad_fn", "next_functions", "prev", "register_hook", "retain_grad",
                  "autograd", "enable_grad", "set_grad_enabled", "vmap"}
MODULE = "<module>"  # "<module>:LINE": a top-level statement's code that runs at import


@dataclass(frozen=True)
class Violation:
    name: str  # the student's top-level definition it belongs to, or MODULE
    what: str  # e.g. "torch.nn.LSTM"
    line: int  # in the graded module
    rule: str = "recurrent"  # "recurrent" | "autograd" | "restricted"
    instead: str = ""  # what to write instead


class Checker(ast.NodeVisitor):
    """Walks one unit of code (a definition, or the code that runs at import) with its scope
    chain; records its findings (rule, what, line, instead) and the student names it uses."""

    def __init__(self, scopes: Scopes, own_backward: bool, facts: "Facts"):
        self.scopes, self.own_backward, self.facts = scopes, own_backward, facts
        self.self_tables: set[int] = set()  # the scopes of plain methods, whose self is theirs
        self.chain: list[dict] = [scopes.module]
        self.found: list[tuple[str, str, int, str]] = []
        self.refs: set[str] = set()

    def add(self, rule: str, what: str, node: ast.AST, instead: str = "") -> None:
        self.found.append((rule, what, getattr(node, "lineno", 0), instead))

    def resolve(self, node) -> str | None:
        return self.scopes.resolve_in(node, self.chain)

    def bound_here(self, name: str) -> bool:
        return any(name in t for t in self.chain)

    # -- scopes: a nested scope sees its own names, the enclosing functions' and the module's
    def _enter(self, node, body) -> None:
        table = self.scopes.scopes.get(node, {})
        outer = [t for t in self.chain if not isinstance(t, ClassTable)]
        inner = ClassTable(table) if isinstance(node, ast.ClassDef) else table
        if node in self.facts.plain_methods:
            self.self_tables.add(id(inner))
        saved, self.chain = self.chain, [inner, *outer]
        for n in body:
            self.visit(n)
        self.chain = saved

    def visit_FunctionDef(self, node):
        self.signature(node)
        self._enter(node, node.body)

    def signature(self, node) -> None:
        """What of a ``def`` runs when it does: decorators, defaults, annotations."""
        for d in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if d is not None:
                self.visit(d)
        a = node.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            self._annotation(arg.annotation if arg is not None else None)
        self._annotation(node.returns)

    def _annotation(self, node) -> None:
        """An annotation runs when its definition does: a type (``torch.Tensor``,
        ``list[int] | None``, a string) is not judged; anything else is refused."""
        for n in ast.walk(node) if node is not None else ():
            if not isinstance(n, TYPE_NODES):
                self.add("restricted", f"an annotation with {type(n).__name__}", n,
                         "annotate with a type (x: torch.Tensor), not with code")
                return

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for d in [*node.args.defaults, *node.args.kw_defaults]:
            if d is not None:
                self.visit(d)
        self._enter(node, [node.body])

    def visit_ClassDef(self, node):
        for n in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(n)
        self._enter(node, node.body)

    def _comprehension(self, node):
        inner = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        first = node.generators[0]
        self.visit(first.iter)  # evaluated in the enclosing scope, as Python does
        self._enter(node, [first.target, *first.ifs, *node.generators[1:], *inner])

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_AnnAssign(self, node):
        self._annotation(node.annotation)
        for n in (node.target, node.value):
            if n is not None:
                self.visit(n)

    def visit_MatchClass(self, node):  # case C(attr=x) reads attributes named by strings
        self.add("restricted", "a class pattern (case C(...))", node,
                 "match values, sequences or mappings, or test isinstance(x, C) and read x.attr")

    # -- what is used
    def visit_Import(self, node):
        for a in node.names:
            self._import(a.name, node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if module in self.scopes.local and not node.level:
            return  # the student's own helper module: its code is scanned with theirs
        if node.level or any(a.name == "*" for a in node.names):
            self.add("restricted", f"from {'.' * node.level}{module} import "
                     f"{', '.join(a.name for a in node.names)}", node,
                     "import modules by name (import torch), not with * or relative imports")
            return
        self._import(module, node)
        for a in node.names:
            if (why := restricted(f"{module}.{a.name}")) is not None:
                self.add("restricted", f"{module}.{a.name}", node, why)

    def _import(self, module: str, node) -> None:
        if module not in self.scopes.local and (not is_under(module, ALLOWED_IMPORTS) or
                                                restricted(module)):
            self.add("restricted", f"import {module}", node, "graded cells may import torch, "
                     "math, numpy and harmless standard modules only; move other code to an "
                     "ungraded cell")

    def _use(self, dotted: str, node) -> None:
        real = real_name(dotted)  # torch.nn.functional.torch.lstm is torch.lstm
        if recurrent(dotted) or recurrent(real):
            self.add("recurrent", dotted if real == dotted else f"{dotted} ({real})", node)
        elif is_under(dotted, AUTOGRAD) or is_under(real, AUTOGRAD):
            self.add("autograd", dotted if real == dotted else f"{dotted} ({real})", node)
        elif (why := restricted(dotted)) is not None:
            self.add("restricted", dotted, node, why)

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            return
        target = self.resolve(node)
        for meaning in self.scopes.meanings(node, self.chain):  # import M; ...; M = other
            self._use(meaning, node)
        if target is None:
            if node.id in BUILTINS and not self.bound_here(node.id):
                self.add("restricted", node.id, node, BUILTINS[node.id])
            elif node.id in NAME_BUILTINS and not self.bound_here(node.id):  # g = getattr
                self.add("restricted", f"{node.id} as a value", node,
                         f"call {node.id}(obj, \"name\") with the name written out")
        elif target.startswith("student:"):
            self.refs.add(target[len("student:"):])
        elif target in ("os", "sys"):
            self.add("restricted", target, node, f"use {target}.<name> directly")
        else:
            self._use(target, node)

    def visit_Attribute(self, node):
        if _dunder(node.attr) and node.attr not in DUNDERS_ALLOWED:
            self.add("restricted", f".{node.attr}", node, "use the object's ordinary attributes "
                     "and methods, not its dunder attributes")
        elif node.attr in INTROSPECTION:
            self.add("restricted", f".{node.attr}", node, "graded code does not inspect frames, "
                     "code objects or closures")
        target = self.resolve(node)
        for meaning in self.scopes.meanings(node, self.chain):
            self._use(meaning, node)
        if target is not None and not target.startswith("student:"):
            self._use(target, node)
            return  # the whole chain is judged: its prefixes are not used on their own
        if target is not None:  # helpers.f: the student's f (in a helper module of theirs)
            self.refs.add(target[len("student:"):])
        base = node.value
        while isinstance(base, ast.Attribute):
            base = base.value
        on_self = self._own_self(base) or isinstance(base, ast.Call) and \
            isinstance(base.func, ast.Name) and base.func.id == "super"
        # a name the student's class defines is theirs on a plain variable, never on an
        # expression ([torch][0].lstm) and never for what torch hands out (x._VF)
        theirs = node.attr in self.facts.attrs and node.attr not in NEVER_EXEMPT and \
            isinstance(base, ast.Name)
        owner = self.resolve(node.value)
        if node.attr in RECURRENT_CLASSES and not on_self:
            self.add("recurrent", f"(...).{node.attr}", node)  # through an expression
        elif node.attr in RECURRENT_FUNCTIONS and not on_self and not theirs:
            self.add("recurrent", f"(...).{node.attr}", node)
        elif node.attr == "backward" and not self.own_backward:
            self.add("autograd", f"{_text(node.value)}.backward", node)
        elif owner and owner.startswith("student:") and \
                node.attr in self.facts.methods.get(owner[len("student:"):], ()):
            self.add("restricted", f"{owner[len('student:'):]}.{node.attr}", node,
                     "call a method on an instance (self.name(...)), not through its class")
        elif _is_type_of(node.value) and node.attr in self.facts.plain_names:
            self.add("restricted", f"{_text(node.value)}.{node.attr}", node,
                     "call a method on an instance (self.name(...)), not through its type")
        elif node.attr.startswith("_") and not _dunder(node.attr) and not on_self \
                and not theirs:
            self.add("restricted", f".{node.attr}", node, "use public attributes only")
        elif node.attr in AUTOGRAD_ATTRS and not on_self:  # no_grad().prev: in Part 2 only
            self.add("autograd", f"{_text(node.value)}.{node.attr}", node)
        elif node.attr in NEVER_EXEMPT and not on_self:
            self.add("restricted", f"(...).{node.attr}", node, "a module reached through "
                     "another object; graded code does not need it")
        self.visit(node.value)

    def visit_Call(self, node):
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id == "setattr" and not self.bound_here("setattr") \
                and node.args and self._own_self(node.args[0]):
            for n in node.args[1:]:  # setattr(self, f"weight_ih_l{k}", p): the skeleton's way
                self.visit(n)
            return
        if isinstance(fn, ast.Name) and fn.id in NAME_BUILTINS and not self.bound_here(fn.id) \
                and len(node.args) >= 2:
            name = node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                if not self._own_self(node.args[0]):
                    self.add("restricted", f"{fn.id}(..., <a computed name>)", node,
                             "write the attribute out (obj.name) so the grader can read it; "
                             "only a method's own self may take a computed name")
                for n in [*node.args, *node.keywords]:
                    self.visit(n)
                return
            else:  # getattr(x, "LSTM") is x.LSTM
                self.visit(ast.copy_location(ast.Attribute(node.args[0], name.value,
                                                           ast.Load()), node))
                for n in [*node.args[2:], *node.keywords]:
                    self.visit(n)
                return
        self.generic_visit(node)


    def _own_self(self, node) -> bool:
        """``self`` of the plain method this code is in (not rebound, not a staticmethod's)."""
        if not (isinstance(node, ast.Name) and node.id == "self"):
            return False
        for table in self.chain:
            if "self" in table:
                return id(table) in self.self_tables
        return False


def _run_unit(checker: Checker, node: ast.AST, what: str) -> None:
    """Check one unit: a function's body ("body"), a class with its methods' bodies ("class"),
    or what of a definition runs at import ("import": decorators, defaults, bases, class-body
    statements), each in the scope Python runs it in."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        checker.signature(node)
        if what == "body":
            checker._enter(node, node.body)
        return
    if isinstance(node, ast.ClassDef):
        for n in [*node.decorator_list, *node.bases, *node.keywords]:
            checker.visit(n)
        outer = [n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        methods = [n for n in node.body if n not in outer]
        table = ClassTable(checker.scopes.scopes.get(node, {}))
        saved, checker.chain = checker.chain, [table, *checker.chain]
        for n in outer:
            checker.visit(n)
        for m in methods:
            checker.signature(m)
        checker.chain = saved
        if what == "class":
            for m in methods:
                checker._enter(m, m.body)
        return
    checker.visit(node)


def _units(tree: ast.Module):
    """(owner, [(node, what)]): a top-level definition is its own, with what of it runs at
    import (decorators and defaults become part of the function); what each top-level
    statement runs at import is "<module>:LINE"'s."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, [(node, "body")]
            yield f"{MODULE}:{node.lineno}", [(node, "import")]
        elif isinstance(node, ast.ClassDef):
            yield node.name, [(node, "class")]
            yield f"{MODULE}:{node.lineno}", [(node, "import")]
        else:
            yield f"{MODULE}:{node.lineno}", [(node, "module")]


def references(source: str, local: frozenset[str] = frozenset()
               ) -> tuple[dict[str, list[tuple]], dict[str, set[str]]]:
    """Per owner (a top-level definition or "<module>:LINE"): its own findings, and the
    student definitions it refers to."""
    tree = ast.parse(source)
    scopes = Scopes(tree, local)
    facts = Facts.of(tree)
    own_backward = "backward" in facts.attrs
    direct: dict[str, list[tuple]] = {}
    refs: dict[str, set[str]] = {}
    for owner, units in _units(tree):
        checker = Checker(scopes, own_backward, facts)
        for node, what in units:
            _run_unit(checker, node, what)
        direct[owner] = checker.found
        refs[owner] = checker.refs - {owner}
    for name, target in scopes.module.items():  # LSTM = MyLSTM: the part is MyLSTM
        if target and target.startswith("student:") and target[8:] != name:
            direct.setdefault(name, [])
            refs.setdefault(name, set()).add(target[8:])
    return direct, refs


def scan(source: str, forbid_autograd=frozenset(), local=frozenset()) -> list[Violation]:
    """Every violation, attributed to the definition it is in and to every definition that
    uses it (transitively), and to every top-level statement ("<module>:LINE") whose code that
    runs at import reaches it."""
    direct, refs = references(source, local)
    out = []
    for owner in direct:
        seen, stack = {owner}, [owner]
        while stack:
            cur = stack.pop()
            for rule, what, line, instead in direct[cur]:
                if rule == "autograd" and owner not in forbid_autograd:
                    continue  # autograd is allowed everywhere else (a scratch cell's backward)
                where = what if cur == owner else f"{what} (through {cur})"
                out.append(Violation(owner, where, line, rule, instead))
            for r in refs.get(cur, set()) - seen:
                if r in direct:
                    seen.add(r)
                    stack.append(r)
    return out


@dataclass(frozen=True)
class Findings:
    parts: dict[str, Violation]  # a definition -> its first violation: it scores zero
    refused: dict[int, Violation]  # a top-level statement's line -> why it must not run


def check(source: str, forbid_autograd: set[str] = frozenset(),
          local: frozenset[str] = frozenset()) -> Findings:
    """What the judge acts on: definitions that break a rule, and top-level statements that
    must not run at import (restricted code, or PyTorch's recurrent layers in a scratch cell)."""
    parts: dict[str, Violation] = {}
    refused: dict[int, Violation] = {}
    for v in scan(source, forbid_autograd, local):
        if v.name.startswith(MODULE):
            if v.rule != "autograd":
                refused.setdefault(int(v.name.split(":")[1]), v)
        else:
            parts.setdefault(v.name, v)
    return Findings(parts, refused)


def violations_by_name(source: str, forbid_autograd=frozenset(), local=frozenset()
                       ) -> dict[str, Violation]:
    """The first violation of each definition and of each top-level statement not to run."""
    found = check(source, forbid_autograd, local)
    return {**found.parts, **{f"{MODULE}:{line}": v for line, v in found.refused.items()}}
