"""The course in a real JupyterLab, driven in Debian's Chromium as a student and an instructor.

* a lecture that has an ipywidgets control runs top to bottom (Run > Run All Cells, FAST mode)
  without an error output, and its slider moves the figure;
* a lecture with an error inserted into a cell is reported as failing (the check can fail);
* a student's copy of an assignment with the answers filled in passes its visible tests in the
  browser (that the blank release fails them is the nbgrader round trip's job);
* the instructor's nbgrader formgrader page lists the course's assignments.

Screenshots go to build/screenshots/. Needs Chromium (tools/sysdeps-browser.sh installs it):
without one these tests skip, except in CI (CI=true) where they fail.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

import jlab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = jlab.ROOT
LECTURES = sorted((ROOT / "lectures").glob("*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").glob("*") if p.is_dir() and any(p.glob("*.ipynb"))
                     and (ROOT / "assignments" / p.name).is_dir()) if (ROOT / "solutions").is_dir() else []
_EXPLORER_CALL = re.compile(r"\.explorer\(|\binteract(ive)?\(|Slider\(")
_WIDGET_USE = re.compile(r"\bipywidgets\b|\bwidgets\.|\brf_explorer\b|\bimport\b[^\n]*\bwidgets\b")


def _code(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def _widget_lecture() -> Path:
    for p in LECTURES:  # the lecture that calls the interactive explorer (dlcourse.rf_explorer also measures static figures)
        code = _code(p)
        if _WIDGET_USE.search(code) and _EXPLORER_CALL.search(code):
            return p
    pytest.fail(f"no lecture in lectures/ uses ipywidgets ({[p.name for p in LECTURES]}): the course "
                "promises an interactive explorer", pytrace=False)


def _first_lecture() -> Path:
    if not LECTURES:
        pytest.fail("lectures/ holds no notebook", pytrace=False)
    return LECTURES[0]


def _first_assignment() -> str:
    if not ASSIGNMENTS:
        pytest.fail("no assignment has both solutions/<id>/ and its release assignments/<id>/", pytrace=False)
    return ASSIGNMENTS[0]


def test_widget_lecture_runs_cleanly_and_its_slider_redraws(page, lab):
    lecture = _widget_lecture()
    rel = f"lectures/{lecture.name}"
    t0 = time.monotonic()
    nb = jlab.Notebook(page, lab, rel)
    cells = nb.run_all(timeout=240)
    ran = time.monotonic() - t0
    jlab.screenshot(page, f"lecture-{lecture.stem}")
    nb.assert_ran_cleanly(cells)
    assert len(cells) >= 3 and all(c.execution_count for c in cells if c.source.strip())

    widgets = jlab.widget_cells(page)
    if widgets.count() == 0:
        # dlcourse.rf_explorer.explorer() draws a static figure in FAST mode (CI); students never run
        # FAST mode: switch this live kernel to full mode and re-run the explorer cells, as a
        # student sees them.
        nb.kernel_execute("import os; os.environ.pop('DLCOURSE_FAST', None)")
        for c in cells:
            if _EXPLORER_CALL.search(c.source):
                rerun = nb.run_cell(c.index)
                assert not rerun.errors, f"{rel}: cell {c.index} failed in full mode: {rerun.errors}"
    assert widgets.count() >= 1, (
        f"{rel}: no ipywidgets slider rendered (after Run All in FAST mode, nor after re-running "
        "the explorer cells in full mode): the widget manager failed or the cell shows a static figure")
    cell = widgets.first
    handle = cell.locator(".jupyter-widgets [role='slider']").first
    before_sig = jlab.output_signature(cell)
    before, after = jlab.move_slider(page, handle)
    assert before != after, f"{rel}: the slider did not move (value stayed {before})"
    # The kernel redraws the figure (or rewrites a label): wait for the outputs to change.
    deadline = time.monotonic() + 60
    while jlab.output_signature(cell) == before_sig:
        assert time.monotonic() < deadline, (
            f"{rel}: the slider moved from {before} to {after} but the figure and labels did not change")
        page.wait_for_timeout(250)
    cell.scroll_into_view_if_needed()
    shot = jlab.screenshot(page, f"lecture-{lecture.stem}-slider-moved")
    assert shot.stat().st_size > 10_000
    print(f"{rel}: ran in the browser in {ran:.1f} s; slider {before} -> {after} redrew the output")


def test_a_broken_lecture_fails_the_browser_check(page, lab, workspace):
    """Insert an error into a copy of the first lecture: the same check must report it."""
    lecture = _first_lecture()
    nb = nbformat.read(lecture, as_version=4)
    code_idx = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert len(code_idx) >= 2, f"{lecture.name} has fewer than two code cells"
    # Right after the Colab setup cell: Run All must stop there and leave every later cell
    # (imports included) unrun, which also keeps this check quick.
    at = code_idx[0] + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell('raise RuntimeError("error inserted by the browser test")'))
    broken = workspace / "lectures" / f"broken_{lecture.name}"
    nbformat.write(nb, broken)
    book = jlab.Notebook(page, lab, f"lectures/{broken.name}")
    cells = book.run_all(timeout=180)
    jlab.screenshot(page, "broken-lecture")
    with pytest.raises(jlab.NotebookErrors) as info:
        book.assert_ran_cleanly(cells)
    msg = str(info.value)
    assert "RuntimeError: error inserted by the browser test" in msg
    assert "never ran" in msg, "Run All must stop at the error, leaving the later cells unrun"


def _student_copy(workspace: Path, aid: str, *, filled: bool) -> str:
    """Write the student's notebook of ``aid`` (answers filled from solutions/ or blank); return its path."""
    release = sorted((ROOT / "assignments" / aid).glob("*.ipynb"))[0]
    dst_dir = workspace / "student" / ("filled" if filled else "blank") / aid
    dst_dir.mkdir(parents=True, exist_ok=True)
    for extra in (ROOT / "assignments" / aid).iterdir():  # data files an assignment ships
        if extra.is_file() and extra.suffix != ".ipynb":
            (dst_dir / extra.name).write_bytes(extra.read_bytes())
    nb = jlab.fill_solutions(release, ROOT / "solutions" / aid / release.name) if filled \
        else nbformat.read(release, as_version=4)
    nbformat.write(nb, dst_dir / release.name)
    return (dst_dir / release.name).relative_to(workspace).as_posix()


