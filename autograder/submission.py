"""Read a submission, statically: nothing is executed here.

A submission is a notebook (``.ipynb``), a Python file, or a folder or ``.zip`` holding one (an
otter export zip, say). From a notebook we take the graded code cells, in order, with IPython's
``%``/``!`` lines commented out; a ``.py`` file is one cell, as it is. The worker runs them as
Jupyter would, statement by statement (``worker.run_cells``); the static scan reads them all.

Cell metadata (written by ``rnngrade build``; documented in the README):

    {"rnngrade": {"role": "answer", "part": "LSTM"}}   a cell students fill in
    {"rnngrade": {"role": "setup"}}                     imports every part may use
    {"rnngrade": {"role": "test"}}                      public tests
    {"rnngrade": {"role": "instructor"}}                helpers, experiments and plots

Cells with role "test" or "instructor", and nbgrader's locked grade cells, are skipped. A notebook
that lost its metadata (re-created, edited in another editor) grades from all its code cells.
"""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import unzip

MAX_SOURCE = 2 << 20  # characters of student code we are willing to read
MAX_ZIP_ENTRIES = 2000  # names in an uploaded zip (a notebook, a PDF, an otter log...)
MAX_EXTRACTED = 16 << 20  # bytes extracted from a zip, all files together


class SubmissionError(Exception):
    """The submission cannot be read at all; the message is shown to the student."""


SKIPPED_ROLES = ("test", "instructor")
SUFFIXES = (".ipynb", ".py", ".zip")  # what a submission can be, besides a folder


@dataclass(frozen=True)
class Cell:
    """One graded cell (a .py file is one), as the worker runs it."""

    label: str  # how the student finds it: "the cell defining `rnn_bptt` (code cell 7)"
    source: str
    first_line: int  # where it starts in StudentModule.source


@dataclass
class StudentModule:
    source: str  # every graded cell, in order: what the static scan reads
    origin: str  # the file it came from, for messages
    notes: list[str] = field(default_factory=list)  # what was skipped, for the student
    answer_cells: dict[str, int] = field(default_factory=dict)  # part -> code-cell number
    cells: list[Cell] = field(default_factory=list)  # what the worker runs, in order
    local: frozenset[str] = frozenset()  # the helper modules among them ("helpers")

    def cell_at(self, line: int) -> tuple[int, int]:
        """(cell index, line within it) of a line of ``source``."""
        for i in range(len(self.cells) - 1, -1, -1):
            if self.cells[i].first_line <= line:
                return i, line - self.cells[i].first_line + 1
        return 0, line

    def where(self, line: int) -> str:
        """A line of ``source``, in the student's own terms: "line 3 of the cell defining ..."."""
        if not self.cells:
            return f"line {line}"
        i, local = self.cell_at(line)
        return f"line {local} of {self.cells[i].label}"


def submissions_in(path: Path) -> list[Path]:
    """What to grade at ``path``: a folder of several submissions (files or folders) is each of
    them; a file, or a folder holding one submission, is one."""
    if path.is_dir():
        entries = [p for p in sorted(path.iterdir()) if not p.name.startswith(".")
                   and (p.suffix in SUFFIXES or p.is_dir())]
        if len(entries) > 1:
            return entries
    return [path]


