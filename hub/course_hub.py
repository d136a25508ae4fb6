"""The course's local JupyterHub: one command to try the whole nbgrader flow on one machine.

    hub/start.sh                      # = python hub/course_hub.py start
    hub/start.sh --students ana,ben --port 8000

``start`` prepares a state folder (a fresh temporary one unless ``--state`` is given) with

* ``exchange/``: the nbgrader exchange (release, inbound submissions, feedback);
* ``home/<user>/``: each user's home; ``home/<user>/.jupyter/nbgrader_config.py`` names the
  course, the exchange and (for students) the student id; students' ``.jupyter`` also turns off
  nbgrader's instructor tools (Formgrader, Create assignment) for them;
* ``home/<student>/<course>/``: the published student tree's lectures and helper package
  (``dlcourse.course.publish``, as ``python -m dlcourse.grading publish``, checked for leaks), copied into every student's home
  as nbgitpuller would pull it on a real hub: missing files are added, a file the student
  changed is kept;
* ``home/<instructor>/<course>/``: the instructor's nbgrader course directory: a copy of the
  repository's ``solutions/`` (the nbgrader source) and its ``nbgrader_config.py`` layout, with
  the roster in the gradebook;
* the hub's database, cookie secret, logs, ``hub.json`` (users, FAST mode) and
  ``passwords.json`` (mode 0600: a restart on the same state keeps the passwords unless told
  ``--new-passwords``);

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
           "hub_command", "main", "STUDENT_HIDDEN_LAB_PLUGINS", "nbgitpuller_link", "keep_or_new_passwords",
           "check_feedback_releasable"]

REPO = Path(__file__).resolve().parents[1]
HUB_DIR = REPO / "hub"
CHP = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: nbgrader's JupyterLab plugins only an instructor needs (students never see them).
STUDENT_HIDDEN_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")
#: nbgrader's server extension behind /formgrader (off in students' servers).
STUDENT_HIDDEN_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)
#: What of the published student tree goes into each student's home (assignments come through nbgrader).
STUDENT_TREE_PARTS = ("lectures", "shared", "README.md", "course.toml")


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


def _hide_instructor_tools(cfg: Path) -> None:
    """A student's Jupyter config: no Formgrader / Create assignment (lab plugins and the server extension)."""
    lab = cfg / "labconfig"
    lab.mkdir(parents=True, exist_ok=True)
    (lab / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {p: True for p in STUDENT_HIDDEN_LAB_PLUGINS}}, indent=1) + "\n")
    (cfg / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {e: False for e in STUDENT_HIDDEN_SERVER_EXTENSIONS}}}, indent=1) + "\n")


def _publish_student_tree(s: HubSettings, repo: Path) -> Path:
    """The student tree, published into the state folder by ``dlcourse.course.publish.publish`` (the one
    publish path, with its leak check; no site, and no release comparison: the hub releases from
    ``solutions/`` itself); refuses a tree whose parts that go into the homes leak."""
    sys.path.insert(0, str(repo / "shared"))
    from dlcourse.course import publish as dlpublish

    tree = s.state / "student-tree"
    res = dlpublish.publish(repo, tree, force=True, site_mode="off", check_release=False)
    # only what goes into the homes matters here (assignments reach students through nbgrader)
    errors = [p for p in res.errors if p.split(":")[0].split("/")[0] in STUDENT_TREE_PARTS]
    if errors:
        raise RuntimeError(f"the student tree published from {repo} leaks ({len(errors)} problem(s), first: "
                           f"{errors[0]}): nothing was copied to the students. Next step: fix it and check with "
                           f"`python -m dlcourse.grading publish --out /tmp/student-tree`")
    return tree


def _copy_missing(src: Path, dst: Path) -> int:
    """Copy the files of ``src`` that ``dst`` lacks (a file already there, maybe edited, is kept)."""
    n = 0
    for f in sorted(src.rglob("*")) if src.is_dir() else [src]:
        rel = f.relative_to(src) if src.is_dir() else Path()
        target = dst / rel if src.is_dir() else dst
        if f.is_dir() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
        n += 1
    return n


