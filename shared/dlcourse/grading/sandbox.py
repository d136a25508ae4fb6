"""The sandbox every student's kernel runs in: bubblewrap namespaces plus resource limits.

One graded notebook = one kernel = one sandbox:

* **bubblewrap** (``bwrap``, Debian package ``bubblewrap``): new user, PID, network, IPC,
  UTS and cgroup namespaces (no network at all, only a loopback that is down), a cleared
  environment, no capabilities, an unprivileged uid. The file system is rebuilt from
  read-only binds of the system, the Python installation and the helper package only; the
  student's home and ``/tmp`` are private, size-limited tmpfs. The course source, the
  gradebook, the submissions folder and every other job's folder are simply not there.
  The kernel talks to the grader through IPC sockets in one small bind-mounted folder.
* **limits**: memory, number of processes and CPU share through cgroups (v1 or v2, when
  writable: typically when grading as root), plus rlimits (CPU seconds, file size, no core
  dumps). Without cgroups, address-space and process-count rlimits are the fallback
  (``RLIMIT_NPROC`` is not enforced for root: then there is no process cap, and
  :func:`sandbox_report` says so).

Wall-clock limits and the output cap are enforced by the grader (:mod:`.executor`).
"""
from __future__ import annotations

import ast
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = [
    "Limits",
    "SandboxUnavailable",
    "SandboxInfo",
    "sandbox_info",
    "use_known_info",
    "sandbox_report",
    "Jail",
    "describe_jail",
    "leftover_jails",
    "sweep_jails",
    "sweep_stale_jails",
    "python_ro_paths",
    "python_link_paths",
    "diagnose_bwrap_failure",
    "bwrap_argv",
]

#: Where the student's files are inside the sandbox (also the kernel's working directory).
HOME = "/home/student"
#: uid/gid of the student inside the sandbox (mapped to the grader's uid outside).
UID = 1000


class SandboxUnavailable(RuntimeError):
    """No working sandbox on this machine (the message says why and what to install)."""


