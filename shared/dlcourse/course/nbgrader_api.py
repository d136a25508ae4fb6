"""Thin, scriptable wrappers over nbgrader: release into a folder, autograde a batch, read scores.

Every call works in a throw-away course directory (``workdir``) so the repository's own tree
and any instructor gradebook are never touched. nbgrader's executables (and ``alembic``,
which it runs to set up its database) are taken from the running Python's environment.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CellScore",
    "GradeResult",
    "NbgraderError",
    "nbgrader_env",
    "make_course",
    "generate_release",
    "autograde",
    "read_scores",
    "autograded_cells",
]

_CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.root = {root!r}
c.ClearOutput.enabled = True
c.ExecutePreprocessor.timeout = {timeout}
"""
_DB_LINE = "c.CourseDirectory.db_url = {url!r}\n"


class NbgraderError(RuntimeError):
    """nbgrader failed; the message holds the tail of its log."""


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
        return sum(c.score for c in self.cells.values() if c.auto)

    @property
    def auto_max(self) -> float:
        return sum(c.max_score for c in self.cells.values() if c.auto)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells.values())


def nbgrader_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for nbgrader subprocesses: this Python's bin/ first on PATH."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


# ``python -m nbgrader``, minus one cost: jsonschema (imported through nbformat) compiles an
# RFC 3987 grammar at import time when the optional rfc3987_syntax package is installed
# (seconds per call, for a string format nbformat never validates). Without it, it skips that format.
_NBGRADER_MAIN = ("import sys; sys.modules.setdefault('rfc3987_syntax', None); "
                  "from nbgrader.apps.nbgraderapp import main; sys.exit(main())")


def _run_nbgrader(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    cmd = [sys.executable, "-c", _NBGRADER_MAIN, *args]
    proc = subprocess.run(cmd, cwd=cwd, env=nbgrader_env(env), capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or "[ERROR]" in log or "| ERROR]" in log:
        tail = "\n".join(log.splitlines()[-40:])
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")
    return log


def make_course(workdir: Path | str, solutions_root: Path | str, assignment: str, *, timeout: int = 300,
                db_url: str | None = None) -> Path:
    """Create a course directory in ``workdir`` holding a copy of ``solutions_root/assignment``.

    ``db_url``: the gradebook nbgrader should use (default: ``workdir/gradebook.db``).
    """
    workdir = Path(workdir)
    src = Path(solutions_root) / assignment
    if not src.is_dir():
        raise FileNotFoundError(f"no assignment folder {src}")
    dst = workdir / "solutions" / assignment
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    config = _CONFIG.format(root=str(workdir.resolve()), timeout=timeout)
    if db_url:
        config += _DB_LINE.format(url=db_url)
    (workdir / "nbgrader_config.py").write_text(config)
    return workdir


def generate_release(solutions_root: Path | str, assignment: str, workdir: Path | str, *,
                     db_url: str | None = None) -> Path:
    """Run ``nbgrader generate_assignment`` in ``workdir``; return ``workdir/assignments/<assignment>``.

    ``db_url``: gradebook that receives the assignment's cells (default: one in ``workdir``).
    """
    workdir = make_course(workdir, solutions_root, assignment, db_url=db_url)
    _run_nbgrader(["generate_assignment", assignment, "--force"], cwd=workdir)
    out = workdir / "assignments" / assignment
    if not out.is_dir():
        raise NbgraderError(f"nbgrader wrote no release for {assignment} in {out}")
    return out


def autograde(
    solutions_root: Path | str,
    assignment: str,
    submissions: Mapping[str, Path | str],
    workdir: Path | str,
    *,
    timeout: int = 300,
    env: Mapping[str, str] | None = None,
) -> dict[str, GradeResult]:
    """Autograde several submissions of one assignment with one ``nbgrader autograde`` call.

    Args:
        submissions: student id -> folder holding that student's notebooks of ``assignment``.
        workdir: an empty or throw-away folder (the course directory is created in it).
        env: extra environment variables for the grading kernels (e.g. ``DLCOURSE_FAST``).

    Not sandboxed: use only for trusted notebooks (the course's own solutions and fixtures).
    """
    workdir = Path(workdir)
    generate_release(solutions_root, assignment, workdir)
    for student, folder in submissions.items():
        dst = workdir / "submitted" / student / assignment
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(folder, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _run_nbgrader(
        ["autograde", assignment, "--force", f"--ExecutePreprocessor.timeout={timeout}"], cwd=workdir, env=env
    )
    return read_scores(workdir / "gradebook.db", assignment, list(submissions),
                       autograded_cells(workdir / "assignments" / assignment))


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

    ``auto_ids``: grade_ids of autograded test cells (default: cells nbgrader scored automatically).
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
