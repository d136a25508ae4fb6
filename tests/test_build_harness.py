"""The round-trip harness itself can fail: a course whose fixtures do not lose points, whose
solution errors, or whose release is out of sync is reported (not silently passed)."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dlcourse.course import build, release


def _cell(kind, src, **nbg):
    c = new_code_cell(src) if kind == "code" else new_markdown_cell(src)
    if nbg:
        c.metadata["nbgrader"] = {"schema_version": 3, "locked": not nbg.get("solution", False), **nbg}
    return c


def _course(tmp_path: Path, extra_cell: str = "") -> Path:
    root = tmp_path / "course"
    (root / "solutions" / "demo").mkdir(parents=True)
    (root / "course.toml").write_text('[course]\nrepository = "o/r"\nbranch = "main"\n')
    nb = new_notebook(cells=[
        _cell("md", "# Demo"),
        _cell("code", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              grade=False, solution=True, grade_id="add"),
        _cell("code", "assert add(1, 2) == 3", grade=True, solution=False, grade_id="test_add", points=1),
        _cell("code", "assert add(2, 2) == 4\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0\n### END HIDDEN TESTS",
              grade=True, solution=False, grade_id="test_add_hidden", points=2),
        _cell("md", "Why?\n\nYOUR ANSWER HERE", grade=True, solution=True, grade_id="essay", points=1),
    ])
    if extra_cell:
        nb.cells.append(new_code_cell(extra_cell))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "solutions" / "demo" / "demo.ipynb")
    return root


def _mistake(root: Path, name: str, body: str, loses: str = "test_add_hidden"):
    folder = root / "tests" / "mistakes" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(f"# cell: add\n# loses: {loses}\n# why: {name}\n{body}")


def test_roundtrip_passes_and_fails_for_the_right_reasons(tmp_path):
    root = _course(tmp_path)
    _mistake(root, "subtracts", "def add(a, b):\n    return a - b\n")
    _mistake(root, "ignores_negatives", "def add(a, b):\n    return abs(a) + abs(b)\n", loses="test_add_hidden")
    # a "mistake" that is in fact correct must be reported: it does not lose points
    _mistake(root, "not_a_mistake", "def add(a, b):\n    return b + a\n")
    rt = build.roundtrip(root, "demo")
    rows = {who: (score, mx, verdict) for who, score, mx, verdict in rt.rows}
    assert rows["solution"] == (3.0, 3.0, "full")
    assert rows["blank"][0] == 0.0
    assert rows["mistake subtracts"][2] == "loses points"
    assert rows["mistake ignores_negatives"][0] == 1.0  # visible test passes, hidden fails
    assert not rt.ok and len(rt.failures) == 1 and "not_a_mistake" in rt.failures[0]

    # release in sync check: missing, then in sync, then stale
    assert release.release_diff(root, "demo") == ["assignments/demo/ is missing: run `make release`"]
    assert release.release_course(root) == ["demo"] and release.release_diff(root, "demo") == []
    assert release.release_course(root) == []
    nb_path = root / "solutions" / "demo" / "demo.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source = "# Demo, edited"
    nbformat.write(nb, nb_path)
    assert any("differs" in p for p in release.release_diff(root, "demo"))


def test_roundtrip_reports_an_erroring_solution(tmp_path):
    root = _course(tmp_path, extra_cell="raise RuntimeError('boom in an ungraded cell')")
    rt = build.roundtrip(root, "demo", mistakes=False)
    assert not rt.ok and any("RuntimeError" in f and "boom" in f for f in rt.failures)


def test_execute_notebook_reports_errors(tmp_path):
    nb = new_notebook(cells=[new_code_cell("from dlcourse import config\nprint(config.fast_mode())"),
                             new_code_cell("1/0")])
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    res = build.execute_notebook(path, fast=True)
    assert res.error and "ZeroDivisionError" in res.error
    assert res.nb.cells[0].outputs[0]["text"].strip() == "True", "FAST mode must reach the kernel"
    assert nbformat.read(path, as_version=4).cells[0].outputs == [], "the source notebook must not be modified"
