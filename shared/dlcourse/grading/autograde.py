"""Autograde a whole class: one sandboxed job per student, N at a time, one gradebook.

:func:`autograde` is what ``python -m dlcourse.grading autograde`` runs:

1. generate the release of the assignment from ``solutions/`` with nbgrader, into a private
   work folder, registering its cells in the gradebook;
2. for every ``<student_id>/<assignment>/`` folder of the submissions, run
   :mod:`.worker` in its own process (``workers`` at a time): the notebook is rebuilt from
   the course source, executed in a fresh sandbox and scored by the grader;
3. record the scores in the nbgrader gradebook, write ``autograde-<assignment>.csv``
   (student_id, assignment, auto_score, auto_max_score, status: autograded points of this run),
   ``autograde-<assignment>.json`` (per cell, with notes), the sanitized autograded notebooks and
   the feedback pages: ``feedback/<student>/<assignment>/`` for hub submissions (those with
   nbgrader's ``submission_secret.txt``, which ``nbgrader release_feedback`` needs) and
   ``feedback_uploads/<student>/<assignment>/`` for uploads (Colab, LMS), to hand back there.
   Per-assignment names: grading a second assignment into the same folder overwrites nothing,
   and ``export`` (the gradebook, manual grades included) writes a file of its own.

Whatever a submission does, the batch completes: a student's job that fails, hangs or
crashes the worker gets a status and zero for what did not run.
"""
from __future__ import annotations

import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from ..course import nbgrader_api as nbg
from . import gradebook, lms, rebuild
from .sandbox import (Limits, SandboxUnavailable, leftover_jails, python_ro_paths, sandbox_info, sweep_jails,
                      sweep_stale_jails)
from .worker import DONE

__all__ = ["PROTECTED_PACKAGES", "STATUS_ORDER", "StudentResult", "BatchResult", "Assignment", "prepare_assignment",
           "find_submissions", "autograde", "student_status", "STUDENT_ID_RE", "CSV_FIELDS", "csv_path",
           "report_path", "FEEDBACK_HUB", "FEEDBACK_UPLOADS", "is_hub_submission"]

STUDENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
#: Packages whose functions tests use as oracles or for comparisons: when the course's cells import
#: them, they are imported before any student code and guarded (see kernel_guard). Plotting,
#: widgets and the course's own helpers are left alone (they rebind names as they work).
PROTECTED_PACKAGES = frozenset({"numpy", "torch", "torchvision", "torchaudio", "sklearn", "scipy", "captum", "math",
                                "operator", "random", "statistics", "unittest", "functools", "itertools"})
#: Columns of ``autograde-<assignment>.csv`` (autograded points only; ``export`` gives the totals).
CSV_FIELDS = ["student_id", "assignment", "auto_score", "auto_max_score", "status"]
#: Feedback folders under OUT: hub submissions (nbgrader's feedback directory, released through the
#: exchange by ``nbgrader release_feedback``) and uploads (handed back through the LMS).
FEEDBACK_HUB, FEEDBACK_UPLOADS = "feedback", "feedback_uploads"
#: Most severe first: a student's status is the first that applies to any of their notebooks.
STATUS_ORDER = ["grader_error", "sandbox_error", "malformed", "missing", "timeout", "memory_limit", "kernel_died",
                "tampered", "pids_limit", "restored", "output_truncated", "ok"]


@dataclass
class StudentResult:
    """One row of ``autograde-<assignment>.csv`` plus the details behind it."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str
    notes: list[str] = field(default_factory=list)
    cells: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    feedback: str = ""  # folder of the feedback pages, relative to OUT (feedback/... or feedback_uploads/...)


@dataclass
class BatchResult:
    """All students of one autograde run."""

    assignment: str
    students: list[StudentResult]
    seconds: float
    sandboxed: bool
    out: Path
    #: cluster batches only: students whose task failed or was refused (not recorded; a rerun grades them)
    not_graded: dict[str, str] = field(default_factory=dict)

    def by_id(self) -> dict[str, StudentResult]:
        return {s.student_id: s for s in self.students}


@dataclass
class Assignment:
    """What the workers need to know about the assignment (computed once per run)."""

    id: str
    source_dir: Path
    release_dir: Path
    notebooks: list[str]
    home_files: dict[str, str]
    protect: list[str]
    auto_max: float


def csv_path(out: Path | str, assignment: str) -> Path:
    """``OUT/autograde-<assignment>.csv``: the autograded points of one run."""
    return Path(out) / f"autograde-{assignment}.csv"


def report_path(out: Path | str, assignment: str) -> Path:
    """``OUT/autograde-<assignment>.json``: every cell's points, verdict and the notes of one run."""
    return Path(out) / f"autograde-{assignment}.json"