def prepare(s: HubSettings, *, repo: Path = REPO) -> HubSettings:
    """Create the state folder: exchange, homes, per-user nbgrader configs, the instructor's course,
    and the student tree (lectures, helper) in every student's home."""
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
        if user != s.instructor:
            _hide_instructor_tools(cfg)
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
    tree = _publish_student_tree(s, repo)
    for user in s.students:
        for part in STUDENT_TREE_PARTS:
            if (tree / part).exists():
                _copy_missing(tree / part, s.home(user) / s.course / part)
    (s.state / "hub.json").write_text(json.dumps(
        {"course": s.course, "instructor": s.instructor, "students": s.students, "fast": s.fast}, indent=1))
    return s


def keep_or_new_passwords(s: HubSettings, *, given_student: bool, given_instructor: bool, new: bool) -> str:
    """Reuse the passwords of an earlier start on the same state (unless given or ``new``); save them.

    Returns:
        One line for the banner: whether the passwords printed at the last start still work.
    """
    f = s.state / "passwords.json"
    old = {}
    if f.is_file():
        try:
            old = json.loads(f.read_text())
        except ValueError:
            old = {}
    changed = []
    for key, given in (("student_password", given_student), ("instructor_password", given_instructor)):
        if old.get(key) and not given and not new:
            setattr(s, key, old[key])
        elif old.get(key) and old[key] != getattr(s, key):
            changed.append("students'" if key == "student_password" else "instructor's")
    f.touch(mode=0o600)
    os.chmod(f, 0o600)
    f.write_text(json.dumps({"student_password": s.student_password,
                             "instructor_password": s.instructor_password}, indent=1))
    if not old:
        return f"passwords: new (kept in {f} for the next start on this state)"
    if changed:
        return (f"passwords: NEW {' and '.join(changed)} password(s): the one(s) printed at the last start on this "
                f"state no longer work (users logged in must log in again)")
    return f"passwords: the same as at the last start on this state (kept in {f}; --new-passwords changes them)"


def check_feedback_releasable(s: HubSettings, assignment: str) -> None:
    """Refuse before ``nbgrader release_feedback`` would crash on a feedback folder it cannot pair.

    ``release_feedback`` reads ``timestamp.txt`` and ``submission_secret.txt`` beside every page
    under ``feedback/<student>/<assignment>/``; only hub submissions have them (an upload's
    page belongs in ``feedback_uploads/``).

    Raises:
        RuntimeError: naming each such folder and what to do.
    """
    bad = [d for d in sorted((s.course_dir / "feedback").glob(f"*/{assignment}"))
           if any(d.glob("*.html")) and not all((d / f).is_file() for f in ("timestamp.txt", "submission_secret.txt"))]
    if bad:
        names = ", ".join(d.relative_to(s.course_dir).as_posix() for d in bad)
        raise RuntimeError(f"cannot release feedback: {names} lack(s) timestamp.txt/submission_secret.txt, so it is "
                           f"not a hub submission's feedback (an upload's, or made by another tool) and nbgrader "
                           f"release_feedback would fail on it. Next step: grade again with `hub/start.sh grade "
                           f"{assignment}` (uploads' pages go to feedback_uploads/), or remove those folders")


