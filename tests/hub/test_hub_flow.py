"""End to end on the course's local JupyterHub (hub/), on 127.0.0.1 only.

instructor releases -> student fetches (browser), works, submits (browser) -> instructor collects,
autogrades, generates and releases feedback -> student fetches the feedback and reads it (browser).

The hub is started exactly as an instructor starts it (``python hub/course_hub.py start``, what
``hub/start.sh`` runs), with random passwords and a service token for the API calls. The
instructor's steps are the nbgrader commands they would type in a terminal of their hub server
(HOME and the nbgrader config of the instructor's account).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "hub"))
import course_hub  # noqa: E402
import jlab  # noqa: E402

pytestmark = [pytest.mark.xdist_group("hub")]

STUDENT = "student1"


def _port_block(n: int = 3, tries: int = 50) -> int:
    """A port P such that P .. P+n-1 are all free on 127.0.0.1 (the hub uses three)."""
    for _ in range(tries):
        p = jlab.free_port()
        if p + n >= 65535:
            continue
        socks = []
        try:
            for q in range(p, p + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports found on 127.0.0.1")


def _first_assignment() -> str:
    ids = sorted(p.name for p in (ROOT / "solutions").glob("*") if p.is_dir() and any(p.glob("*.ipynb")))
    if not ids:
        pytest.fail("solutions/ holds no assignment to release on the hub", pytrace=False)
    return ids[0]


def _require_proxy() -> None:
    if course_hub.CHP.exists() or shutil.which("configurable-http-proxy"):
        return
    msg = ("configurable-http-proxy is not installed: run `bash tools/sysdeps-browser.sh` "
           "(npm ci into hub/node_modules)")
    if jlab.in_ci():
        pytest.fail(f"CI=true, so the hub test must run, but {msg}", pytrace=False)
    pytest.skip(msg)


def _require_sandbox() -> None:
    """The grading CLI refuses to run student code without its sandbox (bubblewrap)."""
    from dlcourse.grading.sandbox import sandbox_info

    info = sandbox_info()
    if info.ok:
        return
    msg = f"the grading sandbox is not available ({info.reason}): run `bash tools/sysdeps.sh` as root"
    if jlab.in_ci():
        pytest.fail(f"CI=true, so the hub test must run, but {msg}", pytrace=False)
    pytest.skip(msg)


class Hub:
    """A running course hub and its REST API (service token)."""

    def __init__(self, s: course_hub.HubSettings, proc: subprocess.Popen, log: Path):
        self.s, self.proc, self.log = s, proc, log

    def api(self, method: str, path: str, data: dict | None = None, *, token: str | None = None,
            base: str | None = None):
        url = (base or f"{self.s.url}/hub/api") + path
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Authorization": f"token {token or self.s.api_token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {url} -> HTTP {e.code}: {e.read()[:500]!r}") from None
        return json.loads(raw) if raw else None

    def server_pids(self) -> list[int]:
        db = self.s.state / "jupyterhub.sqlite"
        if not db.exists():
            return []
        with sqlite3.connect(db) as con:
            rows = con.execute("select state from spawners").fetchall()
        return [json.loads(r[0]).get("pid") for r in rows if r[0] and json.loads(r[0]).get("pid")]

    def wait_ready(self, timeout: float = 240) -> None:
        jlab.wait_http(f"{self.s.url}/hub/api/", timeout=timeout, proc=self.proc, log=self.log)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    jlab.require_chromium()
    _require_proxy()
    _require_sandbox()
    state = tmp_path_factory.mktemp("hub-state")
    port = _port_block()
    s = course_hub.HubSettings(state=state, port=port, students=[STUDENT, "student2"], fast=True,
                               api_token=secrets.token_hex(32))
    course_hub.prepare(s)  # what `start` does first (again, idempotently): the instructor can release at once
    log = state / "hub.log"
    cmd = [sys.executable, str(ROOT / "hub" / "course_hub.py"), "start", "--state", str(state),
           "--port", str(port), "--students", ",".join(s.students), "--fast",
           "--password", s.student_password, "--instructor-password", s.instructor_password]
    env = dict(os.environ, DLCOURSE_HUB_API_TOKEN=s.api_token)
    env.pop("MPLBACKEND", None)
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    h = Hub(s, proc, log)
    pids: list[int] = []
    try:
        yield h  # still starting: the test releases the assignment meanwhile, then waits for it
    finally:
        pids = h.server_pids()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the hub stops the user servers and the proxy
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for pid in pids:  # user servers the hub started for this test and did not stop
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _open_assignments_panel(page) -> None:
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    page.locator("#assignments").wait_for()


def _row(page, section: str, aid: str):
    return page.locator(f"#{section}_assignments_list .list_item:not(.nested_list_item)").filter(has_text=aid).first


def _refresh(page) -> None:
    page.locator("#refresh_assignments_list").click()


def test_release_fetch_submit_autograde_feedback(hub, tmp_path):
    s = hub.s
    aid = _first_assignment()
    chromium = jlab.require_chromium()
    timings: dict[str, float] = {}
    t = time.monotonic()

    # 1. Instructor: generate the student version and release it to the exchange (while the
    #    hub is still starting).
    outbound = course_hub.release(s, aid)
    assert outbound.is_dir() and any(outbound.glob("*.ipynb")), f"nothing released in {outbound}"
    timings["release"] = time.monotonic() - t
    t = time.monotonic()
    hub.wait_ready()
    timings["hub ready"] = time.monotonic() - t

    with jlab.launch_browser(chromium) as ctx:
        page = ctx.new_page()
        # 2. Student: log in through the hub's login page; the hub starts their JupyterLab.
        t = time.monotonic()
        page.goto(f"{s.url}/hub/login")
        page.fill("#username_input", STUDENT)
        page.fill("#password_input", s.student_password)
        page.click("#login_submit")
        page.wait_for_url(re.compile(rf"/user/{STUDENT}/lab"), timeout=240_000)
        page.get_by_role("menuitem", name="Nbgrader", exact=True).wait_for(timeout=120_000)
        timings["login+spawn"] = time.monotonic() - t

        # Fetch the released assignment from the Assignments panel.
        t = time.monotonic()
        _open_assignments_panel(page)
        released = _row(page, "released", aid)
        released.wait_for(timeout=60_000)
        released.get_by_role("button", name="Fetch").click()
        _row(page, "fetched", aid).wait_for(timeout=60_000)
        jlab.screenshot(page, "hub-student-fetched")
        home = s.home(STUDENT)
        fetched = sorted((home / aid).glob("*.ipynb"))
        assert fetched, f"the fetch left no notebook in {home / aid}"
        timings["fetch"] = time.monotonic() - t

        # 3. Student works: the answers go in through their server's contents API.
        t = time.monotonic()
        token = hub.api("POST", f"/users/{STUDENT}/tokens", {"note": "end-to-end test", "expires_in": 3600})["token"]
        user_api = f"{s.url}/user/{STUDENT}/api"
        for nb_path in fetched:
            rel = f"{aid}/{nb_path.name}"
            model = hub.api("GET", f"/contents/{rel}?content=1", token=token, base=user_api)
            assert model["type"] == "notebook"
            filled = jlab.fill_solutions(nb_path, s.course_dir / "solutions" / aid / nb_path.name)
            hub.api("PUT", f"/contents/{rel}", {"type": "notebook", "format": "json", "content": filled},
                    token=token, base=user_api)
            again = nbformat.read(nb_path, as_version=4)
            answers = [c.source for c in again.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
            assert answers == [c.source for c in filled.cells
                               if c.get("metadata", {}).get("nbgrader", {}).get("solution")], \
                f"the answers saved through the contents API are not in {nb_path}"

        # 4. Student submits from the Assignments panel.
        _refresh(page)
        fetched_row = _row(page, "fetched", aid)
        fetched_row.get_by_role("button", name="Submit").first.click()
        _row(page, "submitted", aid).wait_for(timeout=60_000)
        jlab.screenshot(page, "hub-student-submitted")
        inbound = list((s.exchange / s.course / "inbound").glob(f"{STUDENT}+{aid}+*"))
        assert inbound, "the submission is not in the exchange's inbound folder"
        timings["work+submit"] = time.monotonic() - t

        # 5. Instructor: collect, autograde in the sandbox of the course's grading CLI, release feedback.
        t = time.monotonic()
        log = course_hub.grade(s, aid, "--fast")
        assert (s.course_dir / "submitted" / STUDENT / aid).is_dir(), "nbgrader collect fetched nothing"
        assert "sandbox:" in log, f"the grading CLI did not report its sandbox:\n{log}"
        assert (s.exchange / s.course / "feedback").is_dir(), "no feedback was released to the exchange"
        timings["collect+autograde+feedback"] = time.monotonic() - t
        from nbgrader.api import Gradebook

        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
        with Gradebook(f"sqlite:///{s.course_dir / 'gradebook.db'}") as gb:
            sub = gb.find_submission(aid, STUDENT)
            auto = [g for nb in sub.notebooks for g in nb.grades if g.auto_score is not None]
            score, max_score = sum(g.score for g in auto), sum(g.max_score for g in auto)
            total = sum(g.max_score for nb in sub.notebooks for g in nb.grades)
        assert max_score > 0 and score == pytest.approx(max_score), (
            f"the solution scored {score}/{max_score} autograded points on the hub")

        # 6. Student: fetch the feedback in the panel and read it.
        t = time.monotonic()
        _refresh(page)
        submitted_row = _row(page, "submitted", aid)
        submitted_row.get_by_role("button", name="Fetch Feedback").first.click()
        page.get_by_text("(view feedback)").first.wait_for(timeout=60_000)
        page.get_by_text("(view feedback)").first.click()
        htmls = sorted((home / aid / "feedback").rglob("*.html"))
        assert htmls, f"no feedback page in {home / aid / 'feedback'}"
        rel = htmls[0].relative_to(home).as_posix()
        page.goto(f"{s.url}/user/{STUDENT}/files/{rel}")
        body = page.inner_text("body")
        jlab.screenshot(page, "hub-student-feedback")
        timings["feedback"] = time.monotonic() - t
    print("hub flow timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    # The page shows the autograded points (manually graded answers wait for a TA).
    m = re.search(r"score:\s*([\d.]+)\s*/\s*([\d.]+)", body, re.I)
    assert m, f"the feedback page shows no score:\n{body[:1000]}"
    assert float(m.group(1)) == pytest.approx(score), f"feedback shows {m.group(0)}, the gradebook {score}"
    assert float(m.group(2)) in (pytest.approx(max_score), pytest.approx(total)), (
        f"feedback shows {m.group(0)}; the assignment is worth {max_score} autograded, {total} in all")


def test_prepare_writes_the_course_and_each_users_nbgrader_config(tmp_path):
    """The state folder the hub runs on (no hub, no browser: seconds)."""
    s = course_hub.prepare(course_hub.HubSettings(state=tmp_path / "st", students=["ana", "ben"]))
    assert (s.exchange.stat().st_mode & 0o777) == 0o777
    assert (s.course_dir / "course.toml").read_text() == (ROOT / "course.toml").read_text()
    assert sorted(p.name for p in (s.course_dir / "solutions").iterdir()) == \
        sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    for user in ("ana", "ben"):
        cfg = (s.home(user) / ".jupyter" / "nbgrader_config.py").read_text()
        assert f"c.CourseDirectory.student_id = {user!r}" in cfg and str(s.exchange) in cfg
    inst = (s.home("instructor") / ".jupyter" / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.root = {str(s.course_dir)!r}" in inst and "student_id" not in inst
    # the settings survive the trip through the environment (jupyterhub_config.py reads them)
    again = course_hub.HubSettings.from_env(s.to_env())
    assert (again.state, again.students, again.student_password, again.port) == \
        (s.state, s.students, s.student_password, s.port)
    assert len(s.instructor_password) >= 32 and len(s.student_password) >= 8


@pytest.mark.parametrize("kwargs,needle", [
    ({"students": ["Ana"]}, "lower-case"),
    ({"students": ["a/b"]}, "lower-case"),
    ({"students": []}, "at least one student"),
    ({"instructor": "ana", "students": ["ana"]}, "cannot also be a student"),
    ({"student_password": "short"}, "at least 8"),
    ({"instructor_password": "x" * 20}, "at least 32"),
    ({"course": "cnn course"}, "course id"),
])
def test_hub_settings_reject_bad_input(tmp_path, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        course_hub.HubSettings(state=tmp_path, **kwargs)
    with pytest.raises(ValueError, match="DLCOURSE_HUB_STATE"):
        course_hub.HubSettings.from_env({})
