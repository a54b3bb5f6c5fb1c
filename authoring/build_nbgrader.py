"""The nbgrader flavour of the homework: the otter master notebook, rewritten cell by cell.

    otter master                               nbgrader source notebook
    raw ``# BEGIN/END ...`` cells              dropped (they only delimit)
    answer code cell (in a SOLUTION block)     autograded answer: ``### BEGIN SOLUTION`` markers
    written answer (markdown, SOLUTION block)  manually graded answer (points from the question)
    the question's test cells                  one locked autograded test cell: the tests, then
                                               a call of each with the notebook's globals
    anything else                              copied as it is

nbgrader replaces each solution region with ``raise NotImplementedError()``; its test cells run
the same public tests that otter's ``grader.check`` runs.
"""
from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat
import yaml  # PyYAML, in the assign extra

from .cells import BuildError, refuse_leaks, rewrite_answer

BLOCK = re.compile(r"^#\s+(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\s*$", re.IGNORECASE)
TEST_CONFIG = re.compile(r'""" # BEGIN TEST CONFIG.*?""" # END TEST CONFIG\n?', re.DOTALL)
CONFIG = """\
# nbgrader configuration of this course (written by rnngrade build).
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "{name}"
c.ExecutePreprocessor.timeout = 600  # seconds per cell: the experiments train small models
# autograde runs every cell: the notebook's experiments take their short form (RNNGRADE_FAST),
# as in the grader, so a notebook autogrades in well under a minute
os.environ.setdefault("RNNGRADE_FAST", "1")
"""


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: float | None = None,
              locked: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if grade:
        meta["points"] = points
    return meta


def test_cell_source(sources: list[str], question: str) -> str:
    """otter test functions, then a call of each: ``test_x(LSTM, torch)`` takes globals by name."""
    body = "\n\n".join(TEST_CONFIG.sub("", s).strip() for s in sources)
    try:
        tree = ast.parse(body)
    except SyntaxError as e:
        raise BuildError(f"the tests of {question} do not parse: {e}") from None
    calls = [f"{f.name}({', '.join(a.arg for a in f.args.args)})" for f in tree.body
             if isinstance(f, ast.FunctionDef) and f.name.startswith("test")]
    if not calls:
        raise BuildError(f"the tests of {question} define no test_* function")
    return f"{body}\n\n\n" + "\n".join(calls) + f'\nprint("{question}: all public tests passed")'


def nbgrader_notebook(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells, blocks = [], []
    question: dict = {}
    tests: list[str] = []
    for cell in master.cells:
        if cell.cell_type == "raw":
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            m = BLOCK.match(first)
            if not m:
                continue  # the assignment config cell
            kind, what = m.group(1).upper(), m.group(2).upper()
            if kind == "BEGIN":
                blocks.append(what)
                if what == "QUESTION":
                    question = yaml.safe_load("\n".join(cell.source.splitlines()[1:])) or {}
            else:
                blocks.pop()
                if what == "TESTS":
                    qname = question.get("name", "question")
                    points = float(question.get("points", 1))
                    test = nbformat.v4.new_code_cell(test_cell_source(tests, qname))
                    test.metadata["nbgrader"] = _nbgrader(f"test_{qname}", solution=False,
                                                          grade=True, points=points, locked=True)
                    test.metadata["rnngrade"] = {"role": "test"}
                    cells.append(test)
                    tests = []
            continue
        new = copy_cell(cell)
        in_solution, in_tests = "SOLUTION" in blocks, "TESTS" in blocks
        qname = question.get("name", "question")
        if in_tests:
            tests.append(cell.source)
            continue
        if in_solution and cell.cell_type == "code":
            part = cell.metadata.get("rnngrade", {}).get("part", qname)
            new.source = rewrite_answer(cell.source, marker="###")
            new.metadata["nbgrader"] = _nbgrader(part, solution=True, grade=False)
        elif in_solution and cell.cell_type == "markdown":
            new.metadata["nbgrader"] = _nbgrader(qname, solution=True, grade=True,
                                                 points=float(question.get("points", 0)))
        cells.append(new)
    if blocks:
        raise BuildError(f"unclosed otter blocks at the end of the source: {blocks}")
    nb = nbformat.v4.new_notebook(cells=cells, metadata=dict(master.metadata))
    nb.metadata.pop("otter", None)
    return nb


def copy_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    factory = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    return factory[cell.cell_type](cell.source, metadata=copy.deepcopy(dict(cell.metadata)))


def as_released(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What ``nbgrader generate_assignment`` leaves of the solutions, by nbgrader's own
    ``ClearSolutions`` preprocessor (for the leak check; nbgrader itself writes the release)."""
    from nbgrader.preprocessors import ClearSolutions

    released, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    return released


def write_course(master: nbformat.NotebookNode, name: str, course: Path) -> Path:
    """``course/nbgrader_config.py`` and ``course/source/<name>/<name>.ipynb``."""
    nb = nbgrader_notebook(master)
    refuse_leaks(as_released(nb), master, "an nbgrader assignment whose released notebook")
    path = course / "source" / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    (course / "nbgrader_config.py").write_text(CONFIG.format(name=name))
    return path