def nbgitpuller_link(hub_url: str, *, repo: str, branch: str, path: str = "lectures",
                     target: str | None = None, app: str = "lab") -> str:
    """An nbgitpuller link: opening it on a real hub pulls ``repo`` into each student's home.

    Built by ``dlcourse.course.site.git_pull_link``, the one implementation (the site's launch buttons
    use it too); this script runs with the course's venv (``hub/start.sh``), which has ``dlcourse``.

    Args:
        hub_url: the hub's address (``https://hub.example.org``).
        repo: ``owner/name`` on GitHub (as in course.toml) or a full git URL.
        branch: the branch or tag to pull.
        path: what to open after pulling, relative to the repository (a folder or a notebook).
        target: folder in the student's home (default: the repository's name).
        app: ``lab`` (JupyterLab) or ``tree`` (classic).

    Returns:
        ``<hub>/hub/user-redirect/git-pull?repo=...&branch=...&urlpath=...``.

    Raises:
        ValueError: a hub URL that is not http(s), an empty repo or branch, an unknown app.
    """
    sys.path.insert(0, str(REPO / "shared"))
    from dlcourse.course.site import git_pull_link

    return git_pull_link(hub_url, repo=repo, branch=branch, path=path, target=target, app=app)


def _course_toml(repo: Path = REPO) -> dict:
    """course.toml's student repository and term tag (what nbgitpuller pulls), as ``repository`` / ``branch``."""
    sys.path.insert(0, str(repo / "shared"))
    from dlcourse.course.conventions import course_config

    cfg = course_config(repo)
    return {"repository": cfg.student_repository, "branch": cfg.term_tag, "hub_url": cfg.hub_url}


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


def grade(s: HubSettings, assignment: str, *extra: str, uploads: Path | None = None,
          roster: Path | None = None) -> str:
    """Instructor: collect the submissions, autograde them with the course's sandboxed grading CLI
    (gradebook and feedback in the course directory), and return the feedback to the students.

    Hub submissions come from the exchange (``nbgrader collect``); ``uploads`` (a folder of
    notebooks from the LMS, e.g. downloaded from Colab) are collected into the same
    ``submitted/`` with ``roster``. Hub students get their feedback through ``nbgrader
    release_feedback``; the uploads' pages stay in ``feedback_uploads/<student>/`` for the LMS.
    A hub started with ``--fast`` grades in FAST mode. ``extra`` goes to ``dlcourse.grading
    autograde`` (e.g. ``--workers 2``).
    """
    log = nbgrader(s, "collect", assignment).stderr
    if uploads is not None:
        args = ["collect", "--uploads", str(Path(uploads).resolve()), "--assignment", assignment, "--out", "submitted"]
        if roster is not None:
            args += ["--roster", str(Path(roster).resolve())]
        log += grading(s, *args)
    if s.fast and "--fast" not in extra:
        extra = (*extra, "--fast")
    log += grading(s, "autograde", "--assignment", assignment, "--submissions", "submitted",
                   "--out", ".", "--gradebook", "gradebook.db", *extra)
    # the grading CLI puts each hub submission's timestamp.txt and submission_secret.txt beside its
    # feedback page, which is how nbgrader release_feedback pairs them
    check_feedback_releasable(s, assignment)
    log += nbgrader(s, "release_feedback", assignment).stderr
    return log


def hub_command() -> list[str]:
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")]


