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


@pytest.fixture()
def fast_env(monkeypatch):
    monkeypatch.setenv("DLCOURSE_FAST", "1")
