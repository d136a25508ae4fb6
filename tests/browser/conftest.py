"""Fixtures of the browser tests: one JupyterLab (FAST mode) and one Chromium per test session.

The server serves a scratch copy of the course (``lectures/``, the student release of
``assignments/`` and an nbgrader course directory), so the checkout is never written to.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import jlab


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in Chromium (tests/browser, tests/hub)")


COURSE_ID = "cnn-course"


@pytest.fixture(scope="session")
def chromium() -> str:
    return jlab.require_chromium()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """Scratch folder served by JupyterLab: lectures/, assignments/, course/ (nbgrader), exchange/."""
    ws = tmp_path_factory.mktemp("lab-root")
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for d in ("lectures", "assignments"):
        if (jlab.ROOT / d).is_dir():
            shutil.copytree(jlab.ROOT / d, ws / d, ignore=ignore)
    course = ws / "course"
    course.mkdir()
    if (jlab.ROOT / "solutions").is_dir():
        shutil.copytree(jlab.ROOT / "solutions", course / "solutions", ignore=ignore)
    shutil.copy2(jlab.ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    (ws / "exchange").mkdir(mode=0o777)
    return ws


@pytest.fixture(scope="session")
def lab(chromium, workspace, tmp_path_factory):
    """JupyterLab on a free loopback port with a token; kernels run in FAST mode."""
    state = tmp_path_factory.mktemp("lab-state")
    nbgrader_config = "\n".join([
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(workspace / 'course')!r}",
        'c.CourseDirectory.source_directory = "solutions"',
        'c.CourseDirectory.release_directory = "assignments"',
        f"c.CourseDirectory.course_id = {COURSE_ID!r}",
        f"c.Exchange.root = {str(workspace / 'exchange')!r}",
        "",
    ])
    with jlab.LabServer(workspace, state, env={"DLCOURSE_FAST": "1"}, nbgrader_config=nbgrader_config) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser(chromium):
    with jlab.launch_browser(chromium) as ctx:
        yield ctx


@pytest.fixture()
def page(browser, request):
    pg = browser.new_page()
    messages: list[str] = []
    pg.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    yield pg
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        jlab.screenshot(pg, f"FAILED-{request.node.name}")
    pg.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
