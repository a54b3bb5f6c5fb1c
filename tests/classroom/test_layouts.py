"""The class folders TAs have, told apart by what they hold; students keyed by id; duplicates
reported, never overwritten."""
from __future__ import annotations

import zipfile

import pytest
import yaml

from classroom.layouts import collect, content_hash, unpack_export


def write(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_flat_folder_is_one_student_per_file_or_folder_keyed_by_stem(tmp_path):
    write(tmp_path / "alice.ipynb", "{}")
    write(tmp_path / "bob.py")
    write(tmp_path / "carol" / "hw.py")
    write(tmp_path / "notes.txt")
    write(tmp_path / ".hidden.py")
    roster = collect(tmp_path)
    assert [(e.key, e.layout) for e in roster.entries] == [
        ("alice", "flat"), ("bob", "flat"), ("carol", "flat")]
    assert roster.problems == []


def test_two_files_for_one_student_are_both_kept_and_reported(tmp_path):
    write(tmp_path / "alice.ipynb", "{}")
    write(tmp_path / "alice.py")
    roster = collect(tmp_path)
    assert [e.key for e in roster.entries] == ["alice", "alice~2"]
    assert "two submissions for student alice" in roster.problems[0]


def test_nbgrader_submitted_folders_are_keyed_by_the_student_folder(tmp_path):
    for student in ("s1", "s2"):
        write(tmp_path / "submitted" / student / "rnn_lstm" / "rnn_lstm.ipynb", "{}")
    write(tmp_path / "submitted" / "s2" / "other_hw" / "other.ipynb", "{}")
    write(tmp_path / "submitted" / "s3" / "hw_a" / "a.ipynb", "{}")
    write(tmp_path / "submitted" / "s3" / "hw_b" / "b.ipynb", "{}")
    for where in (tmp_path, tmp_path / "submitted"):
        roster = collect(where)
        assert [(e.key, e.path.name, e.layout) for e in roster.entries] == [
            ("s1", "rnn_lstm", "nbgrader"), ("s2", "rnn_lstm", "nbgrader")]
        assert "s3 has 2 assignment folders" in roster.problems[0]


def gradescope_export(root, submitters: dict[str, list[dict]]):
    metadata = {}
    for folder, people in submitters.items():
        write(root / folder / "rnn_lstm.ipynb", "{}")
        metadata[folder] = {":submitters": people, ":created_at": "2026-11-30 10:00:00 -0800"}
    write(root / "submission_metadata.yml", yaml.safe_dump(metadata))


def test_a_gradescope_export_gives_names_ids_and_emails_and_reports_shared_names(tmp_path):
    gradescope_export(tmp_path / "assignment_1_export", {
        "submission_1": [{":name": "Ana Li", ":sid": "111", ":email": "ana@u.edu"}],
        "submission_2": [{":name": "Ana Li", ":sid": "222", ":email": "ana2@u.edu"}],
        "submission_3": [{":name": "Bo", ":sid": None, ":email": "bo@u.edu"},
                         {":name": "Cy", ":sid": "333", ":email": "cy@u.edu"}],
    })
    roster = collect(tmp_path)
    assert [(e.key, e.name, e.email) for e in roster.entries] == [
        ("111", "Ana Li", "ana@u.edu"), ("222", "Ana Li", "ana2@u.edu"),
        ("bo@u.edu", "Bo", "bo@u.edu")]
    assert any("group submission of 2" in p for p in roster.problems)
    assert any("2 students named 'Ana Li'" in p for p in roster.problems)


def test_a_gradescope_export_zip_is_unpacked_into_the_output_folder(tmp_path):
    gradescope_export(tmp_path / "src" / "assignment_1_export",
                      {"submission_1": [{":name": "Ana", ":sid": "1", ":email": "a@u"}]})
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for p in (tmp_path / "src").rglob("*"):
            if p.is_file():
                z.write(p, p.relative_to(tmp_path / "src"))
        z.writestr("../escape.py", "x = 1")
    roster = collect(zipped, unpack=tmp_path / "out" / "unpacked")
    assert [(e.key, e.layout) for e in roster.entries] == [("1", "gradescope")]
    assert roster.entries[0].path.is_relative_to(tmp_path / "out" / "unpacked")
    assert not (tmp_path / "out" / "escape.py").exists()


def test_unpacking_an_export_refuses_links(tmp_path):
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        info = zipfile.ZipInfo("link.py")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
        z.writestr("real.py", "x = 1")
    unpack_export(zipped, tmp_path / "into")
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == ["real.py"]


def test_canvas_download_names_give_the_canvas_id_and_name(tmp_path):
    write(tmp_path / "smithjane_12345_67890_rnn_lstm.ipynb", "{}")
    write(tmp_path / "doejohn_late_54321_9876_rnn_lstm-1.ipynb", "{}")
    roster = collect(tmp_path)
    assert sorted((e.key, e.name, e.layout) for e in roster.entries) == [
        ("12345", "smithjane", "canvas"), ("54321", "doejohn", "canvas")]


@pytest.mark.parametrize("change", ["content", "new file", "renamed file"])
def test_the_content_hash_changes_with_the_submission(tmp_path, change):
    folder = tmp_path / "sub"
    write(folder / "hw.py", "x = 1\n")
    before = content_hash(folder)
    assert content_hash(folder) == before
    if change == "content":
        write(folder / "hw.py", "x = 2\n")
    elif change == "new file":
        write(folder / "helpers.py", "")
    else:
        (folder / "hw.py").rename(folder / "hw2.py")
    assert content_hash(folder) != before
