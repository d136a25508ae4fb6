"""Release (solutions/ -> assignments/) and the leak check of everything students get.

Publishing the student tree is :func:`dlcourse.course.publish.publish` (the only publish path); it
runs :func:`check_published` on what it writes.

A *leak* is solution code or hidden-test text of ``solutions/`` that appears in what students
get. A line counts when it lies inside ``### BEGIN SOLUTION``/``### END SOLUTION`` or
``### BEGIN HIDDEN TESTS``/``### END HIDDEN TESTS`` and does not also appear outside those
regions of the same notebook (a function signature, a visible assert repeated in a hidden
test) and is at least :data:`MIN_LINE` characters long. The nbgrader markers themselves must
never reach a student notebook.
"""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import nbgrader_api, regions
from .conventions import assignments as course_assignments
from .regions import MARKERS

__all__ = ["Secrets", "course_secrets", "leaks_in_text", "release_leaks", "release", "release_diff", "release_course",
           "check_published", "cli_release", "MARKERS"]

#: Shorter lines (``model.eval()``, ``with torch.no_grad():``) are too common to count as a leak; the
#: same threshold as tests/test_assignments.py (more than 25 characters).
MIN_LINE = 26
_TEXT_SUFFIXES = {".py", ".md", ".txt", ".ipynb", ".toml", ".yml", ".yaml", ".json", ".cfg", ".ini", ".html", ".csv",
                  ".rst", ".sh"}


@dataclass
class Secrets:
    """Lines students must not see: ``solution`` and ``hidden`` line -> where it comes from."""

    solution: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)


def _add_secrets(into: Secrets, nb_path: Path, solution_min: int = MIN_LINE, hidden_min: int = MIN_LINE) -> None:
    """Add the solution and hidden-test lines of notebook ``nb_path`` to ``into``."""
    sources = [c.source for c in nbformat.read(nb_path, as_version=4).cells]
    outside = regions.public_lines(sources)
    where = nb_path.as_posix()
    for kind, min_len, dest in ((regions.SOLUTION, solution_min, into.solution),
                                (regions.HIDDEN, hidden_min, into.hidden)):
        # A line students see anyway is no secret: the same line outside the regions (a visible assert
        # repeated in the hidden test), or the start of a visible line (the visible test adds a message).
        dest.update({s: where for s in regions.region_lines(sources, kind, min_len=min_len)
                     if s not in outside and not any(o.startswith(s) for o in outside)})


def course_secrets(root: Path, assignments: list[str] | None = None, *, solution_min: int = MIN_LINE,
                   hidden_min: int = MIN_LINE) -> Secrets:
    """Solution and hidden-test lines of every (or the named) assignment in ``root/solutions``.

    Args:
        root: the course root.
        assignments: assignment ids (default: every assignment).
        solution_min: shortest solution line that counts (stripped length).
        hidden_min: shortest hidden-test line that counts.

    Returns:
        The secret lines, each with the notebook it comes from.
    """
    out = Secrets()
    sol = root / "solutions"
    if assignments is None:
        assignments = course_assignments(root)
    for aid in assignments:
        for nb_path in sorted((sol / aid).glob("*.ipynb")):
            _add_secrets(out, nb_path, solution_min, hidden_min)
    return out


def _quotes(text: str, line: str) -> bool:
    """True when ``text`` contains ``line`` as code: not inside a longer name (the hidden test's
    ``if isinstance(layer, nn.Conv2d):`` is not quoted by a visible ``elif isinstance(layer, nn.Conv2d):``)."""
    start = text.find(line)
    while start >= 0:
        end = start + len(line)
        glued_before = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_") and \
            (line[0].isalnum() or line[0] == "_")
        glued_after = end < len(text) and (text[end].isalnum() or text[end] == "_") and \
            (line[-1].isalnum() or line[-1] == "_")
        if not glued_before and not glued_after:
            return True
        start = text.find(line, start + 1)
    return False


