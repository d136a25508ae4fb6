"""Re-render feedback pages after manual grading (``python -m dlcourse.grading feedback``).

Reads the autograded notebooks an autograde run wrote (already sanitized) and the scores
and comments now in the gradebook (manual scores override automatic ones), and writes the
pages again, still without hidden tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from . import feedback, gradebook

__all__ = ["rerender_feedback"]


def rerender_feedback(out: Path | str, assignment: str, gradebook_path: Path | str) -> int:
    """Rewrite the feedback pages with the scores and comments now in the gradebook.

    Pages go where the autograde run filed them: ``OUT/feedback/...`` for hub submissions,
    ``OUT/feedback_uploads/...`` for uploads.

    Args:
        out: the autograde run's output folder (``--out``).
        assignment: the assignment id.
        gradebook_path: the nbgrader gradebook (manual scores override automatic ones).

    Returns:
        How many pages were written.

    Raises:
        ValueError: ``out`` holds no autograded notebooks (autograde has not run there).
    """
    from nbgrader.api import Gradebook, MissingEntry

    out = Path(out)
    base = out / "autograded"
    if not base.is_dir():
        raise ValueError(f"{base} does not exist: run autograde with --out {out} first")
    from .autograde import FEEDBACK_HUB, FEEDBACK_UPLOADS, report_path

    report = {}
    rp = report_path(out, assignment)
    if rp.is_file():
        data = json.loads(rp.read_text())
        report = {s["student_id"]: s for s in data.get("students", [])}
    written = 0
    with Gradebook(gradebook.db_url(gradebook_path)) as gb:
        for sdir in sorted(p for p in base.iterdir() if p.is_dir()):
            adir = sdir / assignment
            for nb_path in sorted(adir.glob("*.ipynb")):
                meta_path = adir / f".{nb_path.stem}.roles.json"
                if not meta_path.is_file():
                    continue
                meta = json.loads(meta_path.read_text())
                nb = nbformat.read(nb_path, as_version=4)
                try:
                    snb = gb.find_submission_notebook(nb_path.stem, assignment, sdir.name)
                except MissingEntry:
                    continue
                comments = {c.name: c.comment or c.auto_comment for c in snb.comments}
                cells, manual = {}, {}
                auto_ids = set(meta.get("test_release", {}))
                prev = report.get(sdir.name, {}).get("cells", {})
                for g in snb.grades:
                    entry = {"score": g.score if (g.manual_score is not None or g.auto_score is not None) else None,
                             "max_score": float(g.max_score), "comment": comments.get(g.name)}
                    if g.name in auto_ids:
                        old = prev.get(g.name, {})
                        cells[g.name] = {**entry, "verdict": ("regraded by hand" if g.manual_score is not None
                                                              else old.get("verdict", "")),
                                         "message": old.get("message")}
                    else:
                        manual[g.name] = entry
                hidden = feedback.hidden_test_lines(c.source for c in nb.cells if c.cell_type == "code")
                st = report.get(sdir.name, {})
                score = float(sum((c["score"] or 0) for c in cells.values()) + sum((m["score"] or 0) for m in manual.values()))
                max_score = float(sum(c["max_score"] for c in cells.values()) + sum(m["max_score"] for m in manual.values()))
                page = feedback.render_feedback(
                    nb, student=sdir.name, assignment=assignment, notebook=nb_path.stem, cells=cells,
                    test_release_sources=meta.get("test_release", {}), hidden=hidden,
                    status=st.get("status", "graded"), notes=st.get("notes", []), roles=meta.get("roles", []),
                    score=score, max_score=max_score, manual=manual, score_label="score (manual grades included)")
                folder = st.get("feedback") or (f"{FEEDBACK_UPLOADS}/{sdir.name}/{assignment}"
                                                 if (out / FEEDBACK_UPLOADS / sdir.name / assignment).is_dir()
                                                 else f"{FEEDBACK_HUB}/{sdir.name}/{assignment}")
                dest = out / folder / f"{nb_path.stem}.html"
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(page)
                written += 1
    return written
