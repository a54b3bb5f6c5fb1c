"""The similarity report: ``OUTDIR/similarity.html``, the most similar pairs of the class's
answer cells, side by side with the shared code highlighted. It flags for a person to look at;
it never changes a grade and never writes to the gradebook.

    pairs = write_similarity(OUTDIR, read_boilerplate(Path("assignments/rnn_lstm")))

Fingerprints are copydetect's (https://github.com/blingenf/copydetect: winnowing over tokens,
with every name replaced by one placeholder, so renamed variables and reordered functions do not
hide a copy). The skeleton students were given (the prompts of the answer cells, the setup
cells) is boilerplate: code everyone shares counts for no one. Comments and blank lines never
count. The graded cells are read as the grader reads them (``autograder.submission``), so a
notebook's exploratory cells are left out.
"""
from __future__ import annotations

import io
import itertools
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from autograder.submission import SubmissionError, build_module

from .gradebook import Gradebook, Stored
from .pages import esc, feedback_name, page, table

CELL = re.compile(r"^# %%(.*)$")
ROLE = re.compile(r'"role":\s*"(answer|setup)"')
SOLUTION = re.compile(r"^\s*# (BEGIN|END) SOLUTION( NO PROMPT)?\s*$")
PROMPT_LINE = re.compile(r'^\s*(""")?\s*# (BEGIN|END) PROMPT\s*$')
NOISE, GUARANTEE = 25, 25  # copydetect's defaults: k-grams of 25 tokens, every k-gram kept
MIN_TOKENS = 60  # fewer tokens of their own than this: nothing to compare (a bare skeleton)


@dataclass(frozen=True)
class Pair:
    """Two submissions and how much of each one's own code (boilerplate aside) the other has."""

    a: str  # submission keys
    b: str
    similarity_a: float  # the share of a's fingerprinted tokens also found in b (0..1)
    similarity_b: float
    overlap: int  # tokens in common
    html_a: str  # a's code, escaped, the shared parts in <mark>
    html_b: str

    @property
    def score(self) -> float:
        """The larger share: one submission copied whole into a longer one still ranks high."""
        return max(self.similarity_a, self.similarity_b)


def student_view(cell: str) -> str:
    """An answer cell of the homework source as the student notebook shows it: the solution
    dropped, the prompt (``# BEGIN PROMPT`` ... ``# END PROMPT``) unwrapped."""
    out, in_solution = [], False
    for line in cell.splitlines():
        if m := SOLUTION.match(line):
            in_solution = m.group(1) == "BEGIN"
            continue
        if in_solution or PROMPT_LINE.match(line):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


def read_boilerplate(folder: Path) -> list[str]:
    """The skeleton of the homework given to students, from its jupytext percent sources
    (``assignments/rnn_lstm/*.py``): each answer cell as students see it, and each setup cell."""
    files = sorted(Path(folder).glob("*.py"))
    if not files:
        raise FileNotFoundError(f"no homework sources (*.py) in {folder}: pass the folder of the "
                                "assignment's jupytext files, e.g. assignments/rnn_lstm")
    cells = []
    for path in files:
        header, lines = None, []
        for line in path.read_text(encoding="utf-8").splitlines() + ["# %% end"]:
            if m := CELL.match(line):
                if header is not None and ROLE.search(header) and (text := student_view(
                        "\n".join(lines))).strip():
                    cells.append(text)
                header, lines = m.group(1), []
            elif header is not None:
                lines.append(line)
    return cells


def answer_sources(stored_list: Iterable[Stored]) -> tuple[dict[str, str], list[str]]:
    """Each graded submission's graded cells (``{key: source}``), read from its path as the
    grader reads it, and a line for each one that could not be read again."""
    sources, problems = {}, []
    with tempfile.TemporaryDirectory(prefix="rnngrade-similarity-") as tmp:
        for i, s in enumerate(stored_list):
            if s.status != "graded":
                continue
            path = Path(s.path)
            try:
                module = build_module(path, Path(tmp) / str(i))
            except (SubmissionError, OSError, UnicodeDecodeError) as e:
                problems.append(f"{s.key}: {path} could not be read ({e})")
                continue
            sources[s.key] = module.source
    return sources, problems


def boilerplate_hashes(boilerplate: Sequence[str], noise: int = NOISE) -> np.ndarray:
    """Every k-gram fingerprint of the skeleton (not winnowed: all of it is discounted), of
    each piece and of all of them in order (a submission's cells are joined in that order, so
    the k-grams across two untouched prompts are the skeleton's too)."""
    hashes: set = set()
    for text in [*boilerplate, "\n\n".join(boilerplate)] if boilerplate else []:
        hashes |= CodeFingerprint("boilerplate.py", noise, 1, language="python",
                                  fp=io.StringIO(text)).hashes
    return np.unique(np.array(sorted(hashes), dtype=np.int64))


