"""Screenshots of the class report and of a feedback page, for the README: docs/report.png and
docs/feedback.png, rendered by headless Chromium at 1200 x 1600.

    python benchmarks/screenshots.py                 # a synthetic class of 40 (tests/classroom)
    python benchmarks/screenshots.py --out OUTDIR    # a graded class: OUTDIR/gradebook.sqlite

The synthetic class uses the homework's test table, the grader's wording and real hints of
homework/rnn_lstm/mistakes.py; the page shown is the graded submission with the most failed
tests. Takes a few seconds; needs Chromium (Debian: apt-get install chromium).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from classroom.gradebook import Gradebook  # noqa: E402
from classroom.pages import feedback_name  # noqa: E402
from classroom.report import write_report  # noqa: E402


def screenshot(chromium: str, page: Path, png: Path, profile: Path) -> None:
    """One screenshot of ``page`` at 1200 x 1600 into ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", f"--user-data-dir={profile}",
                           "--window-size=1200,1600", f"--screenshot={png}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not png.is_file():
        raise SystemExit(f"chromium failed on {page} (status {proc.returncode}):\n"
                         f"{proc.stderr[-2000:]}")
    print(f"{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}: {page.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="a graded class's OUTDIR (default: synthetic)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="where the PNGs go")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="rnngrade-screenshots-") as tmp:
        outdir = args.out
        if outdir is None:
            from tests.classroom.synthetic import build_class
            outdir = Path(tmp) / "class"
            build_class(outdir, n=40, seed=7)
        report = write_report(outdir)
        with Gradebook(outdir / "gradebook.sqlite") as book:
            graded = [s for s in book.all() if s.status == "graded"]
        if not graded:
            raise SystemExit(f"no graded submission in {outdir}: nothing to show")
        worst = max(graded, key=lambda s: (sum(t.status == "failed" for t in s.report.tests),
                                           s.key))
        screenshot(chromium, report, args.docs / "report.png", Path(tmp) / "profile")
        screenshot(chromium, outdir / "feedback" / feedback_name(worst.key),
                   args.docs / "feedback.png", Path(tmp) / "profile")


if __name__ == "__main__":
    main()