def leaks_in_text(text: str, secrets: Secrets, *, solutions: bool = True) -> list[str]:
    """Markers, hidden-test lines and (optionally) solution lines found in ``text``.

    Args:
        text: what students get (a file, or a notebook's sources and outputs).
        secrets: the lines they must not see (:func:`course_secrets`).
        solutions: also look for solution lines (not only markers and hidden-test lines).

    Returns:
        One description per leak found (empty: nothing leaks).
    """
    found = [f"marker {m!r}" for m in MARKERS if m in text]
    found += [f"hidden-test line {s!r} (from {w})" for s, w in secrets.hidden.items() if _quotes(text, s)]
    if solutions:
        found += [f"solution line {s!r} (from {w})" for s, w in secrets.solution.items() if _quotes(text, s)]
    return found


def _notebook_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    parts = []
    for c in nb.cells:
        parts.append(c.source)
        for o in c.get("outputs", []):
            parts.append(str(o.get("text", "")))
            parts += [str(v) for v in (o.get("data") or {}).values()]
    return "\n".join(parts)


def release_leaks(source_dir: Path, release_dir: Path) -> list[str]:
    """Leaks of ``source_dir``'s notebooks into any file of ``release_dir``."""
    secrets = Secrets()
    for nb_path in sorted(source_dir.glob("*.ipynb")):
        _add_secrets(secrets, nb_path)
    problems = []
    for f in sorted(release_dir.rglob("*")):
        if not f.is_file() or f.suffix not in _TEXT_SUFFIXES:
            continue
        text = _notebook_text(f) if f.suffix == ".ipynb" else f.read_text(errors="replace")
        problems += [f"{f.relative_to(release_dir)}: {p}" for p in leaks_in_text(text, secrets)]
    return problems


def _tree_diff(fresh: Path, committed: Path) -> list[str]:
    """Differences of the committed release folder ``committed`` from a fresh release ``fresh``."""
    def files(folder: Path) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}

    fa, fb = files(fresh), files(committed)
    out = [f"{k} is missing" for k in sorted(fa - fb)] + [f"{k} is not produced by the release" for k in sorted(fb - fa)]
    out += [f"{k} differs from a fresh release" for k in sorted(fa & fb)
            if not filecmp.cmp(fresh / k, committed / k, shallow=False)]
    return out


def release(root: Path, aid: str, *, check_only: bool = False) -> tuple[list[str], list[str]]:
    """Generate ``aid``'s release; write it to ``assignments/`` unless it leaks (or ``check_only``).

    Args:
        root: the course root (holds ``solutions/`` and ``assignments/``).
        aid: the assignment id (a folder of ``solutions/``).
        check_only: only compare, never write.

    Returns:
        ``(leaks, differences from the committed release)``; nothing is written when there
        are leaks. The differences are paths relative to ``assignments/<aid>/``.

    Raises:
        FileNotFoundError: ``solutions/<aid>/`` does not exist.
        nbgrader_api.NbgraderError: nbgrader could not generate the release.
    """
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        fresh = nbgrader_api.generate_release(root / "solutions", aid, Path(tmp))
        leaks = release_leaks(root / "solutions" / aid, fresh)
        dest = root / "assignments" / aid
        diff = _tree_diff(fresh, dest) if dest.is_dir() else [f"assignments/{aid}/ is missing"]
        if leaks or check_only or not diff:
            return leaks, diff
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(fresh, dest)
        return leaks, diff


def release_diff(root: Path, aid: str) -> list[str]:
    """What is wrong with the committed ``assignments/<aid>/``: leaks and differences from a fresh release.

    Empty when the committed release is in sync and leaks nothing; writes nothing.
    """
    leaks, diff = release(root, aid, check_only=True)
    where = [d if d.startswith("assignments/") else f"assignments/{aid}/{d}" for d in diff]
    return [f"leak: {p}" for p in leaks] + [f"{d}: run `make release`" for d in where]


def release_course(root: Path, only: list[str] | None = None) -> list[str]:
    """Release every (or the named) assignment of ``root``.

    Args:
        root: the course root.
        only: assignment ids (default: every assignment).

    Returns:
        The ids whose release changed (and was written).

    Raises:
        ValueError: a release would leak a solution or hidden-test line (nothing of that
            assignment is written; the message lists the first leaks).
    """
    changed = []
    for aid in only or course_assignments(root):
        leaks, diff = release(root, aid)
        if leaks:
            raise ValueError(f"the release of {aid} would leak {len(leaks)} line(s); assignments/{aid}/ was not "
                             "written: " + "; ".join(leaks[:5]))
        if diff:
            changed.append(aid)
    return changed