def test_assignment_visible_tests_pass_with_the_solution_filled_in(page, lab, workspace):
    aid = _first_assignment()
    rel = _student_copy(workspace, aid, filled=True)
    nb = jlab.Notebook(page, lab, rel)
    cells = nb.run_all(timeout=240)
    tests = jlab.visible_test_cells(nbformat.read(workspace / rel, as_version=4))
    first_test = page.locator(".jp-Notebook .jp-Cell").nth(min(tests) if tests else 0)
    first_test.scroll_into_view_if_needed()
    jlab.screenshot(page, f"assignment-{aid}-solved")
    nb.assert_ran_cleanly(cells)
    assert tests, f"{rel}: the release has no visible test cells"
    ran_tests = [c for c in cells if c.index in tests]
    assert len(ran_tests) == len(tests) and all(c.execution_count and not c.errors for c in ran_tests)


def test_instructor_formgrader_lists_the_assignments(page, lab):
    aid = _first_assignment()
    page.goto(f"{lab.url}/formgrader?token={lab.token}")
    page.get_by_text("Manage Assignments").first.wait_for()
    page.locator(f"text={aid}").first.wait_for(timeout=60_000)
    jlab.screenshot(page, "formgrader")
    body = page.inner_text("body")
    for name in ASSIGNMENTS:
        assert name in body, f"the formgrader does not list {name}"