def find_submission(path: Path) -> Path:
    """The notebook or .py file inside a folder or zip (zips are extracted next to nothing:
    into a folder the caller owns). A folder holding nothing but one zip (Gradescope's upload
    folder) is that zip."""
    if path.is_file() and path.suffix in (".ipynb", ".py"):
        return path
    if path.is_dir():
        entries = [p for p in path.iterdir() if not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].suffix == ".zip":
            return entries[0]
        _refuse_links(path)
        candidates = [p for p in sorted(path.rglob("*"))
                      if p.suffix in (".ipynb", ".py") and ".ipynb_checkpoints" not in p.parts
                      and not p.name.startswith(".")]
        notebooks = [p for p in candidates if p.suffix == ".ipynb"]
        if len(notebooks) == 1:
            return notebooks[0]
        if not notebooks:  # .py files: the one the others' imports do not name
            texts = {p: p.read_text(errors="replace") for p in candidates}
            mains = [p for p in candidates if not any(
                re.search(rf"^\s*(import|from)\s+{re.escape(p.stem)}\b", t, re.M)
                for q, t in texts.items() if q != p)]
            if len(mains) == 1:
                return mains[0]
        names = [p.name for p in candidates]
        found = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") \
            if names else "nothing"
        raise SubmissionError(f"expected one notebook (.ipynb) or one .py file in the submission, "
                              f"found {found}. Submit only your homework notebook.")
    raise SubmissionError(f"cannot grade {path.name}: submit a .ipynb notebook, a .py file, or a "
                          ".zip holding one")


def _refuse_links(folder: Path) -> None:
    """A link in an uploaded folder could make the grader (root) read what is not the
    student's: refuse the submission."""
    for p in folder.rglob("*"):
        if p.is_symlink():
            raise SubmissionError(f"{p.relative_to(folder)} is a symbolic link; submit the "
                                  "notebook itself")


def extract_zip(path: Path, into: Path) -> Path:
    """Extract only notebooks and .py files, refusing paths that escape ``into``, links, and
    zips that would write more than ``MAX_EXTRACTED`` bytes (counted, not believed)."""
    try:
        unzip.extract(path, into, max_entries=MAX_ZIP_ENTRIES, max_bytes=MAX_EXTRACTED,
                      max_file=MAX_SOURCE * 4, keep=lambda name: name.suffix in (".ipynb", ".py"))
    except unzip.TooManyEntries as e:
        raise SubmissionError(f"{path.name} holds {e.count} files (at most "
                              f"{MAX_ZIP_ENTRIES}); submit the notebook, or the zip its "
                              "export cell makes") from None
    except unzip.TooLarge:
        raise SubmissionError(f"{path.name} expands to more than "
                              f"{MAX_EXTRACTED >> 20} MiB; submit the notebook itself") from None
    return into


def notebook_cells(path: Path) -> tuple[list[tuple[int, str]], dict[str, int], list[str]]:
    """The code cells to grade, as (code-cell number from 1, source); answer cells by part;
    notes."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:
        raise SubmissionError(f"{path.name} is not a readable notebook ({type(e).__name__}: "
                              f"{str(e)[:200]}). Re-download it from Jupyter and resubmit.") from None
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = any("rnngrade" in c.metadata or "nbgrader" in c.metadata for c in code)
    cells, answers, notes = [], {}, []
    for number, cell in enumerate(code, start=1):
        ours, nbg = cell.metadata.get("rnngrade", {}), cell.metadata.get("nbgrader", {})
        if ours.get("role") in SKIPPED_ROLES or (nbg.get("grade") and not nbg.get("solution")):
            continue
        if ours.get("role") == "answer" and ours.get("part"):
            answers[ours["part"]] = number
        cells.append((number, cell.source))
    # otter's cells (its import, grader.check, the export) are never the student's code: run,
    # they would import otter, pandas and IPython in the worker (1.8 s) and fail there
    plumbing = [n for n, src in cells if is_otter_plumbing(src)]
    cells = [(n, src) for n, src in cells if n not in plumbing]
    if not tagged:
        notes.append("this notebook has no rnngrade metadata (was it re-created?): graded from "
                     "all its code cells" + (f", except otter's {len(plumbing)} cells of public "
                                             "checks and export" if plumbing else ""))
    return cells, answers, notes


def is_otter_plumbing(source: str) -> bool:
    """A cell of otter's own (``grader = otter.Notebook(...)``, ``grader.check("q1")``,
    ``grader.export(...)``): the public checks, not the student's code."""
    try:
        body = ast.parse(strip_magics(source)).body
    except (SyntaxError, ValueError):
        return False

    def otter_call(node) -> bool:
        f = node.func if isinstance(node, ast.Call) else None
        return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
            f.value.id in ("grader", "otter")

    return bool(body) and all(
        isinstance(n, ast.Import) and [a.name for a in n.names] == ["otter"] or
        isinstance(n, (ast.Expr, ast.Assign)) and otter_call(n.value) for n in body)


