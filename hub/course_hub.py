"""The course's local JupyterHub: one command to try the whole nbgrader flow on one machine.

    hub/start.sh                      # = python hub/course_hub.py start
    hub/start.sh --students ana,ben --port 8000

``start`` prepares a state folder (a fresh temporary one unless ``--state`` is given) with

* ``exchange/``: the nbgrader exchange (release, inbound submissions, feedback);
* ``home/<user>/``: each user's home; ``home/<user>/.jupyter/nbgrader_config.py`` names the
  course, the exchange and (for students) the student id;
* ``home/<instructor>/<course>/``: the instructor's nbgrader course directory: a copy of the
  repository's ``solutions/`` (the nbgrader source) and its ``nbgrader_config.py`` layout, with
  the roster in the gradebook;
* the hub's database, cookie secret and logs;

then runs JupyterHub (``hub/jupyterhub_config.py``) on 127.0.0.1: a shared-password login for
the demo users, every user's JupyterLab (with nbgrader's Assignments and Formgrader panels)
started as a local process, configurable-http-proxy from ``hub/node_modules``.

It is a demo and a test bed, not a deployment: all users run as the same system user, so they
are not isolated from each other. For a class, use The Littlest JupyterHub or Zero to JupyterHub
(docs/hub.md).

The configuration travels to ``jupyterhub_config.py`` in ``DLCOURSE_HUB_*`` environment
variables (see :class:`HubSettings`), so the config file can also be used on its own.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["REPO", "HubSettings", "prepare", "instructor_env", "nbgrader", "grading", "release", "grade",
           "hub_command", "main"]

REPO = Path(__file__).resolve().parents[1]
HUB_DIR = REPO / "hub"
CHP = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _check_username(name: str) -> str:
    if not name or not set(name) <= _USERNAME_CHARS or name[0] in "-_":
        raise ValueError(f"user names must be lower-case letters, digits, '-' or '_' "
                         f"(and start with a letter or digit), got {name!r}")
    return name


@dataclass
class HubSettings:
    """Everything the hub config needs; round-trips through ``DLCOURSE_HUB_*`` variables."""

    state: Path
    course: str = "cnn-course"
    instructor: str = "instructor"
    students: list[str] = field(default_factory=lambda: ["student1", "student2"])
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 0          # the hub's internal API port (0: port + 1)
    proxy_api_port: int = 0    # configurable-http-proxy's API port (0: port + 2)
    student_password: str = ""
    instructor_password: str = ""
    api_token: str = ""        # token of the "course-admin" service (scripts, tests); "" = none
    fast: bool = False         # pass DLCOURSE_FAST=1 to every user's server (CI, quick demos)

    def __post_init__(self) -> None:
        self.state = Path(self.state).resolve()
        for n in [self.instructor, *self.students]:
            _check_username(n)
        if self.instructor in self.students:
            raise ValueError(f"the instructor {self.instructor!r} cannot also be a student")
        if not self.students:
            raise ValueError("at least one student is needed")
        if not all(c.isalnum() or c in "-_" for c in self.course):
            raise ValueError(f"the course id must be letters, digits, '-' or '_', got {self.course!r}")
        self.hub_port = self.hub_port or self.port + 1
        self.proxy_api_port = self.proxy_api_port or self.port + 2
        if self.student_password and len(self.student_password) < 8:
            raise ValueError("the students' password must have at least 8 characters")
        if self.instructor_password and len(self.instructor_password) < 32:
            raise ValueError("the instructor's (admin) password must have at least 32 characters "
                             "(JupyterHub's SharedPasswordAuthenticator rule)")
        self.student_password = self.student_password or secrets.token_urlsafe(9)
        self.instructor_password = self.instructor_password or secrets.token_hex(16)

    # -- layout -------------------------------------------------------------------------------
    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    def home(self, user: str) -> Path:
        return self.state / "home" / user

    @property
    def course_dir(self) -> Path:
        return self.home(self.instructor) / self.course

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    # -- environment round trip ------------------------------------------------------------------
    def to_env(self) -> dict[str, str]:
        return {
            "DLCOURSE_HUB_STATE": str(self.state),
            "DLCOURSE_HUB_COURSE": self.course,
            "DLCOURSE_HUB_INSTRUCTOR": self.instructor,
            "DLCOURSE_HUB_STUDENTS": ",".join(self.students),
            "DLCOURSE_HUB_IP": self.ip,
            "DLCOURSE_HUB_PORT": str(self.port),
            "DLCOURSE_HUB_HUB_PORT": str(self.hub_port),
            "DLCOURSE_HUB_PROXY_API_PORT": str(self.proxy_api_port),
            "DLCOURSE_HUB_STUDENT_PASSWORD": self.student_password,
            "DLCOURSE_HUB_INSTRUCTOR_PASSWORD": self.instructor_password,
            "DLCOURSE_HUB_API_TOKEN": self.api_token,
            "DLCOURSE_HUB_FAST": "1" if self.fast else "",
        }

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HubSettings:
        env = dict(os.environ if env is None else env)
        if not env.get("DLCOURSE_HUB_STATE"):
            raise ValueError("DLCOURSE_HUB_STATE is not set: start the hub with `hub/start.sh` "
                             "(python hub/course_hub.py start), which prepares the state folder")
        return cls(
            state=Path(env["DLCOURSE_HUB_STATE"]),
            course=env.get("DLCOURSE_HUB_COURSE", "cnn-course"),
            instructor=env.get("DLCOURSE_HUB_INSTRUCTOR", "instructor"),
            students=[s for s in env.get("DLCOURSE_HUB_STUDENTS", "student1,student2").split(",") if s],
            ip=env.get("DLCOURSE_HUB_IP", "127.0.0.1"),
            port=int(env.get("DLCOURSE_HUB_PORT", "8000")),
            hub_port=int(env.get("DLCOURSE_HUB_HUB_PORT", "0")),
            proxy_api_port=int(env.get("DLCOURSE_HUB_PROXY_API_PORT", "0")),
            student_password=env.get("DLCOURSE_HUB_STUDENT_PASSWORD", ""),
            instructor_password=env.get("DLCOURSE_HUB_INSTRUCTOR_PASSWORD", ""),
            api_token=env.get("DLCOURSE_HUB_API_TOKEN", ""),
            fast=bool(env.get("DLCOURSE_HUB_FAST")),
        )


def _nbgrader_config_common(s: HubSettings) -> str:
    return (
        "# Written by hub/course_hub.py: the course and the nbgrader exchange of the local hub.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {s.course!r}\n"
        f"c.Exchange.root = {str(s.exchange)!r}\n"
    )


def _student_config(s: HubSettings, user: str) -> str:
    return _nbgrader_config_common(s) + (
        "# Every demo user runs as the same system user, so nbgrader cannot tell students apart by\n"
        "# their login: name the student explicitly (on a real hub each student is a system user).\n"
        f"c.CourseDirectory.student_id = {user!r}\n"
    )


def _instructor_config(s: HubSettings) -> str:
    return _nbgrader_config_common(s) + (
        "# The course directory follows the repository's layout (nbgrader_config.py at its root).\n"
        f"c.CourseDirectory.root = {str(s.course_dir)!r}\n"
        'c.CourseDirectory.source_directory = "solutions"\n'
        'c.CourseDirectory.release_directory = "assignments"\n'
        "c.ClearOutput.enabled = True\n"
        "c.ExecutePreprocessor.timeout = 300\n"
        "# Submissions are files of the one shared system user: nbgrader's owner check cannot help.\n"
        "c.CollectApp.check_owner = False\n"
    )


def instructor_env(s: HubSettings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a command the instructor runs in a terminal of their hub server."""
    env = dict(os.environ if base is None else base)
    env.update({
        "HOME": str(s.home(s.instructor)),
        "JUPYTER_CONFIG_DIR": str(s.home(s.instructor) / ".jupyter"),
        "JUPYTERHUB_USER": s.instructor,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    })
    return env