def is_hub_submission(folder: Path) -> bool:
    """True when ``folder`` came through the nbgrader exchange (it holds nbgrader's ``submission_secret.txt``)."""
    f = folder / "submission_secret.txt"
    return f.is_file() and not f.is_symlink()


def _pages_in(out: Path, folder: str) -> str:
    """``folder`` when it holds a feedback page (a student who handed in nothing has none), else ``""``."""
    return folder if folder and any((out / folder).glob("*.html")) else ""


def prepare_assignment(course_root: Path, aid: str, work: Path, gradebook_path: Path) -> Assignment:
    """Generate the release (registering the assignment in the gradebook) and describe it.

    Args:
        course_root: the course root.
        aid: the assignment id.
        work: the batch's private work folder (the release is generated in ``work/course``).
        gradebook_path: the nbgrader gradebook that receives the assignment.

    Returns:
        The assignment: its source and release folders, notebooks, extra files, guarded
        packages and autograded points.

    Raises:
        ValueError: the course has no such assignment (the message lists those it has).
    """
    src = course_root / "solutions" / aid
    if not src.is_dir() or not any(src.glob("*.ipynb")):
        have = sorted(p.name for p in (course_root / "solutions").glob("*") if p.is_dir() and any(p.glob("*.ipynb")))
        raise ValueError(f"no assignment {aid!r}: expected notebooks in {src}. Next step: pass one of the "
                         f"course's assignments ({', '.join(have) or 'none'}) or the right --course")
    release = nbg.generate_release(course_root / "solutions", aid, work / "course",
                                   db_url=gradebook.db_url(gradebook_path))
    notebooks = sorted(p.stem for p in release.glob("*.ipynb"))
    home = {}
    for p in sorted(release.rglob("*")):
        if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts:
            home[p.relative_to(release).as_posix()] = str(p)
    sources = []
    auto_max = 0.0
    for name in notebooks:
        nb = nbformat.read(src / f"{name}.ipynb", as_version=4)
        for c in nb.cells:
            role = rebuild.cell_role(c)
            if c.cell_type == "code" and role in ("test", "locked", "instruction", "plain"):
                sources.append(c.source)
            if role == "test":
                auto_max += float(c.metadata["nbgrader"].get("points", 0))
    protect = [m for m in rebuild.imported_modules(sources) if m.split(".")[0] in PROTECTED_PACKAGES]
    return Assignment(aid, src, release, notebooks, home, protect, auto_max)


def _is_plain_file(p: Path) -> bool:
    return p.is_file() and not p.is_symlink()


_EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
# how long the end of a batch waits for the sandbox cgroups its workers left to empty and be removed
_FINAL_SWEEP_S = 120.0


def _copy_exchange_files(submission: Path, feedback: Path) -> None:
    """Copy the submission's ``timestamp.txt`` and ``submission_secret.txt`` next to its feedback page.

    ``nbgrader release_feedback`` pairs a feedback page with the submission it grades through
    these two files (nbgrader's own ``generate_feedback`` copies them the same way). They come
    from the student's folder, so only small regular files are copied, never a symlink (which
    could point at a file of the grader's and publish it to the student).
    """
    if not feedback.is_dir():
        return
    for name in _EXCHANGE_FILES:
        src = submission / name
        if src.is_symlink() or not src.is_file() or src.stat().st_size > 4096:
            continue
        (feedback / name).write_bytes(src.read_bytes())


