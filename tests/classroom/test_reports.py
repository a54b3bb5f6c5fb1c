"""classroom.feedback, report, similarity: what the pages say equals what the gradebook holds;
student text is shown, never run; staff-only tests stay off students' pages; copies rank first."""
from __future__ import annotations

import ast
import builtins
import json
import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.results import GradeReport, TestResult, markdown, to_gradescope
from classroom.feedback import (MAX_FIGURES, failed_test_html, feedback_html, feedback_markdown,
                                mismatches, write_feedback)
from classroom.gradebook import Gradebook
from classroom.pages import feedback_name
from classroom.report import class_report_html, normalise, write_report
from classroom.similarity import read_boilerplate, similar_pairs, write_similarity

from .synthetic import FIOG, MISTAKES, build_class, report_for

ROOT = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>````[x](http://e.vil)"
OUTSIDE = re.compile(r"""<link|@import|url\((?!#)|(?:src|href)\s*=\s*["'](?!#|feedback/|"""
                     r"""similarity\.html|data:)""", re.I)


class Tables(HTMLParser):
    """Every <table> of a page: a list of rows, each the text of its cells."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def find(self, *headers: str) -> list[list[str]]:
        """The rows (without the header) of the table whose headers are ``headers``."""
        for t in self.tables:
            if t and tuple(t[0]) == headers:
                return t[1:]
        raise AssertionError(f"no table with headers {headers}")


@pytest.fixture
def klass(tmp_path):
    truth = build_class(tmp_path, n=24, seed=3)
    return tmp_path, truth


def sql(outdir: Path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(outdir / "gradebook.sqlite") as db:
        return db.execute(query, args).fetchall()


def check_report_counts(outdir: Path) -> Tables:
    """The counts of ``OUTDIR/report.html`` (written first) against SQL on its gradebook: the
    submissions, each test's passes, each diagnosed mistake's submissions. Reusable on any
    graded class (the class-grading tests call it on theirs)."""
    html = write_report(outdir, feedback=False).read_text()
    tables = Tables(html)
    by_status = dict(sql(outdir, "SELECT status, COUNT(*) FROM submissions GROUP BY status"))
    total, graded = sum(by_status.values()), by_status.get("graded", 0)
    assert (f"{total} submissions: {graded} graded, {by_status.get('unreadable', 0)} unreadable, "
            f"{by_status.get('grader_error', 0)} grader error(s)") in html
    assert len(tables.find("submission", "id", "score", "max", "failed tests", "seconds",
                           "status")) == total
    passed = dict(sql(outdir, "SELECT t.number, SUM(t.status = 'passed') FROM tests t JOIN "
                              "submissions s USING (key) WHERE s.status = 'graded' AND "
                              "t.max_score > 0 GROUP BY t.number"))
    rows = tables.find("#", "test", "passed", "of", "%")
    assert {r[0]: int(r[2]) for r in rows} == passed
    for r in tables.find("students", "of the class", "likely cause", "tests", "who"):
        (n,), = sql(outdir, "SELECT COUNT(DISTINCT t.key) FROM tests t JOIN submissions s USING "
                            "(key) WHERE s.status = 'graded' AND t.status = 'failed' AND "
                            "lower(t.output) LIKE '%likely cause: ' || lower(?) || '%'", r[2])
        assert int(r[0]) == n, r
    return tables


def test_the_report_counts_equal_the_gradebooks(klass):
    outdir, truth = klass
    tables = check_report_counts(outdir)
    assert "26 submissions: 24 graded, 1 unreadable, 1 grader error(s)" in \
        (outdir / "report.html").read_text()
    assert {int(r[3]) for r in tables.find("#", "test", "passed", "of", "%")} == {24}
    mistakes = {r[2]: int(r[0]) for r in tables.find("students", "of the class", "likely cause",
                                                     "tests", "who")}
    for cause, keys in truth.made.items():
        if not keys:
            assert cause not in mistakes
            continue
        (n,), = sql(outdir, "SELECT COUNT(DISTINCT t.key) FROM tests t JOIN submissions s USING "
                            "(key) WHERE s.status = 'graded' AND t.status = 'failed' AND "
                            "instr(t.output, ?) > 0", f"Likely cause: {cause}")
        assert mistakes[cause] == n == len(keys)
    assert sum(truth.made.values(), []), "the seed gave no mistakes at all: pick another"


def test_the_share_of_the_class_and_who_made_a_mistake_are_named(klass):
    outdir, truth = klass
    html = write_report(outdir, feedback=False).read_text()
    row = next(r for r in Tables(html).find("students", "of the class", "likely cause", "tests",
                                            "who") if r[2] == FIOG)
    assert row[1] == f"{100 * len(truth.made[FIOG]) / 24:.0f}%"
    assert row[4].split(", ") == [f"Student {k[1:]}" for k in truth.made[FIOG]]
    for key in truth.made[FIOG]:
        assert f'href="feedback/{key}.html"' in html


@pytest.mark.parametrize("variant", [
    "Your outputs match nn.LSTM with the gates in the order f, i, g, o; PyTorch's order is i, f, "
    "g, o (the row blocks of weight_ih and weight_hh): fix your LSTM (Part 4) first.",
    "  your outputs  match nn.LSTM with the gates in the order f, i, g, o; PyTorch's order is i, "
    "f, g, o (the row blocks of weight_ih and weight_hh). ",
], ids=["consequence-tail", "case-and-spacing"])
def test_one_mistake_worded_around_groups_as_one(variant):
    assert normalise(variant) == normalise(FIOG + ".")


def test_grader_errors_unreadable_submissions_timeouts_and_isolation_are_listed(klass):
    outdir, _ = klass
    tables = Tables(write_report(outdir, feedback=False).read_text())
    problems = {r[0]: (r[1], r[2]) for r in tables.find("submission", "status", "why")}
    assert problems == {"zz_crash": ("grader_error", "RuntimeError: internal bug"),
                        "zz_empty": ("unreadable",
                                     "expected one notebook (.ipynb) or one .py file")}
    late = tables.find("submission", "where", "what the feedback says")
    assert [(r[0], r[1]) for r in late] == [("Student 01", "7.1")] and "timed out" in late[0][2]
    isolation = tables.find("submissions", "isolation")
    assert sum(int(r[0]) for r in isolation) == 26 and len(isolation) == 1


def test_hostile_text_is_shown_as_text_never_as_markup(tmp_path):
    build_class(tmp_path, n=3, evil=EVIL)
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        report = report_for("x", [], __import__("random").Random(0))
        report.tests[0] = TestResult(EVIL, "1.1", 0.0, 2.0, f"0/1 checks passed.\nLikely cause: "
                                     f"{EVIL}.", ["Part 1"])
        book.store(key="evil", name=EVIL, email="", layout="flat", path="/x", content_hash="e",
                   grader_version=EVIL, seed=None, started_at=1.0, wall_s=1.0, report=report)
        stored = book.all()
    pages = [class_report_html(stored)] + [feedback_html(s) for s in stored]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert not OUTSIDE.search(html), OUTSIDE.search(html)
    assert all("&lt;script&gt;alert(1)&lt;/script&gt;" in html for html in
               [pages[0], feedback_html(next(s for s in stored if s.key == "evil"))])


def fenced_out(md: str) -> list[str]:
    """The lines of ``md`` outside its fenced code blocks (CommonMark's rule: a block closes
    at a fence of the same character at least as long as the one that opened it)."""
    outside, fence = [], ""
    for line in md.splitlines():
        m = re.match(r"^ {0,3}(`{3,}|~{3,})(.*)$", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not m.group(2).strip():
                fence = ""
        elif m:
            fence = m.group(1)
        else:
            outside.append(line)
    return outside


@pytest.mark.parametrize("text", [
    f"0/3 checks passed.\nLikely cause: the softmax runs over the time axis.\n[case] {EVIL}",
    f"Graded in a sandbox.\n\nYour code printed (truncated):\nloss 0.5\n{EVIL}\n```\n<b>x</b>",
    EVIL,
], ids=["test-output", "printed", "bare"])
def test_markdown_keeps_student_text_in_code_blocks(text):
    md = markdown(text)
    for line in fenced_out(md):
        assert not re.search(r"[<>\[\]`*&\\]", line), line
    for line in text.splitlines():  # every line is still there, unchanged
        assert line in md.splitlines()


def test_gradescope_results_are_markdown_and_follow_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "autograder" / "gradescope_schema.json").read_text())
    data = to_gradescope(report_for("s", [FIOG], __import__("random").Random(0), printed=EVIL))
    jsonschema.validate(data, schema)
    assert data["output_format"] == data["test_output_format"] == "md"
    assert not any("<script>" in line for line in fenced_out(data["output"]))


def test_hidden_tests_never_reach_a_students_page(klass):
    outdir, _ = klass
    with Gradebook(outdir / "gradebook.sqlite") as book:
        stored = book.stored("s00")
    assert any(t.visibility == "hidden" for t in stored.report.tests)
    for text in (feedback_html(stored), feedback_markdown(stored.report)):
        assert "Grading seed" not in text and "STAFF-ONLY-SEED" not in text
        assert "1810538161" not in text  # nor the seed itself
    crash = Gradebook(outdir / "gradebook.sqlite").stored("zz_crash")
    assert "internal bug" not in feedback_html(crash)


def test_every_submission_gets_a_feedback_page_with_its_plots(tmp_path):
    outdir, truth = tmp_path, build_class(tmp_path, n=6, seed=3)
    with Gradebook(outdir / "gradebook.sqlite") as book:
        paths = write_feedback(book.all(), outdir)
    assert sorted(p.name for p in paths) == sorted(f"{k}.html" for k in truth.keys)
    html = (outdir / "feedback" / "s00.html").read_text()
    (failed,), = sql(outdir, "SELECT COUNT(*) FROM tests WHERE key = 's00' AND status = 'failed'")
    assert failed >= 1
    assert html.count("<svg") == 1 + min(failed, MAX_FIGURES)  # the parts; one per failed test
    assert "Points per part" not in html  # figure text is drawn as paths: no font needed
    assert 'aria-label="points earned and possible per part"' in html


@pytest.mark.parametrize("key,name", [("../../etc/passwd", "_.._etc_passwd.html"),
                                      (".hidden", "hidden.html"), ("a~2", "a~2.html")],
                         ids=["parent-path", "dotfile", "duplicate-suffix"])
def test_feedback_file_names_stay_in_the_feedback_folder(key, name):
    assert feedback_name(key) == name


@pytest.mark.parametrize("text,expected", [
    ("[case] output: tensors are not close. Mismatched elements: 105 / 105 (100.0%). Greatest "
     "absolute difference: 0.358 at index (4, 1, 3) (up to 1e-09 allowed). Greatest relative "
     "difference: 43.2 at index (4, 0, 3) (up to 1e-07 allowed). The first mismatch in time is "
     "at step t = 2 (of 7).", [("output", 0.358, 1e-09, 2, 7)]),
    ("[case] h_n: tensors are not close. Mismatched elements: 1 / 15 (6.7%). Greatest absolute "
     "difference: 1.16 at index (0, 2, 3) (up to 1e-05 allowed). Greatest relative difference: "
     "3 at index (0, 0, 0) (up to 1e-07 allowed).", [("h_n", 1.16, 1e-05, None, None)]),
    ("0/1 checks passed.\n[case] raised ValueError: shapes are wrong", []),
], ids=["output-with-step", "state-without-step", "no-numbers"])
def test_figures_are_drawn_only_from_numbers_the_feedback_gives(text, expected):
    found = [(m.name, m.diff, m.atol, m.step, m.steps) for m in mismatches(text)]
    assert found == expected
    html = failed_test_html(TestResult("t", "4.7", 0.0, 8.0, text, []))
    assert ("<svg" in html) == bool(expected)


def disguised(source: str) -> str:
    """``source`` with every variable and parameter renamed and the top-level functions and
    classes in reverse order: a copy dressed up as someone else's work (``self`` and names
    of builtins stay: a student renaming those breaks their own code or its conventions)."""
    tree = ast.parse(source)
    names: dict[str, str] = {}
    keep = set(dir(builtins)) | {"self", "cls"}
    for node in ast.walk(tree):
        name = node.arg if isinstance(node, ast.arg) else node.id if isinstance(
            node, ast.Name) and isinstance(node.ctx, ast.Store) else None
        if name and name not in keep:
            names.setdefault(name, f"q{len(names)}")

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            node.id = names.get(node.id, node.id)
            return node

        def visit_arg(self, node):
            node.arg = names.get(node.arg, node.arg)
            return node

    tree = Rename().visit(tree)
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    tree.body = [n for n in tree.body if n not in defs] + defs[::-1]
    return ast.unparse(tree)


def test_a_disguised_copy_is_the_most_similar_pair(tmp_path):
    """Independent code: the reference implementations (one module per network, written
    separately) and the solution; the copy: the solution renamed and reordered."""
    solution = (ROOT / "examples" / "submissions" / "solution.py").read_text()
    copy = disguised(solution)
    assert "def rnn_forward(q" in copy and copy.index("def rnn_forward") > copy.index("class ")
    sources = {p.stem.strip("_"): p.read_text() for p in sorted((ROOT / "reference").glob("*.py"))
               if p.stem != "__init__"}
    assert len(sources) >= 8
    sources.update({"original": solution, "disguised": copy})
    boilerplate = read_boilerplate(ROOT / "assignments" / "rnn_lstm")
    pairs = write_similarity(tmp_path, boilerplate, sources=sources)
    assert {pairs[0].a, pairs[0].b} == {"original", "disguised"}
    assert pairs[0].score > pairs[1].score + 0.2  # and by a wide margin
    html = (tmp_path / "similarity.html").read_text()
    assert html.count('<mark class="copy">') > 10 and not OUTSIDE.search(html)
    assert not (tmp_path / "gradebook.sqlite").exists()  # it reads; it never writes a gradebook


def test_the_skeleton_alone_is_not_similarity(tmp_path):
    boilerplate = read_boilerplate(ROOT / "assignments" / "rnn_lstm")
    assert any('raise NotImplementedError("Part 1: write rnn_param_count")' in b
               for b in boilerplate)
    assert not any("return H * I + H * H" in b for b in boilerplate)  # no solution in it
    skeleton = "\n\n".join(boilerplate)
    pairs, small = similar_pairs({"a": skeleton, "b": skeleton + "\n# mine\n"}, boilerplate)
    assert pairs == [] and small == ["a", "b"]


def test_code_in_the_similarity_report_is_escaped():
    code = 'def f(x):\n    return "</pre><script>alert(1)</script>" + x * 2 + x ** 3 - x / 4\n' * 6
    pairs, _ = similar_pairs({"a": code, "b": code}, min_tokens=1)
    assert "<script>" not in pairs[0].html_a and "&lt;script&gt;" in pairs[0].html_a


def test_a_report_without_a_gradebook_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="grade the class first"):
        write_report(tmp_path)
    assert not (tmp_path / "gradebook.sqlite").exists()


def test_an_unreadable_submission_s_page_says_why(tmp_path):
    build_class(tmp_path, n=1)
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        html = feedback_html(book.stored("zz_empty"))
    assert "could not be read" in html and "expected one notebook" in html


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_similarity_reads_each_submission_from_the_gradebook_and_writes_nothing_there(tmp_path):
    solution = (ROOT / "examples" / "submissions" / "solution.py").read_text()
    files = {"orig": solution, "copy": disguised(solution),
             **{p.stem: p.read_text() for p in (ROOT / "reference").glob("[a-z]*.py")}}
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        for key, code in files.items():
            (tmp_path / f"{key}.py").write_text(code)
            book.store(key=key, name=f"Name {key}", email="", layout="flat",
                       path=str(tmp_path / f"{key}.py"), content_hash=key,
                       grader_version="0.1.0", seed=None, started_at=1.0, wall_s=1.0,
                       report=report_for(key, [], __import__("random").Random(0)))
    before = dump(tmp_path / "out" / "gradebook.sqlite")
    (tmp_path / "tasks.py").unlink()  # gone since grading: said on the page, not fatal
    pairs = write_similarity(tmp_path / "out", read_boilerplate(ROOT / "assignments" / "rnn_lstm"))
    assert {pairs[0].a, pairs[0].b} == {"orig", "copy"}
    html = (tmp_path / "out" / "similarity.html").read_text()
    assert "tasks: " in html and "could not be read" in html and "Name copy (copy)" in html
    assert dump(tmp_path / "out" / "gradebook.sqlite") == before
