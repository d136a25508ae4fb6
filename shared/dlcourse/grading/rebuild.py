"""Rebuild the notebook that is graded from the instructor's source and the student's answers.

A submitted notebook is untrusted data. Nothing of it is executed as it is: the grader
rebuilds the notebook from the course's own source notebook and takes from the submission
only what students are allowed to change:

* solution cells (found by nbgrader ``grade_id``, else by cell id, else by position between
  cells that did match): the student's source, with the course's cell type and metadata;
* cells the student added: kept in place, as ordinary ungraded cells, without metadata;
* ordinary editable cells of the release: the student's version when found.

Everything else comes from the course: test cells (visible and hidden tests), their points,
grade/solution/locked flags, ``schema_version``, cell ids, the kernel spec. So a deleted or
edited test cell, changed points, flipped flags, a copied cell with a duplicate id or a
changed kernel spec earn nothing; each leaves a note. A file that is not a notebook at all
raises :class:`Malformed`.
"""
from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Malformed", "StudentCell", "Rebuilt", "read_submission", "build", "cell_role",
           "instructor_names", "imported_modules", "MAX_NOTEBOOK_BYTES"]

MAX_NOTEBOOK_BYTES = 25 * 2**20
MAX_CELLS = 3000
_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Malformed(ValueError):
    """The submitted file cannot be read as a Jupyter notebook (the message says why)."""


@dataclass
class StudentCell:
    """One cell of a submission, reduced to plain, validated data."""

    cell_type: str
    source: str
    grade_id: str | None = None
    cell_id: str | None = None
    flags: dict = field(default_factory=dict)  # the submission's nbgrader metadata (only to report changes)


