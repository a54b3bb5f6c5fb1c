"""A generated class, in the three layouts a TA has: a flat folder, nbgrader's ``submitted/``,
and a Gradescope export zip. Every submission is a bundled example or fixture (as a ``.py``, a
notebook without metadata, or an otter-style zip of that notebook), so its expected score per
test is in ``tests/fixtures/scores.json``."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "tests" / "fixtures" / "scores.json").read_text())
EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "submissions").glob("*.py"))
REFERENCE = "examples/submissions/reference_flat.py"
MISTAKES = [f"tests/fixtures/mistakes/{n}.py" for n in
            ("lstm_gates_fiog", "gru_lecture_formula", "bptt_time_mean", "rnn_w_transposed",
             "lstm_ignores_hx", "peephole_o_sees_old_c", "coupled_ungated_write",
             "lstmcell_no_bias_hh", "bptt_h_t_for_h_prev", "lstm_backward_not_reversed")]


@dataclass(frozen=True)
class Class:
    flat: Path  # 12 files, and a second file for one student
    nbgrader: Path  # a course folder: submitted/<student>/rnn_lstm/
    gradescope: Path  # an export zip
    expected: dict[str, dict[str, dict[str, float]]]  # layout -> key -> test number -> score


def notebook(source: str) -> str:
    """A notebook without rnngrade's metadata: the student's code in two cells."""
    head, _, tail = source.partition("\nclass ")
    cells = [nbformat.v4.new_code_cell(head)] + \
        ([nbformat.v4.new_code_cell("class " + tail)] if tail else [])
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def make_class(base: Path) -> Class:
    expected: dict[str, dict] = {"flat": {}, "nbgrader": {}, "gradescope": {}}
    flat = base / "flat"
    flat.mkdir(parents=True)
    for name in EXAMPLES + MISTAKES[:2]:
        (flat / Path(name).name).write_text((ROOT / name).read_text())
        expected["flat"][Path(name).stem] = TABLE[name]
    # the same student twice: graded both, under solution and solution~2
    (flat / "solution.ipynb").write_text(notebook((ROOT / REFERENCE).read_text()))
    expected["flat"]["solution~2"] = TABLE[REFERENCE]

    course = base / "course"
    for i, name in enumerate(MISTAKES[2:] + EXAMPLES[:2]):
        folder = course / "submitted" / f"student{i:02d}" / "rnn_lstm"
        folder.mkdir(parents=True)
        (folder / "rnn_lstm.ipynb").write_text(notebook((ROOT / name).read_text()))
        (folder / "timestamp.txt").write_text("2026-11-30 23:59:00.000000 UTC")
        expected["nbgrader"][f"student{i:02d}"] = TABLE[name]

    export = base / "export"
    root = export / "assignment_4242_export"
    root.mkdir(parents=True)
    metadata = {}
    for i, name in enumerate(EXAMPLES):
        sub = root / f"submission_{9000 + i}"
        sub.mkdir()
        source = (ROOT / name).read_text()
        kind = i % 3
        if kind == 0:
            (sub / "rnn_lstm.py").write_text(source)
        elif kind == 1:
            (sub / "rnn_lstm.ipynb").write_text(notebook(source))
        else:  # otter's export zip: the notebook and otter's log
            with zipfile.ZipFile(sub / "rnn_lstm_2026_11_30T23_59_00.zip", "w") as z:
                z.writestr("rnn_lstm.ipynb", notebook(source))
                z.writestr(".OTTER_LOG", b"\x80\x04")
        sid = f"2026{i:04d}"
        # two students share a name (different ids): reported, graded apart
        metadata[sub.name] = {":submitters": [{":name": "Alex Kim" if i < 2 else f"Student {i}",
                                               ":sid": sid, ":email": f"s{i}@uni.edu"}],
                              ":created_at": "2026-11-30 23:00:00 -0800", ":score": None}
        expected["gradescope"][sid] = TABLE[name]
    import yaml

    (root / "submission_metadata.yml").write_text(yaml.safe_dump(metadata))
    zipped = base / "submissions_export.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for p in sorted(export.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(export))
    return Class(flat, course, zipped, expected)