def find_submissions(submissions: Path, aid: str, notebooks: list[str],
                     course_files: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, dict], list[str]]:
    """Find each student's notebooks of ``aid`` in ``submissions/<student>/<aid>/``.

    Symbolic links are never followed (a link could point at another student's work).
    Other files are never used: the course's own copies of ``course_files`` are (a note lists
    the rest, e.g. a submitted ``torch.py``).

    Args:
        submissions: the submissions folder.
        aid: the assignment id.
        notebooks: the assignment's notebook names (without ``.ipynb``).
        course_files: the assignment's extra files (relative paths).

    Returns:
        ``(student -> {"notebooks": {name: path or None}, "notes": [...], "timestamp": str | None},
        problems)``.

    Raises:
        ValueError: ``submissions`` does not exist.
    """
    found: dict[str, dict] = {}
    problems: list[str] = []
    if not submissions.is_dir():
        raise ValueError(f"submissions folder {submissions} does not exist. Next step: collect first "
                         f"(`nbgrader collect {aid}` on the hub, or `python -m dlcourse.grading collect "
                         f"--uploads DIR --roster roster.csv --out {submissions}`)")
    for sdir in sorted(submissions.iterdir()):
        if sdir.name.startswith("."):
            continue
        if sdir.is_symlink() or not sdir.is_dir():
            problems.append(f"{sdir.name}: not a folder (or a symbolic link): skipped")
            continue
        if not STUDENT_ID_RE.match(sdir.name):
            problems.append(f"{sdir.name!r}: not a valid student id (letters, digits, . _ @ + -): skipped")
            continue
        adir = sdir / aid
        entry: dict = {"notebooks": {n: None for n in notebooks}, "notes": [], "timestamp": None}
        found[sdir.name] = entry
        if adir.is_symlink() or not adir.is_dir():
            entry["notes"].append(f"no folder {sdir.name}/{aid}/")
            continue
        ipynbs = [p for p in sorted(adir.iterdir()) if p.suffix == ".ipynb"]
        for p in ipynbs:
            if p.stem in entry["notebooks"]:
                if _is_plain_file(p):
                    entry["notebooks"][p.stem] = str(p)
                else:
                    entry["notes"].append(f"{p.name} is not a regular file (a link?): not graded")
        missing = [n for n, v in entry["notebooks"].items() if v is None]
        others = [p for p in ipynbs if p.stem not in entry["notebooks"] and _is_plain_file(p)]
        if len(missing) == 1 and len(others) == 1:
            entry["notebooks"][missing[0]] = str(others[0])
            entry["notes"].append(f"{others[0].name} was graded as {missing[0]}.ipynb")
            others = []
        extra = [p.relative_to(adir).as_posix() for p in sorted(adir.rglob("*")) if p.is_file()
                 and p.suffix != ".ipynb" and p.name != "timestamp.txt" and ".ipynb_checkpoints" not in p.parts
                 and p.relative_to(adir).as_posix() not in course_files]
        extra += [p.name for p in others]
        if extra:
            entry["notes"].append(f"ignored {len(extra)} other file(s) in the submission: "
                                  + ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")
                                  + " (only the assignment's notebooks and the course's files are used)")
        ts = adir / "timestamp.txt"
        if _is_plain_file(ts) and ts.stat().st_size < 200:
            entry["timestamp"] = ts.read_text(errors="replace").strip()
    return found, problems


def student_status(nb_results: dict[str, dict]) -> str:
    """Most severe status over a student's notebooks (see :data:`STATUS_ORDER`)."""
    seen = set()
    for r in nb_results.values():
        seen.add(r.get("status", "grader_error"))
        seen.update(r.get("flags", []))
    for s in STATUS_ORDER:
        if s in seen:
            return s
    return "ok"


def _check_isolation(paths: list[Path]) -> None:
    """Refuse when a folder the sandbox binds would expose course files, submissions or results."""
    bound = python_ro_paths()
    for secret in paths:
        secret = secret.resolve()
        for b in bound:
            if secret == b or secret.is_relative_to(b):
                raise SandboxUnavailable(f"Cause: {secret} lies inside {b}, which every sandbox can read (the "
                                         "course source, submissions and output must stay hidden). Next step: "
                                         f"move it out of {b}")


