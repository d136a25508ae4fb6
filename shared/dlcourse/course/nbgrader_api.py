"""The nbgrader wrapper: release into a folder, autograde trusted notebooks, read scores.

Every call works in a throw-away course directory (``workdir``), so the repository's own tree
and any instructor gradebook are never touched, and goes through nbgrader's own Python API
(:class:`nbgrader.apps.NbGraderAPI`), whose result says whether the step succeeded and holds
its log and traceback. Nothing here is sandboxed: :func:`autograde_unsandboxed` runs the
notebooks with the grader's own rights (the course's solutions and mistake fixtures only;
students' work goes through :mod:`dlcourse.grading`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CellScore",
    "GradeResult",
    "NbgraderError",
    "generate_release",
    "autograde_unsandboxed",
    "read_scores",
    "autograded_cells",
]

#: The course layout nbgrader is given (the same as the repository's nbgrader_config.py).
_LAYOUT = {"source_directory": "solutions", "release_directory": "assignments"}


class NbgraderError(RuntimeError):
    """An nbgrader step failed; the message holds the tail of its log and its traceback."""


@dataclass
class CellScore:
    """Score of one graded cell (``auto`` is False for manually graded cells)."""

    grade_id: str
    score: float
    max_score: float
    auto: bool


@dataclass
class GradeResult:
    """Scores of one student's submission of one assignment."""

    student: str
    assignment: str
    cells: dict[str, CellScore] = field(default_factory=dict)

    @property
    def auto_score(self) -> float:
        """Points of the autograded cells."""
        return sum(c.score for c in self.cells.values() if c.auto)

    @property
    def auto_max(self) -> float:
        """Maximum points of the autograded cells."""
        return sum(c.max_score for c in self.cells.values() if c.auto)

    @property
    def max_score(self) -> float:
        """Maximum points of every graded cell, manual ones included."""
        return sum(c.max_score for c in self.cells.values())


def _nbgrader_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment nbgrader runs in: this Python's bin/ first on PATH (nbgrader calls ``alembic``)."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


@contextlib.contextmanager
def _environment(extra: Mapping[str, str] | None) -> Iterator[None]:
    """:func:`_nbgrader_env` as this process's environment while nbgrader runs (its kernels inherit it)."""
    saved = dict(os.environ)
    os.environ.update(_nbgrader_env(extra))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _config(workdir: Path, timeout: int, db_url: str | None):
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(workdir.resolve())
    for key, value in _LAYOUT.items():
        c.CourseDirectory[key] = value
    if db_url:
        c.CourseDirectory.db_url = db_url
    c.ExecutePreprocessor.timeout = timeout
    c.NbGraderAPI.log_level = "WARN"
    return c