def similar_pairs(sources: Mapping[str, str], boilerplate: Sequence[str] = (), *,
                  top: int = 20, noise: int = NOISE, guarantee: int = GUARANTEE,
                  min_tokens: int = MIN_TOKENS) -> tuple[list[Pair], list[str]]:
    """The ``top`` most similar pairs, most similar first, and the keys left out for having
    fewer than ``min_tokens`` tokens of their own (nothing beyond the skeleton)."""
    if guarantee < noise:
        raise ValueError(f"guarantee must be at least noise: expected >= {noise}, got {guarantee}")
    skeleton = boilerplate_hashes(boilerplate, noise)
    prints, small = {}, []
    for key in sorted(sources):
        fp = CodeFingerprint(f"{key}.py", noise, guarantee - noise + 1, skeleton,
                             language="python", fp=io.StringIO(sources[key]))
        if fp.token_coverage < min_tokens:
            small.append(key)
        else:
            prints[key] = fp
    scored = []
    for a, b in itertools.combinations(prints, 2):
        overlap, (sim_a, sim_b), slices = compare_files(prints[a], prints[b])
        if overlap:
            scored.append((max(sim_a, sim_b), a, b, float(sim_a), float(sim_b), int(overlap),
                           slices))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    pairs = []
    for _, a, b, sim_a, sim_b, overlap, (slices_a, slices_b) in scored[:top]:
        pairs.append(Pair(a, b, sim_a, sim_b, overlap,
                          highlighted(prints[a].raw_code, slices_a),
                          highlighted(prints[b].raw_code, slices_b)))
    return pairs, small


def highlighted(code: str, slices: np.ndarray) -> str:
    """``code`` escaped for HTML, the shared slices in ``<mark class="copy">``."""
    if slices.size == 0:
        return esc(code)
    text, _ = highlight_overlap(code, slices.astype(int), '<mark class="copy">', "</mark>",
                                truncate=-1, escape_html=True)
    return text


def similarity_html(pairs: Sequence[Pair], *, compared: int, small: Sequence[str] = (),
                    problems: Sequence[str] = (), names: Mapping[str, str] | None = None) -> str:
    """The similarity page: a table of the pairs, then each pair's code side by side."""
    names = names or {}

    def who(key: str) -> str:
        label = f"{names[key]} ({key})" if names.get(key) and names[key] != key else key
        return f'<a href="feedback/{esc(feedback_name(key))}">{esc(label)}</a>'

    body = ["<h1>Similarity of answer cells</h1>",
            f'<p class="muted">{compared} submissions compared (the skeleton they were given does '
            "not count; names, comments and the order of functions do not matter). A high share "
            "is a reason for a person to look, never proof: short, constrained answers "
            "resemble each other. No grade is changed by this page.</p>"]
    if not pairs:
        body.append("<p>No two submissions share any code beyond the skeleton.</p>")
    else:
        body.append(table(["#", "similarity", "submission", "share of it", "submission",
                           "share of it", "tokens in common"],
                          [(f'<a href="#pair-{i}">{i}</a>', f"{100 * p.score:.0f}%", who(p.a),
                            f"{100 * p.similarity_a:.0f}%", who(p.b),
                            f"{100 * p.similarity_b:.0f}%", p.overlap)
                           for i, p in enumerate(pairs, 1)],
                          numeric=(1, 3, 5, 6), raw=(0, 2, 4), sortable=True))
    if small:
        body.append('<p class="muted small">Too little code of their own to compare: '
                    f"{esc(', '.join(small))}.</p>")
    if problems:
        body.append("<p>Could not be read again (not compared):</p><pre>"
                    f"{esc(chr(10).join(problems))}</pre>")
    for i, p in enumerate(pairs, 1):
        body.append(f'<h2 id="pair-{i}">{i}. {who(p.a)} and {who(p.b)}: {100 * p.score:.0f}%</h2>'
                    f'<div class="side"><div><h3>{esc(p.a)}: {100 * p.similarity_a:.0f}% '
                    f"shared</h3><pre>{p.html_a}</pre></div><div><h3>{esc(p.b)}: "
                    f"{100 * p.similarity_b:.0f}% shared</h3><pre>{p.html_b}</pre></div></div>")
    return page("Similarity of answer cells", "\n".join(body), script=True)


def write_similarity(outdir: Path, boilerplate: Sequence[str] = (), *, top: int = 20,
                     sources: Mapping[str, str] | None = None) -> list[Pair]:
    """Write ``OUTDIR/similarity.html`` over the graded submissions of ``OUTDIR/gradebook.sqlite``
    (read, never written), or over ``sources`` (``{key: code}``) when given; the pairs listed."""
    outdir = Path(outdir)
    names: dict[str, str] = {}
    problems: list[str] = []
    if sources is None:
        path = outdir / "gradebook.sqlite"
        if not path.is_file():
            raise FileNotFoundError(f"no gradebook at {path}: grade the class first "
                                    f"(rnngrade grade FOLDER --out {outdir})")
        with Gradebook(path) as book:
            stored = book.all()
        names = {s.key: s.name for s in stored}
        sources, problems = answer_sources(stored)
    pairs, small = similar_pairs(sources, boilerplate, top=top)
    out = outdir / "similarity.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(".similarity.html.tmp")
    tmp.write_text(similarity_html(pairs, compared=len(sources) - len(small), small=small,
                                   problems=problems, names=names), encoding="utf-8")
    tmp.replace(out)
    return pairs