def nbgrader(s: HubSettings, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` as the instructor would, in the course directory."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=s.course_dir, env=instructor_env(s),
                          capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    if check and (proc.returncode != 0 or "[ERROR]" in log):
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n{log[-3000:]}")
    return proc


def prepare(s: HubSettings, *, repo: Path = REPO) -> HubSettings:
    """Create the state folder: exchange, homes, per-user nbgrader configs, the instructor's course."""
    s.state.mkdir(parents=True, exist_ok=True)
    s.exchange.mkdir(exist_ok=True)
    os.chmod(s.exchange, 0o777)  # nbgrader's exchange is shared by everyone (it checks the mode)
    for user in [s.instructor, *s.students]:
        cfg = s.home(user) / ".jupyter"
        cfg.mkdir(parents=True, exist_ok=True)
        text = _instructor_config(s) if user == s.instructor else _student_config(s, user)
        (cfg / "nbgrader_config.py").write_text(text)
        # JupyterLab: no "get notified about Jupyter news?" prompt over the course's panels.
        note = cfg / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        note.mkdir(parents=True, exist_ok=True)
        if not (note / "notification.jupyterlab-settings").exists():
            (note / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
    course = s.course_dir
    src = repo / "solutions"
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is missing: the hub's course is built from the repository's solutions/")
    if not (course / "solutions").exists():
        shutil.copytree(src, course / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    # The repository's own nbgrader config (layout, timeouts) and course.toml (which marks the
    # course root for `python -m dlcourse.grading`) in the course directory.
    shutil.copy2(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copy2(repo / "course.toml", course / "course.toml")
    (s.state / "hub.json").write_text(json.dumps(
        {"course": s.course, "instructor": s.instructor, "students": s.students}, indent=1))
    return s


def grading(s: HubSettings, *args: str, timeout: float = 1800) -> str:
    """Run the course's grading CLI (``python -m dlcourse.grading ARGS``) as the instructor."""
    proc = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(s.course_dir), *args],
                          cwd=s.course_dir, env=instructor_env(s), capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"`python -m dlcourse.grading {' '.join(args)}` failed (exit {proc.returncode}):\n"
                           f"{log[-3000:]}")
    return log


def release(s: HubSettings, assignment: str) -> Path:
    """Instructor: generate the student version of ``assignment`` and release it to the exchange."""
    nbgrader(s, "generate_assignment", assignment, "--force")
    nbgrader(s, "release_assignment", assignment, "--force")
    out = s.exchange / s.course / "outbound" / assignment
    if not any(out.glob("*.ipynb")):
        raise RuntimeError(f"nbgrader released nothing into {out}")
    return out


def grade(s: HubSettings, assignment: str, *extra: str) -> str:
    """Instructor: collect the submissions, autograde them with the course's sandboxed grading CLI
    (gradebook and feedback in the course directory), and return the feedback to the students.

    ``extra`` goes to ``dlcourse.grading autograde`` (e.g. ``--fast``, ``--workers 2``).
    """
    nbgrader(s, "collect", assignment)
    log = grading(s, "autograde", "--assignment", assignment, "--submissions", "submitted",
                  "--out", ".", "--gradebook", "gradebook.db", *extra)
    # the grading CLI puts each submission's timestamp.txt and submission_secret.txt beside its
    # feedback page, which is how nbgrader release_feedback pairs them
    nbgrader(s, "release_feedback", assignment)
    return log


def hub_command() -> list[str]:
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")]


def _banner(s: HubSettings) -> str:
    lines = [
        "",
        f"Course hub: {s.url}/hub/login   (state folder: {s.state})",
        f"  instructor : {s.instructor}  password {s.instructor_password}",
        f"  students   : {', '.join(s.students)}  password {s.student_password}",
        "Instructor, from another shell of this machine:",
        f"  hub/start.sh release ASSIGNMENT --state {s.state}",
        f"  hub/start.sh grade ASSIGNMENT --state {s.state}    (collect, sandboxed autograde, feedback)",
        f"or in a terminal of your hub server (File > New > Terminal), cd ~/{s.course}, the nbgrader",
        "commands (docs/hub.md).",
        "Students: Nbgrader > Assignments: Fetch, work, Submit; later Fetch Feedback.",
        "Stop with Ctrl+C.",
        "",
    ]
    return "\n".join(lines)


def _load(state: Path) -> HubSettings:
    """Settings of a prepared state folder (for the instructor commands)."""
    meta = state / "hub.json"
    if not meta.is_file():
        raise ValueError(f"{state} is not a course hub state folder (no hub.json): start the hub first")
    data = json.loads(meta.read_text())
    return HubSettings(state=state, course=data["course"], instructor=data["instructor"], students=data["students"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hub/start.sh", description=__doc__.splitlines()[0])
    ap.add_argument("command", nargs="?", default="start", choices=["start", "prepare", "release", "grade"],
                    help="start (default): prepare and run the hub; prepare: only write the state folder; "
                         "release ASSIGNMENT / grade ASSIGNMENT: the instructor's steps on a running hub's --state")
    ap.add_argument("assignment", nargs="?", help="assignment id (release, grade)")
    ap.add_argument("--state", type=Path, help="state folder (default for start: a new temporary folder)")
    ap.add_argument("--ip", default="127.0.0.1", help="address to serve on (default 127.0.0.1, this machine only)")
    ap.add_argument("--port", type=int, default=8000, help="public port (the hub also uses port+1 and port+2)")
    ap.add_argument("--course", default="cnn-course", help="nbgrader course id")
    ap.add_argument("--instructor", default="instructor")
    ap.add_argument("--students", default="student1,student2", help="comma-separated student names")
    ap.add_argument("--password", default="", help="students' password (default: random, printed)")
    ap.add_argument("--instructor-password", default="", help="instructor's password, >= 32 characters "
                    "(default: random, printed)")
    ap.add_argument("--fast", action="store_true", help="FAST mode (DLCOURSE_FAST=1) for every notebook and the grading")
    ap.add_argument("--unsafe", action="store_true", help="grade: without a sandbox (trusted notebooks only)")
    args = ap.parse_args(argv)
    if args.command in ("release", "grade"):
        if not args.state or not args.assignment:
            ap.error(f"{args.command} needs ASSIGNMENT and --state (the folder `start` printed)")
        try:
            s = _load(args.state.resolve())
        except ValueError as e:
            ap.error(str(e))
        if args.command == "release":
            print(f"released {args.assignment} to {release(s, args.assignment)}")
        else:
            extra = [*(["--fast"] if args.fast else []), *(["--unsafe"] if args.unsafe else [])]
            print(grade(s, args.assignment, *extra))
            print(f"feedback for {args.assignment} released: students use Fetch Feedback")
        return 0
    state = args.state or Path(tempfile.mkdtemp(prefix="dlcourse-hub-"))
    try:
        s = HubSettings(state=state, course=args.course, instructor=args.instructor,
                        students=[x.strip() for x in args.students.split(",") if x.strip()],
                        ip=args.ip, port=args.port, student_password=args.password,
                        instructor_password=args.instructor_password,
                        api_token=os.environ.get("DLCOURSE_HUB_API_TOKEN", ""), fast=args.fast)
    except ValueError as e:
        ap.error(str(e))
    prepare(s)
    if args.command == "prepare":
        print(f"prepared {s.state}")
        return 0
    if not CHP.exists() and not shutil.which("configurable-http-proxy"):
        print("configurable-http-proxy is missing: run `bash tools/sysdeps-browser.sh` (installs it into "
              "hub/node_modules with npm)", file=sys.stderr)
        return 1
    print(_banner(s), flush=True)
    env = dict(os.environ)
    env.update(s.to_env())
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    cmd = hub_command()
    os.chdir(s.state)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
