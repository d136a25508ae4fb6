"""Removing sandbox cgroups: every member is found (threads too), and what is left is reported."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from dlcourse.grading import sandbox as sbx


def _fake_cgroup(root: Path, name: str, procs: list[int], tasks: list[int]) -> Path:
    d = root / f"dlcourse-{name}"
    d.mkdir(parents=True)
    (d / "cgroup.procs").write_text("".join(f"{p}\n" for p in procs))
    (d / "tasks").write_text("".join(f"{t}\n" for t in tasks))
    return d


def test_members_include_threads_hidden_from_cgroup_procs(tmp_path):
    # cgroup.procs hides a thread group whose leader has exited while its threads still run; tasks lists them
    d = _fake_cgroup(tmp_path, "1-a", procs=[], tasks=[41, 42])
    assert sbx._members(d) == [41, 42]
    d2 = _fake_cgroup(tmp_path, "1-b", procs=[7], tasks=[7, 8])
    assert sbx._members(d2) == [7, 8]
    (tmp_path / "dlcourse-1-c").mkdir()  # no membership files at all (already being removed)
    assert sbx._members(tmp_path / "dlcourse-1-c") == []


def test_leftover_jails_describe_each_cgroup_and_the_state_of_its_members(tmp_path, monkeypatch):
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        tid = t.native_id
        _fake_cgroup(tmp_path, "99-h_x-g1", procs=[os.getpid()], tasks=[os.getpid(), tid])
        _fake_cgroup(tmp_path, "99-h_y-g1", procs=[], tasks=[])
        _fake_cgroup(tmp_path, "98-other", procs=[], tasks=[])
        monkeypatch.setattr(sbx, "_jail_dirs", lambda prefix: sorted(tmp_path.glob(f"dlcourse-{prefix}*")))
        lines = sbx.leftover_jails("99-")
    finally:
        stop.set()
        t.join()
    assert len(lines) == 2, lines
    busy, empty = lines
    assert "dlcourse-99-h_x-g1" in busy and f"{os.getpid()} " in busy and f"{tid} " in busy
    assert " S" in busy or " R" in busy  # the state letter of a live member (sleeping or running)
    assert empty.endswith("no processes") and "dlcourse-99-h_y-g1" in empty