def _call(workdir: Path, step: str, *args: str, timeout: int = 300, db_url: str | None = None,
          env: Mapping[str, str] | None = None) -> dict:
    """Run one step of :class:`nbgrader.apps.NbGraderAPI` on the course in ``workdir``.

    Raises:
        NbgraderError: the step did not succeed (its log and traceback are in the message).
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = _config(workdir, timeout, db_url)
    with _environment(env):
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        result = getattr(api, step)(*args)
    if not result.get("success"):
        tail = "\n".join((result.get("log", "") + result.get("error", "")).splitlines()[-40:])
        raise NbgraderError(f"nbgrader {step} {' '.join(args)} failed in {workdir}:\n{tail}")
    return result


def _copy_source(workdir: Path, solutions_root: Path | str, assignment: str) -> None:
    """Copy ``solutions_root/assignment`` into the course directory ``workdir`` (replacing an older copy)."""
    src = Path(solutions_root) / assignment
    if not src.is_dir():
        raise FileNotFoundError(f"no assignment folder {src}: expected the nbgrader source of {assignment!r} there")
    dst = workdir / _LAYOUT["source_directory"] / assignment
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def generate_release(solutions_root: Path | str, assignment: str, workdir: Path | str, *,
                     db_url: str | None = None) -> Path:
    """Generate the student release of ``assignment`` with nbgrader, in the course directory ``workdir``.

    Args:
        solutions_root: the folder that holds the nbgrader source ``<assignment>/*.ipynb``.
        assignment: the assignment id.
        workdir: a throw-away course directory (created if needed).
        db_url: the gradebook that receives the assignment's cells (default: ``workdir/gradebook.db``).

    Returns:
        ``workdir/assignments/<assignment>``, the release.

    Raises:
        FileNotFoundError: there is no ``solutions_root/assignment`` folder.
        NbgraderError: nbgrader's ``generate_assignment`` failed or wrote no release.
    """
    workdir = Path(workdir)
    _copy_source(workdir, solutions_root, assignment)
    _call(workdir, "generate_assignment", assignment, db_url=db_url)
    out = workdir / _LAYOUT["release_directory"] / assignment
    if not out.is_dir():
        raise NbgraderError(f"nbgrader wrote no release for {assignment} in {out}")
    return out


def autograde_unsandboxed(
    solutions_root: Path | str,
    assignment: str,
    submissions: Mapping[str, Path | str],
    workdir: Path | str,
    *,
    timeout: int = 300,
    env: Mapping[str, str] | None = None,
) -> dict[str, GradeResult]:
    """Autograde several trusted submissions of one assignment in one nbgrader ``autograde`` step.

    NO SANDBOX: the notebooks run with the caller's rights, network and files. Use it only for
    the course's own notebooks (reference solutions, blank releases, mistake fixtures);
    :mod:`dlcourse.grading` grades students.

    Args:
        solutions_root: the folder that holds the nbgrader source ``<assignment>/*.ipynb``.
        assignment: the assignment id.
        submissions: student id -> folder holding that student's notebooks of ``assignment``.
        workdir: an empty or throw-away folder (the course directory is created in it).
        timeout: seconds per cell.
        env: extra environment variables for the grading kernels (e.g. ``DLCOURSE_FAST``).

    Returns:
        student id -> the scores nbgrader recorded in ``workdir/gradebook.db``.

    Raises:
        FileNotFoundError: there is no ``solutions_root/assignment`` folder.
        NbgraderError: nbgrader's release or autograde step failed.
    """
    workdir = Path(workdir)
    generate_release(solutions_root, assignment, workdir)
    for student, folder in submissions.items():
        dst = workdir / "submitted" / student / assignment
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(folder, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _call(workdir, "autograde", assignment, "*", timeout=timeout, env=env)
    return read_scores(workdir / "gradebook.db", assignment, list(submissions),
                       autograded_cells(workdir / _LAYOUT["release_directory"] / assignment))


def autograded_cells(release_dir: Path | str) -> set[str]:
    """grade_ids of the autograded test cells (graded code cells that are not solutions)."""
    import nbformat

    ids = set()
    for path in sorted(Path(release_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                ids.add(meta["grade_id"])
    return ids


def read_scores(gradebook: Path | str, assignment: str, students: list[str],
                auto_ids: set[str] | None = None) -> dict[str, GradeResult]:
    """Per-cell scores of ``students`` for ``assignment`` from an nbgrader gradebook.

    Args:
        gradebook: the gradebook's sqlite file.
        assignment: the assignment id.
        students: the student ids (one without a submission gets an empty result).
        auto_ids: grade_ids of autograded test cells (default: cells nbgrader scored automatically).

    Returns:
        student id -> the scores of each graded cell (keyed ``notebook:grade_id`` when the
        assignment has several notebooks).
    """
    from nbgrader.api import Gradebook, MissingEntry

    results: dict[str, GradeResult] = {}
    with Gradebook(f"sqlite:///{Path(gradebook).resolve()}") as gb:
        for student in students:
            res = GradeResult(student, assignment)
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                results[student] = res
                continue
            for nb in sub.notebooks:
                for g in nb.grades:
                    key = g.name if len(sub.notebooks) == 1 else f"{nb.name}:{g.name}"
                    auto = g.name in auto_ids if auto_ids is not None else g.auto_score is not None
                    res.cells[key] = CellScore(g.name, float(g.score or 0.0), float(g.max_score), auto)
            results[student] = res
    return results
