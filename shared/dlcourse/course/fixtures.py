"""Mistake fixtures: plausible wrong implementations that must lose points.

A fixture ``tests/mistakes/<assignment>/<name>.py`` starts with header comments::

    # cell: <grade_id of the solution cell to replace>
    # loses: <grade_id>, <grade_id>     (autograded test cells that must score below full)
    # why: <one line>

and the rest of the file replaces the whole source of that cell in the solution notebook.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Mistake", "load_mistakes", "apply_mistake", "write_mistake_submission", "with_answers"]

_HEADER = re.compile(r"^#\s*(cell|loses|why|notebook)\s*:\s*(.*?)\s*$")


@dataclass
class Mistake:
    name: str
    cell: str
    loses: list[str]
    why: str
    source: str
    notebook: str | None = None


def parse_mistake(path: Path) -> Mistake:
    """Read one fixture file (header lines ``# cell:``, ``# loses:``, ``# why:``, then the cell's code).

    Args:
        path: ``tests/mistakes/<assignment>/<name>.py``.

    Returns:
        The mistake, named after the file.

    Raises:
        ValueError: a header line is missing, or ``# loses:`` names no cell.
    """
    lines = Path(path).read_text().splitlines()
    fields: dict[str, str] = {}
    i = 0
    while i < len(lines) and (m := _HEADER.match(lines[i])):
        fields[m.group(1)] = m.group(2)
        i += 1
    missing = [k for k in ("cell", "loses", "why") if k not in fields]
    if missing:
        raise ValueError(f"{path}: header lines missing: {', '.join('# ' + k + ':' for k in missing)}")
    loses = [s.strip() for s in fields["loses"].split(",") if s.strip()]
    if not loses:
        raise ValueError(f"{path}: '# loses:' must name at least one test cell grade_id")
    return Mistake(Path(path).stem, fields["cell"], loses, fields["why"], "\n".join(lines[i:]).strip("\n"),
                   fields.get("notebook"))


def load_mistakes(tests_dir: Path | str, assignment: str) -> list[Mistake]:
    """All fixtures of ``assignment`` (sorted by name); empty when there are none."""
    folder = Path(tests_dir) / "mistakes" / assignment
    return [parse_mistake(p) for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []


def apply_mistake(nb, mistake: Mistake):
    """A copy of notebook ``nb`` with the source of the mistake's solution cell replaced.

    Args:
        nb: the solution notebook (not modified).
        mistake: the fixture.

    Returns:
        The modified copy.

    Raises:
        ValueError: not exactly one cell has the mistake's ``grade_id``, or it is not a solution cell.
    """
    import copy

    nb = copy.deepcopy(nb)
    hits = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == mistake.cell]
    if len(hits) != 1:
        raise ValueError(f"mistake {mistake.name}: expected one cell with grade_id {mistake.cell!r}, found {len(hits)}")
    if not hits[0]["metadata"]["nbgrader"].get("solution"):
        raise ValueError(f"mistake {mistake.name}: cell {mistake.cell!r} is not a solution cell")
    hits[0].source = mistake.source
    return nb


def write_mistake_submission(solution_dir: Path | str, mistake: Mistake, dest: Path | str) -> Path:
    """Copy the solution folder to ``dest`` with the mistake applied to its notebook.

    Args:
        solution_dir: ``solutions/<assignment>/``.
        mistake: the fixture (``mistake.notebook`` picks the notebook when there are several).
        dest: the submission folder to create (must not exist).

    Returns:
        ``dest``.

    Raises:
        ValueError: the mistake's cell is found in no notebook, or in more than one.
    """
    import shutil

    solution_dir, dest = Path(solution_dir), Path(dest)
    shutil.copytree(solution_dir, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    nbs = sorted(dest.glob("*.ipynb"))
    if mistake.notebook:
        nbs = [dest / mistake.notebook]
    applied = 0
    for p in nbs:
        nb = nbformat.read(p, as_version=4)
        if any(c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == mistake.cell for c in nb.cells):
            nbformat.write(apply_mistake(nb, mistake), p)
            applied += 1
    if applied != 1:
        raise ValueError(f"mistake {mistake.name}: cell {mistake.cell!r} found in {applied} notebooks, expected 1")
    return dest


def with_answers(release_nb, solution_nb):
    """A copy of a release notebook (any edition) with the answer cells of ``solution_nb`` typed in.

    What a student who solved every exercise submits: answer cells (nbgrader ``solution: true``) are
    matched by grade id; every other cell keeps the release's text (e.g. the Spanish edition's).

    Args:
        release_nb: the student release notebook (not modified).
        solution_nb: the instructor's solution notebook of the same assignment.

    Returns:
        The filled-in copy.
    """
    import copy

    nb = copy.deepcopy(release_nb)
    answers = {(c.metadata.get("nbgrader") or {}).get("grade_id"): c.source for c in solution_nb.cells
               if (c.metadata.get("nbgrader") or {}).get("solution")}
    for c in nb.cells:
        gid = (c.metadata.get("nbgrader") or {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb
