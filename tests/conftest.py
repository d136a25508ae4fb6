"""Shared pytest fixtures. Tests never need ../shared (the developers' reference data)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Keep every test on the CPU and quiet; the course helpers read these at call time.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture()
def fast_env(monkeypatch):
    monkeypatch.setenv("DLCOURSE_FAST", "1")