def cli_release(root: Path, aids: list[str], *, check_only: bool) -> int:
    """The ``release`` and ``check-release`` commands: release (or only check) and print one line each.

    Args:
        root: the course root.
        aids: assignment ids (empty: every assignment).
        check_only: only check: stale or leaking releases fail, nothing is written.

    Returns:
        The exit status: 0 when every release is clean (and, with ``check_only``, in sync), else 1.
    """
    aids = aids or course_assignments(root)
    if not aids:
        print(f"no assignments in {root / 'solutions'}")
        return 0
    status = 0
    for aid in aids:
        leaks, diff = release(root, aid, check_only=check_only)
        if leaks:
            status = 1
            print(f"REFUSED {aid}: the release would leak {len(leaks)} line(s); assignments/{aid}/ was not written")
            for p in leaks[:20]:
                print("  " + p)
        elif check_only and diff:
            status = 1
            print(f"STALE {aid}: " + "; ".join(diff[:5]) + " (run the release)")
        elif diff and not check_only:
            print(f"released {aid}: {len(diff)} file(s) changed")
        else:
            print(f"ok {aid}: in sync, no leak")
    return status


# ------------------------------------------------------------------ the leak check of a published tree

def _distinctive_hidden(secrets: Secrets) -> dict[str, str]:
    """Hidden-test lines that give something away outside the assignment: assertions (with their
    expected values and messages), not generic lines such as ``model.eval()`` that lectures and
    the helper package legitimately share with tests."""
    return {s: w for s, w in secrets.hidden.items() if "assert" in s and len(s) >= 25}


def check_published(root: Path, out: Path) -> list[str]:
    """Problems of a student tree: solutions, tests, gradebooks, markers, hidden-test or solution lines.

    Assignment notebooks are checked strictly against their own assignment (every solution and
    hidden-test line); other files against the hidden *assertions* of every assignment. Long
    solution lines found outside ``assignments/`` (a lecture or the helper package showing the
    same code) are reported as ``warning:`` entries; everything else is an error.
    """
    problems = []
    for bad in ("solutions", "tests", "source", "autograded", "submitted", "feedback", "nbgrader_config.py"):
        if (out / bad).exists():
            problems.append(f"{bad} must not be published")
    problems += [f"{p.relative_to(out).as_posix()}: the private catalog of hidden-test messages must not be published"
                 for p in out.glob("translations/*/hidden")]  # see dlcourse.course.i18n.hidden_template_for
    every = course_secrets(root)
    hidden_asserts = _distinctive_hidden(every)
    long_solution = {s: w for s, w in every.solution.items() if len(s) >= 40}
    per_assignment: dict[str, Secrets] = {}
    for f in sorted(out.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(out).as_posix()
        if f.suffix in (".db", ".sqlite") or f.name == "gradebook.db":
            problems.append(f"{rel}: a database must not be published")
            continue
        if f.suffix not in _TEXT_SUFFIXES:
            continue
        text = _notebook_text(f) if f.suffix == ".ipynb" else f.read_text(errors="replace")
        parts = rel.split("/")
        if parts[0] == "assignments" and len(parts) > 2:
            aid = parts[1]
            if aid not in per_assignment:
                per_assignment[aid] = course_secrets(root, [aid]) if (root / "solutions" / aid).is_dir() else Secrets()
            problems += [f"{rel}: {p}" for p in leaks_in_text(text, per_assignment[aid])]
            continue
        if f.suffix == ".ipynb":  # markers never belong in a student notebook (the helper package may name them)
            problems += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        problems += [f"{rel}: hidden-test line {s!r} (from {w})" for s, w in hidden_asserts.items() if s in text]
        problems += [f"warning: {rel}: solution line {s!r} (from {w}): check it does not give the answer away"
                     for s, w in long_solution.items() if s in text]
    return problems
