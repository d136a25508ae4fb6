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


# ------------------------------------------------------------ the one parser of cell regions

def test_regions_classify_lines_as_nbgrader_does():
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
           "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 3\n### END HIDDEN TESTS\n")
    assert regions.classify_lines(src) == [(None, "def f(x):"), (regions.SOLUTION, "    return x + 1"),
                                           (None, "assert f(1) == 2"), (regions.HIDDEN, "assert f(2) == 3")]
    assert regions.region_lines([src], regions.SOLUTION) == {"return x + 1"}
    assert regions.region_lines([src], regions.HIDDEN, min_len=17) == set()
    assert regions.public_lines([src]) == {"def f(x):", "assert f(1) == 2"}
    assert regions.without_region(src, regions.HIDDEN) == src.split("### BEGIN HIDDEN")[0]
    with pytest.raises(ValueError, match="region kind must be one of"):
        regions.region_lines([src], "answers")


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_regions_remove_hidden_tests_as_nbgrader_does(aid):
    """Independent oracle: nbgrader's own ClearHiddenTests on every test cell of the assignment."""
    from nbgrader.preprocessors import ClearHiddenTests

    clear = ClearHiddenTests()
    checked = 0
    for src in (ROOT / "solutions" / aid).glob("*.ipynb"):
        for cell in nbformat.read(src, as_version=4).cells:
            if "BEGIN HIDDEN TESTS" not in cell.source:
                continue
            ours = regions.without_region(cell.source, regions.HIDDEN)
            theirs = nbformat.from_dict(dict(cell))
            clear._remove_hidden_test_region(theirs)
            assert ours.rstrip("\n") == theirs.source.rstrip("\n"), f"{src.name}: cell {cell.get('id')}"
            checked += 1
    assert checked, f"{aid} has no hidden tests"


def test_a_leak_is_a_quote_of_the_code_not_a_piece_of_a_longer_name():
    secrets = release.Secrets(solution={"return (x - x.mean()) / x.std()": "s.ipynb"},
                              hidden={"if isinstance(layer, nn.Conv2d):": "s.ipynb"})
    assert release.leaks_in_text("Answer: `return (x - x.mean()) / x.std()`", secrets)
    assert release.leaks_in_text("    if isinstance(layer, nn.Conv2d):\n", secrets)
    assert not release.leaks_in_text("    elif isinstance(layer, nn.Conv2d):\n", secrets)
    assert release.leaks_in_text("x = 1\n### BEGIN HIDDEN TESTS\n", secrets) == ["marker '### BEGIN HIDDEN TESTS'"]
