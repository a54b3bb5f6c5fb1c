"""Running the student's cells as Jupyter would, in the worker: top to bottom, statement by
statement, a failing statement noted and the next one run. Standard library only: copied into the
sandbox beside ``worker.py``.

Every statement runs under a time limit (a training loop left in a graded cell is stopped, not
waited for) and all of them under a total one, past which only definitions still run. The judge
may ask for ``definitions`` only (the old, static way: imports, functions, classes, assignments
that call nothing), when a whole run did not finish, and lists statements to ``skip`` (those its
static scan refused). Tracebacks and notes name the cell and the line the student sees.
"""
from __future__ import annotations

import ast
import linecache
import signal
import sys
import time
import types

STATEMENT_S = 20.0  # one top-level statement
TOTAL_S = 45.0  # all of them; then definitions only
MAX_NOTES = 12


class StatementTimeout(BaseException):
    """Raised in a statement that ran past its time (BaseException: ``except Exception`` in
    the student's code does not swallow it)."""


def _alarm(signum, frame):
    raise StatementTimeout


def is_definition(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                         ast.ImportFrom)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        return not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))
                       for n in ast.walk(node.value))
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # a docstring


def run_cells(cells: list[dict], skip: set[tuple[int, int]], definitions_only: bool,
              statement_s: float = STATEMENT_S, total_s: float = TOTAL_S, aliases=()):
    """Run ``cells`` ([{"label", "source"}]) into a fresh module ``submission``; returns the
    module, the notes for the student, and the file names given to the cells (their frames
    are the student's own). ``aliases``: the student's helper modules, whose cells come
    first: ``import helpers`` finds this module."""
    module = types.ModuleType("submission")  # __name__ != "__main__": a script's main is skipped
    for name in aliases:
        sys.modules[str(name)] = module
    notes, names, flags, pending = [], {}, 0, []
    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i, cell in enumerate(cells):
            filename = f"<rnngrade cell {i}>"
            names[filename] = cell["label"]
            lines = cell["source"].splitlines(keepends=True)
            linecache.cache[filename] = (len(cell["source"]), None, lines, filename)
            for node in ast.parse(cell["source"]).body:
                late = time.monotonic() - start > total_s
                if (i, node.lineno) in skip or ((definitions_only or late)
                                                and not is_definition(node)):
                    if late and not definitions_only and (i, node.lineno) not in skip:
                        notes.append(f"line {node.lineno} of {cell['label']}: not run, the "
                                     f"cells had taken {total_s:.0f} s already (only "
                                     "definitions ran after that)")
                    continue
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    import __future__

                    for alias in node.names:
                        flags |= getattr(__future__, alias.name).compiler_flag
                code = compile(ast.Module([node], []), filename, "exec", flags=flags,
                               dont_inherit=True)
                e = _exec(code, module, statement_s)
                if isinstance(e, NameError):  # a name a later cell defines: cells run out of order
                    pending.append((code, filename, node.lineno, cell["label"]))
                elif e is not None:
                    notes.append(_failed(e, filename, node.lineno, cell["label"], statement_s))
        while pending:  # as the student's kernel had them: retried once the rest has run
            if time.monotonic() - start > total_s:  # the retries share the cells' time
                notes += [f"line {n} of {label}: not run, the cells had taken {total_s:.0f} s "
                          "already" for _, _, n, label in pending]
                break
            left = []
            for code, filename, lineno, label in pending:
                e = _exec(code, module, statement_s)
                if e is None:
                    notes.append(f"line {lineno} of {label}: run after the cells below it, "
                                 "whose names it uses (Run All would fail here: move it down)")
                else:
                    left.append((code, filename, lineno, label, e))
            if len(left) == len(pending):
                notes += [_failed(e, f, n, label, statement_s) for _, f, n, label, e in left]
                break
            pending = [item[:4] for item in left]
    finally:
        signal.signal(signal.SIGALRM, old)
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES] + [f"... and {len(notes) - MAX_NOTES} more"]
    return module, notes, names


def _exec(code, module, statement_s: float) -> BaseException | None:
    """Run one statement under the time limit; the exception it raised, if any."""
    signal.setitimer(signal.ITIMER_REAL, statement_s)
    try:
        exec(code, module.__dict__)
    except BaseException as e:  # StatementTimeout, SystemExit, KeyboardInterrupt included
        return e
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def _failed(e: BaseException, filename: str, lineno: int, label: str, statement_s: float) -> str:
    if isinstance(e, StatementTimeout):
        return (f"line {lineno} of {label}: stopped after {statement_s:.0f} s (a training loop in "
                "a graded cell? move it to an ungraded cell); the cells after it still ran")
    return (f"line {_line(e, filename, lineno)} of {label}: {type(e).__name__}: {str(e)[:200]} "
            "(this statement failed; the cells after it still ran)")


def _line(e: BaseException, filename: str, default: int) -> int:
    """The line of the cell where ``e`` was raised (the deepest frame in that cell)."""
    tb, line = e.__traceback__, default
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
