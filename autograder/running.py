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
              statement_s: float = STATEMENT_S, total_s: float = TOTAL_S):
    """Run ``cells`` ([{"label", "source"}]) into a fresh module ``submission``; returns the
    module, the notes for the student, and the file names given to the cells (their frames
    are the student's own)."""
    module = types.ModuleType("submission")  # __name__ != "__main__": a script's main is skipped
    notes, names, flags = [], {}, 0
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
                signal.setitimer(signal.ITIMER_REAL, statement_s)
                try:
                    exec(code, module.__dict__)
                except StatementTimeout:
                    notes.append(f"line {node.lineno} of {cell['label']}: stopped after "
                                 f"{statement_s:.0f} s (a training loop in a graded cell? move "
                                 "it to an ungraded cell); the cells after it still ran")
                except BaseException as e:  # SystemExit, KeyboardInterrupt included
                    notes.append(f"line {_line(e, filename, node.lineno)} of {cell['label']}: "
                                 f"{type(e).__name__}: {str(e)[:200]} (this statement failed; "
                                 "the cells after it still ran)")
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES] + [f"... and {len(notes) - MAX_NOTES} more"]
    return module, notes, names


def _line(e: BaseException, filename: str, default: int) -> int:
    """The line of the cell where ``e`` was raised (the deepest frame in that cell)."""
    tb, line = e.__traceback__, default
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