@dataclass
class Limits:
    """Resource limits of one graded notebook.

    Attributes:
        memory_mb: memory of the whole sandbox (kernel, its children, its tmpfs files).
        pids: processes and threads in the sandbox (fork bombs stop here).
        cpus: CPU share (1.0 = one core); also sets the BLAS/OpenMP thread counts.
        cell_timeout: seconds one cell may run.
        notebook_timeout: seconds the whole notebook may run (kernel start included).
        output_kb: outputs kept per notebook; beyond it outputs are dropped (errors are kept).
        disk_mb: size of each of the private tmpfs (home and /tmp).
    """

    memory_mb: int = 3072
    pids: int = 256
    cpus: float = 1.0
    cell_timeout: float = 300.0
    notebook_timeout: float = 1800.0
    output_kb: int = 10240
    disk_mb: int = 512

    def __post_init__(self) -> None:
        for name in ("memory_mb", "pids", "output_kb", "disk_mb"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {v!r}")
        for name in ("cpus", "cell_timeout", "notebook_timeout"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {v!r}")
        if self.memory_mb < 128:
            raise ValueError(f"Limits.memory_mb={self.memory_mb} is too small to start a Python kernel (>= 128)")
        if self.pids < 16:
            raise ValueError(f"Limits.pids={self.pids} is too small to start a Python kernel (>= 16)")

    @property
    def threads(self) -> int:
        """Threads BLAS/OpenMP/torch should use in the sandbox."""
        return max(1, math.ceil(self.cpus))


# --------------------------------------------------------------------------- detection

@dataclass
class SandboxInfo:
    """What this machine offers: ``ok`` is False when autograding would be unsafe."""

    bwrap: str | None
    ok: bool
    reason: str
    cgroup: str  # "v1", "v2" or "none"
    controllers: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def _own_cgroup_paths() -> dict[str, str]:
    """controller -> path of this process's cgroup (``""`` key: the cgroup v2 path)."""
    out: dict[str, str] = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, ctrls, path = line.split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                out[c] = path
    except (OSError, ValueError):
        pass
    return out


def _v1_dir(controller: str) -> Path | None:
    base = Path("/sys/fs/cgroup") / controller
    own = _own_cgroup_paths().get(controller)
    if own is None or not (base / "cgroup.procs").exists():
        return None
    d = base / own.lstrip("/")
    return d if d.is_dir() and os.access(d, os.W_OK) else None


def _v2_dir() -> Path | None:
    root = Path("/sys/fs/cgroup")
    if not (root / "cgroup.controllers").exists():
        return None
    own = _own_cgroup_paths().get("")
    if own is None:
        return None
    d = root / own.lstrip("/")
    return d if d.is_dir() and os.access(d, os.W_OK) else None


def _probe_bwrap(bwrap: str, command: list[str] | None = None) -> str | None:
    """Run a trivial command in a sandbox built like the real one; None when it works, else the
    cause found and one next step (see :func:`diagnose_bwrap_failure`)."""
    command = command or [sys.executable, "-c", "import sys; sys.exit(0)"]
    try:
        argv = bwrap_argv(bwrap, ipc_dir=None, home_files={}, limits=Limits(), env={},
                          command=command, extra_ro=python_ro_paths())
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"{bwrap} could not be run: {e}. Next step: check that `{bwrap} --version` works for this user"
    if proc.returncode != 0:
        return diagnose_bwrap_failure(bwrap, proc.returncode, proc.stderr, command)
    return None


def _symlinked_ancestor(path: Path) -> Path | None:
    """The outermost ancestor of ``path`` (itself included) that is a symbolic link, if any."""
    path = Path(os.path.abspath(path))
    for a in [*reversed(path.parents), path]:
        if a.is_symlink():
            return a
    return None


def diagnose_bwrap_failure(bwrap: str, code: int, stderr: str, command: list[str]) -> str:
    """Why a bubblewrap probe failed, from what bwrap said: the cause found and one next step.

    Args:
        bwrap: the bwrap executable that was run.
        code: its exit status.
        stderr: what it printed.
        command: the command it was asked to start inside the sandbox.

    Returns:
        One message naming the cause (a program missing inside the sandbox, user namespaces
        refused by the kernel, or bwrap's own words when neither applies) and what to do next.
    """
    err = stderr.strip()[-300:]
    said = f"{bwrap} failed (exit {code}): {err}"
    low = err.lower()
    if "execvp" in low and ("no such file" in low or "not found" in low):
        exe = command[0] if command else "?"
        link = _symlinked_ancestor(Path(exe))
        if not os.path.exists(exe):
            return (f"{said}. Cause: {exe}, the program the sandbox starts, does not exist on this machine "
                    f"either; bubblewrap and user namespaces work. Next step: reinstall the environment "
                    f"(make venv) and run the grader with its Python")
        if link is not None:
            return (f"{said}. Cause: the sandbox starts Python as {exe}, but {link} is a symbolic link "
                    f"(to {link.resolve()}) that does not exist inside the sandbox; bubblewrap and user "
                    f"namespaces work. Next step: run the grader with the real path, "
                    f"{Path(os.path.realpath(link)) / Path(exe).relative_to(link)}")
        return (f"{said}. Cause: {exe}, the program the sandbox starts, is not inside the sandbox (only the "
                f"system, the Python installation and dlcourse are); bubblewrap and user namespaces work. Next "
                f"step: run the grader with a Python whose installation lies outside the course folder")
    userns = ("no permissions to creat", "creating new namespace failed", "setting up uid map",
              "unshare", "operation not permitted", "permission denied")
    if any(k in low for k in userns):
        who = "even for root (a container without the right to create namespaces?)" if os.geteuid() == 0 else             "for this user"
        nxt = ("run the grading container with --security-opt seccomp=unconfined --security-opt "
               "apparmor=unconfined (or --privileged)" if os.geteuid() == 0 else
               "enable them as root: sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or "
               "kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04), or grade as root")
        return f"{said}. Cause: the kernel refused to create the sandbox's namespaces {who}. Next step: {nxt}"
    return (f"{said}. Cause: not one bubblewrap reports for missing namespaces or programs (see its words above). "
            f"Next step: run `{bwrap} --unshare-all --ro-bind / / true` by hand to see whether bubblewrap works here")


_KNOWN: SandboxInfo | None = None


def use_known_info(info: dict | SandboxInfo) -> None:
    """Adopt a probe result from the parent process (grading workers do not probe again)."""
    global _KNOWN
    if isinstance(info, dict):
        info = SandboxInfo(info["bwrap"], info["ok"], info["reason"], info["cgroup"], tuple(info["controllers"]),
                           list(info.get("notes", [])))
    _KNOWN = info


def sandbox_info() -> SandboxInfo:
    """Check once per process whether bubblewrap works here and which limits are available."""
    return _KNOWN if _KNOWN is not None else _probe_sandbox()


@lru_cache(maxsize=1)
def _probe_sandbox() -> SandboxInfo:
    notes: list[str] = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxInfo(None, False, "Cause: bubblewrap (bwrap) is not installed, or not on PATH "
                           f"({os.environ.get('PATH', '')}). Next step: run tools/sysdeps.sh as root "
                           "(or `apt-get install bubblewrap`; dnf/zypper/pacman: package bubblewrap)", "none")
    err = _probe_bwrap(bwrap)
    if err:
        return SandboxInfo(bwrap, False, err, "none")
    ctrls: tuple[str, ...] = ()
    kind = "none"
    v1 = {c: _v1_dir(c) for c in ("memory", "pids", "cpu")}
    if any(v1.values()):
        kind, ctrls = "v1", tuple(c for c, d in v1.items() if d is not None)
    elif (d := _v2_dir()) is not None:
        try:
            avail = (d / "cgroup.controllers").read_text().split()
            kind, ctrls = "v2", tuple(c for c in ("memory", "pids", "cpu") if c in avail)
        except OSError:
            pass
    if "memory" not in ctrls:
        notes.append("no writable memory cgroup: memory is capped with RLIMIT_AS (address space) instead")
    if "pids" not in ctrls:
        if os.geteuid() == 0:
            notes.append("no writable pids cgroup and running as root: the process count is NOT capped "
                         "(RLIMIT_NPROC does not apply to root)")
        else:
            notes.append("no writable pids cgroup: the process count is capped with RLIMIT_NPROC "
                         "(counts all processes of this user)")
    if "cpu" not in ctrls:
        notes.append("no writable cpu cgroup: CPU share is not capped (CPU seconds still are)")
    return SandboxInfo(bwrap, True, "bubblewrap sandbox available", kind, ctrls, notes)


def sandbox_report() -> str:
    """One paragraph for the CLI: which sandbox and limits this run will use."""
    info = sandbox_info()
    if not info.ok:
        return "NO SANDBOX: " + info.reason
    lines = [f"sandbox: {info.bwrap} (namespaces: user, pid, net, ipc, uts, cgroup); "
             f"limits: cgroup {info.cgroup} {'/'.join(info.controllers) or '(none)'} + rlimits"]
    lines += ["warning: " + n for n in info.notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------- limits

class Jail:
    """Resource limits of one sandbox: cgroups when writable, rlimits always.

    Use :meth:`launcher` to prefix the sandbox command; call :meth:`close` at the end (it
    kills whatever is left in the cgroups and removes them).
    """

    def __init__(self, name: str, limits: Limits) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
            raise ValueError(f"cgroup name must be 1-100 characters [A-Za-z0-9_.-], got {name!r}")
        self.limits = limits
        self.info = sandbox_info()
        self.dirs: dict[str, Path] = {}
        self._made: list[Path] = []
        mem = limits.memory_mb * 2**20
        try:
            if self.info.cgroup == "v1":
                for ctrl in self.info.controllers:
                    parent = _v1_dir(ctrl)
                    if parent is None:
                        continue
                    d = parent / f"dlcourse-{name}"
                    d.mkdir(exist_ok=True)
                    self._made.append(d)
                    self.dirs[ctrl] = d
                if "memory" in self.dirs:
                    m = self.dirs["memory"]
                    (m / "memory.limit_in_bytes").write_text(str(mem))
                    sw = m / "memory.memsw.limit_in_bytes"
                    if sw.exists():
                        try:
                            sw.write_text(str(mem))  # no swap beyond the memory limit
                        except OSError:
                            pass
                if "pids" in self.dirs:
                    (self.dirs["pids"] / "pids.max").write_text(str(limits.pids))
                if "cpu" in self.dirs:
                    period = 100_000
                    (self.dirs["cpu"] / "cpu.cfs_period_us").write_text(str(period))
                    (self.dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(int(period * limits.cpus)))
            elif self.info.cgroup == "v2":
                parent = _v2_dir()
                if parent is not None:
                    want = " ".join("+" + c for c in self.info.controllers)
                    try:
                        (parent / "cgroup.subtree_control").write_text(want)
                    except OSError:
                        pass
                    d = parent / f"dlcourse-{name}"
                    d.mkdir(exist_ok=True)
                    self._made.append(d)
                    enabled = (d / "cgroup.controllers").read_text().split()
                    for ctrl in enabled:
                        self.dirs[ctrl] = d
                    if "memory" in enabled:
                        (d / "memory.max").write_text(str(mem))
                        if (d / "memory.swap.max").exists():
                            (d / "memory.swap.max").write_text("0")
                    if "pids" in enabled:
                        (d / "pids.max").write_text(str(limits.pids))
                    if "cpu" in enabled:
                        (d / "cpu.max").write_text(f"{int(100_000 * limits.cpus)} 100000")
                    self.dirs.setdefault("v2", d)
        except OSError:  # a limit could not be set: no cgroups (rlimits only); what close cannot remove yet it retries later
            self.close()
            self.dirs = {}

    @property
    def capped(self) -> set[str]:
        """Which limits are enforced by cgroups."""
        return {c for c in ("memory", "pids", "cpu") if c in self.dirs}

    def launcher(self) -> list[str]:
        """Command prefix that enters the cgroups and sets rlimits before exec'ing the sandbox."""
        lim = self.limits
        cmd = [sys.executable, "-m", "dlcourse.grading.launch"]
        procs = {str(d / "cgroup.procs") for d in self.dirs.values()}
        for p in sorted(procs):
            cmd += ["--cgroup", p]
        cpu_seconds = int(lim.notebook_timeout * max(lim.cpus, 1.0)) + 60
        cmd += ["--rlimit", "CORE=0", "--rlimit", f"CPU={cpu_seconds}",
                "--rlimit", f"FSIZE={lim.disk_mb * 2**20}", "--rlimit", "NOFILE=1024"]
        if "memory" not in self.dirs:
            # Address space is a crude stand-in for memory (torch maps far more than it uses).
            cmd += ["--rlimit", f"AS={(lim.memory_mb + 4096) * 2**20}"]
        if "pids" not in self.dirs and os.geteuid() != 0:
            cmd += ["--rlimit", f"NPROC={lim.pids}"]
        return cmd + ["--"]

    def pids(self) -> list[int]:
        """Processes currently in this jail's cgroups."""
        out: set[int] = set()
        for d in self.dirs.values():
            try:
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(out)

    def kill_all(self, wait: float = 5.0) -> None:
        """SIGKILL every process in the cgroups (repeat: a fork loop may race the kill)."""
        v2 = self.dirs.get("v2")
        if v2 is not None and (v2 / "cgroup.kill").exists():
            try:
                (v2 / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + wait
        while True:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def oom_killed(self) -> bool:
        """True when the memory limit killed something (or allocations hit the limit)."""
        d = self.dirs.get("memory")
        if d is None:
            return False
        try:
            if (d / "memory.oom_control").exists():
                m = re.search(r"oom_kill (\d+)", (d / "memory.oom_control").read_text())
                if m:
                    return int(m.group(1)) > 0
                return int((d / "memory.failcnt").read_text()) > 0
            m = re.search(r"oom_kill (\d+)", (d / "memory.events").read_text())
            return bool(m and int(m.group(1)) > 0)
        except (OSError, ValueError):
            return False

    def pids_exhausted(self) -> bool:
        """True when a fork/thread creation was refused by the process cap."""
        d = self.dirs.get("pids")
        if d is None:
            return False
        try:
            m = re.search(r"max (\d+)", (d / "pids.events").read_text())
            return bool(m and int(m.group(1)) > 0)
        except (OSError, ValueError):
            return False

    def close(self, wait: float = 60.0) -> None:
        """Kill what is left and remove the cgroups.

        A killed process leaves its cgroup only once the kernel has torn down its memory (a
        kernel with torch loaded maps gigabytes; on a busy machine that takes seconds), and
        ``rmdir`` fails with EBUSY until then: keep killing and retrying for up to ``wait``
        seconds.
        """
        deadline = time.monotonic() + wait
        if self.dirs:
            # a short kill loop: what is killed but still being torn down is waited for by the
            # removal below, which retries until the deadline (the kill loop must not spend it all)
            self.kill_all(wait=min(wait, 5.0))
        for d in reversed(self._made):
            _remove_cgroup(d, deadline)
        self._made = [d for d in self._made if d.is_dir()]


def _remove_cgroup(d: Path, deadline: float) -> bool:
    """Kill the processes in cgroup ``d`` and remove it, retrying until ``deadline`` (``time.monotonic``)
    while ``rmdir`` fails with EBUSY because killed processes are still being torn down."""
    while True:
        for pid in _members(d):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return False
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _members(d: Path) -> list[int]:
    """Processes and threads in cgroup ``d``. ``cgroup.procs`` hides a thread group whose leader has
    exited while other threads still run; ``tasks`` (v1) and ``cgroup.threads`` (v2) list every thread."""
    out: set[int] = set()
    for name in ("cgroup.procs", "tasks", "cgroup.threads"):
        try:
            out.update(int(x) for x in (d / name).read_text().split())
        except (OSError, ValueError):
            pass
    return sorted(out)


def describe_jail(d: Path) -> str:
    """One line: cgroup ``d`` and the state of each process or thread still in it (one that is being
    torn down shows state ``D`` or ``Z``), or ``no processes``."""
    states = []
    for tid in _members(d):
        try:
            status = dict(line.split(":\t", 1) for line in Path(f"/proc/{tid}/status").read_text().splitlines()
                          if ":\t" in line)
            states.append(f"{tid} {status.get('Name')} {status.get('State')}")
        except OSError:
            states.append(f"{tid} (gone)")
    return f"{d}: {', '.join(states) or 'no processes'}"


def leftover_jails(prefix: str) -> list[str]:
    """What is left of the cgroups named ``dlcourse-<prefix>*``: one :func:`describe_jail` line each."""
    return [describe_jail(d) for d in _jail_dirs(prefix)]


def sweep_stale_jails() -> int:
    """Remove the cgroups of grading processes that no longer exist (killed before cleaning up)."""
    n = 0
    for prefix in {d.name.split("-")[1] for d in _jail_dirs("")}:
        if prefix.isdigit():
            try:
                os.kill(int(prefix), 0)
            except ProcessLookupError:
                n += sweep_jails(f"{prefix}-")
            except PermissionError:
                pass
    return n


def _jail_dirs(prefix: str) -> list[Path]:
    parents = [d for d in (_v1_dir(c) for c in ("memory", "pids", "cpu")) if d is not None]
    if (v2 := _v2_dir()) is not None:
        parents.append(v2)
    return [d for parent in parents for d in parent.glob(f"dlcourse-{prefix}*") if d.is_dir()]


def sweep_jails(prefix: str, wait: float = 30.0) -> int:
    """Kill and remove cgroups named ``dlcourse-<prefix>*`` (left by a grading process that was killed)."""
    deadline = time.monotonic() + wait
    return sum(_remove_cgroup(d, deadline) for d in _jail_dirs(prefix))


# --------------------------------------------------------------------------- bwrap command

def _editable_paths(site: Path) -> list[Path]:
    """Folders that editable installs and .pth files in ``site`` add to ``sys.path``."""
    out: list[Path] = []
    for pth in site.glob("*.pth"):
        try:
            for line in pth.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith(("#", "import ")) and os.path.isabs(line) and os.path.isdir(line):
                    out.append(Path(line))
        except OSError:
            pass
    for finder in site.glob("__editable__*finder.py"):
        try:
            m = re.search(r"^MAPPING\s*(?::[^=]*)?=\s*(\{.*?\})\s*$", finder.read_text(), re.M | re.S)
            if m:
                out += [Path(p) for p in ast.literal_eval(m.group(1)).values()]
        except (OSError, ValueError, SyntaxError):
            pass
    return out


def python_link_paths() -> dict[Path, Path]:
    """``symbolic link -> real folder`` for every link on the way to the running Python.

    A ``.venv`` that is a link to another folder: the sandbox binds the real folder (see
    :func:`python_ro_paths`), but starts Python by the link's path, so :func:`bwrap_argv`
    recreates the link inside the sandbox. Links under ``/usr`` are bound as they are.
    """
    paths = {Path(sys.prefix), Path(sys.exec_prefix), Path(sys.executable).parent}
    for key in ("purelib", "platlib"):
        site = Path(sysconfig.get_paths()[key])
        paths.add(site)
        paths.update(_editable_paths(site))
    out: dict[Path, Path] = {}
    for p in paths:
        link = _symlinked_ancestor(p)
        if link is not None and not Path(os.path.abspath(link)).is_relative_to("/usr"):
            out[Path(os.path.abspath(link))] = link.resolve()
    return out


def python_ro_paths() -> list[Path]:
    """Read-only paths the sandboxed Python needs: the environment, the base install, editables."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent}
    for key in ("purelib", "platlib"):
        site = Path(sysconfig.get_paths()[key])
        paths.add(site)
        paths.update(_editable_paths(site))
    # drop system folders (bound anyway) and paths nested in another one
    system = {Path("/usr"), Path("/")}
    out = sorted(p.resolve() for p in paths if p.exists() and p.resolve() not in system)
    keep: list[Path] = []
    for p in out:
        if not any(p != q and p.is_relative_to(q) for q in out) and not p.is_relative_to("/usr"):
            keep.append(p)
    return keep


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "hosts",
        "mime.types", "fonts", "alternatives")


def bwrap_argv(
    bwrap: str,
    *,
    ipc_dir: Path | None,
    home_files: dict[str, Path],
    limits: Limits,
    env: dict[str, str],
    command: list[str],
    extra_ro: list[Path] = (),  # type: ignore[assignment]
    etc_files: dict[str, Path] | None = None,
) -> list[str]:
    """The ``bwrap`` command line of one sandbox.

    Args:
        ipc_dir: host folder bound read-write at the same path (kernel sockets, connection file).
        home_files: ``relative path in the student's home -> host file or folder``, bound read-only.
        env: the *whole* environment of the sandbox (it starts empty).
        command: what to run inside (argv; ``{connection_file}`` etc. are left to the caller).
        extra_ro: more host paths bound read-only at the same place (Python install, helper package).
        etc_files: files placed in ``/etc`` (e.g. a generated passwd), read-only.
        bwrap: the bubblewrap executable.
        limits: the sandbox's limits (the size of its private tmpfs).

    Returns:
        The argv.

    Raises:
        ValueError: a home file's relative path leaves the home (absolute, or with ``..``).
    """
    a = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
         "--uid", str(UID), "--gid", str(UID), "--hostname", "sandbox", "--clearenv"]
    for k, v in sorted(env.items()):
        a += ["--setenv", k, v]
    a += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            a += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            a += ["--ro-bind", top, top]
    for name in _ETC:
        p = Path("/etc") / name
        if p.exists():
            a += ["--ro-bind", str(p), str(p)]
    for name, host in sorted((etc_files or {}).items()):
        a += ["--ro-bind", str(host), f"/etc/{name}"]
    a += ["--proc", "/proc", "--dev", "/dev"]
    # private, size-limited scratch space (tmpfs pages count against the memory cgroup)
    size = str(limits.disk_mb * 2**20)
    a += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", HOME]
    for p in extra_ro:
        a += ["--ro-bind", str(p), str(p)]
    # a linked .venv: Python is started by the link's path, which must lead to the bound folder
    for link, real in sorted(python_link_paths().items()):
        if any(real == Path(p) or real.is_relative_to(p) for p in extra_ro):
            a += ["--symlink", str(real), str(link)]
    for rel, host in sorted(home_files.items()):
        rel_p = Path(rel)
        if rel_p.is_absolute() or ".." in rel_p.parts:
            raise ValueError(f"home file must be a relative path inside the home folder, got {rel!r}")
        a += ["--ro-bind", str(Path(host).resolve()), f"{HOME}/{rel_p.as_posix()}"]
    if ipc_dir is not None:
        a += ["--bind", str(ipc_dir), str(ipc_dir)]
    a += ["--chdir", HOME, "--"]
    return a + list(command)
