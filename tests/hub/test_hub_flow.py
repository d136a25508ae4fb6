"""End to end on the course's local JupyterHub (hub/), on 127.0.0.1 only: a mixed class round.

instructor releases -> hub student 1 fetches (browser), works, submits (browser); hub student 2
fetches and submits with nbgrader's own commands in their account (what the Assignment List
buttons run) -> two Colab students' downloads arrive through the LMS with a roster ->
instructor grades with ``hub/start.sh grade ... --uploads DIR --roster CSV`` (collect both kinds,
sandboxed autograde, release the hub students' feedback) -> student 1 fetches the feedback and
opens it (browser), student 2 fetches it, the Colab students' pages wait in feedback_uploads/.
On the way: the lectures are in the students' homes, the students' Nbgrader menu has no
instructor tools, the FAST mode of ``start --fast`` is what ``grade`` uses.

The hub is started exactly as an instructor starts it (``python hub/course_hub.py start``, what
``hub/start.sh`` runs), with random passwords and a service token for the API calls. The
instructor's steps are the nbgrader commands they would type in a terminal of their hub server
(HOME and the nbgrader config of the instructor's account).
"""
from __future__ import annotations

import csv
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
STUDENT2 = "student2"
#: The Colab students: LMS file names (Moodle's folder per submission; Canvas' flat name) and a roster.
ROSTER = "student_id,name,email\ncarla,Carla Diaz,carla@uni.example\ndavid,David Kim,dkim@uni.example\n"


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


def _as_student(s: course_hub.HubSettings, user: str, *args: str) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``user``'s account on the hub (their HOME and nbgrader config)."""
    home = s.home(user)
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTERHUB_USER=user,
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=home, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and "[ERROR]" not in proc.stderr, f"{user}: nbgrader {args}: {proc.stderr[-2000:]}"
    return proc


