"""Grade one student's submission of one assignment (one process per student).

``python -m dlcourse.grading.worker JOB.json`` reads a job written by :mod:`.autograde`,
rebuilds every notebook of the assignment from the course source and the submission
(:mod:`.rebuild`), executes it in its own sandbox (:mod:`.executor`), computes the
scores itself, and writes the result JSON, the sanitized autograded notebooks and the
feedback pages. A separate process per student keeps one pathological submission (a huge
output, a grader bug it triggers) from touching the others.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# jsonschema (imported by nbformat) builds an RFC 3987 grammar at import time when the optional
# rfc3987_syntax package is present: seconds per worker process, for a format nbformat never
# checks. Without it jsonschema simply skips that format.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat  # noqa: E402
# nbgrader's own scoring rule and checksum. Importing nbgrader costs seconds (its package imports
# its server extensions), paid once per worker process (a --serve worker grades many jobs).
from nbgrader.utils import determine_grade  # noqa: E402

from ..course.i18n import Edition  # noqa: E402
from . import executor, feedback, rebuild  # noqa: E402
from .sandbox import Limits, sweep_jails, use_known_info  # noqa: E402

__all__ = ["grade_job", "cell_score", "main"]


def cell_score(cell, run: executor.CellRun | None, points: float) -> tuple[float, str, str | None]:
    """Score of one autograded test cell, decided by the grader from what the sandbox reported.

    The cell must have run, its execute reply must be ``ok`` (an error the kernel hid from the
    outputs still fails) and the in-kernel guard must not have voided it; then nbgrader's own
    rule decides (:func:`nbgrader.utils.determine_grade`: an error or anything on stderr is 0,
    a number as the cell's result is partial credit, anything else full marks), except that a
    result above the cell's points, on which nbgrader stops, scores 0 here.

    Args:
        cell: the executed test cell (a notebook cell dict with its outputs).
        run: what the executor reported for that cell (None: it never ran).
        points: the cell's points.

    Returns:
        ``(score, verdict, message)``: the message (the error, the stderr text) or None.
    """
    if run is None or run.status == "not_run":
        return 0.0, "did not run", None
    if run.status == "timeout":
        return 0.0, "timed out", None
    if run.status == "died":
        return 0.0, "the kernel died", None
    if run.void:
        return 0.0, "void: the environment was tampered with", "; ".join(run.notes[-3:])
    outputs = cell.get("outputs", [])
    for out in outputs:
        if out.get("output_type") == "error":
            return 0.0, "failed", f'{out.get("ename", "")}: {out.get("evalue", "")}'
    if run.status != "ok" or (run.reply or {}).get("status") != "ok":
        rep = run.reply or {}
        return 0.0, "failed", f'{rep.get("ename", "")}: {rep.get("evalue", "")}'
    graded = nbformat.from_dict({"cell_type": "code", "source": cell.get("source", ""), "outputs": outputs,
                                 "metadata": {"nbgrader": {"grade": True, "solution": False, "points": points}}})
    try:
        score, _ = determine_grade(graded)
    except ValueError:
        return 0.0, f"failed (its result is more than the cell's {points:g} points)", None
    stderr = [str(o.get("text", "")) for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    if score == 0 and stderr:
        return 0.0, "failed (wrote to stderr)", "".join(stderr)[:500]
    if score < points:
        return float(score), "partial credit", None
    return float(points), "passed", None


def _unanswered(cell) -> bool:
    """True when a manually graded answer cell still holds the release's text (nbgrader's checksum rule)."""
    try:
        return determine_grade(nbformat.from_dict(cell))[0] == 0
    except (KeyError, TypeError, ValueError):
        return False


def grade_notebook(job: dict, nbspec: dict, limits: Limits) -> dict:
    """Grade one notebook of the job.

    Args:
        job: the job (see :mod:`.autograde`).
        nbspec: the notebook's entry of the job (name; source, release and submitted paths).
        limits: the sandbox's limits.

    Returns:
        The notebook's result: status, flags, notes, per-cell scores, seconds (see :func:`grade_job`).
    """
    name = nbspec["name"]
    source = nbformat.read(nbspec["source"], as_version=4)
    release = nbformat.read(nbspec["release"], as_version=4)
    auto: dict[str, float] = {}
    manual: dict[str, float] = {}
    test_release: dict[str, str] = {}
    for sc, rc in zip(source.cells, release.cells):
        meta = sc.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            (auto if rebuild.cell_role(sc) == "test" else manual)[meta["grade_id"]] = float(meta.get("points", 0))
            if rebuild.cell_role(sc) == "test":
                test_release[meta["grade_id"]] = rc.source
    hidden = feedback.hidden_test_lines(c.source for c in source.cells if rebuild.cell_role(c) == "test")
    res: dict = {"name": name, "status": "ok", "flags": [], "notes": [], "cells": {}, "seconds": 0.0,
                 "auto_max": sum(auto.values()), "manual_max": sum(manual.values())}

    def zero_all(verdict: str) -> None:
        for g, p in auto.items():
            res["cells"][g] = {"score": 0.0, "max_score": p, "auto": True, "verdict": verdict, "message": None}
        for g, p in manual.items():
            res["cells"][g] = {"score": 0.0, "max_score": p, "auto": False, "verdict": verdict, "message": None}

    def give_up(status: str, note: str, verdict: str) -> dict:
        res["status"] = status
        res["notes"].append(note)
        zero_all(verdict)
        return res

    path = nbspec.get("submitted")
    if not path:
        return give_up("missing", f"no {name}.ipynb in the submission", "not submitted")
    try:
        cells, read_notes = rebuild.read_submission(path)
    except rebuild.Malformed as e:
        return give_up("malformed", str(e), "the notebook could not be read")
    except OSError as e:
        return give_up("malformed", f"{Path(path).name} could not be read: {e.strerror}",
                       "the notebook could not be read")
    # graded alike, shown in the student's edition: the course's cells are taken (and compared) in that edition
    edition = Edition.of_submission(path, nbspec["source"])
    canon = rebuild.build(edition.translated(source), edition.translated(release), cells)
    res["notes"] += edition.notes
    res["notes"] += read_notes + canon.notes
    if canon.edited:
        res["flags"].append("restored")
    run = executor.execute(canon.nb, canon.roles, limits=limits,
                           home_files={k: Path(v) for k, v in job.get("home_files", {}).items()},
                           protect=job.get("protect", []), names=canon.names, env={**job.get("env", {}), **edition.env},
                           unsafe=bool(job.get("unsafe")), job_name=f"{job['student']}-{name}",
                           work_root=Path(job["work_root"]) if job.get("work_root") else None)
    for i, role in enumerate(canon.roles):  # hidden-test messages: translated here, never inside the kernel
        if role == "test":
            edition.translate_outputs(canon.nb.cells[i])
    res["status"] = run.status
    res["flags"] += sorted(run.flags)
    res["seconds"] = run.seconds
    for i, c in run.cells.items():
        res["notes"] += [f"cell {i}: {n}" for n in c.notes]
    res["notes"] += run.notes
    for g, p in auto.items():
        idx = canon.graded.get(g)
        cell = canon.nb.cells[idx] if idx is not None else None
        if cell is None:
            res["cells"][g] = {"score": 0.0, "max_score": p, "auto": True, "verdict": "missing", "message": None}
            continue
        score, verdict, message = cell_score(cell, run.cells.get(idx), p)
        if message:
            message = feedback.redact(message, hidden)[:1000]
        res["cells"][g] = {"score": score, "max_score": p, "auto": True, "verdict": verdict, "message": message}
    for g, p in manual.items():
        idx = canon.graded.get(g)
        unanswered = idx is None or g not in canon.answers or _unanswered(canon.nb.cells[idx])
        res["cells"][g] = {"score": 0.0 if unanswered else None, "max_score": p, "auto": False,
                           "verdict": "no answer" if unanswered else "to be graded by hand", "message": None}
    removed = feedback.sanitize_notebook(canon.nb)
    if removed:
        res["notes"].append(f"{removed} output(s) that could run code (scripts, SVG, widgets) were removed")
    out_nb = Path(job["autograded_dir"]) / f"{name}.ipynb"
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(canon.nb, out_nb)
    (Path(job["autograded_dir"]) / f".{name}.roles.json").write_text(json.dumps(
        {"roles": canon.roles, "test_release": test_release}))
    score = sum(c["score"] or 0 for c in res["cells"].values() if c["auto"])
    page = edition.localize_page(feedback.render_feedback(
        canon.nb, student=job["student"], assignment=job["assignment"], notebook=name,
        cells={g: c for g, c in res["cells"].items()}, test_release_sources=test_release, hidden=hidden,
        status=res["status"] if not res["flags"] else f'{res["status"]} ({", ".join(res["flags"])})',
        notes=res["notes"], roles=canon.roles, score=score, max_score=res["auto_max"]))
    fb = Path(job["feedback_dir"]) / f"{name}.html"
    fb.parent.mkdir(parents=True, exist_ok=True)
    fb.write_text(page)
    return res


def grade_job(job: dict) -> dict:
    """Grade every notebook of one student's submission; return the result dict."""
    t0 = time.monotonic()
    if job.get("sandbox"):
        use_known_info(job["sandbox"])
    limits = Limits(**job["limits"])
    result = {"student": job["student"], "assignment": job["assignment"], "notebooks": {}, "notes": list(job.get("notes", []))}
    for nbspec in job["notebooks"]:
        try:
            result["notebooks"][nbspec["name"]] = grade_notebook(job, nbspec, limits)
        except Exception as e:  # noqa: BLE001 - report, never take the batch down
            result["notebooks"][nbspec["name"]] = {"name": nbspec["name"], "status": "grader_error", "flags": [],
                                                   "notes": [f"grader error: {type(e).__name__}: {e}"], "cells": {},
                                                   "seconds": 0.0}
    result["seconds"] = time.monotonic() - t0
    return result


