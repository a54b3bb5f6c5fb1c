"""Extracting an untrusted zip: a student's upload (``submission.extract_zip``) or a whole
class's Gradescope export (``classroom.layouts.unpack_export``).

Only regular files are written: never a link, a directory entry, an absolute path or one with
``..``. The number of entries and the bytes written (each file's and in all) are limited, the
bytes counted as they are read: a zip's declared sizes are not believed. Each caller words its
own messages from ``TooManyEntries`` and ``TooLarge``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

BLOCK = 1 << 20


class TooManyEntries(Exception):
    def __init__(self, count: int):
        super().__init__(f"{count} entries")
        self.count = count


class TooLarge(Exception):
    pass


def safe_name(info: zipfile.ZipInfo) -> Path | None:
    """The entry's relative path, or None for what is never extracted."""
    name = Path(info.filename)
    is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
    if info.is_dir() or is_link or name.is_absolute() or ".." in name.parts:
        return None
    return name


def extract(path: Path, into: Path, *, max_entries: int, max_bytes: int,
            max_file: int | None = None,
            keep: Callable[[Path], bool] = lambda name: True) -> list[Path]:
    """Extract ``path``'s regular files that ``keep`` accepts into ``into``; the files written.
    ``TooManyEntries`` over ``max_entries`` names; ``TooLarge`` once a file would pass
    ``max_file`` bytes or all of them ``max_bytes``."""
    written = []
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise TooManyEntries(len(infos))
        left = max_bytes
        for info in infos:
            name = safe_name(info)
            if name is None or not keep(name):
                continue
            cap = left if max_file is None else min(left, max_file)
            if info.file_size > cap:  # declared too big: not even opened
                raise TooLarge(name)
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                while block := src.read(BLOCK):
                    cap -= len(block)
                    left -= len(block)
                    if cap < 0:  # the declared size lied
                        raise TooLarge(name)
                    dst.write(block)
            written.append(target)
    return written
