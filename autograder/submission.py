"""Turn a submission into the source of one student module, statically: nothing is executed here.

A submission is a notebook (``.ipynb``), a Python file, or a folder or ``.zip`` holding one (an
otter export zip, say). From a notebook we take code cells; from the code we keep only imports and
top-level definitions (functions, classes, and assignments whose value calls nothing), so the
student's exploratory cells (training loops, plots, ``grader.check``) never run.

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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_SOURCE = 2 << 20  # characters of student code we are willing to read


class SubmissionError(Exception):
    """The submission cannot be read at all; the message is shown to the student."""


SKIPPED_ROLES = ("test", "instructor")
SUFFIXES = (".ipynb", ".py", ".zip")  # what a submission can be, besides a folder


@dataclass
class StudentModule:
    source: str  # the module the worker imports
    origin: str  # the file it came from, for messages
    notes: list[str] = field(default_factory=list)  # what was skipped, for the student
    answer_cells: dict[str, int] = field(default_factory=dict)  # part -> cell index


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
        candidates = [p for p in sorted(path.rglob("*"))
                      if p.suffix in (".ipynb", ".py") and ".ipynb_checkpoints" not in p.parts
                      and not p.name.startswith(".")]
        notebooks = [p for p in candidates if p.suffix == ".ipynb"]
        if len(notebooks) == 1:
            return notebooks[0]
        if not notebooks and len(candidates) == 1:
            return candidates[0]
        found = ", ".join(p.name for p in candidates) or "nothing"
        raise SubmissionError(f"expected one notebook (.ipynb) or one .py file in the submission, "
                              f"found {found}. Submit only your homework notebook.")
    raise SubmissionError(f"cannot grade {path.name}: submit a .ipynb notebook, a .py file, or a "
                          ".zip holding one")


def extract_zip(path: Path, into: Path) -> Path:
    """Extract only notebooks and .py files, refusing paths that escape ``into``."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = Path(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            if name.suffix in (".ipynb", ".py") and info.file_size <= MAX_SOURCE * 4:
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
    return into


def notebook_cells(path: Path) -> tuple[list[tuple[int, str]], dict[str, int], list[str]]:
    """The code cells to use, as (index, source); the answer cells by part; notes."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:
        raise SubmissionError(f"{path.name} is not a readable notebook ({type(e).__name__}: "
                              f"{str(e)[:200]}). Re-download it from Jupyter and resubmit.") from None
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    tagged = any("rnngrade" in c.metadata or "nbgrader" in c.metadata for _, c in code)
    cells, answers, notes = [], {}, []
    for i, cell in code:
        ours, nbg = cell.metadata.get("rnngrade", {}), cell.metadata.get("nbgrader", {})
        if ours.get("role") in SKIPPED_ROLES or (nbg.get("grade") and not nbg.get("solution")):
            continue
        if ours.get("role") == "answer" and ours.get("part"):
            answers[ours["part"]] = i
        cells.append((i, cell.source))
    if not tagged:
        notes.append("this notebook has no rnngrade metadata (was it re-created?): graded from "
                     "all its code cells")
    return cells, answers, notes


def strip_magics(source: str) -> str:
    """Comment out IPython-only lines (``%matplotlib``, ``!pip``) so the cell parses."""
    out = []
    for line in source.splitlines():
        s = line.lstrip()
        out.append(("# " + line) if s.startswith(("%", "!")) else line)
    return "\n".join(out)


def _calls_nothing(node: ast.AST) -> bool:
    return not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))
                   for n in ast.walk(node))


def keep_definitions(tree: ast.Module) -> tuple[list[ast.stmt], list[str]]:
    """Top-level imports, functions, classes and call-free assignments; the rest is dropped."""
    kept, dropped = [], []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            kept.append(node)  # hoisted to the top of the module by build_module
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            guard = ast.parse("try:\n    pass\nexcept ImportError:\n    pass").body[0]
            guard.body = [node]  # a missing plotting library must not sink the module
            kept.append(ast.copy_location(guard, node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                and _calls_nothing(node.value):
            kept.append(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a bare string
        else:
            dropped.append(f"line {node.lineno}: {type(node).__name__}")
    return kept, dropped


def _merged_future(nodes: list[ast.ImportFrom]) -> list[ast.stmt]:
    names = sorted({a.name for n in nodes for a in n.names})
    return [ast.ImportFrom("__future__", [ast.alias(n) for n in names], 0)]


def build_module(path: Path, workdir: Path) -> StudentModule:
    """Read a submission and return the student module's source. Never runs anything."""
    path = find_submission(path) if path.is_dir() else path
    if path.suffix == ".zip":
        try:
            path = extract_zip(path, workdir)
        except zipfile.BadZipFile:
            raise SubmissionError(f"{path.name} is not a valid zip file") from None
    path = find_submission(path)
    if path.suffix == ".ipynb":
        cells, answers, notes = notebook_cells(path)
    else:
        cells, answers, notes = [(0, path.read_text(errors="replace"))], {}, []
    if sum(len(src) for _, src in cells) > MAX_SOURCE:
        raise SubmissionError(f"{path.name} holds more than {MAX_SOURCE} characters of code")
    body: list[ast.stmt] = []
    for index, src in cells:
        try:
            tree = ast.parse(strip_magics(src))
        except SyntaxError as e:
            where = f"cell {index + 1}" if path.suffix == ".ipynb" else path.name
            notes.append(f"{where} has a syntax error (line {e.lineno}: {e.msg}) and was skipped; "
                         "the parts defined in it will fail")
            continue
        kept, _ = keep_definitions(tree)
        body.extend(kept)
    future = [n for n in body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    body = (_merged_future(future) if future else []) + [n for n in body if n not in future]
    source = ast.unparse(ast.Module(body=body, type_ignores=[]))
    return StudentModule(source + "\n", path.name, notes, answers)
