"""Atomic outputs: never half a file, the usual permissions, coded errors for what is in the way."""
import json
import os
import stat

import pytest

from spacy_kdseq.fileio import (
    atomic_path, check_folder, check_output_file, make_dirs, replace_dir, same_file,
    write_json_atomic,
)
from spacy_kdseq.workflow import records


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_files_honour_the_umask(tmp_path, umask, mode):
    """Not mkstemp's 0600: run records on shared storage are readable by the group/others."""
    before = os.umask(umask)
    try:
        write_json_atomic(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(before)
    assert _mode(tmp_path / "r.json") == mode
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1}


def test_an_interrupted_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_file_in_the_way_is_a_coded_error(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match=r"E225.*f is a file"):
        make_dirs(tmp_path / "f" / "sub")
    with pytest.raises(ValueError, match=r"E225.*out\.json.*f is a file"):
        write_json_atomic(tmp_path / "f" / "out.json", {})
    with pytest.raises(ValueError, match="E226"):
        check_output_file(tmp_path)
    with pytest.raises(ValueError, match=r"E225.*f is a file"):
        check_folder(tmp_path / "f" / "cache")
    assert check_folder(tmp_path / "new" / "cache") and not (tmp_path / "new").exists()
    (tmp_path / "gone").symlink_to(tmp_path / "moved")
    with pytest.raises(ValueError, match=r"E225.*gone is a file \(or a link to nothing\)"):
        make_dirs(tmp_path / "gone" / "sub")


def test_run_records_are_readable_by_others(tmp_path):
    """Records used mkstemp (0600); on shared storage other users could not read them."""
    before = os.umask(0o022)
    try:
        records.write_json_atomic(tmp_path / "results" / "seed-0.json", {"kind": "student"})
    finally:
        os.umask(before)
    assert _mode(tmp_path / "results" / "seed-0.json") == 0o644


def test_same_file_sees_through_links_and_relative_paths(tmp_path, monkeypatch):
    (tmp_path / "a").write_text("x")
    (tmp_path / "sym").symlink_to("a")
    os.link(tmp_path / "a", tmp_path / "hard")
    monkeypatch.chdir(tmp_path)
    assert same_file("a", tmp_path / "sym") and same_file("hard", "a") and same_file("./a", "../" + tmp_path.name + "/a")
    assert not same_file("a", "b") and not same_file("b", "c")


def test_replace_dir_swaps_a_folder_in(tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "f").write_text("new")
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "f").write_text("old")
    replace_dir(tmp_path / "new", tmp_path / "dest")
    assert (tmp_path / "dest" / "f").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["dest"]
