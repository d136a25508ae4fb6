"""nbgrader round trip for every assignment in solutions/.

* the committed student release equals a fresh ``nbgrader generate_assignment``;
* no solution code or hidden test leaks into the release;
* the reference solution gets full autograded marks (and runs without any error);
* the untouched release gets zero;
* every mistake fixture in tests/mistakes/<id>/ loses the points it names.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from dlcourse import build

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = build.assignments(ROOT)


def test_there_are_assignments():
    assert ASSIGNMENTS, "no assignment in solutions/"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_in_sync(aid):
    problems = build.release_diff(ROOT, aid)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_leaks_nothing(aid):
    markers = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    hidden_lines = set()
    for src in (ROOT / "solutions" / aid).glob("*.ipynb"):
        for cell in nbformat.read(src, as_version=4).cells:
            lines = cell.source.splitlines()
            for begin, end in (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
                inside = False
                for ln in lines:
                    if begin in ln:
                        inside = True
                    elif end in ln:
                        inside = False
                    elif inside and len(ln.strip()) > 25:
                        hidden_lines.add(ln.strip())
    released = (ROOT / "assignments" / aid)
    assert released.is_dir(), f"assignments/{aid} is missing"
    for nb_path in released.glob("*.ipynb"):
        text = "\n".join(c.source for c in nbformat.read(nb_path, as_version=4).cells)
        for m in markers:
            assert m not in text, f"{nb_path.name}: marker {m!r} leaked into the release"
        leaked = [ln for ln in hidden_lines if ln in text]
        assert not leaked, f"{nb_path.name}: solution/hidden-test lines leaked: {leaked[:3]}"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_roundtrip(aid):
    rt = build.roundtrip(ROOT, aid)
    table = "\n".join(f"{who}: {s:g}/{m:g} {v}" for who, s, m, v in rt.rows)
    assert rt.ok, "\n".join(rt.failures) + "\n" + table
    assert len(rt.rows) >= 2 + 3, f"{aid}: expected at least three mistake fixtures in tests/mistakes/{aid}/\n{table}"
