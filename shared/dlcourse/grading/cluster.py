"""Fan-out of an autograde batch on a Dask distributed cluster (``autograde --scheduler ADDRESS``).

Each submission is one Dask task. The task carries everything it needs as bytes (the course
source and release of each notebook, the student's notebooks, the course's extra files), so a
Dask worker on another machine needs only the course's Python environment (``dlcourse`` and
bubblewrap), not the instructor's file system. On the worker the task:

1. refuses to run when this worker has no working sandbox (:class:`SandboxRefused`; student
   code never runs unsandboxed unless the instructor passed ``--unsafe``);
2. writes the job into a private temporary folder and grades it with the same worker job the
   local path uses (``python -m dlcourse.grading.worker JOB.json`` in a child process that dies
   with the Dask worker), under the same limits;
3. returns the result dict and the files the job produced (autograded notebooks, feedback
   pages) as bytes.

The client alone writes: each returned result is written to ``OUT`` (autograded/, feedback/),
to a journal (``OUT/cluster-journal/<student>.json``, keyed by a digest of what was graded) and
to the gradebook as soon as it arrives. Hence:

* a Dask worker killed mid-task: the scheduler runs the task again on another worker (Dask's
  ``allowed-failures``); only the copy that finishes comes back, so the submission is recorded
  once;
* the scheduler goes away: :class:`ClusterLost` stops the batch; what was recorded stays, and
  a rerun of the same command grades only the students whose journal entry is missing or no
  longer matches their submission.

Workers are started the usual Dask ways: ``dask worker ADDRESS`` on a machine, dask-jobqueue on
Slurm, dask-kubernetes or Dask Gateway on a hub's Kubernetes (docs/grading.md).
"""
from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SandboxRefused", "ClusterLost", "bundle_job", "job_digest", "grade_bundle", "Journal", "run_on_cluster",
           "connect"]

JOURNAL_DIR = "cluster-journal"


class SandboxRefused(RuntimeError):
    """A Dask worker without a working sandbox refused to grade (student code never runs unsandboxed)."""


