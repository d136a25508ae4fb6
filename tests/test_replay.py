"""dlcourse.course.replay: mistake fixtures checked by forking the reference notebook's run.

Small synthetic notebooks (no torch): each verdict the replay can give, nbgrader's scoring rule
(error, stderr, partial credit), the time limit, and that the state a child starts from is the
fresh run's state at the mistake's cell (not the state after later cells ran).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from dlcourse.course import replay
from dlcourse.course.fixtures import Mistake


def _cell(source: str, gid: str | None = None, *, solution: bool = False, points: float = 0) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if gid:
        cell.metadata["nbgrader"] = {"grade_id": gid, "solution": solution, "grade": points > 0, "locked": not solution,
                                     "points": points, "schema_version": 3}
    return cell


@pytest.fixture()
def notebook(tmp_path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("import warnings\ncounter = [0]\n(Path := __import__('pathlib').Path)('beside.txt').read_text()"),
        _cell("def double(x):\n    return 2 * x", "double", solution=True),
        _cell("counter[0] += 1\nassert double(3) == 6", "test_double", points=2),
        _cell("def half(x):\n    return x / 2", "half", solution=True),
        _cell("assert half(8) == 4\nassert counter[0] == 1, 'the child must start from the fresh state'",
              "test_half", points=1),
        _cell("if half(3) != 1.5:\n    warnings.warn('half rounds')", "test_half_warns", points=1),
        _cell("2.0 if half(1) == 0 else 4.0", "test_half_partial", points=4),
        _cell("counter[0] += 100"),
    ]
    folder = tmp_path / "sol"
    folder.mkdir()
    (folder / "beside.txt").write_text("the files beside the notebook are found")
    path = folder / "sol.ipynb"
    nbformat.write(nb, path)
    return path


def _m(name: str, cell: str, loses: list[str], source: str) -> Mistake:
    return Mistake(name, cell, loses, "why", source)


def test_verdicts_follow_nbgraders_rule_and_start_from_the_fresh_state(notebook):
    results = replay.replay_mistakes(notebook, [
        _m("triples", "double", ["test_double"], "def double(x):\n    return 3 * x"),
        _m("harmless", "double", ["test_double"], "def double(x):\n    return x + x"),
        _m("floors", "half", ["test_half_warns"], "def half(x):\n    return x // 2"),
        _m("zero", "half", ["test_half", "test_half_partial"], "def half(x):\n    return 0"),
        _m("unreachable", "half", ["test_double"], "def half(x):\n    return 0"),
    ], cell_timeout=20)
    by = {r.name: r for r in results}
    assert by["triples"].caught and by["triples"].mistake["test_double"].score == 0
    assert "AssertionError" in by["triples"].mistake["test_double"].why
    assert not by["harmless"].caught and by["harmless"].kept == ["test_double"] and by["harmless"].control_passes
    # a warning reaches stderr: nbgrader gives 0 (the control, without the warning, scores full)
    assert by["floors"].caught and by["floors"].mistake["test_half_warns"].why.startswith("stderr")
    # partial credit from the cell's value; the counter shows each child started before cell 7 ran
    assert by["zero"].caught and by["zero"].mistake["test_half_partial"].score == 2.0
    assert by["zero"].control["test_half"].score == 1.0 and by["zero"].control["test_half_partial"].score == 4.0
    assert by["unreachable"].problem and not by["unreachable"].caught
    table = replay.format_results("sol", results)
    assert table.startswith("sol: 3/5 mistakes caught") and "NOT CAUGHT: keeps test_double" in table
    assert "REPLAY FAILED" in table


def test_a_hanging_mistake_scores_zero_and_a_broken_control_is_reported(notebook):
    results = replay.replay_mistakes(notebook, [
        _m("hangs", "double", ["test_double"], "def double(x):\n    while True:\n        pass"),
        _m("wrong_cell", "half", ["test_half_warns"], "def half(x):\n    return x / 2"),
    ], cell_timeout=1.5)
    hangs, same = results
    assert hangs.caught and "TimeoutError" in hangs.mistake["test_double"].why
    assert not same.caught and same.kept == ["test_half_warns"]
    with pytest.raises(RuntimeError, match="replay of"):
        bad = notebook.parent / "bad.ipynb"
        nb = nbformat.read(notebook, as_version=4)
        nb.cells.insert(0, _cell("import os; os._exit(3)"))
        nbformat.write(nb, bad)
        replay.replay_mistakes(bad, [_m("any", "double", ["test_double"], "pass")], cell_timeout=5)


def test_a_control_that_fails_is_not_a_catch(notebook):
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "assert double(3) == 7"  # the test cell is wrong: the reference fails it too
    nbformat.write(nb, notebook)
    (r,) = replay.replay_mistakes(notebook, [_m("triples", "double", ["test_double"], "def double(x):\n    return 3 * x")])
    assert not r.control_passes and not r.caught
    assert "CONTROL FAILS test_double" in replay.format_results("sol", [r])


def test_the_course_folder_is_not_written(notebook):
    before = sorted(p.name for p in notebook.parent.iterdir())
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(_cell("open('written.txt', 'w').write('x')"))
    nbformat.write(nb, notebook)
    replay.replay_mistakes(notebook, [_m("triples", "double", ["test_double"], "def double(x):\n    return 3 * x")])
    assert sorted(p.name for p in notebook.parent.iterdir()) == before
