"""bench/nightly_bench.py's arguments: a work folder is made when missing, and one that
cannot be is refused by name before any scale runs."""

from __future__ import annotations

import pytest

from bench import nightly_bench


def test_a_missing_work_folder_is_made(tmp_path, capsys):
    work = tmp_path / "not" / "yet"
    # nothing answers at port 1: the run stops after the work folder, before any scale
    with pytest.raises(SystemExit) as stopped:
        nightly_bench.main(["S0", "--workdir", str(work), "--spark-master", "spark://127.0.0.1:1"])
    assert stopped.value.code == 2
    assert work.is_dir()
    assert "nothing answers at 127.0.0.1:1" in capsys.readouterr().err


def test_a_work_folder_that_cannot_be_made_is_refused_by_name(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        nightly_bench.main(["S0", "--workdir", str(blocker / "work")])
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert f"--workdir {blocker / 'work'}: Not a directory" in said, said