DONE = "DLCOURSE-WORKER-DONE"


def run_job_file(path: Path | str) -> None:
    """Grade the job in ``path`` and write its result file."""
    job = json.loads(Path(path).read_text())
    result = grade_job(job)
    Path(job["result"]).write_text(json.dumps(result, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    """``worker JOB.json`` grades one job; ``worker --serve`` grades the job files named on stdin, one
    per line, answering ``DLCOURSE-WORKER-DONE <path>`` on stdout after each (imports paid once)."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--serve"]:
        for line in sys.stdin:
            path = line.strip()
            if not path:
                continue
            try:
                run_job_file(path)
            except Exception as e:  # noqa: BLE001 - the parent reports a missing result
                print(f"worker error on {path}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            # Nothing of a finished job may outlive it: kill and remove whatever sandbox cgroup of
            # this worker is still there (normally none; each notebook closes its own).
            left = sweep_jails(f"{os.getpid()}-")
            if left:
                print(f"worker: removed {left} sandbox cgroup(s) left after {path}", file=sys.stderr, flush=True)
            print(f"{DONE} {path}", flush=True)
        return 0
    if len(args) != 1:
        print("usage: python -m dlcourse.grading.worker JOB.json | --serve", file=sys.stderr)
        return 2
    run_job_file(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
