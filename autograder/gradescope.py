"""Gradescope: what ``run_autograder`` does, and the zip for Gradescope's non-Docker upload.

Gradescope runs one container per submission, as root, with the student's files in
``/autograder/submission``, the autograder in ``/autograder/source``, and reads
``/autograder/results/results.json``. ``root`` is configurable so tests can lay out the same tree
in a temporary directory.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

from .course import Course, load as load_course
from .judge import Budget, grade
from .results import GradeReport, failsafe_report, write_results
from .sandbox import lock_down
from .spec import Homework

REPO = Path(__file__).resolve().parents[1]  # a checkout, or site-packages when installed
DEFAULT_BUDGET_S = 480.0  # inside Gradescope's default 10-minute timeout, with room to spare
# What grading needs; the authoring tools (authoring/), tests and examples stay out.
PACKAGES = ["reference", "autograder", "homework", "rnngrade"]
KIT = ["pyproject.toml", "README.md", "HOMEWORK.md", "course.toml", "scripts/setup.sh",
       "scripts/gradescope/setup.sh", "scripts/gradescope/run_autograder"]


def kit_root() -> Path:
    """Where the files beside the packages are: the checkout (an editable install), or the
    data files a wheel installs under ``<prefix>/share/rnngrade``."""
    for root in (REPO, Path(sys.prefix) / "share" / "rnngrade"):
        if all((root / name).is_file() for name in KIT):
            return root
    raise FileNotFoundError("the Gradescope scripts are not installed beside rnngrade: build the "
                            "upload from a clone (bash scripts/setup.sh, then rnngrade gradescope "
                            "build) or reinstall the package")


def late_note(metadata: dict, now: datetime | None = None, course: Course = Course()) -> str:
    """A line for the student when the submission came after the due date: the course file's
    (``[policy] due``), else Gradescope's; with the course's late policy."""
    try:
        due = datetime.fromisoformat(course.due or metadata["assignment"]["due_date"])
        created = datetime.fromisoformat(metadata["created_at"]) if now is None else now
        late = created > due  # TypeError if one of them has no time zone
    except (KeyError, TypeError, ValueError):
        return ""
    policy = f" {course.late}" if course.late else ""
    return f"Submitted after the due date ({due.isoformat()}).{policy}" if late else ""


def run(homework: Homework, root: Path = Path("/autograder"),
        budget_s: float | None = None) -> GradeReport:
    """Grade ``root/submission`` and write ``root/results/results.json``, whatever happens."""
    start = time.monotonic()
    results = root / "results" / "results.json"
    try:
        course = load_course()
        budget_s = budget_s or float(os.environ.get("RNNGRADE_BUDGET_S", 0)) or \
            course.budget_s or DEFAULT_BUDGET_S
        if os.geteuid() == 0:  # the sandbox user must read neither the source nor the results
            lock_down([root / "source", root / "results"])
        metadata_path = root / "submission_metadata.json"
        metadata = json.loads(metadata_path.read_text()) if metadata_path.exists() else {}
        report = grade(root / "submission", homework, Budget(total_s=budget_s), course=course)
        note = late_note(metadata, course=course)
        if note:
            report.output = f"{note}\n\n{report.output}".strip()
    except Exception as e:  # the grader's own failure: still a valid results.json
        report = failsafe_report("submission", e, time.monotonic() - start)
    write_results(report, results)
    return report


def build_zip(out: Path) -> Path:
    """``setup.sh`` and ``run_autograder`` at the root (executable), beside the package's files.
    Gradescope extracts the zip's contents into ``/autograder/source``, so ``setup.sh`` finds
    ``scripts/setup.sh`` there. Gradescope keeps the autograder zip private."""
    kit = kit_root()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            zf.writestr(info, (kit / "scripts" / "gradescope" / name).read_bytes())
        for name in KIT:
            zf.write(kit / name, name)
        for top in PACKAGES:
            for path in sorted((REPO / top).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                    zf.write(path, str(path.relative_to(REPO)))
    return out
