"""The one parser of nbgrader's cell regions: solution code and hidden tests.

nbgrader marks a solution with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests
with ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. Like nbgrader's own
``ClearSolutions`` and ``ClearHiddenTests`` preprocessors, a line *is* a marker when it contains
the delimiter (``BEGIN SOLUTION`` ...) anywhere, and the marker lines themselves belong to no
region. Everything that needs to know which line lies where (the release's leak check, the
feedback pages, the tests) asks this module.
"""
from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SOLUTION", "HIDDEN", "MARKERS", "classify_lines", "region_lines", "public_lines", "without_region"]

SOLUTION = "solution"
HIDDEN = "hidden"
_DELIMITERS = {SOLUTION: ("BEGIN SOLUTION", "END SOLUTION"), HIDDEN: ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")}
#: The marker lines as authors write them; none of them may ever reach a student.
MARKERS = tuple(f"### {d}" for pair in _DELIMITERS.values() for d in pair)


def _check_kind(kind: str) -> None:
    if kind not in _DELIMITERS:
        raise ValueError(f"region kind must be one of {sorted(_DELIMITERS)}, got {kind!r}")


def classify_lines(source: str) -> list[tuple[str | None, str]]:
    """Each line of one cell's ``source`` with its region.

    Args:
        source: the source of one cell.

    Returns:
        ``(region, line)`` for every line that is not a marker, in order: ``region`` is
        :data:`SOLUTION`, :data:`HIDDEN` or ``None`` (outside every region).
    """
    state: str | None = None
    out: list[tuple[str | None, str]] = []
    for ln in source.splitlines():
        opened = next((kind for kind, (begin, _) in _DELIMITERS.items() if begin in ln), None)
        if opened:
            state = opened
        elif any(end in ln for _, end in _DELIMITERS.values()):
            state = None
        else:
            out.append((state, ln))
    return out


def region_lines(sources: Iterable[str], kind: str, *, min_len: int = 1) -> set[str]:
    """Stripped lines of the ``kind`` regions of ``sources`` that are at least ``min_len`` long.

    Args:
        sources: cell sources.
        kind: :data:`SOLUTION` or :data:`HIDDEN`.
        min_len: shortest line to return (stripped length).

    Returns:
        The set of stripped lines.

    Raises:
        ValueError: ``kind`` is not a region kind.
    """
    _check_kind(kind)
    return {ln.strip() for src in sources for region, ln in classify_lines(src)
            if region == kind and len(ln.strip()) >= min_len}


def public_lines(sources: Iterable[str]) -> set[str]:
    """Stripped, non-empty lines of ``sources`` that lie outside every region (what students see)."""
    return {ln.strip() for src in sources for region, ln in classify_lines(src) if region is None and ln.strip()}


def without_region(source: str, kind: str) -> str:
    """``source`` with every ``kind`` region removed, its marker lines included (as nbgrader releases it).

    Raises:
        ValueError: ``kind`` is not a region kind.
    """
    _check_kind(kind)
    begin, end = _DELIMITERS[kind]
    kept, inside = [], False
    for ln in source.splitlines(keepends=True):
        if begin in ln:
            inside = True
        elif end in ln and inside:
            inside = False
        elif not inside:
            kept.append(ln)
    return "".join(kept)
