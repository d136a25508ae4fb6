"""The nbgrader gradebook: record autograded results and export grades.

Grades go through nbgrader's own API, so formgrader, ``nbgrader export`` and manual
grading keep working on the same database: an autograde run creates (or updates) the
student's submission, sets the automatic score of every autograded test cell, marks
written answers for manual grading (an unchanged answer scores 0 automatically, as in
nbgrader) and flags notebooks whose grading did not finish normally. Manual scores
already entered are kept.
"""
from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["db_url", "record_results", "export_rows", "write_csv", "CSV_FIELDS"]

CSV_FIELDS = ["student_id", "assignment", "score", "max_score", "status"]


def db_url(path: Path | str) -> str:
    """``sqlite:///`` URL of a gradebook file."""
    return f"sqlite:///{Path(path).resolve()}"


def record_results(gradebook: Path | str, assignment: str, results: list[dict]) -> None:
    """Write worker results (see :mod:`.worker`) into the gradebook (which must hold the assignment).

    Args:
        gradebook: the nbgrader gradebook file.
        assignment: the assignment id.
        results: one worker result per student.
    """
    import warnings

    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    with warnings.catch_warnings(), Gradebook(db_url(gradebook)) as gb:
        # nbgrader's own submission code triggers SQLAlchemy autoflush warnings; they are harmless
        warnings.simplefilter("ignore")
        for res in results:
            sid = res["student"]
            gb.update_or_create_student(sid)
            if all(nb.get("status") == "missing" for nb in res["notebooks"].values()):
                continue  # nothing handed in: the student is listed, without a submission (as in nbgrader)
            kw = {}
            if res.get("timestamp"):
                try:
                    kw["timestamp"] = parse_utc(str(res["timestamp"]).strip())
                except (ValueError, OverflowError):
                    pass
            sub = gb.update_or_create_submission(assignment, sid, **kw)
            for snb in sub.notebooks:
                nres = res["notebooks"].get(snb.name)
                snb.flagged = bool(nres is None or nres.get("status") != "ok" or nres.get("flags"))
                cells = (nres or {}).get("cells", {})
                for grade in snb.grades:
                    c = cells.get(grade.name)
                    if c is None:
                        grade.auto_score = 0.0 if grade.cell.cell_type == "code" and not _is_solution(gb, grade) else None
                    else:
                        grade.auto_score = None if c["score"] is None else float(c["score"])
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
                for comment in snb.comments:
                    c = cells.get(comment.name)
                    comment.auto_comment = "No response." if (c and c.get("verdict") == "no answer") else None
            gb.db.commit()


def _is_solution(gb, grade) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gb.find_solution_cell(grade.name, grade.notebook.name, grade.assignment.name)
        return True
    except MissingEntry:
        return False


def export_rows(gradebook: Path | str, assignment: str | None = None) -> list[dict]:
    """One row per student and assignment: total score (manual overrides automatic), max, status.

    status: ``graded`` (every point is in), ``needs_manual_grade`` (a written answer or a
    flagged cell waits in formgrader), ``flagged`` (grading did not finish normally: see the
    autograde report's status) or ``missing`` (no submission).

    Args:
        gradebook: the nbgrader gradebook file.
        assignment: only this assignment (default: all).

    Returns:
        The rows, as dicts with the columns of :data:`CSV_FIELDS`.

    Raises:
        ValueError: ``assignment`` is not in the gradebook.
    """
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db_url(gradebook)) as gb:
        assignments = [a for a in gb.assignments if assignment is None or a.name == assignment]
        if assignment is not None and not assignments:
            raise ValueError(f"assignment {assignment!r} is not in the gradebook {gradebook}")
        for a in assignments:
            max_score = float(a.max_score)
            by_student = {s.student.id: s for s in a.submissions}
            for st in sorted(gb.students, key=lambda s: s.id):
                sub = by_student.get(st.id)
                if sub is None:
                    rows.append({"student_id": st.id, "assignment": a.name, "score": 0.0, "max_score": max_score,
                                 "status": "missing"})
                    continue
                flagged = any(nb.flagged for nb in sub.notebooks)
                status = "flagged" if flagged else "needs_manual_grade" if sub.needs_manual_grade else "graded"
                rows.append({"student_id": st.id, "assignment": a.name, "score": float(sub.score),
                             "max_score": max_score, "status": status})
    return rows


def write_csv(rows: list[dict], path: Path | str, fields: list[str] | None = None) -> Path:
    """Write grade rows with the columns ``fields`` (default :data:`CSV_FIELDS`); scores with up to 4 decimals.

    Args:
        rows: the rows (:func:`export_rows`).
        path: the CSV file to write (atomically).
        fields: the columns.

    Returns:
        ``path``.

    Raises:
        ValueError: ``path`` is an ``autograde-<assignment>.csv`` of an autograde run (the
            export would replace that run's file).
    """
    path = Path(path)
    fields = fields or CSV_FIELDS
    if fields == CSV_FIELDS and path.name.startswith("autograde-"):
        raise ValueError(f"{path} is the name autograde gives its per-run file: export to another file "
                         "(e.g. grades.csv)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, **{k: f"{round(float(r[k]), 4):g}" for k in fields if "score" in k}})
    return path
