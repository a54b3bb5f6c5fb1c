"""What the class's HTML pages share: one page shell with inline CSS, escaping, file names, and
matplotlib figures embedded as inline SVG.

Every page is self-contained: no network request, no external CSS, JS or fonts. Figures are made
with ``matplotlib.figure.Figure`` directly (never pyplot: no global figure state, no GUI backend
is ever chosen) and saved as SVG with text drawn as paths, so the SVG needs no font either.
Student-controlled text (test outputs, what their code printed, names) goes through ``esc``
everywhere and never into a figure: figure labels are test numbers and our own words.
"""
from __future__ import annotations

import html
import io
import re
from itertools import count
from typing import Iterable, Sequence

from matplotlib.figure import Figure

CSS = """
:root { --ok: #1a7f37; --part: #9a6700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 1100px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 28px 0 8px;
     border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0; }
.muted { color: var(--muted); } .small { font-size: 13px; }
.total { font-size: 40px; font-weight: 700; margin: 8px 0; }
.ok { color: var(--ok); } .part { color: var(--part); } .bad { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; } th[data-sort] { cursor: pointer; user-select: none; }
th[data-sort]::after { content: " \\2195"; color: var(--muted); font-size: 11px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: 13px;
      margin: 6px 0; }
.test { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.test.failed { border-left: 5px solid var(--bad); }
.test.passed { border-left: 5px solid var(--ok); }
.test header { display: flex; justify-content: space-between; gap: 12px; align-items: baseline; }
.cause { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 10px;
         margin: 6px 0; }
.figure { margin: 6px 0; } .figure svg { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #eaeef2;
        font-size: 12px; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.side pre { max-height: 520px; overflow: auto; }
mark.copy { background: #ffd8b5; }
"""

# Click a column heading to sort by it (numbers as numbers); nothing else runs on the page.
SORT_JS = """
document.querySelectorAll("th[data-sort]").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var down = th.getAttribute("data-dir") !== "down";
    th.setAttribute("data-dir", down ? "down" : "up");
    var key = function (row) {
      var cell = row.children[i];
      var text = cell ? (cell.getAttribute("data-v") || cell.textContent) : "";
      var n = parseFloat(text);
      return isNaN(n) ? text.toLowerCase() : n;
    };
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (down ? -1 : 1);
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""

FILE_SAFE = re.compile(r"[^A-Za-z0-9._@+~-]+")
_figures = count(1)


def esc(text: object) -> str:
    """``text`` as HTML text or an attribute value: ``<script>`` shows as text, quotes included."""
    return html.escape(str(text), quote=True)


def feedback_name(key: str) -> str:
    """The file name of a student's feedback page: ``<key>.html``, never a path (no ``/``,
    no leading dot), whatever the key holds."""
    return (FILE_SAFE.sub("_", key).lstrip(".") or "student") + ".html"


def page(title: str, body: str, *, script: bool = False) -> str:
    """A whole HTML document: ``title`` (escaped here), ``body`` (HTML already), inline CSS and,
    with ``script``, the table sorting script."""
    js = f"<script>{SORT_JS}</script>" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # no request may leave the page, even one a bug of ours let in
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n{js}"
            "</body></html>\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *,
          numeric: Sequence[int] = (), sortable: bool = False, raw: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except the columns in ``raw`` (HTML we made)."""
    num, sort = ' class="num"', " data-sort" if sortable else ""
    head = "".join(f"<th{num if i in numeric else ''}{sort}>{esc(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = str(value) if i in raw else esc(value)
            cells.append(f"<td class=\"num\">{text}</td>" if i in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def new_figure(width: float = 6.0, height: float = 2.6) -> Figure:
    """A figure of ``width`` x ``height`` inches, not attached to pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def svg(fig: Figure, label: str) -> str:
    """``fig`` as an inline ``<svg>`` element, its ids made unique in the page (several figures
    share one page and matplotlib numbers its ids per figure), ``label`` as its accessible name."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>|\s*<!--.*?-->", "", text, flags=re.S)
    prefix = f"f{next(_figures)}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{esc(label)}" ', 1)
    return f'<div class="figure">{text}</div>'


def score_class(score: float, max_score: float) -> str:
    """The CSS class of a score: ok (full marks), part (some), bad (none)."""
    return "ok" if score >= max_score else "part" if score > 0 else "bad"


def part_of(number: str, tags: Sequence[str] = ()) -> str:
    """"Part 4" for test "4.2" (the tag the homework gives, else the number's first field)."""
    for tag in tags:
        if tag.startswith("Part "):
            return tag
    return f"Part {number.split('.')[0]}"


def number_key(number: str) -> tuple[int, ...]:
    """"4.10" after "4.9": test numbers in the order of the parts."""
    try:
        return tuple(int(x) for x in number.split("."))
    except ValueError:
        return (10 ** 6,)
