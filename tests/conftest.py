"""Shared pytest fixtures. Tests never need ../shared (the developers' reference data)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Mistake fixtures and hostile submissions are data, not tests (a fixture named
# ``*_on_test.py`` would otherwise be collected by pytest's ``*_test.py`` rule).
collect_ignore_glob = ["mistakes/*", "hostile/*", "fixtures/*"]

# Keep every test on the CPU and quiet; the course helpers read these at call time.
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest runs two workers on the 2-core reference machine; each notebook kernel they start
# inherits this, so two kernels use one core each instead of oversubscribing (which made
# small CPU models 5-15x slower in measurements).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def audio_fsdd_bench():
    """``bench/audio_fsdd.py`` loaded as a module (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("audio_fsdd_bench", ROOT / "bench" / "audio_fsdd.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture()
def fast_env(monkeypatch):
    monkeypatch.setenv("DLCOURSE_FAST", "1")


#: test modules that read the executions tests/test_notebooks.py leaves in the site cache
_SITE_READERS = ("test_site.py", "test_course_site.py")


def pytest_collection_modifyitems(config, items):
    """Run the site's tests after the lectures have run (same xdist group, so same worker, in this
    order): the site is then built from the FAST executions test_notebooks.py cached, instead of
    executing every lecture a second time. tests/browser/ is collected before test_notebooks.py,
    hence the reordering (stable: everything else keeps its order)."""
    readers = [it for it in items if it.path.name in _SITE_READERS]
    if readers:
        items[:] = [it for it in items if it.path.name not in _SITE_READERS] + readers


def pytest_collection_finish(session):
    """Fail fast when ``--dist loadgroup`` stops grouping (it did, silently, with pytest 9.2.0 and
    pytest-xdist 3.8.0: xdist marks a group by renaming ``item._nodeid``, which pytest 9.2 no longer
    reads). Without the groups, expensive session fixtures (the hostile batch, the lectures' cached
    executions) are built once per worker, and make test takes minutes longer."""
    if not (os.environ.get("PYTEST_XDIST_WORKER") and session.config.getvalue("loadgroup")):
        return
    lost = [it.nodeid for it in session.items if it.get_closest_marker("xdist_group") and "@" not in it.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup is not grouping: {len(lost)} tests marked xdist_group have no '@group' in their "
            f"node id (first: {lost[0]}); pin a pytest / pytest-xdist pair that works together (requirements-lock.txt)")