def _nbgrader_menu(page) -> list[str]:
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    menu = page.locator("#jp-mainmenu-nbgrader")
    menu.wait_for()
    items = menu.locator(".lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    try:
        menu.wait_for(state="hidden", timeout=5_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: close it by clicking the Nbgrader menu again
        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        menu.wait_for(state="hidden", timeout=10_000)
    return [i.strip() for i in items if i.strip()]


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

        # Issue 19 item 6: a student's Nbgrader menu has no instructor tools, and /formgrader is off.
        menu = _nbgrader_menu(page)
        assert "Assignment List" in menu, menu
        assert not [m for m in menu if "Formgrader" in m or "Create" in m], f"instructor tools shown to a student: {menu}"
        token = hub.api("POST", f"/users/{STUDENT}/tokens", {"note": "end-to-end test", "expires_in": 3600})["token"]
        try:
            hub.api("GET", "/formgrader", token=token, base=f"{s.url}/user/{STUDENT}")
            raise AssertionError("a student's server serves /formgrader")
        except AssertionError as e:
            assert "HTTP 404" in str(e), e
        # Issue 19 item 5: the lectures (and the helper) are in the student's home, as the hub gives them.
        user_api = f"{s.url}/user/{STUDENT}/api"
        listing = hub.api("GET", f"/contents/{s.course}/lectures", token=token, base=user_api)
        lectures = sorted(c["name"] for c in listing["content"] if c["name"].endswith(".ipynb"))
        assert lectures == sorted(p.name for p in (ROOT / "lectures").glob("*.ipynb")), lectures
        assert hub.api("GET", f"/contents/{s.course}/shared/dlcourse", token=token, base=user_api)["type"] == "directory"

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

        # Hub student 2 hands in the blank release (what the Assignment List's Fetch and Submit run).
        t = time.monotonic()
        _as_student(s, STUDENT2, "fetch_assignment", aid)
        _as_student(s, STUDENT2, "submit", aid)
        timings["student2 fetch+submit"] = time.monotonic() - t

        # Two Colab students: their downloads, renamed by the LMS, and the class roster.
        uploads = tmp_path / "lms-a1"
        sol_nb = next((s.course_dir / "solutions" / aid).glob("*.ipynb"))
        moodle = uploads / "Carla Diaz_1001_assignsubmission_file_"
        moodle.mkdir(parents=True)
        filled = jlab.fill_solutions(outbound / sol_nb.name, sol_nb)
        nbformat.write(filled, moodle / sol_nb.name)  # Colab keeps the file name
        shutil.copy(outbound / sol_nb.name, uploads / f"kimdavid_2002_3003_{sol_nb.name}")  # Canvas: blank
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER)

        # 5. Instructor, from a shell, exactly as the README says (no --fast: the hub's state says FAST).
        t = time.monotonic()
        proc = subprocess.run(["bash", str(ROOT / "hub" / "start.sh"), "grade", aid, "--state", str(s.state),
                               "--uploads", str(uploads), "--roster", str(roster)],
                              capture_output=True, text=True, timeout=1800)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "Traceback" not in log, log[-4000:]
        timings["grade (collect hub + uploads, autograde, release feedback)"] = time.monotonic() - t
        assert "in FAST mode (DLCOURSE_FAST=1)" in log, f"grade did not use the hub's FAST mode:\n{log[-3000:]}"
        assert "sandbox:" in log, f"the grading CLI did not report its sandbox:\n{log}"
        assert "collected 2, superseded 0, skipped 0, unmatched 0" in log, log[-3000:]
        assert f"feedback_uploads/<student>/{aid}/ (hand them back through the LMS)" in log, log[-3000:]
        for sid in (STUDENT, STUDENT2, "carla", "david"):
            assert (s.course_dir / "submitted" / sid / aid).is_dir(), f"{sid} was not collected"
        released = sorted((s.exchange / s.course / "feedback").glob("*.html"))
        assert len(released) == 2 * len(fetched), f"released {released}: expected the two hub students' pages"
        for sid in ("carla", "david"):  # the Colab students' pages: for the LMS, not for release_feedback
            assert list((s.course_dir / "feedback_uploads" / sid / aid).glob("*.html")), sid
            assert not (s.course_dir / "feedback" / sid).exists(), sid
        from nbgrader.api import Gradebook

        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
        scores = {}
        with Gradebook(f"sqlite:///{s.course_dir / 'gradebook.db'}") as gb:
            for sid in (STUDENT, STUDENT2, "carla", "david"):
                sub = gb.find_submission(aid, sid)
                auto = [g for nb in sub.notebooks for g in nb.grades if g.auto_score is not None]
                scores[sid] = (sum(g.score for g in auto), sum(g.max_score for g in auto))
                total = sum(g.max_score for nb in sub.notebooks for g in nb.grades)
        score, max_score = scores[STUDENT]
        assert max_score > 0 and score == pytest.approx(max_score), f"the solution scored {scores} on the hub"
        assert scores["carla"][0] == pytest.approx(max_score) and scores[STUDENT2][0] < max_score, scores
        assert scores["david"][0] < max_score, scores
        # Issue 19 item 3: the run's file and the export are two files, neither overwriting the other.
        auto_csv = s.course_dir / f"autograde-{aid}.csv"
        rows = {r["student_id"]: r for r in csv.DictReader(auto_csv.open())}
        assert set(rows) == {STUDENT, STUDENT2, "carla", "david"} and rows["carla"]["auto_max_score"] == f"{max_score:g}"
        exp = course_hub.grading(s, "export", "--gradebook", "gradebook.db", "--out", "grades.csv")
        assert re.search(r"wrote 4 row", exp), exp
        final = {r["student_id"]: r for r in csv.DictReader((s.course_dir / "grades.csv").open())}
        assert final["carla"]["max_score"] == f"{total:g}" and auto_csv.is_file(), final

        # 6. Student: fetch the feedback in the panel and read it.
        t = time.monotonic()
        _refresh(page)
        submitted_row = _row(page, "submitted", aid)
        submitted_row.get_by_role("button", name="Fetch Feedback").first.click()
        page.get_by_text("(view feedback)").first.wait_for(timeout=60_000)
        page.get_by_text("(view feedback)").first.click()
        htmls = sorted((home / aid / "feedback").rglob("*.html"))
        assert htmls, f"no feedback page in {home / aid / 'feedback'}"
        # Issue 19 item 7: "(view feedback)" shows the feedback folder; the student opens the page in it,
        # as the README says (double-click: JupyterLab's HTML viewer).
        item = page.locator(".jp-DirListing-item").filter(has_text=htmls[0].name).first
        item.wait_for(timeout=60_000)
        item.dblclick()
        frame = page.frame_locator("iframe").first
        frame.locator("body").get_by_text("Feedback:").first.wait_for(timeout=60_000)
        jlab.screenshot(page, "hub-student-feedback-in-lab")
        rel = htmls[0].relative_to(home).as_posix()
        page.goto(f"{s.url}/user/{STUDENT}/files/{rel}")
        body = page.inner_text("body")
        # Issue 19 item 9: no image the page's CSP blocks (the Colab badge showed as broken alt text)
        srcs = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src') || '', e.naturalWidth])")
        assert all(src.startswith("data:image/") and w > 0 for src, w in srcs), srcs
        assert "Open In Colab" not in body
        jlab.screenshot(page, "hub-student-feedback")
        timings["feedback"] = time.monotonic() - t
    # Hub student 2 fetches their feedback too (Assignment List > Fetch Feedback runs this).
    _as_student(s, STUDENT2, "fetch_feedback", aid)
    pages2 = sorted((s.home(STUDENT2) / aid / "feedback").rglob("*.html"))
    assert pages2 and "Feedback:" in pages2[0].read_text(), pages2
    print("hub flow timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    # The page shows the autograded points (manually graded answers wait for a TA).
    m = re.search(r"score:\s*([\d.]+)\s*/\s*([\d.]+)", body, re.I)
    assert m, f"the feedback page shows no score:\n{body[:1000]}"
    assert float(m.group(1)) == pytest.approx(score), f"feedback shows {m.group(0)}, the gradebook {score}"
    assert float(m.group(2)) in (pytest.approx(max_score), pytest.approx(total)), (
        f"feedback shows {m.group(0)}; the assignment is worth {max_score} autograded, {total} in all")


def test_prepare_writes_the_course_and_each_users_nbgrader_config(tmp_path):
    """The state folder the hub runs on (no hub, no browser: seconds)."""
    s = course_hub.prepare(course_hub.HubSettings(state=tmp_path / "st", students=["ana", "ben"], fast=True))
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
    # Issue 19 item 4: the state records FAST mode, so `grade` (which loads the state) runs FAST too
    assert course_hub._load(s.state).fast is True
    # Issue 19 item 5: every student's home holds the published lectures and helper (not the solutions)
    for user in ("ana", "ben"):
        mine = s.home(user) / s.course
        assert sorted(p.name for p in (mine / "lectures").glob("*.ipynb")) == \
            sorted(p.name for p in (ROOT / "lectures").glob("*.ipynb"))
        assert (mine / "shared" / "dlcourse" / "__init__.py").is_file()
        assert not (mine / "solutions").exists() and not (mine / "assignments").exists()
    # a student's edit survives a restart of the hub (as with nbgitpuller, missing files are added)
    edited = next((s.home("ana") / s.course / "lectures").glob("*.ipynb"))
    edited.write_text("my notes")
    gone = next((s.home("ben") / s.course / "lectures").glob("*.ipynb"))
    gone.unlink()
    course_hub.prepare(s)
    assert edited.read_text() == "my notes" and gone.is_file()
    # Issue 19 item 6: nbgrader's instructor tools are off for students, on for the instructor
    for user in ("ana", "ben"):
        cfg = s.home(user) / ".jupyter"
        page_cfg = json.loads((cfg / "labconfig" / "page_config.json").read_text())
        assert page_cfg["disabledExtensions"] == {p: True for p in course_hub.STUDENT_HIDDEN_LAB_PLUGINS}
        server = json.loads((cfg / "jupyter_server_config.json").read_text())
        assert server["ServerApp"]["jpserver_extensions"] == {"nbgrader.server_extensions.formgrader": False}
    assert not (s.home("instructor") / ".jupyter" / "labconfig").exists()


def test_a_restart_keeps_the_passwords_or_says_they_changed(tmp_path):
    """Issue 19 item 8: a restart on the same state printed new passwords without a word."""
    state = tmp_path / "st"
    state.mkdir()
    first = course_hub.HubSettings(state=state)
    line = course_hub.keep_or_new_passwords(first, given_student=False, given_instructor=False, new=False)
    assert line.startswith("passwords: new") and (state / "passwords.json").stat().st_mode & 0o777 == 0o600
    again = course_hub.HubSettings(state=state)
    line = course_hub.keep_or_new_passwords(again, given_student=False, given_instructor=False, new=False)
    assert (again.student_password, again.instructor_password) == (first.student_password, first.instructor_password)
    assert "the same as at the last start" in line
    renewed = course_hub.HubSettings(state=state)
    line = course_hub.keep_or_new_passwords(renewed, given_student=False, given_instructor=False, new=True)
    assert renewed.student_password != first.student_password
    assert "NEW students' and instructor's password(s)" in line and "no longer work" in line, line
    given = course_hub.HubSettings(state=state, student_password="chosen-by-me")
    line = course_hub.keep_or_new_passwords(given, given_student=True, given_instructor=False, new=False)
    assert given.student_password == "chosen-by-me" and "NEW students' password(s)" in line, line
    assert given.instructor_password == renewed.instructor_password


def test_nbgitpuller_link_comes_from_course_toml():
    """Lectures on a real hub: the link nbgitpuller serves, from course.toml's repository and branch."""
    from urllib.parse import parse_qs, urlsplit

    proc = subprocess.run([sys.executable, str(ROOT / "hub" / "course_hub.py"), "link", "--hub-url",
                           "https://hub.example.org/", "lectures/01_cnn_stacks.ipynb"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    url = urlsplit(proc.stdout.strip())
    meta = course_hub._course_toml()
    name = meta["repository"].split("/")[-1]
    assert (url.scheme, url.netloc, url.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert parse_qs(url.query) == {"repo": [f"https://github.com/{meta['repository']}"], "branch": [meta["branch"]],
                                   "urlpath": [f"lab/tree/{name}/lectures/01_cnn_stacks.ipynb"],
                                   "targetPath": [name]}
    for kwargs, needle in [({"hub_url": "hub.example.org"}, "http"), ({"repo": ""}, "repo and branch"),
                           ({"app": "voila"}, "app")]:
        args = {"hub_url": "https://h.example", "repo": "o/r", "branch": "main", **kwargs}
        with pytest.raises(ValueError, match=needle):
            course_hub.nbgitpuller_link(args.pop("hub_url"), **args)


def test_grade_refuses_feedback_nbgrader_cannot_release(tmp_path):
    """A page under feedback/ without nbgrader's pairing files made release_feedback crash with a
    traceback (and every later `grade`): `grade` now refuses first, naming the folder and the fix."""
    s = course_hub.HubSettings(state=tmp_path / "st")
    bad = s.course_dir / "feedback" / "carla" / "a1"
    bad.mkdir(parents=True)
    (bad / "a1.html").write_text("<p>page</p>")
    good = s.course_dir / "feedback" / "student1" / "a1"
    good.mkdir(parents=True)
    for f in ("a1.html", "timestamp.txt", "submission_secret.txt"):
        (good / f).write_text("x")
    with pytest.raises(RuntimeError) as e:
        course_hub.check_feedback_releasable(s, "a1")
    msg = str(e.value)
    assert "feedback/carla/a1 lack(s) timestamp.txt/submission_secret.txt" in msg and "student1" not in msg, msg
    assert "Next step: grade again with `hub/start.sh grade a1`" in msg, msg


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
