"""Execute every lecture top to bottom in FAST mode (solutions run in the nbgrader round trip)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dlcourse.course import site
from dlcourse.course.build import execute_notebook
from dlcourse.course.conventions import lectures, output_problems

ROOT = Path(__file__).resolve().parents[1]


# One worker runs the lectures and then tests/test_site.py, whose FAST site reuses these executions.
@pytest.mark.xdist_group("lectures")
@pytest.mark.parametrize("path", lectures(ROOT), ids=lambda p: p.name)
def test_lecture_runs_in_fast_mode(path):
    res = execute_notebook(path, fast=True, timeout=600)
    assert res.error is None, f"{path.name} failed after {res.seconds:.0f} s:\n{res.error[-3000:]}"
    errors = [o for c in res.nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert not output_problems(res.nb), output_problems(res.nb)
    site.cache_executed(res.nb, path, root=ROOT, mode="fast", seconds=res.seconds)  # the site's jupyter-cache
