"""nbgrader round trip for every assignment in solutions/.

* the committed student release equals a fresh ``nbgrader generate_assignment``;
* no solution code or hidden test leaks into the release;
* every assignment keeps at least three plausible-mistake fixtures in tests/mistakes/<id>/.

The grading itself (solution full marks and error-free, blank release zero, each mistake
loses the points it names) runs once per assignment through the sandboxed grading CLI in
tests/test_grading_assignments.py; tests/test_build_harness.py checks the development
harness ``python -m dlcourse.course roundtrip`` on a tiny course.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from dlcourse.course import fixtures, regions, release
from dlcourse.course.conventions import assignments

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments(ROOT)


def test_there_are_assignments():
    assert ASSIGNMENTS, "no assignment in solutions/"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_in_sync(aid):
    problems = release.release_diff(ROOT, aid)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_leaks_nothing(aid):
    sources = [c.source for src in (ROOT / "solutions" / aid).glob("*.ipynb")
               for c in nbformat.read(src, as_version=4).cells]
    hidden_lines = (regions.region_lines(sources, regions.SOLUTION, min_len=26)
                    | regions.region_lines(sources, regions.HIDDEN, min_len=26))
    # a line that also stands outside the hidden regions (e.g. in a visible test) is public
    hidden_lines -= regions.public_lines(sources)
    released = (ROOT / "assignments" / aid)
    assert released.is_dir(), f"assignments/{aid} is missing"
    for nb_path in released.glob("*.ipynb"):
        text = "\n".join(c.source for c in nbformat.read(nb_path, as_version=4).cells)
        for m in (marker.removeprefix("### ") for marker in regions.MARKERS):
            assert m not in text, f"{nb_path.name}: marker {m!r} leaked into the release"
        released_lines = {ln.strip() for ln in text.splitlines()}
        leaked = sorted(hidden_lines & released_lines)
        assert not leaked, f"{nb_path.name}: solution/hidden-test lines leaked: {leaked[:3]}"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_mistake_fixtures_exist_and_name_real_cells(aid):
    mistakes = fixtures.load_mistakes(ROOT / "tests", aid)
    assert len(mistakes) >= 3, f"{aid}: expected at least three mistake fixtures in tests/mistakes/{aid}/"
    cells = {}
    for nb_path in (ROOT / "solutions" / aid).glob("*.ipynb"):
        for c in nbformat.read(nb_path, as_version=4).cells:
            meta = c.get("metadata", {}).get("nbgrader", {})
            if "grade_id" in meta:
                cells[meta["grade_id"]] = meta
    for m in mistakes:
        assert cells.get(m.cell, {}).get("solution"), f"{m.name}: {m.cell!r} is not a solution cell of {aid}"
        for gid in m.loses:
            meta = cells.get(gid, {})
            assert meta.get("grade") and not meta.get("solution"), f"{m.name}: {gid!r} is not an autograded test cell"
