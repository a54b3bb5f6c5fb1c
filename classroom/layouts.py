"""What a TA's class folder holds: one ``Entry`` per submission, keyed by student id.

Layouts understood (``collect`` tells them apart by what is there, never by the folder's name):

- **Gradescope export** ("Export Submissions"): a folder or zip whose root, or single top-level
  folder, holds ``submission_metadata.yml``; each ``submission_<n>/`` folder is one submission and
  the YAML names its submitters (``:name:``, ``:sid:``, ``:email:``).
- **nbgrader**: ``submitted/<student>/<assignment>/`` (the course folder, or ``submitted/``
  itself): the student id is the folder name.
- **Canvas** downloads: files named ``<name>_[late_]<user id>_<submission id>_<file>``.
- **flat**: a folder of notebooks, ``.py`` files, zips (otter's exports among them) or folders,
  one per student: the id is the file's stem.

Two files for one student are both graded, under ``id`` and ``id~2``, and reported; two students
with one name are reported. Nothing is ever overwritten.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import unzip

SUFFIXES = (".ipynb", ".py", ".zip")
CANVAS = re.compile(r"^(?P<name>[a-z]+)_(?:late_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class Entry:
    key: str  # the student id, unique in the roster: results/<key>.json
    name: str  # the student's name where the layout gives one, else the id
    path: Path  # what to grade: a file or a folder
    layout: str  # gradescope | nbgrader | canvas | flat
    email: str = ""


@dataclass
class Roster:
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # for the TA: duplicates, unreadable

    def add(self, key: str, name: str, path: Path, layout: str, email: str = "") -> None:
        key = SAFE.sub("_", key).strip("._") or "student"
        taken = {e.key for e in self.entries}
        if key in taken:
            n = 2
            while f"{key}~{n}" in taken:
                n += 1
            first = next(e for e in self.entries if e.key == key)
            self.problems.append(f"two submissions for student {key}: {first.path.name} and "
                                 f"{path.name}; both graded, the second as {key}~{n}: keep one")
            key = f"{key}~{n}"
        self.entries.append(Entry(key, name or key, path, layout, email))

    def report_shared_names(self) -> None:
        by_name: dict[str, list[str]] = {}
        for e in self.entries:
            if e.name != e.key and "~" not in e.key:
                by_name.setdefault(e.name, []).append(e.key)
        for name, keys in by_name.items():
            if len(keys) > 1:
                self.problems.append(f"{len(keys)} students named {name!r} (ids "
                                     f"{', '.join(keys)}): graded separately, by id")


def content_hash(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's relative paths and bytes (sorted)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                 and not p.is_symlink())
    for p in files:
        h.update(str(p.relative_to(path) if p != path else p.name).encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return h.hexdigest()


MAX_EXPORT_ENTRIES = 200_000
MAX_EXPORT_BYTES = 8 << 30


def unpack_export(path: Path, into: Path) -> Path:
    """Extract a Gradescope export zip into ``into`` (fresh each time), refusing links and
    paths that escape it, and stopping at 8 GiB (counted as it is read, not believed)."""
    import shutil

    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    try:
        unzip.extract(path, into, max_entries=MAX_EXPORT_ENTRIES, max_bytes=MAX_EXPORT_BYTES)
    except unzip.TooManyEntries as e:
        raise ValueError(f"{path.name} holds {e.count} files: not a class export") from None
    except unzip.TooLarge:
        raise ValueError(f"{path.name} expands to more than 8 GiB") from None
    return into


def _metadata_root(path: Path) -> Path | None:
    if (path / "submission_metadata.yml").is_file():
        return path
    subs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subs) == 1 and (subs[0] / "submission_metadata.yml").is_file():
        return subs[0]
    return None


def _gradescope(root: Path, roster: Roster) -> None:
    import yaml

    metadata = yaml.safe_load((root / "submission_metadata.yml").read_text()) or {}
    for folder, info in sorted(metadata.items()):
        sub = root / str(folder)
        if not sub.is_dir():
            roster.problems.append(f"submission_metadata.yml names {folder}, which is missing")
            continue
        submitters = (info or {}).get(":submitters") or [{}]
        first = submitters[0]
        sid = str(first.get(":sid") or first.get(":email") or folder)
        if len(submitters) > 1:
            roster.problems.append(f"{folder} is a group submission of {len(submitters)}: graded "
                                   f"once, under {sid}; give the others the same score")
        roster.add(sid, str(first.get(":name") or sid), sub, "gradescope",
                   str(first.get(":email") or ""))


def _nbgrader(submitted: Path, assignment: str, roster: Roster) -> None:
    for student in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folders = [p for p in sorted(student.iterdir()) if p.is_dir()]
        chosen = [p for p in folders if p.name == assignment] or folders
        if len(chosen) != 1:
            roster.problems.append(f"nbgrader: {student.name} has {len(folders)} assignment "
                                   f"folders and none named {assignment}: not graded")
            continue
        roster.add(student.name, student.name, chosen[0], "nbgrader")


def _is_nbgrader(path: Path) -> Path | None:
    if (path / "submitted").is_dir():
        return path / "submitted"
    students = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if students and all(any(q.is_dir() and any(q.glob("*.ipynb")) for q in s.iterdir())
                        for s in students) and not any(path.glob("*.ipynb")):
        return path
    return None


def collect(path: Path, assignment: str = "rnn_lstm", unpack: Path | None = None) -> Roster:
    """The submissions at ``path`` (a class folder, or a Gradescope export zip unpacked into
    ``unpack``)."""
    roster = Roster()
    if path.is_file() and path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any(n.endswith("submission_metadata.yml") for n in names):
            if unpack is None:
                raise ValueError("a Gradescope export zip needs a folder to unpack into")
            path = unpack_export(path, unpack)
        else:  # one student's zip
            roster.add(path.stem, path.stem, path, "flat")
            return roster
    if not path.is_dir():
        roster.add(path.stem, path.stem, path, "flat")
        return roster
    root = _metadata_root(path)
    submitted = None if root else _is_nbgrader(path)
    if root is not None:
        _gradescope(root, roster)
    elif submitted is not None:
        _nbgrader(submitted, assignment, roster)
    else:
        for p in sorted(path.iterdir()):
            if p.name.startswith(".") or not (p.suffix in SUFFIXES or p.is_dir()):
                continue
            m = CANVAS.match(p.name)
            if m:
                roster.add(m["id"], m["name"], p, "canvas")
            else:
                roster.add(p.stem, p.stem, p, "flat")
    roster.report_shared_names()
    return roster
