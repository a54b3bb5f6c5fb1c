"""``rnngrade build ASSIGNMENT [--out dist]``: one source, three products.

The source is an otter-assign master notebook kept as plain-text jupytext "percent" scripts,
``ASSIGNMENT/NN_*.py`` read in order (one file per part): ``# %%`` cells, otter's raw
``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# BEGIN TESTS`` cells, ``# BEGIN SOLUTION NO
PROMPT`` ... ``# END SOLUTION`` inside answer cells, ``# BEGIN PROMPT`` for what students see
instead. From it (``<name>`` is the folder's name):

    dist/student/<name>.ipynb      otter assign's student notebook: public tests, export cell
    dist/nbgrader/                 an nbgrader course: source/<name>/<name>.ipynb + config
    dist/instructor/<name>.ipynb   the student notebook filled with the solutions
    dist/rnngrade.json             where the answer cells are (our engine's metadata, a record)

Every answer cell carries ``{"rnngrade": {"role": "answer", "part": NAME}}`` in all three
notebooks; ``autograder.submission`` uses it to find the student's code. The build refuses to
write a student notebook that holds a line of a solution or any hidden test.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import nbformat
import yaml

from autograder.submission import SKIPPED_ROLES

from .build_nbgrader import write_course
from .cells import (BuildError, answer_cells, fill, leaks, refuse_leaks, rewrite_answer,  # noqa: F401
                    solution_lines, solutions)

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}



@dataclass
class Built:
    student: Path
    instructor: Path
    nbgrader: Path  # the course directory
    manifest: Path


def source_files(assignment: Path) -> list[Path]:
    """The assignment's percent scripts, in notebook order: ``00_setup.py``, ``01_rnn.py``, ..."""
    paths = sorted(assignment.glob("[0-9][0-9]_*.py"))
    if not paths:
        raise BuildError(f"no source in {assignment}: expected jupytext percent scripts named "
                         "NN_title.py (00_setup.py, 01_rnn.py, ...)")
    return paths


def read_master(assignment: Path) -> nbformat.NotebookNode:
    """The otter master notebook, in memory: the percent scripts' cells, one after another."""
    try:
        import jupytext
    except ImportError:
        raise BuildError("building needs the 'assign' extra: pip install -e '.[assign]'") from None
    parts = [jupytext.read(path, fmt="py:percent") for path in source_files(assignment)]
    nb = parts[0]
    nb.cells = [cell for part in parts for cell in part.cells]
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("lines_to_next_cell", None)
    return nb


def run_otter_assign(master: nbformat.NotebookNode, name: str, workdir: Path) -> Path:
    """``otter assign`` on the master; returns otter's student notebook."""
    master_path = workdir / f"{name}.ipynb"
    nbformat.write(master, master_path)
    result = workdir / "otter"
    proc = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests",
                           master_path.name, result.name], cwd=workdir,
                          capture_output=True, text=True)
    student = result / "student" / f"{name}.ipynb"
    if proc.returncode != 0 or not student.is_file():
        raise BuildError(f"otter assign failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return student


def polish_student(nb: nbformat.NotebookNode, name: str, digest: str) -> nbformat.NotebookNode:
    nb.metadata["rnngrade"] = {"assignment": name, "source_sha256": digest}
    if nb.cells and nb.cells[-1].cell_type == "markdown" and not nb.cells[-1].source.strip():
        nb.cells.pop()  # otter's trailing blank cell
    return nb


def set_points(master: nbformat.NotebookNode, points: Mapping[str, float]) -> None:
    """Give otter's questions (``# BEGIN QUESTION`` cells) the points a course configures, by
    question name; a name no question has is an error."""
    seen = set()
    for cell in master.cells:
        lines = cell.source.strip().splitlines()
        if cell.cell_type != "raw" or not lines or lines[0].strip() != "# BEGIN QUESTION":
            continue
        config = yaml.safe_load("\n".join(lines[1:])) or {}
        if config.get("name") in points:
            seen.add(config["name"])
            value = float(points[config["name"]])
            if value != config.get("points"):
                config["points"] = int(value) if value.is_integer() else value
                cell.source = "# BEGIN QUESTION\n" + yaml.safe_dump(config, sort_keys=False)
    unknown = sorted(set(points) - seen)
    if unknown:
        raise BuildError(f"no question named {', '.join(unknown)} in the source")


def build(assignment: Path, out: Path, points: Mapping[str, float] | None = None) -> Built:
    """Build the student notebook, the nbgrader course and the instructor notebook into ``out``;
    ``points``: question name -> points, to replace the source's (from the course file)."""
    assignment, name = assignment.resolve(), assignment.resolve().name
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in source_files(assignment))).hexdigest()
    master = read_master(assignment)
    set_points(master, points or {})
    if not answer_cells(master):
        raise BuildError(f"{assignment} has no answer cells "
                         '(cells marked rnngrade={"role": "answer", "part": ...})')
    with tempfile.TemporaryDirectory(prefix="rnngrade-build-") as tmp:
        student = nbformat.read(run_otter_assign(master, name, Path(tmp)), as_version=4)
    student = polish_student(student, name, digest)
    refuse_leaks(student, master, "a student notebook")
    for sub in ("student", "instructor", "nbgrader"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    paths = Built(out / "student" / f"{name}.ipynb", out / "instructor" / f"{name}.ipynb",
                  out / "nbgrader", out / "rnngrade.json")
    nbformat.write(student, paths.student)
    nbformat.write(fill(student, solutions(master)), paths.instructor)
    write_course(master, name, paths.nbgrader)
    manifest = {"assignment": name, "notebook": f"{name}.ipynb", "source_sha256": digest,
                "answer_cells": [{"part": part, "cell": i} for i, part in answer_cells(student)],
                "cell_metadata": {"answer": {"rnngrade": {"role": "answer", "part": "<name>"}},
                                  "skipped roles": list(SKIPPED_ROLES)}}
    paths.manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    return paths
