"""The homework's cells, shared by every product of the build: answer cells, solution regions,
and the leak check that stands between a solution and a student."""
from __future__ import annotations

import copy
import re

import nbformat

BEGIN_SOLUTION = re.compile(r"^(\s*)# BEGIN SOLUTION( NO PROMPT)?\s*$")
END_SOLUTION = re.compile(r"^(\s*)# END SOLUTION\s*$")
PROMPT_LINE = re.compile(r'^\s*(""")?\s*# (BEGIN|END) PROMPT\s*$')
TRIVIAL = re.compile(r"^(else:|try:|finally:|pass|break|continue|return|[)\]}]+,?)$")
# Strings found only in the grader's hidden code: none may reach a student, in a notebook or in
# feedback (the attack tests look for them in results.json too).
SECRET_MARKERS = ("lstm_project", "HIDDEN_SEED", "def suites(", "CaseBuilder", "layer_legend",
                  "from reference")
# ... and, in a notebook, no reference to the grader or its hidden test titles either.
HIDDEN_MARKERS = SECRET_MARKERS + ("autograder.", "reference.", "hidden: true",
                                   "the trusted model")


class BuildError(RuntimeError):
    """The source is malformed, a tool is missing, or the result would leak a solution."""


def answer_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(index, part name)`` of each answer cell, in notebook order."""
    return [(i, c.metadata["rnngrade"]["part"]) for i, c in enumerate(nb.cells)
            if c.metadata.get("rnngrade", {}).get("role") == "answer"]


def rewrite_answer(source: str, marker: str | None = None) -> str:
    """An answer cell without otter's student prompt, its solution markers dropped (the solution
    as it reads) or, given ``marker``, rewritten as ``{marker} BEGIN SOLUTION`` (nbgrader: ###)."""
    out, in_prompt = [], False
    for line in source.splitlines():
        if PROMPT_LINE.match(line):
            in_prompt = "BEGIN" in line
            continue
        if in_prompt:
            continue
        for pattern, word in ((BEGIN_SOLUTION, "BEGIN"), (END_SOLUTION, "END")):
            if m := pattern.match(line):
                line = f"{m.group(1)}{marker} {word} SOLUTION" if marker else None
                break
        if line is not None:
            out.append(line)
    return "\n".join(out)


def solution_lines(source: str) -> list[str]:
    """The lines strictly inside ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` (stripped)."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN_SOLUTION.match(line):
            inside = True
        elif END_SOLUTION.match(line):
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def solutions(master: nbformat.NotebookNode) -> dict[str, str]:
    """Part name -> the answer cell's solution source (markers and student prompts removed)."""
    return {name: rewrite_answer(master.cells[i].source) for i, name in answer_cells(master)}


def fill(nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose answer cells hold ``answers`` (as a student would fill them in)."""
    nb = copy.deepcopy(nb)
    for i, name in answer_cells(nb):
        if name in answers:
            nb.cells[i].source = answers[name]
    return nb


def leaks(student: nbformat.NotebookNode, master: nbformat.NotebookNode) -> list[str]:
    """Why ``student`` must not be handed out: solution lines or hidden markers found in it."""
    text = nbformat.writes(student)
    code = {line.strip() for c in student.cells if c.cell_type == "code"
            for line in c.source.splitlines()}
    found = []
    for i, name in answer_cells(master):
        for line in solution_lines(master.cells[i].source):
            if line in code and not TRIVIAL.match(line):
                found.append(f"solution line of {name} in a code cell: {line!r}")
    for c in master.cells:  # written answers: the markdown inside a SOLUTION block
        if c.metadata.get("rnngrade", {}).get("role") == "written":
            for line in c.source.splitlines():
                if len(line.strip()) > 20 and line.strip() in text:
                    found.append(f"written-answer line in the notebook: {line.strip()[:60]!r}")
    found += [f"hidden marker {m!r}" for m in HIDDEN_MARKERS if m in text]
    return found


def refuse_leaks(nb: nbformat.NotebookNode, master: nbformat.NotebookNode, what: str) -> None:
    """Raise BuildError if ``nb`` (what students will get) leaks anything ``leaks`` looks for."""
    problems = leaks(nb, master)
    if problems:
        raise BuildError(f"refusing to write {what} that leaks:\n  " + "\n  ".join(problems))