def _source(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return "".join(value)
    return None


def read_submission(path: Path | str) -> tuple[list[StudentCell], list[str]]:
    """Read a submitted ``.ipynb`` defensively.

    Args:
        path: the submitted file.

    Returns:
        ``(cells, notes)``: its cells as plain validated data, and notes on what was odd.

    Raises:
        Malformed: not JSON, not a notebook, too large, or no readable cell at all.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise Malformed(f"{path.name} is {size / 2**20:.0f} MB; notebooks over {MAX_NOTEBOOK_BYTES >> 20} MB "
                        "are not graded (clear the outputs and submit again)")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Malformed(f"{path.name} is not a notebook (not valid JSON: {str(e)[:120]})") from None
    if not isinstance(data, dict):
        raise Malformed(f"{path.name} is not a notebook (the JSON is not an object)")
    notes: list[str] = []
    if "worksheets" in data and "cells" not in data:  # nbformat 3: let nbformat convert it
        try:
            data = json.loads(nbformat.writes(nbformat.reads(raw.decode("utf-8-sig"), as_version=4)))
            notes.append("old notebook format 3 was converted")
        except Exception as e:  # noqa: BLE001
            raise Malformed(f"{path.name}: notebook format 3 that cannot be converted ({str(e)[:120]})") from None
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise Malformed(f"{path.name} is not a notebook (no list of cells)")
    if len(cells) > MAX_CELLS:
        raise Malformed(f"{path.name} has {len(cells)} cells (more than {MAX_CELLS})")
    out: list[StudentCell] = []
    skipped = 0
    for c in cells:
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            skipped += 1
            continue
        src = _source(c.get("source", ""))
        if src is None:
            skipped += 1
            continue
        meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        gid = nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None
        cid = c.get("id") if isinstance(c.get("id"), str) else None
        out.append(StudentCell(c["cell_type"], src, gid, cid, dict(nbg)))
    if skipped:
        notes.append(f"{skipped} unreadable cell(s) were ignored")
    if not out:
        raise Malformed(f"{path.name} has no readable cell")
    ks = (data.get("metadata") or {}).get("kernelspec") if isinstance(data.get("metadata"), dict) else None
    if isinstance(ks, dict) and ks.get("name") not in (None, "python3"):
        notes.append(f"the notebook asks for kernel {str(ks.get('name'))[:40]!r}: graded with the course's Python kernel")
    return out, notes


def _nbg(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_role(cell) -> str:
    """``test`` (autograded test), ``solution``, ``locked``, ``instruction`` (other nbgrader), or ``plain``."""
    m = _nbg(cell)
    if not m:
        return "plain"
    if m.get("solution"):
        return "solution"
    if m.get("grade") and cell.cell_type == "code":
        return "test"
    if m.get("locked") or m.get("grade") or m.get("task"):
        return "locked"
    return "instruction"


def instructor_names(source: str) -> list[str]:
    """Top-level names a course cell binds (imports, defs, simple assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.asname or a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [a.asname or a.name for a in node.names if a.name != "*"]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def imported_modules(sources: list[str]) -> list[str]:
    """Modules imported by course cells (``import a.b`` -> a, a.b; ``from a import b`` -> a, a.b)."""
    mods: list[str] = []
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    parts = a.name.split(".")
                    mods += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                parts = node.module.split(".")
                mods += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
                mods += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return [m for m in dict.fromkeys(mods) if re.fullmatch(r"[A-Za-z_][\w.]*", m)]


@dataclass
class Rebuilt:
    """The notebook to execute and what each of its cells is.

    ``roles[i]``: test / instructor / student / skip. ``names[i]``: names instructor cell i binds.
    ``graded``: grade_id -> index of its cell. ``answers``: grade_id -> the student's source
    (solution cells found in the submission).
    """

    nb: nbformat.NotebookNode
    roles: list[str]
    names: dict[int, list[str]]
    graded: dict[str, int]
    answers: dict[str, str]
    notes: list[str]
    edited: list[str]  # protected parts the submission changed (restored from the course)


def _norm(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.strip().splitlines())


def build(source_nb, release_nb, student: list[StudentCell]) -> Rebuilt:
    """Rebuild the graded notebook (see the module docstring).

    Args:
        source_nb: the instructor's notebook (solutions/, with hidden tests).
        release_nb: the student release of the same notebook (assignments/), same cells.
        student: cells of the submission from :func:`read_submission`.

    Returns:
        The notebook to execute, the role of each cell and what was restored from the course.

    Raises:
        ValueError: the source and the release do not have the same cells.
    """
    src_cells, rel_cells = source_nb.cells, release_nb.cells
    if len(src_cells) != len(rel_cells):
        raise ValueError(f"source and release notebooks differ in length ({len(src_cells)} vs {len(rel_cells)})")
    notes: list[str] = []
    edited: list[str] = []
    n_src, n_stu = len(src_cells), len(student)
    match: list[int | None] = [None] * n_src
    used: set[int] = set()
    gid_of = [_nbg(c).get("grade_id") for c in src_cells]
    known_gids = {g for g in gid_of if g}

    # duplicates of a grade_id: the first one counts, the copies are ordinary cells
    seen: dict[str, int] = {}
    for j, sc in enumerate(student):
        if sc.grade_id:
            seen[sc.grade_id] = seen.get(sc.grade_id, 0) + 1
    for g, n in seen.items():
        if n > 1 and g in known_gids:
            notes.append(f"cell {g!r} appears {n} times: the first one is graded, the copies ran as ordinary cells")
            edited.append(f"duplicate {g}")

    # pass 1: nbgrader grade_id
    for i, g in enumerate(gid_of):
        if not g:
            continue
        for j, sc in enumerate(student):
            if j not in used and sc.grade_id == g:
                match[i] = j
                used.add(j)
                break
    # pass 2: nbformat cell id (for cells whose nbgrader metadata was lost, e.g. by another editor)
    for i, c in enumerate(src_cells):
        cid = c.get("id")
        if match[i] is not None or not cid:
            continue
        for j, sc in enumerate(student):
            if j not in used and sc.cell_id == cid and (sc.grade_id is None or sc.grade_id == gid_of[i]):
                match[i] = j
                used.add(j)
                break

    def window(i: int) -> range:
        lo = max((match[k] for k in range(i) if match[k] is not None), default=-1)
        hi = min((match[k] for k in range(i + 1, n_src) if match[k] is not None), default=n_stu)
        return range(lo + 1, hi)

    # pass 3: unchanged text of non-solution cells, in order
    for i, c in enumerate(src_cells):
        if match[i] is not None or cell_role(c) == "solution" or not rel_cells[i].source.strip():
            continue
        want = _norm(rel_cells[i].source)
        for j in window(i):
            if j not in used and student[j].grade_id is None and _norm(student[j].source) == want:
                match[i] = j
                used.add(j)
                break
    # pass 4: a solution cell without metadata: the only unmatched cell of its type in its place
    for i, c in enumerate(src_cells):
        if match[i] is not None or cell_role(c) != "solution":
            continue
        cands = [j for j in window(i) if j not in used and student[j].cell_type == c.cell_type
                 and (student[j].grade_id is None or student[j].grade_id not in known_gids)]
        if len(cands) == 1:
            match[i] = cands[0]
            used.add(cands[0])

    # extra student cells, anchored after the nearest matched cell before them
    anchor_of: dict[int | None, list[int]] = {}
    src_of = {j: i for i, j in enumerate(match) if j is not None}
    last: int | None = None
    for j in range(n_stu):
        if j in src_of:
            last = src_of[j]
        elif j not in used:
            anchor_of.setdefault(last, []).append(j)

    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(source_nb.metadata)
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    roles: list[str] = []
    names: dict[int, list[str]] = {}
    graded: dict[str, int] = {}
    answers: dict[str, str] = {}

    def emit(cell, role: str) -> None:
        idx = len(out.cells)
        cell["id"] = f"cell-{idx}"
        out.cells.append(cell)
        roles.append(role if cell.cell_type == "code" else "skip")
        g = _nbg(cell).get("grade_id")
        if g:
            graded[g] = idx
        if role == "instructor" and cell.cell_type == "code":
            names[idx] = instructor_names(cell.source)

    def student_cell(j: int):
        sc = student[j]
        if sc.cell_type == "code":
            return nbformat.v4.new_code_cell(sc.source)
        if sc.cell_type == "markdown":
            return nbformat.v4.new_markdown_cell(sc.source)
        return nbformat.v4.new_raw_cell(sc.source)

    pending = anchor_of.get(None, [])
    for i, c in enumerate(src_cells):
        role = cell_role(c)
        j = match[i]
        g = gid_of[i]
        label = f"{g!r}" if g else f"cell {i + 1}"
        if j is not None:
            for k in pending:
                emit(student_cell(k), "student")
            pending = anchor_of.get(i, [])
        if role == "solution":
            cell = copy.deepcopy(rel_cells[i])
            if j is not None:
                cell.source = student[j].source
                answers[g] = student[j].source
                stu = student[j].flags
                if stu and (bool(stu.get("grade")) != bool(_nbg(c).get("grade")) or not stu.get("solution")
                            or str(stu.get("points", _nbg(c).get("points"))) != str(_nbg(c).get("points"))):
                    notes.append(f"the nbgrader flags or points of {label} were changed: the course's were used")
                    edited.append(f"flags {g}")
                sv = stu.get("schema_version")
                if sv is not None and sv != _nbg(c).get("schema_version"):
                    notes.append(f"schema_version of {label} was changed: ignored")
                    edited.append(f"schema {g}")
            else:
                notes.append(f"solution cell {label} was not found in the submission: its release version was used")
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            emit(cell, "student")
            continue
        if role in ("test", "locked", "instruction"):
            cell = copy.deepcopy(c)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            if j is None:
                if role == "test":
                    notes.append(f"test cell {label} was missing: the course's test was restored and run")
                    edited.append(f"missing {g}")
            else:
                stu = student[j]
                if role in ("test", "locked") and _norm(stu.source) not in (_norm(rel_cells[i].source),
                                                                             _norm(c.source)):
                    notes.append(f"{'test' if role == 'test' else 'read-only'} cell {label} was edited: "
                                 "the course's version was used")
                    edited.append(f"edited {g}")
                sp = stu.flags.get("points")
                cp = _nbg(c).get("points")
                if role == "test" and sp is not None and str(sp) != str(cp):
                    notes.append(f"the points of {label} were changed to {str(sp)[:20]}: the course's {cp} were used")
                    edited.append(f"points {g}")
                if stu.flags and (bool(stu.flags.get("solution")) or
                                  bool(stu.flags.get("grade")) != bool(_nbg(c).get("grade"))):
                    notes.append(f"the nbgrader flags of {label} were changed: the course's flags were used")
                    edited.append(f"flags {g}")
                sv = stu.flags.get("schema_version")
                if sv is not None and sv != _nbg(c).get("schema_version"):
                    notes.append(f"schema_version of {label} was changed: ignored")
                    edited.append(f"schema {g}")
            emit(cell, "test" if role == "test" else "instructor")
            continue
        # plain cell: students may edit it
        if j is not None and student[j].cell_type == c.cell_type:
            cell = student_cell(j)
            emit(cell, "student")
        else:
            cell = copy.deepcopy(c)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            emit(cell, "instructor")
    for k in pending:
        emit(student_cell(k), "student")
    return Rebuilt(out, roles, names, graded, answers, notes, edited)
