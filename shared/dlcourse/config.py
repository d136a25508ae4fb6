"""Course-wide switches read from the environment at call time.

``DLCOURSE_FAST=1`` turns on FAST mode: every notebook shrinks its data and epochs so the
whole course runs in CI on two CPU cores. Students run full mode (the default).
``DLCOURSE_DATA`` overrides the data cache directory (default ``~/.cache/dlcourse``).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FAST_ENV", "DATA_ENV", "fast_mode", "data_dir", "pick", "find_upward"]

FAST_ENV = "DLCOURSE_FAST"
DATA_ENV = "DLCOURSE_DATA"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """Return True when FAST mode is on (``DLCOURSE_FAST`` is 1/true/yes/on).

    Returns:
        True for 1/true/yes/on, False for 0/false/no/off or an unset or empty variable (case and
        surrounding spaces ignored).

    Raises:
        ValueError: if the variable holds something that is neither true nor false.
    """
    raw = os.environ.get(FAST_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV}={raw!r} is not understood: expected one of 1/true/yes/on or 0/false/no/off"
    )


def pick(full, fast):
    """Return ``fast`` in FAST mode and ``full`` otherwise (``EPOCHS = config.pick(10, 1)``)."""
    return fast if fast_mode() else full


def data_dir() -> Path:
    """Directory where downloaded data sets and built caches live.

    ``$DLCOURSE_DATA`` if set, else ``~/.cache/dlcourse``. Created on first use.
    """
    raw = os.environ.get(DATA_ENV)
    path = Path(raw).expanduser() if raw else Path.home() / ".cache" / "dlcourse"
    path.mkdir(parents=True, exist_ok=True)
    return path


def find_upward(relative: Path | str, start: Path | str | None = None) -> Path | None:
    """The first ``<folder>/<relative>`` that exists, from ``start`` up to the filesystem root.

    A notebook finds a file of the course (``bench/results/...``, the developers' ``shared/data``)
    wherever it sits: ``lectures/``, the Spanish ``lectures/es/``, or a copy the site build runs.

    Args:
        relative: the path to look for, relative to each folder (not absolute).
        start: the first folder to look in (default: the current folder).

    Returns:
        The path found, or None (e.g. on Colab, where only the notebook is there).

    Raises:
        ValueError: ``relative`` is absolute.
    """
    rel = Path(relative)
    if rel.is_absolute():
        raise ValueError(f"find_upward needs a relative path, got the absolute {str(rel)!r}")
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / rel).exists():
            return folder / rel
    return None
