"""autograder.unzip: the one extractor of untrusted zips (a student's upload, a class export)."""
from __future__ import annotations

import stat
import zipfile

import pytest

from autograder import unzip


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("name, mode", [
    ("../escape.py", stat.S_IFREG | 0o644),
    ("/abs/olute.py", stat.S_IFREG | 0o644),
    ("link.py", stat.S_IFLNK | 0o777),
    ("folder/", stat.S_IFDIR | 0o755),
], ids=["dotdot", "absolute", "symlink", "directory"])
def test_only_regular_files_inside_the_target_are_written(tmp_path, name, mode):
    z = make_zip(tmp_path / "a.zip", [(name, b"/etc/passwd", mode),
                                      ("ok/hw.py", b"x = 1", stat.S_IFREG | 0o644)])
    out = tmp_path / "out"
    written = unzip.extract(z, out, max_entries=10, max_bytes=1 << 20)
    assert [p.relative_to(out).as_posix() for p in written] == ["ok/hw.py"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                  if p.is_file()) == ["a.zip", "out/ok/hw.py"]


def test_limits_on_entries_each_file_and_all_files(tmp_path):
    many = make_zip(tmp_path / "many.zip", [(f"f{i}.py", b"", 0o644) for i in range(5)])
    with pytest.raises(unzip.TooManyEntries) as e:
        unzip.extract(many, tmp_path / "o1", max_entries=4, max_bytes=100)
    assert e.value.count == 5
    two = make_zip(tmp_path / "two.zip", [("a.py", b"x" * 60, 0o644), ("b.py", b"y" * 60, 0o644)])
    with pytest.raises(unzip.TooLarge):  # each fits, both do not
        unzip.extract(two, tmp_path / "o2", max_entries=10, max_bytes=100)
    with pytest.raises(unzip.TooLarge):
        unzip.extract(two, tmp_path / "o3", max_entries=10, max_bytes=1000, max_file=50)
    kept = unzip.extract(two, tmp_path / "o4", max_entries=10, max_bytes=100,
                         keep=lambda name: name.name == "b.py")
    assert [p.name for p in kept] == ["b.py"]


def test_a_declared_size_that_lies_is_caught_while_reading(tmp_path):
    z = make_zip(tmp_path / "lie.zip", [("big.py", b"z" * 5000, 0o644)])
    with zipfile.ZipFile(z) as zf:
        info = zf.infolist()[0]
    real = unzip.zipfile.ZipFile.infolist

    def lying(self):
        infos = real(self)
        for i in infos:
            i.file_size = 10  # what the central directory claims
        return infos

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(unzip.zipfile.ZipFile, "infolist", lying)
        with pytest.raises((unzip.TooLarge, zipfile.BadZipFile)):
            unzip.extract(z, tmp_path / "out", max_entries=10, max_bytes=1000, max_file=100)
    assert info.file_size == 5000
    out = tmp_path / "out" / "big.py"
    assert not out.exists() or out.stat().st_size <= 100 + unzip.BLOCK