class _WorkerSlot:
    """One persistent grading worker process (``worker --serve``), restarted if it dies or hangs.

    Imports are paid once per slot instead of once per student; a worker that crashes or
    overruns a job is killed (with whatever its sandboxes left) and replaced, and only that
    student's job is lost.
    """

    def __init__(self, work: Path, index: int) -> None:
        self.log = work / f"worker-{index}.log"
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []  # every worker process this slot started (their cgroups carry the pid)
        self._buf = b""

    def _ensure(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen([sys.executable, "-m", "dlcourse.grading.worker", "--serve"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                             start_new_session=True)
            self.pids.append(self.proc.pid)
            self._buf = b""
        return self.proc

    def _kill(self) -> None:
        if self.proc is None:
            return
        pid = self.proc.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        sweep_jails(f"{pid}-")
        self.proc = None

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
            return lines[-1][:300] if lines else "no output"
        except OSError:
            return "no log"

    def run(self, job_path: Path, timeout: float) -> str | None:
        """Grade one job; None on success, else why it failed."""
        proc = self._ensure()
        try:
            assert proc.stdin is not None
            proc.stdin.write(f"{job_path}\n".encode())
            proc.stdin.flush()
        except OSError:
            self._kill()
            return f"the grading worker could not start: {self._log_tail()}"
        want = f"{DONE} {job_path}".encode()
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                if line.strip() == want:
                    return None
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                return f"the grading job did not finish within {timeout:.0f} s"
            ready, _, _ = select.select([fd], [], [], min(left, 5.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = proc.wait()
                self.proc = None
                sweep_jails(f"{proc.pid}-")
                return f"the grading worker exited ({code}): {self._log_tail()}"
            self._buf = (self._buf + chunk)[-1_000_000:]

    def close(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self._kill()
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._kill()
        self.proc = None


def autograde(
    course_root: Path | str,
    assignment: str,
    submissions: Path | str,
    out: Path | str,
    *,
    workers: int = 1,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    unsafe: bool = False,
    gradebook_path: Path | str | None = None,
    scheduler: str | None = None,
    log=print,
) -> BatchResult:
    """Grade every student in ``submissions`` (``<student_id>/<assignment>/*.ipynb``).

    Args:
        course_root: the course root; the assignment's nbgrader source is
            ``course_root/solutions/<assignment>/``.
        assignment: the assignment id (letters, digits, ``_ . -``).
        submissions: folder of ``<student_id>/<assignment>/`` submissions (as ``collect`` writes).
        out: where the CSV, the JSON report, the autograded notebooks, the feedback pages and
            (by default) the gradebook go; created when missing.
        workers: students graded at the same time (each in its own sandbox).
        limits: per-notebook limits (memory, processes, CPU, time, output).
        env: extra environment variables for the kernels (``{"DLCOURSE_FAST": "1"}``).
        unsafe: run without bubblewrap (only for trusted notebooks, e.g. the course's own).
        gradebook_path: nbgrader gradebook to update (default ``OUT/gradebook.db``).
        scheduler: address (or scheduler file) of a Dask distributed scheduler: each submission
            becomes one task on its workers (:mod:`.cluster`); ``workers`` is then unused. Results
            are recorded as they arrive and a rerun grades only what is missing.
        log: called with each progress line (skipped folders, one line per student, failures).

    Raises:
        ClusterLost: with ``scheduler``, the scheduler went away (what arrived is recorded).
        SandboxUnavailable: no working sandbox and ``unsafe`` is False.
        ValueError: unknown assignment, missing submissions folder, bad arguments.

    Returns:
        Every student's result, with the paths of the report, the CSV and the feedback pages.
    """
    t0 = time.monotonic()
    course_root, submissions, out = Path(course_root).resolve(), Path(submissions).resolve(), Path(out).resolve()
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", assignment):
        raise ValueError(f"assignment id must be letters, digits, _ . -, got {assignment!r}")
    limits = limits or Limits()
    info = sandbox_info()
    if not unsafe and not info.ok and not scheduler:  # on a cluster each worker checks its own sandbox
        raise SandboxUnavailable(info.reason)
    gb_path = Path(gradebook_path).resolve() if gradebook_path else out / "gradebook.db"
    if not unsafe:
        _check_isolation([course_root, submissions, out, gb_path])
    out.mkdir(parents=True, exist_ok=True)
    sweep_stale_jails()
    work = Path(tempfile.mkdtemp(prefix="dlcgrade-run-"))
    try:
        spec = prepare_assignment(course_root, assignment, work, gb_path)
        found, problems = find_submissions(submissions, assignment, spec.notebooks, set(spec.home_files))
        for p in problems:
            log("skipped: " + p)
        jobs_dir = work / "jobs"
        jobs_dir.mkdir()
        jobs = []
        if not found:
            raise ValueError(f"no student folder in {submissions} (expected <student_id>/{assignment}/*.ipynb"
                             + (f"; skipped: {'; '.join(problems)}" if problems else "") + "). Next step: "
                             f"collect the submissions into it first (`nbgrader collect {assignment}`, or "
                             f"`python -m dlcourse.grading collect ... --out {submissions}`)")
        where: dict[str, str] = {}
        for sid, entry in found.items():
            kind = FEEDBACK_HUB if is_hub_submission(submissions / sid / assignment) else FEEDBACK_UPLOADS
            where[sid] = f"{kind}/{sid}/{assignment}"
            other = out / (FEEDBACK_UPLOADS if kind == FEEDBACK_HUB else FEEDBACK_HUB) / sid / assignment
            if other.exists():  # filed the other way by an earlier run (release_feedback must not see an upload)
                shutil.rmtree(other)
            job = {
                "student": sid, "assignment": assignment,
                "notebooks": [{"name": n, "source": str(spec.source_dir / f"{n}.ipynb"),
                               "release": str(spec.release_dir / f"{n}.ipynb"), "submitted": entry["notebooks"][n]}
                              for n in spec.notebooks],
                "home_files": spec.home_files, "protect": spec.protect, "env": dict(env or {}),
                "limits": asdict(limits), "unsafe": unsafe, "notes": entry["notes"], "sandbox": asdict(info),
                "autograded_dir": str(out / "autograded" / sid / assignment),
                "feedback_dir": str(out / where[sid]),
                "result": str(jobs_dir / f"{sid}.result.json"), "work_root": str(work),
            }
            for d in ("autograded_dir", "feedback_dir"):
                if Path(job[d]).exists() and not scheduler:  # on a cluster: replaced when the new result arrives
                    shutil.rmtree(job[d])
            path = jobs_dir / f"{sid}.job.json"
            path.write_text(json.dumps(job))
            jobs.append((sid, path, job, entry))
        per_job = limits.notebook_timeout * max(1, len(spec.notebooks)) + 120

        slots: queue.Queue[_WorkerSlot] = queue.Queue()
        all_slots = [_WorkerSlot(work, i) for i in range(workers)]
        for slot in all_slots:
            slots.put(slot)

        def run(item):
            sid, path, job, entry = item
            slot = slots.get()
            try:
                failure = slot.run(path, per_job)
            finally:
                slots.put(slot)
            res_path = Path(job["result"])
            if res_path.is_file():
                try:
                    res = json.loads(res_path.read_text())
                except ValueError:
                    res = None
            else:
                res = None
            if res is None:
                res = {"student": sid, "assignment": assignment, "notes": job["notes"] + [
                    f"grader error: {failure or 'no result was written'}"],
                    "notebooks": {n: {"name": n, "status": "grader_error", "flags": [], "notes": [], "cells": {}}
                                  for n in spec.notebooks}, "seconds": 0.0}
            res["timestamp"] = entry.get("timestamp")
            return res

        results: list[dict] = []
        not_graded: dict[str, str] = {}
        if scheduler:  # each result is recorded in the gradebook as it arrives
            results, not_graded = _grade_on_cluster(jobs, scheduler, per_job, spec, gb_path, out, log)
        else:
            finished = False
            try:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for res in pool.map(run, jobs):
                        results.append(res)
                        _log_result(log, res, spec.auto_max)
                finished = True
            finally:
                for slot in all_slots:  # interrupted: stop the workers and their sandboxes now
                    slot.close(kill=not finished)
                for slot in all_slots:  # the workers are gone: remove whatever sandbox cgroup they left
                    for pid in slot.pids:
                        # a SIGKILLed kernel leaves its cgroup only once the kernel has torn it down,
                        # which can take minutes on a loaded machine: wait for it, and say what is left
                        sweep_jails(f"{pid}-", wait=_FINAL_SWEEP_S)
                        for line in leftover_jails(f"{pid}-"):
                            log(f"warning: sandbox cgroup not removed after {_FINAL_SWEEP_S:.0f} s: {line}")
            gradebook.record_results(gb_path, assignment, results)
        for sid in found:
            if where[sid].startswith(FEEDBACK_HUB + "/"):
                _copy_exchange_files(submissions / sid / assignment, out / where[sid])
        # due dates (course.toml / nbgrader) and the late policy: each late student's feedback says it
        n_late = lms.add_late_notices(course_root, gb_path, assignment, out)
        if n_late:
            log(f"due date set: {n_late} feedback page(s) say whether the submission was on time, and any penalty")
        students = []
        for res in results:
            cells = {}
            notes = list(res.get("notes", []))
            for name, r in res["notebooks"].items():
                for g, c in r.get("cells", {}).items():
                    cells[g if len(spec.notebooks) == 1 else f"{name}:{g}"] = c
                notes += [(f"{name}: " if len(spec.notebooks) > 1 else "") + n for n in r.get("notes", [])]
            score = sum(c.get("score") or 0.0 for c in cells.values() if c.get("auto"))
            students.append(StudentResult(res["student"], assignment, float(score), spec.auto_max,
                                          student_status(res["notebooks"]), notes, cells, float(res.get("seconds", 0)),
                                          _pages_in(out, where.get(res["student"], ""))))
        batch = BatchResult(assignment, students, time.monotonic() - t0, not unsafe, out, not_graded)
        gradebook.write_csv([{**asdict(s), "auto_score": s.score, "auto_max_score": s.max_score} for s in students],
                            csv_path(out, assignment), fields=CSV_FIELDS)
        report_path(out, assignment).write_text(json.dumps(
            {"assignment": assignment, "sandboxed": not unsafe, "seconds": batch.seconds, "limits": asdict(limits),
             "skipped": problems, "not_graded": not_graded, "students": [asdict(s) for s in students]}, indent=1, default=str))
        return batch
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _log_result(log, res: dict, auto_max: float, suffix: str = "") -> None:
    st = student_status(res["notebooks"])
    sc = sum(c.get("score") or 0 for r in res["notebooks"].values() for c in r.get("cells", {}).values() if c.get("auto"))
    log(f"  {res['student']:<24} {sc:g}/{auto_max:g}  {st}  ({res.get('seconds', 0):.1f} s){suffix}")


def _grade_on_cluster(jobs: list, scheduler: str, per_job: float, spec: Assignment, gb_path: Path, out: Path,
                      log) -> tuple[list[dict], dict[str, str]]:
    """Grade ``jobs`` on the Dask cluster; record each result in the gradebook as it arrives.

    A task a worker refused (no sandbox there) or that failed is reported and left out: it is
    not recorded, so a rerun grades it. Raises :class:`.cluster.ClusterLost` when the scheduler
    goes away, after printing what was recorded.
    """
    from . import cluster

    by_sid = {sid: entry for sid, _, _, entry in jobs}
    results: list[dict] = []
    failed: dict[str, str] = {}

    def record(sid: str, res: dict) -> None:
        res["timestamp"] = by_sid[sid].get("timestamp")
        gradebook.record_results(gb_path, spec.id, [res])

    try:
        for o in cluster.run_on_cluster([(sid, job) for sid, _, job, _ in jobs], scheduler, timeout=per_job, out=out,
                                        on_result=record, log=log):
            if o.result is None:
                failed[o.student] = o.error or "no result"
                log(f"  {o.student:<24} NOT GRADED: {o.error}")
                continue
            o.result["timestamp"] = by_sid[o.student].get("timestamp")
            results.append(o.result)
            _log_result(log, o.result, spec.auto_max, "  (recorded earlier)" if o.reused else f"  on {o.host}")
    except cluster.ClusterLost as e:
        raise cluster.ClusterLost(f"{e}. {len(results)} of {len(jobs)} submission(s) are recorded in {gb_path}; "
                                  "run the same command again to grade the rest") from None
    if failed:
        log(f"{len(failed)} submission(s) were not graded ({', '.join(failed)}): fix the cause above and run the "
            "same command again (only they are graded)")
    return sorted(results, key=lambda r: r["student"]), failed