class ClusterLost(RuntimeError):
    """The Dask scheduler went away (or could not be reached) during a batch."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read_small(path: str | Path, limit: int = 64 << 20) -> bytes:
    p = Path(path)
    if p.is_symlink() or not p.is_file():
        raise ValueError(f"{p} is not a regular file")
    if p.stat().st_size > limit:
        raise ValueError(f"{p} is larger than {limit >> 20} MB")
    return p.read_bytes()


def bundle_job(job: dict) -> dict:
    """A copy of a worker job (see :mod:`.autograde`) that carries its files as bytes.

    Args:
        job: the job dict the local path writes to ``jobs/<student>.job.json``.

    Returns:
        ``{"job": job-with-relative-paths, "files": {relative path: base64 bytes}}``.

    Raises:
        ValueError: a file of the job is not a regular file or is too large.
    """
    files: dict[str, str] = {}
    j = json.loads(json.dumps(job))
    for i, nb in enumerate(j["notebooks"]):
        for key in ("source", "release", "submitted"):
            if nb.get(key):
                rel = f"nb{i}/{key}.ipynb"
                files[rel] = _b64(_read_small(nb[key]))
                nb[key] = rel
    home = {}
    for k, v in j.get("home_files", {}).items():
        rel = f"home/{k}"
        files[rel] = _b64(_read_small(v))
        home[k] = rel
    j["home_files"] = home
    for key in ("autograded_dir", "feedback_dir", "result", "work_root", "sandbox"):
        j.pop(key, None)
    return {"job": j, "files": files}


def job_digest(bundle: dict) -> str:
    """SHA-256 of what a task grades (job settings and every file): equal digests, equal grading."""
    h = hashlib.sha256(json.dumps(bundle["job"], sort_keys=True).encode())
    for k in sorted(bundle["files"]):
        h.update(k.encode() + b"\0" + bundle["files"][k].encode() + b"\0")
    return h.hexdigest()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the grading process is killed when the Dask worker that started it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def grade_bundle(bundle: dict, timeout: float) -> dict:
    """Grade one bundled job here (runs on a Dask worker).

    Args:
        bundle: from :func:`bundle_job`.
        timeout: seconds for the whole job (the per-notebook limits are in the job).

    Returns:
        ``{"result": worker result dict, "files": {"autograded/…" | "feedback/…": base64 bytes},
        "host": worker host name}``.

    Raises:
        SandboxRefused: this worker has no working sandbox and the job is not ``unsafe``.
        ValueError: a file of the bundle has a path with ``..`` (it would land outside the
            task's folder).
        RuntimeError: the worker process wrote no result (it crashed, or ran past ``timeout``
            and was killed); the message has the last line of its stderr.
    """
    from .sandbox import sandbox_info, sweep_jails

    job = json.loads(json.dumps(bundle["job"]))
    host = socket.gethostname()
    info = sandbox_info()
    if not job.get("unsafe") and not info.ok:
        raise SandboxRefused(f"worker {host} (pid {os.getpid()}) has no working sandbox: {info.reason}. "
                             "Install bubblewrap on every Dask worker (tools/sysdeps.sh) or start the workers "
                             "where it works; the task was not run.")
    from dataclasses import asdict

    work = Path(tempfile.mkdtemp(prefix="dlcgrade-task-"))
    try:
        for rel, data in bundle["files"].items():
            p = work / "in" / rel
            if ".." in Path(rel).parts:
                raise ValueError(f"bad path in bundle: {rel!r}")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(base64.b64decode(data))
        for nb in job["notebooks"]:
            for key in ("source", "release", "submitted"):
                if nb.get(key):
                    nb[key] = str(work / "in" / nb[key])
        job["home_files"] = {k: str(work / "in" / v) for k, v in job.get("home_files", {}).items()}
        job["autograded_dir"] = str(work / "out" / "autograded")
        job["feedback_dir"] = str(work / "out" / "feedback")
        job["result"] = str(work / "result.json")
        job["work_root"] = str(work)
        job["sandbox"] = asdict(info)
        (work / "job.json").write_text(json.dumps(job))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.Popen([sys.executable, "-m", "dlcourse.grading.worker", str(work / "job.json")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            err = f"the grading job did not finish within {timeout:.0f} s".encode()
        finally:
            sweep_jails(f"{proc.pid}-")
        res_path = work / "result.json"
        if not res_path.is_file():
            tail = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the grading job on {host} wrote no result (exit {proc.returncode}): {tail[0][:300]}")
        result = json.loads(res_path.read_text())
        files = {}
        out = work / "out"
        for p in sorted(out.rglob("*")) if out.is_dir() else []:
            if p.is_file() and not p.is_symlink():
                files[p.relative_to(out).as_posix()] = _b64(p.read_bytes())
        return {"result": result, "files": files, "host": f"{host}:{os.getpid()}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Journal:
    """What a cluster batch has recorded: ``OUT/cluster-journal/<student>.json`` with the task's digest."""

    def __init__(self, out: Path) -> None:
        self.dir = Path(out) / JOURNAL_DIR

    def done(self, student: str, digest: str) -> dict | None:
        """The recorded result of ``student`` if it graded exactly this ``digest``, else None."""
        p = self.dir / f"{student}.json"
        try:
            entry = json.loads(p.read_text())
        except (OSError, ValueError):
            return None
        return entry.get("result") if entry.get("digest") == digest else None

    def record(self, student: str, digest: str, result: dict) -> None:
        """Journal ``student``'s ``result`` for the task ``digest``, replacing an earlier entry.

        The entry is written to a temporary file and moved into place, so a batch killed
        mid-write leaves the old entry or the new one, never half of one.

        Args:
            student: the student id (the entry is ``<student>.json``).
            digest: :func:`job_digest` of the task that produced ``result``.
            result: the worker's result dict (JSON-serializable).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{student}.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"digest": digest, "result": result}))
        os.replace(tmp, self.dir / f"{student}.json")  # a batch killed mid-write leaves no half entry


def connect(address: str, timeout: float = 20.0):
    """A ``distributed.Client`` for ``address`` (``tcp://host:port`` or a scheduler file).

    Args:
        address: the scheduler's address, or the path of its scheduler file.
        timeout: seconds to wait for it.

    Returns:
        The connected client.

    Raises:
        ClusterLost: the scheduler cannot be reached within ``timeout`` seconds.
        RuntimeError: Dask distributed is not installed.
    """
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - it is in the lock
        raise RuntimeError("--scheduler needs Dask distributed: pip install 'dlcourse[cluster]'") from e
    try:
        if Path(address).is_file():
            return Client(scheduler_file=address, timeout=timeout)
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise ClusterLost(f"the Dask scheduler at {address} could not be reached within {timeout:.0f} s ({e}). "
                          "Start it (dask scheduler) or check the address.") from None


@dataclass
class TaskOutcome:
    """One student's outcome on the cluster: a result, or why there is none."""

    student: str
    result: dict | None
    error: str | None = None
    reused: bool = False
    host: str | None = None


def run_on_cluster(jobs: Iterable[tuple[str, dict]], address: str, *, timeout: float, out: Path,
                   on_result: Callable[[str, dict], None], log=print) -> Iterator[TaskOutcome]:
    """Grade ``jobs`` (``(student, job dict)``) on the Dask cluster at ``address``.

    Results whose journal entry matches are reused without a task. Every other result is
    written into ``out`` (its autograded/ and feedback/ files), passed to ``on_result`` (which
    records it in the gradebook) and journaled, in that order, as soon as it arrives.

    Args:
        jobs: the jobs of the local path (absolute paths on this machine).
        address: scheduler address or scheduler file.
        timeout: seconds a single job may take on a worker.
        out: the autograde ``--out`` folder.
        on_result: called once per new result, before it is journaled.
        log: called with progress lines (how many tasks went to how many workers).

    Yields:
        One :class:`TaskOutcome` per student, in the order results arrive.

    Raises:
        ClusterLost: the scheduler went away; outcomes yielded so far are recorded.
    """
    from distributed import as_completed

    journal = Journal(out)
    client = connect(address)
    try:
        futures = {}
        for sid, job in jobs:
            bundle = bundle_job(job)
            digest = job_digest(bundle)
            prev = journal.done(sid, digest)
            if prev is not None:
                yield TaskOutcome(sid, prev, reused=True)
                continue
            fut = client.submit(grade_bundle, bundle, timeout, key=f"dlcourse-grade-{sid}-{digest[:16]}", pure=False)
            futures[fut] = (sid, job, digest)
        if futures:
            log(f"submitted {len(futures)} task(s) to {address} "
                f"({len(client.scheduler_info(n_workers=-1).get('workers', {}))} worker(s))")
        try:
            for fut in as_completed(list(futures)):
                sid, job, digest = futures[fut]
                if fut.status == "error":
                    exc = fut.exception()
                    if _lost(exc):
                        raise ClusterLost(str(exc))
                    yield TaskOutcome(sid, None, error=f"{type(exc).__name__}: {exc}")
                    continue
                if fut.status != "finished":
                    raise ClusterLost(f"task of {sid} ended as {fut.status}")
                reply = fut.result()
                _write_files(reply["files"], job)
                on_result(sid, reply["result"])
                journal.record(sid, digest, reply["result"])
                yield TaskOutcome(sid, reply["result"], host=reply.get("host"))
        except ClusterLost:
            raise
        except (OSError, TimeoutError) as e:
            raise ClusterLost(f"{type(e).__name__}: {e}") from None
        except Exception as e:  # distributed raises its own CommClosedError / CancelledError subclasses
            if _lost(e):
                raise ClusterLost(f"{type(e).__name__}: {e}") from None
            raise
    finally:
        try:
            client.close(timeout=5)
        except Exception:  # noqa: BLE001 - the scheduler may already be gone
            pass


def _lost(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the scheduler connection is gone (not a task's own failure)."""
    if exc is None:
        return False
    names = {type(exc).__name__, *(t.__name__ for t in type(exc).__mro__)}
    return bool(names & {"CommClosedError", "CancelledError", "StreamClosedError", "FutureCancelledError"})


def _write_files(files: dict[str, str], job: dict) -> None:
    """Write a task's returned files under the job's autograded/feedback folders (never outside)."""
    roots = {"autograded": Path(job["autograded_dir"]), "feedback": Path(job["feedback_dir"])}
    for root in roots.values():  # the new result replaces whatever an earlier run left
        if root.exists():
            shutil.rmtree(root)
    for rel, data in files.items():
        top, _, rest = rel.partition("/")
        if top not in roots or not rest or ".." in Path(rest).parts or Path(rest).is_absolute():
            raise ValueError(f"a task returned a file outside its folders: {rel!r}")
        dest = roots[top] / rest
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(base64.b64decode(data))