def strip_magics(source: str) -> str:
    """Comment out IPython-only lines (``%matplotlib``, ``!pip``) so the cell parses, keeping
    every line where it was (notebooks only: in a .py file ``%`` is Python)."""
    out = []
    for line in source.splitlines():
        s = line.lstrip()
        out.append(("# " + line) if s.startswith(("%", "!")) else line)
    return "\n".join(out)


def defined_names(tree: ast.Module) -> list[str]:
    return [n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def helper_modules(folder: Path, main: Path, sources: list[str]) -> dict[str, str]:
    """The student's own modules beside ``main`` in a zip or folder that its cells import
    (``from helpers import sigmoid``): module name -> source."""
    imported = set()
    for src in sources:
        try:
            tree = ast.parse(strip_magics(src))
        except (SyntaxError, ValueError):
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                imported |= {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
                imported.add(n.module)
    found = {}
    for p in sorted(folder.glob("*.py")):
        if p != main and p.stem.isidentifier() and p.stem in imported and not p.is_symlink() \
                and not shadows_a_module(p.stem):
            found[p.stem] = p.read_text(errors="replace")
    return found


def shadows_a_module(name: str) -> bool:
    """A file named like a module Python already has (``torch.py``, ``os.py``): never taken for
    the student's helper, so ``import torch`` stays torch for the worker and the scan alike."""
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return True


def build_module(path: Path, workdir: Path) -> StudentModule:
    """Read a submission: its graded cells, in order, and the module they make. Runs nothing.
    In a zip or folder, the helper modules its cells import come first, as cells of their own
    (the worker makes ``import helpers`` find them)."""
    container = path.is_dir() or path.suffix == ".zip"
    path = find_submission(path) if path.is_dir() else path
    if path.suffix == ".zip":
        try:
            path = extract_zip(path, workdir)
        except zipfile.BadZipFile:
            raise SubmissionError(f"{path.name} is not a valid zip file") from None
    path = find_submission(path)
    notebook = path.suffix == ".ipynb"
    if notebook:
        raw, answers, notes = notebook_cells(path)
    else:
        raw, answers, notes = [(0, path.read_text(errors="replace"))], {}, []
    helpers = helper_modules(path.parent, path, [src for _, src in raw]) if container else {}
    raw = [(f"{name}.py", src) for name, src in helpers.items()] + raw
    if sum(len(src) for _, src in raw) > MAX_SOURCE:
        raise SubmissionError(f"{path.name} holds more than {MAX_SOURCE} characters of code")
    cells, lines = [], 1
    for number, src in raw:
        helper = isinstance(number, str)  # a helper module's file name
        src = (strip_magics(src) if notebook and not helper else src).rstrip("\n")
        try:
            names = defined_names(ast.parse(src))
        except (SyntaxError, ValueError) as e:  # ValueError: a NUL character
            where = number if helper else f"code cell {number}" if notebook else path.name
            why = f"line {e.lineno}: {e.msg}" if isinstance(e, SyntaxError) else str(e)
            notes.append(f"{where} has a syntax error ({why}) and was skipped; the parts "
                         "defined in it will fail")
            continue
        label = number if helper else path.name if not notebook else (
            f"the cell defining {', '.join(f'`{n}`' for n in names[:3])} (code cell {number})"
            if names else f"code cell {number}")
        cells.append(Cell(label, src, lines))
        lines += len(src.splitlines()) + 1
    source = "".join(c.source + "\n\n" for c in cells)
    return StudentModule(source, path.name, notes, answers, cells, frozenset(helpers))
