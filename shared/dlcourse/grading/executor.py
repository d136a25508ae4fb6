"""Execute one notebook in a sandboxed kernel, cell by cell, under a grader that trusts nothing.

The grader (this module, outside the sandbox) sends each code cell to the kernel and
collects its messages itself:

* a per-cell timeout and a whole-notebook deadline: past them the sandbox is killed
  (a loop that ignores SIGINT does not matter);
* an output cap per notebook (beyond it stream/display outputs are dropped, errors are
  always kept, shortened) and a cap on the size of any single message (zmq MAXMSGSIZE), so
  a submission printing 1 GB cannot exhaust the grader's memory;
* the reply status of every cell is kept, so an error hidden from the outputs still counts;
* around every autograded test cell, the guard installed by :mod:`.kernel_guard` restores
  what the notebook tampered with and reports it (signed with a key only the guard holds),
  and messages forged for a finished cell void its result.

Why its own message loop rather than nbclient's (which nbgrader's ``autograde`` runs): the two
things nbclient cannot do, and the reason for each is measured.

* The output flood cap: nbclient keeps every output message of a cell in the grader's memory.
  A cell printing 100 MB raised the grader's peak RSS by 285 MB under nbclient and by 66 MB
  here (10.5 MB of output kept); ``tests/hostile/print_1gb.py`` prints ten times as much.
* Hidden errors and forged replies: nbgrader scores a test cell from its outputs alone, so a
  submission that silences tracebacks (``tests/hostile/showtraceback.py``) would pass every
  failing test; here the execute reply's status counts, each test cell is bracketed by the
  guard's signed reports, and messages that arrive for a finished cell void its result.

Everything that nbgrader provides as a function is taken from it (the scoring rule in
:mod:`.worker`, the gradebook in :mod:`.gradebook`). Used by :mod:`.worker`; ``unsafe=True``
runs the same protocol without bubblewrap.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox as sbx

__all__ = ["CellRun", "RunResult", "execute"]

_GUARD = "__import__('sys').modules['_dlcourse_guard']"
_MAX_ERROR_CHARS = 4000


@dataclass
class CellRun:
    """What happened to one code cell: ``status`` is ok / error / timeout / died / not_run."""

    index: int
    status: str = "not_run"
    reply: dict | None = None
    void: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """Outcome of one notebook: the executed notebook, per-cell runs and run-level flags."""

    nb: object
    cells: dict[int, CellRun]
    status: str = "ok"  # ok | timeout | kernel_died | memory_limit | sandbox_error
    flags: set[str] = field(default_factory=set)  # tampered, output_truncated, pids_limit, ...
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Dead(Exception):
    pass


class _Timeout(Exception):
    pass


def _sign_ok(key: bytes, report: dict) -> bool:
    body = report.get("nonce", "") + "|" + json.dumps([report.get("findings"), report.get("unsafe"),
                                                       report.get("notes")], sort_keys=True)
    want = hmac.new(key, body.encode(), "sha256").hexdigest()
    return hmac.compare_digest(want, str(report.get("mac", "")))


def _shorten_error(out) -> None:
    tb = out.get("traceback")
    if isinstance(tb, list):
        tb = [str(x)[:_MAX_ERROR_CHARS] for x in tb[-30:]]
        out["traceback"] = tb
    out["ename"] = str(out.get("ename", ""))[:200]
    out["evalue"] = str(out.get("evalue", ""))[:_MAX_ERROR_CHARS]


class _Kernel:
    """One sandboxed kernel and the low-level request/response protocol with it."""

    def __init__(self, *, job_dir: Path, limits: sbx.Limits, home_files: dict[str, Path],
                 protect: list[str], env: dict[str, str], unsafe: bool, name: str) -> None:
        import zmq
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpec

        self.limits = limits
        self.ipc = job_dir / "ipc"
        self.ipc.mkdir(parents=True)
        self.key = secrets.token_bytes(32)
        key_file = self.ipc / "guard.key"
        key_file.write_bytes(self.key)
        self.jail = sbx.Jail(name, limits)
        boot = [sys.executable, "-m", "dlcourse.grading.kernel_guard", "--key-file", str(key_file)]
        if protect:
            boot += ["--protect", ",".join(protect)]
        # Text output is also capped inside the kernel (a bit above what the grader keeps, so the
        # grader still sees the overflow); file descriptors 1 and 2 are not captured: what C code
        # or os.write sends there goes nowhere.
        boot += ["--output-budget", str(2 * limits.output_kb * 1024)]
        boot += ["-f", "{connection_file}", "--HistoryManager.enabled=False", "--IPKernelApp.log_level=CRITICAL",
                 "--IPKernelApp.capture_fd_output=False"]
        kenv = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
                "OMP_NUM_THREADS": str(limits.threads), "MKL_NUM_THREADS": str(limits.threads),
                "OPENBLAS_NUM_THREADS": str(limits.threads), "NUMEXPR_NUM_THREADS": str(limits.threads),
                "JPY_PARENT_PID": "1"}
        if unsafe:
            self.home = job_dir / "home"
            self.home.mkdir()
            for rel, host in home_files.items():
                dst = self.home / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if host.is_dir() else shutil.copy2)(host, dst)
            kenv.update({"HOME": str(self.home), "TMPDIR": str(job_dir / "tmp"), "MPLCONFIGDIR": str(job_dir / "tmp")})
            (job_dir / "tmp").mkdir()
            kenv.update(env)
            argv = self.jail.launcher() + ["env", "-i", *[f"{k}={v}" for k, v in sorted(kenv.items())], *boot]
            self.cwd = str(self.home)
        else:
            info = sbx.sandbox_info()
            if not info.ok:
                raise sbx.SandboxUnavailable(info.reason)
            kenv.update({"HOME": sbx.HOME, "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
                         "USER": "student", "LOGNAME": "student"})
            kenv.update(env)
            etc = job_dir / "etc"
            etc.mkdir()
            (etc / "passwd").write_text(f"student:x:{sbx.UID}:{sbx.UID}:student:{sbx.HOME}:/bin/sh\n")
            (etc / "group").write_text(f"student:x:{sbx.UID}:\n")
            argv = self.jail.launcher() + sbx.bwrap_argv(
                info.bwrap, ipc_dir=self.ipc, home_files=home_files, limits=limits, env=kenv, command=boot,
                extra_ro=sbx.python_ro_paths(), etc_files={"passwd": etc / "passwd", "group": etc / "group"})
            self.cwd = str(job_dir)

        class _KM(KernelManager):
            @property
            def kernel_spec(self):  # noqa: D401 - the sandbox command, whatever the notebook asks for
                return KernelSpec(argv=argv, display_name="sandboxed python", language="python")

        self.ctx = zmq.Context()
        # A single message larger than this drops the connection instead of filling our memory.
        self.ctx.setsockopt(zmq.MAXMSGSIZE, max(4 * limits.output_kb * 1024, 16 * 2**20))
        self.km = _KM(transport="ipc", ip=str(self.ipc / "k"), connection_file=str(self.ipc / "kernel.json"),
                      context=self.ctx)
        self.kc = None
        self.done_ids: set[str] = set()  # requests already finished: later messages for them are forged
        self.forged = False
        self.output_bytes = 0
        self.truncated = False

    def start(self, timeout: float) -> None:
        import subprocess

        # The kernel's own stdin/stdout/stderr lead nowhere: what a notebook writes to fd 1/2
        # (os.write, C code) must not reach the grader's pipes.
        self.km.start_kernel(cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.kc = self.km.client(context=self.ctx)
        self.kc.start_channels(hb=False)
        try:
            self.kc.wait_for_ready(timeout=timeout)
        except RuntimeError as e:
            raise _Dead(str(e)) from None

    def alive(self) -> bool:
        try:
            return bool(self.km.is_alive())
        except Exception:  # noqa: BLE001
            return False

    def exit_code(self) -> int | None:
        prov = getattr(self.km, "provisioner", None)
        proc = getattr(prov, "process", None)
        return proc.poll() if proc is not None else None

    def request(self, code: str, *, deadline: float, silent: bool, store_history: bool,
                outputs: list | None) -> dict:
        """Run ``code``; return its execute_reply content. Outputs go to ``outputs`` (None: dropped)."""
        import zmq
        from nbformat.v4 import output_from_msg

        assert self.kc is not None
        msg_id = self.kc.execute(code, silent=silent, store_history=store_history, allow_stdin=False,
                                 stop_on_error=False)
        reply: dict | None = None
        idle = False
        reply_at = 0.0
        poller = zmq.Poller()
        session = self.kc.session
        shell_sock, iopub_sock = self.kc.shell_channel.socket, self.kc.iopub_channel.socket
        poller.register(shell_sock, zmq.POLLIN)
        poller.register(iopub_sock, zmq.POLLIN)
        last_alive = time.monotonic()
        clear_wait = False
        while not (reply is not None and idle):
            now = time.monotonic()
            if reply is not None and now - reply_at > 3.0:
                break  # outputs lost (a message over MAXMSGSIZE drops them): the reply decides
            if now > deadline:
                raise _Timeout()
            if now - last_alive > 0.5:
                last_alive = now
                if not self.alive():
                    raise _Dead("the kernel process exited")
            events = dict(poller.poll(timeout=100))
            for sock, is_shell in ((shell_sock, True), (iopub_sock, False)):
                if sock not in events:
                    continue
                for _ in range(1000):
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    try:
                        # signature checked, header parsed, content left as bytes until needed
                        _, parts = session.feed_identities(frames)
                        msg = session.deserialize(parts, content=False)
                    except Exception:  # noqa: BLE001 - unsigned or malformed: dropped
                        continue
                    parent = (msg.get("parent_header") or {}).get("msg_id")
                    mtype = msg.get("msg_type", "")
                    raw = msg.get("content", b"")
                    size = len(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else 0
                    if parent in self.done_ids and mtype in ("execute_reply", "error"):
                        self.forged = True  # a second reply, or an error after the reply
                    if parent != msg_id:
                        continue
                    over = mtype not in ("error", "execute_reply", "status") and \
                        self.output_bytes + size > self.limits.output_kb * 1024
                    if over or outputs is None and mtype not in ("execute_reply", "status"):
                        if over and outputs is not None and not self.truncated:
                            room = self.limits.output_kb * 1024 - self.output_bytes
                            if mtype == "stream" and room > 0:  # keep the beginning of the flood
                                try:
                                    head = session.unpack(raw)
                                    head["text"] = str(head.get("text", ""))[:room]
                                    outputs.append(output_from_msg({"msg_type": "stream", "header": msg["header"],
                                                                    "content": head}))
                                    self.output_bytes += room
                                except Exception:  # noqa: BLE001
                                    pass
                            outputs.append(output_from_msg({"msg_type": "stream", "header": {"msg_type": "stream"},
                                                            "content": {"name": "stdout", "text":
                                                                f"\n[grader: output beyond {self.limits.output_kb} KB "
                                                                "per notebook is not kept]\n"}}))
                        self.truncated = self.truncated or over
                        continue
                    try:
                        content = session.unpack(raw)
                        if not isinstance(content, dict):
                            continue
                    except Exception:  # noqa: BLE001
                        continue
                    if is_shell:
                        if mtype == "execute_reply":
                            if reply is not None:
                                self.forged = True
                            else:
                                reply, reply_at = content, time.monotonic()
                        continue
                    if mtype == "status":
                        if content.get("execution_state") == "idle":
                            if idle:
                                self.forged = True
                            idle = True
                        continue
                    if mtype in ("execute_input", "update_display_data") or mtype.startswith("comm"):
                        continue
                    if mtype == "clear_output":
                        if content.get("wait"):
                            clear_wait = True
                        else:
                            outputs.clear()
                        continue
                    try:
                        out = output_from_msg({"msg_type": mtype, "header": msg["header"], "content": content})
                    except Exception:  # noqa: BLE001 - malformed output message
                        continue
                    if mtype == "error":
                        _shorten_error(out)
                        size = min(size, _MAX_ERROR_CHARS * 10)
                    if clear_wait:
                        outputs.clear()
                        clear_wait = False
                    self.output_bytes += size
                    outputs.append(out)
        self.done_ids.add(msg_id)
        assert reply is not None
        return reply

    def close(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        # Kill the whole sandbox first (every process is in the jail's cgroups), then let the
        # kernel manager reap its child: nothing it does can wait on a process that still runs.
        self.jail.kill_all()
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass
        self.jail.close()
        try:
            self.km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass
        self.ctx.destroy(linger=0)


def _guard_call(k: _Kernel, what: str, args: str, deadline: float) -> dict:
    """Call the in-kernel guard; return its verified report or {'invalid': reason}."""
    nonce = secrets.token_hex(16)
    code = f"{_GUARD}.{what}({nonce!r}{', ' + args if args else ''})"
    reply = k.request(code, deadline=deadline, silent=True, store_history=False, outputs=None)
    if reply.get("status") != "error" or reply.get("ename") != "DLCourseGuardReport":
        return {"invalid": f"the kernel did not report the guard's check (reply {reply.get('status')!r}, "
                           f"{reply.get('ename')!r}): errors may be hidden"}
    try:
        rep = json.loads(reply.get("evalue", ""))
    except (TypeError, ValueError):
        return {"invalid": "the guard's report was altered"}
    if not isinstance(rep, dict) or rep.get("nonce") != nonce or not _sign_ok(k.key, rep):
        return {"invalid": "the guard's report was forged"}
    return rep


def execute(
    nb,
    roles: list[str],
    *,
    limits: sbx.Limits,
    home_files: dict[str, Path] | None = None,
    protect: list[str] | None = None,
    names: dict[int, list[str]] | None = None,
    env: dict[str, str] | None = None,
    unsafe: bool = False,
    job_name: str = "job",
    work_root: Path | None = None,
) -> RunResult:
    """Execute the code cells of ``nb`` (modified in place) in a fresh sandboxed kernel.

    Args:
        nb: an ``nbformat`` notebook node; its code cells' outputs and execution counts are
            replaced by this run's.
        roles: one per cell: ``"test"`` (autograded test cell: guarded), ``"instructor"``
            (course code: the names in ``names[i]`` it binds are protected for the tests),
            ``"student"`` or ``"skip"`` (not executed).
        limits: the sandbox's resource limits (memory, processes, CPU, cell and notebook
            time, output size, disk).
        home_files: files of the assignment placed read-only in the student's home.
        protect: packages imported before any student code and guarded.
        names: for an ``"instructor"`` cell ``i``, the names it binds that the tests rely on
            (the guard records them after the cell runs; a test cell that changes them has
            its points voided).
        env: extra environment of the kernel (e.g. ``{"DLCOURSE_FAST": "1"}``).
        unsafe: run the kernel without bubblewrap (trusted notebooks only).
        job_name: names the sandbox and its work folder.
        work_root: where the work folder is created (default: the system's temporary folder).

    Returns:
        The executed notebook, what happened to each code cell and the run's status and flags.

    Raises:
        ValueError: ``roles`` does not have one entry per cell.
    """
    if len(roles) != len(nb.cells):
        raise ValueError(f"roles has {len(roles)} entries for {len(nb.cells)} cells")
    t0 = time.monotonic()
    deadline = t0 + limits.notebook_timeout
    res = RunResult(nb, {i: CellRun(i) for i, c in enumerate(nb.cells) if c.cell_type == "code" and roles[i] != "skip"})
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    tmp = Path(tempfile.mkdtemp(prefix=f"dlcgrade-{job_name[:40]}-", dir=work_root))
    k = None
    try:
        try:
            k = _Kernel(job_dir=tmp, limits=limits, home_files=home_files or {}, protect=protect or [],
                        env=env or {}, unsafe=unsafe, name=f"{os.getpid()}-{job_name[:60]}-{secrets.token_hex(3)}")
            k.start(timeout=max(5.0, min(120.0, deadline - time.monotonic())))
        except _Dead as e:
            res.status = "sandbox_error"
            res.notes.append(f"the kernel did not start: {e}")
            return res
        count = 0
        tampered_hard = False
        for i, cell in enumerate(nb.cells):
            if i not in res.cells:
                continue
            run = res.cells[i]
            role = roles[i]
            if not cell.source.strip():
                run.status = "ok"
                continue
            cell_deadline = min(deadline, time.monotonic() + limits.cell_timeout)
            try:
                if role == "test":
                    pre = _guard_call(k, "pre", "", cell_deadline)
                    if "invalid" in pre:
                        run.void = True
                        tampered_hard = True
                        res.flags.add("tampered")
                        run.notes.append(pre["invalid"])
                    else:
                        for f in pre.get("findings", []):
                            res.flags.add("tampered")
                            run.notes.append("restored before the test: " + f)
                        for f in pre.get("unsafe", []):
                            res.flags.add("tampered")
                            run.void = True
                            run.notes.append(f)
                        run.notes += pre.get("notes", [])
                    if tampered_hard:
                        run.void = True
                count += 1
                outs: list = []
                reply = k.request(cell.source, deadline=cell_deadline, silent=False, store_history=True, outputs=outs)
                cell.outputs = outs
                cell.execution_count = count
                run.reply = {"status": reply.get("status"), "ename": reply.get("ename"),
                             "evalue": str(reply.get("evalue", ""))[:_MAX_ERROR_CHARS]}
                run.status = "ok" if reply.get("status") == "ok" else "error"
                if role == "test":
                    post = _guard_call(k, "post", "", cell_deadline)
                    if "invalid" in post:
                        run.void = tampered_hard = True
                        res.flags.add("tampered")
                        run.notes.append(post["invalid"])
                    else:
                        changed = post.get("findings", []) + post.get("unsafe", [])
                        if changed:
                            run.void = True
                            res.flags.add("tampered")
                            run.notes += ["changed during the test (its points are void): " + f for f in changed]
                    if k.forged:
                        run.void = tampered_hard = True
                        res.flags.add("tampered")
                        run.notes.append("messages were forged for a finished cell")
                elif role == "instructor" and names and names.get(i):
                    rec = _guard_call(k, "record", json.dumps(names[i]), cell_deadline)
                    if "invalid" in rec:
                        tampered_hard = True
                        res.flags.add("tampered")
                        run.notes.append(rec["invalid"])
                if k.forged and "tampered" not in res.flags:
                    res.flags.add("tampered")
                    res.notes.append("messages were forged for a finished cell")
                    tampered_hard = True
            except _Timeout:
                run.status = "timeout"
                over_nb = time.monotonic() >= deadline - 0.05
                res.status = "timeout"
                res.notes.append(f"cell {i} ran past the {'notebook' if over_nb else 'cell'} time limit "
                                 f"({limits.notebook_timeout if over_nb else limits.cell_timeout:g} s): "
                                 "the kernel was stopped, later cells did not run")
                break
            except _Dead as e:
                run.status = "died"
                code = k.exit_code()
                if k.jail.oom_killed():
                    res.status = "memory_limit"
                    res.notes.append(f"cell {i} went over the memory limit ({limits.memory_mb} MB): the kernel was "
                                     "killed, later cells did not run")
                else:
                    res.status = "kernel_died"
                    res.notes.append(f"the kernel exited during cell {i} ({e}; exit status {code}): later cells "
                                     "did not run")
                break
        if k.truncated:
            res.flags.add("output_truncated")
            res.notes.append(f"outputs beyond {limits.output_kb} KB were dropped")
        if k.jail.pids_exhausted():
            res.flags.add("pids_limit")
            res.notes.append(f"the notebook hit the process limit ({limits.pids})")
        if k.jail.oom_killed() and res.status == "ok":
            res.flags.add("memory_limit")
            res.notes.append(f"a process of the notebook hit the memory limit ({limits.memory_mb} MB)")
        if tampered_hard:
            # nothing the kernel says after it hid an error can be trusted
            seen = False
            for i, run in res.cells.items():
                seen = seen or any("did not report" in n or "forged" in n or "altered" in n for n in run.notes)
                if seen and roles[i] == "test":
                    run.void = True
        return res
    except sbx.SandboxUnavailable:
        raise
    except Exception as e:  # noqa: BLE001 - a grader bug must not take the batch down
        res.status = "sandbox_error"
        res.notes.append(f"grader error: {type(e).__name__}: {e}")
        return res
    finally:
        if k is not None:
            k.close()
        res.seconds = time.monotonic() - t0
        shutil.rmtree(tmp, ignore_errors=True)