def _banner(s: HubSettings, passwords: str = "") -> str:
    lines = [
        "",
        f"Course hub: {s.url}/hub/login   (state folder: {s.state})",
        f"  instructor : {s.instructor}  password {s.instructor_password}",
        f"  students   : {', '.join(s.students)}  password {s.student_password}",
        *([f"  {passwords}"] if passwords else []),
        *(["  FAST mode: every notebook and `grade` run with DLCOURSE_FAST=1"] if s.fast else []),
        f"  lectures   : in each student's ~/{s.course}/lectures (the published student tree)",
        "Instructor, from another shell of this machine:",
        f"  hub/start.sh release ASSIGNMENT --state {s.state}",
        f"  hub/start.sh grade ASSIGNMENT --state {s.state} [--uploads DIR --roster roster.csv]",
        "      (collect hub submissions [and Colab uploads], sandboxed autograde, release the feedback)",
        f"or in a terminal of your hub server (File > New > Terminal), cd ~/{s.course}, the nbgrader",
        "commands (docs/hub.md).",
        "Students: Nbgrader > Assignment List: Fetch, work, Submit; later Fetch Feedback, (view feedback),",
        "then open the .html file it shows.",
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
    return HubSettings(state=state, course=data["course"], instructor=data["instructor"], students=data["students"],
                       fast=bool(data.get("fast")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hub/start.sh", description=__doc__.splitlines()[0])
    ap.add_argument("command", nargs="?", default="start", choices=["start", "prepare", "release", "grade", "link"],
                    help="start (default): prepare and run the hub; prepare: only write the state folder; "
                         "release ASSIGNMENT / grade ASSIGNMENT: the instructor's steps on a running hub's --state; "
                         "link --hub-url URL [PATH]: the nbgitpuller link that brings the lectures to a real hub")
    ap.add_argument("assignment", nargs="?", help="assignment id (release, grade); for link: what to open "
                    "(default lectures)")
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
    ap.add_argument("--uploads", type=Path, help="grade: also a folder of uploaded notebooks (Colab, LMS)")
    ap.add_argument("--roster", type=Path, help="grade --uploads: CSV student_id,name,email telling whose each upload is")
    ap.add_argument("--new-passwords", action="store_true",
                    help="start: new random passwords even if the state folder has some from an earlier start")
    ap.add_argument("--hub-url", help="link: the real hub's address (https://hub.example.org)")
    ap.add_argument("--repo", help="link: owner/name or git URL to pull (default: course.toml's repository)")
    ap.add_argument("--branch", help="link: branch (default: course.toml's branch)")
    args = ap.parse_intermixed_args(argv)
    if args.command == "link":
        if not args.hub_url:
            ap.error("link needs --hub-url (the address of your hub)")
        meta = _course_toml()
        try:
            print(nbgitpuller_link(args.hub_url, repo=args.repo or meta.get("repository", ""),
                                   branch=args.branch or meta.get("branch", ""), path=args.assignment or "lectures"))
        except ValueError as e:
            ap.error(str(e))
        return 0
    if args.command in ("release", "grade"):
        if not args.state or not args.assignment:
            ap.error(f"{args.command} needs ASSIGNMENT and --state (the folder `start` printed)")
        try:
            s = _load(args.state.resolve())
        except ValueError as e:
            ap.error(str(e))
        if args.roster and not args.uploads:
            ap.error("--roster goes with --uploads (it tells whose each uploaded notebook is)")
        try:
            if args.command == "release":
                print(f"released {args.assignment} to {release(s, args.assignment)}")
            else:
                extra = [*(["--fast"] if args.fast else []), *(["--unsafe"] if args.unsafe else [])]
                print(grade(s, args.assignment, *extra, uploads=args.uploads, roster=args.roster))
                print(f"feedback for {args.assignment} released: hub students use Fetch Feedback")
                up = s.course_dir / "feedback_uploads"
                if any(up.glob(f"*/{args.assignment}/*.html")):
                    print(f"uploads' feedback pages: {up}/<student>/{args.assignment}/ (hand them back through the LMS)")
        except RuntimeError as e:
            print(f"hub/start.sh {args.command}: {e}", file=sys.stderr)
            return 1
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
    s.state.mkdir(parents=True, exist_ok=True)
    pw_line = keep_or_new_passwords(s, given_student=bool(args.password), given_instructor=bool(args.instructor_password),
                                    new=args.new_passwords)
    try:
        prepare(s)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"hub/start.sh: {e}", file=sys.stderr)
        return 1
    if args.command == "prepare":
        print(f"prepared {s.state}")
        return 0
    if not CHP.exists() and not shutil.which("configurable-http-proxy"):
        print("configurable-http-proxy is missing: run `bash tools/sysdeps-browser.sh` (installs it into "
              "hub/node_modules with npm)", file=sys.stderr)
        return 1
    print(_banner(s, pw_line), flush=True)
    env = dict(os.environ)
    env.update(s.to_env())
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    cmd = hub_command()
    os.chdir(s.state)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
