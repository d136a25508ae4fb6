"""Hostile and broken submissions (tests/hostile/*.py) graded with honest ones in one CLI batch.

For every case: the expected status and points (no unearned points), plus its own checks.
For the batch: honest students keep full marks, no submission or course file changes, the
batch completes, the gradebook agrees with autograde-<assignment>.csv, nothing is left running,
and no feedback page shows hidden-test code. Every submission is laid out as ``nbgrader collect``
leaves a hub submission (with ``timestamp.txt`` and ``submission_secret.txt``), so its feedback
page is under ``feedback/`` as nbgrader's ``release_feedback`` expects.

The fixture course has a Spanish edition (``assignments/es/<id>/``, made from
``translations/es/assignments/<id>/<id>.po`` by :func:`dlcourse.course.i18n.translate_notebook`). A case
module may declare ``EDITIONS = ("en", "es")``: one submission per edition is made from that edition's
release (student id ``h_<case>`` in English, ``h_<case>_es`` in Spanish), with the same ``EXPECT``;
``VARIANTS = {suffix: value}`` makes one submission per value (``h_<case>_<suffix>``; ``make`` and
``check`` see it as ``ctx["variant"]``, the edition as ``ctx["edition"]``). The batch stays one CLI
call per assignment, English and Spanish submissions mixed.
"""
from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "tests" / "fixtures" / "grading_course"
HOSTILE = ROOT / "tests" / "hostile"
CASES = sorted(p.stem for p in HOSTILE.glob("*.py") if not p.name.startswith("_"))
if os.environ.get("DLCOURSE_HOSTILE_ONLY"):  # developers: run a few cases (comma-separated names)
    CASES = [c for c in CASES if c in os.environ["DLCOURSE_HOSTILE_ONLY"].split(",")]
# honest students and the edition each submits in (the Spanish one must get full marks and a Spanish page)
HONEST = {"honest_a": "en", "honest_z": "en", "honest_es": "es"}
LIMITS = {"g1_basics": ["--cell-timeout", "20", "--timeout", "60", "--memory", "768", "--pids", "64",
                        "--output-kb", "256", "--disk-mb", "64"],
          "g2_tensors": ["--cell-timeout", "60", "--timeout", "120", "--memory", "2048", "--pids", "96",
                         "--output-kb", "256", "--disk-mb", "64"]}

pytestmark = [
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (tools/sysdeps.sh installs it)"),
    # one xdist worker runs the whole module, so the (expensive) batch fixture runs once (make test: --dist loadgroup)
    pytest.mark.xdist_group("grading_hostile"),
]


def load_case(name: str):
    spec = importlib.util.spec_from_file_location(f"hostile_{name}", HOSTILE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def submissions_of(name: str, mod) -> list[tuple[str, str, str, object]]:
    """``(student id, edition, variant suffix, variant value)`` of each submission a case makes."""
    variants = getattr(mod, "VARIANTS", {"": None})
    return [(f"h_{name}" + ("" if ed == "en" else f"_{ed}") + (f"_{suffix}" if suffix else ""), ed, suffix, value)
            for ed in getattr(mod, "EDITIONS", ("en",)) for suffix, value in variants.items()]


CASE_MODS = {name: load_case(name) for name in CASES}
SUBMISSIONS = [(name, *sub) for name, mod in CASE_MODS.items() for sub in submissions_of(name, mod)]


def release_nb(aid: str, edition: str) -> Path:
    """The student release of ``aid`` in ``edition`` (the Spanish one is generated from the English and its catalog)."""
    return COURSE / "assignments" / (aid if edition == "en" else f"{edition}/{aid}") / f"{aid}.ipynb"


def honest_nb(aid: str, edition: str) -> str:
    """An honest student's notebook: the edition's release with the course's solution in every answer cell."""
    src = COURSE / "solutions" / aid / f"{aid}.ipynb"
    if edition == "en":
        return src.read_text()
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in json.loads(src.read_text())["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(release_nb(aid, edition).read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return json.dumps(nb)


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _replace(text: str, ctx: dict) -> str:
    for key in ("course", "source_nb", "submissions", "victim_nb", "out", "gradebook", "port", "marker"):
        text = text.replace(f"@{key.upper()}@", str(ctx[key]))
    return text


def _listen(connections: list) -> int:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.5)

    def loop():
        while True:
            try:
                conn, addr = srv.accept()
                connections.append(addr)
                conn.close()
            except socket.timeout:
                continue
            except OSError:
                return

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1]


@pytest.fixture(scope="session")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    connections: list = []
    ctx = {"course": COURSE, "submissions": tmp / "submitted", "out": tmp / "out", "gradebook": tmp / "out" / "gradebook.db",
           "port": _listen(connections), "marker": f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}",
           "connections": connections}
    ctx["victim_nb"] = ctx["submissions"] / "g1_basics" / "honest_a" / "g1_basics" / "g1_basics.ipynb"
    ctx["source_nb"] = COURSE / "solutions" / "g1_basics" / "g1_basics.ipynb"
    cases = CASE_MODS
    for aid in ("g1_basics", "g2_tensors"):
        release = COURSE / "assignments" / aid  # committed, checked in sync by tests/test_grading.py
        rel_nbs = {ed: release_nb(aid, ed).read_text() for ed in ("en", "es")}  # es: checked by test_spanish_fixture_*
        for sid, ed in HONEST.items():
            dst = ctx["submissions"] / aid / sid / aid
            shutil.copytree(release, dst)  # the files beside the notebook (scale.txt) are the same in both editions
            (dst / f"{aid}.ipynb").write_text(honest_nb(aid, ed))
            _as_collected(dst)
        for name, sid, ed, _, value in SUBMISSIONS:
            mod = cases[name]
            if mod.ASSIGNMENT != aid:
                continue
            nb = json.loads(rel_nbs[ed])
            for cell in nb["cells"]:
                gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if gid in mod.EDITS:
                    cell["source"] = _replace(mod.EDITS[gid], ctx)
            content = mod.make(nb, dict(ctx, edition=ed, variant=value)) if hasattr(mod, "make") else nb
            dst = ctx["submissions"] / aid / sid / aid
            shutil.copytree(release, dst)
            text = content if isinstance(content, (str, bytes)) else json.dumps(content)
            text = _replace(text if isinstance(text, str) else text.decode(), ctx)
            (dst / f"{aid}.ipynb").write_text(text)
            for fname, body in getattr(mod, "EXTRA_FILES", {}).items():
                (dst / fname).write_text(body)
            _as_collected(dst)
    before = {"submissions": _tree_hashes(ctx["submissions"]), "course": _tree_hashes(COURSE)}
    env = dict(os.environ, DLCOURSE_GRADER_SECRET="do-not-leak-" + secrets.token_hex(4))
    reports, runs = {}, {}
    for aid in ("g1_basics", "g2_tensors"):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(COURSE), "autograde",
                               "--assignment", aid, "--submissions", str(ctx["submissions"] / aid), "--out",
                               str(ctx["out"] / aid), "--gradebook", str(ctx["gradebook"]), "--workers", "2",
                               *LIMITS[aid]], capture_output=True, text=True, env=env, timeout=1500)
        runs[aid] = (proc, time.monotonic() - t0)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        reports[aid] = json.loads((ctx["out"] / aid / f"autograde-{aid}.json").read_text())
    after = {"submissions": _tree_hashes(ctx["submissions"]), "course": _tree_hashes(COURSE)}
    return {"ctx": ctx, "cases": cases, "reports": reports, "runs": runs, "before": before, "after": after}


def _as_collected(folder: Path) -> None:
    """What ``nbgrader collect`` leaves beside a hub submission's notebook."""
    if not (folder / "timestamp.txt").exists():
        (folder / "timestamp.txt").write_text("2025-05-09 09:00:00.000000 UTC")
    if not (folder / "submission_secret.txt").exists():
        (folder / "submission_secret.txt").write_text(secrets.token_hex(16))


def _student(batch, aid: str, sid: str) -> dict:
    return next(s for s in batch["reports"][aid]["students"] if s["student_id"] == sid)


def _outputs_text(out: Path, aid: str, sid: str) -> str:
    """All stream/text outputs of a student's autograded notebook, as one string."""
    nb = json.loads((out / "autograded" / sid / aid / f"{aid}.ipynb").read_text())
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            for v in [o.get("text", "")] + [o.get("data", {}).get("text/plain", "")]:
                parts.append("".join(v) if isinstance(v, list) else v)
    return "\n".join(parts)


class _ActiveTags(HTMLParser):
    """Collects tags and attributes of an HTML text that could run code or load something."""

    def __init__(self):
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "svg", "object", "embed", "form", "meta", "link", "style", "base"):
            self.bad.append(tag)
        for k, v in attrs:
            if k.startswith("on") or (k in ("href", "src") and (v or "").strip().lower().startswith("javascript")):
                self.bad.append(f"{tag} {k}={v}")


def assert_inert(text: str) -> None:
    """``text`` (HTML, or markdown with HTML in it) has no script, frame, handler or ``javascript:`` link."""
    parser = _ActiveTags()
    parser.feed(text)
    assert not parser.bad, parser.bad


def assert_inert_notebook(nb: dict) -> None:
    """Every HTML output and markdown cell of an autograded notebook (what formgrader shows) is inert."""
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            for o in c.get("outputs", []):
                html_out = o.get("data", {}).get("text/html", "")
                assert_inert("".join(html_out) if isinstance(html_out, list) else html_out)
        elif c["cell_type"] == "markdown":
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            assert_inert(src)
            assert "javascript:" not in src.lower(), src


def _matches(value, expected) -> bool:
    if isinstance(expected, tuple):
        return value in expected
    return value == expected


def _page(batch, aid: str, sid: str) -> Path:
    return batch["ctx"]["out"] / aid / "feedback" / sid / aid / f"{aid}.html"


@pytest.mark.parametrize("name,sid,edition,variant", [pytest.param(n, s, e, v, id=s[2:]) for n, s, e, v, _ in SUBMISSIONS])
def test_hostile_submission(batch, name, sid, edition, variant):
    mod = batch["cases"][name]
    st = _student(batch, mod.ASSIGNMENT, sid)
    exp = mod.EXPECT
    info = f"{name}: status {st['status']}, score {st['score']}, notes {st['notes'][:12]}"
    if "status" in exp:
        assert _matches(st["status"], exp["status"]), info
    if "score" in exp:
        want = exp["score"]
        assert (st["score"] in want if isinstance(want, tuple) else st["score"] == want), info
    if "max_score" in exp:
        assert st["max_score"] == exp["max_score"], info
    for gid, pts in exp.get("cells", {}).items():
        assert st["cells"][gid]["score"] == pts, f"{info}\n{gid}: {st['cells'][gid]}"
    for sub in exp.get("notes", []):
        assert any(sub in n for n in st["notes"]), f"{info}\nno note contains {sub!r}"
    page = _page(batch, mod.ASSIGNMENT, sid)
    if edition == "es" and st["status"] not in ("malformed", "missing"):  # shown in the student's edition
        assert '<html lang="es">' in page.read_text(), f"{info}\n{page} is not in Spanish"
    if hasattr(mod, "check"):
        out = batch["ctx"]["out"] / mod.ASSIGNMENT
        ctx = dict(batch["ctx"], out=out, outputs=lambda sid: _outputs_text(out, mod.ASSIGNMENT, sid),
                   edition=edition, variant=dict(getattr(mod, "VARIANTS", {})).get(variant), page=page,
                   assert_inert=assert_inert, assert_inert_notebook=assert_inert_notebook)
        mod.check(st, ctx)


@pytest.mark.parametrize("aid", ["g1_basics", "g2_tensors"])
def test_honest_students_unaffected(batch, aid):
    for sid in HONEST:
        st = _student(batch, aid, sid)
        assert st["status"] == "ok" and st["score"] == st["max_score"] > 0, (sid, st)


@pytest.mark.parametrize("aid", ["g1_basics", "g2_tensors"])
def test_spanish_student_graded_alike_and_answered_in_spanish(batch, aid):
    """honest_es: same grade ids, points and score as honest_a, no note; the course's cells and labels in Spanish."""
    from dlcourse.course import i18n

    en, es = _student(batch, aid, "honest_a"), _student(batch, aid, "honest_es")
    assert {g: (c["score"], c["max_score"]) for g, c in es["cells"].items()} == \
        {g: (c["score"], c["max_score"]) for g, c in en["cells"].items()}, (en, es)
    assert es["status"] == "ok" and not es.get("flags"), es  # the Spanish course text is the course's, not an edit
    extra = [n for n in es["notes"] if n not in en["notes"]]
    assert all("edition" in n for n in extra), extra  # at most a word on the edition's catalogs
    page = _page(batch, aid, "honest_es").read_text()
    assert '<html lang="es">' in page and "Retroalimentación" in page and "<th>celda</th>" in page
    assert '<html lang="en">' in _page(batch, aid, "honest_a").read_text()
    cat = i18n.load_catalog(COURSE / "translations" / "es" / "assignments" / aid / f"{aid}.po")
    titles = [m.string.splitlines()[0].lstrip("# ") for m in cat if m.id and m.id.startswith("#")]
    assert titles and all(html.escape(t) in page for t in titles), titles
    graded = json.loads((batch["ctx"]["out"] / aid / "autograded" / "honest_es" / aid / f"{aid}.ipynb").read_text())
    assert any(t in "".join(c["source"]) for c in graded["cells"] if c["cell_type"] == "markdown" for t in titles)


@pytest.mark.parametrize("aid", ["g1_basics", "g2_tensors"])
def test_spanish_fixture_release_in_sync_with_its_catalog(aid, tmp_path):
    """The fixture's catalog follows its English release, and its committed Spanish release is what the catalog
    makes of it (a missing or stale translation raises IncompleteTranslation)."""
    from dlcourse.course import i18n

    import nbformat

    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    english, solution = course / "assignments" / aid / f"{aid}.ipynb", course / "solutions" / aid / f"{aid}.ipynb"
    hidden = [solution] if i18n.catalog_path(course, solution).is_file() else []  # g1: a hidden-test message
    changed = i18n.extract(course, [english, *hidden])
    assert not changed, f"the Spanish catalogs of {aid} do not follow its English release and hidden tests: " \
        "run the extract of tests/fixtures/grading_course/README.md and translate"
    want = nbformat.writes(i18n.translate_notebook(course, english)) + "\n"
    assert release_nb(aid, "es").read_text() == want, \
        f"{release_nb(aid, 'es')} is out of date: regenerate it (tests/fixtures/grading_course/README.md)"


def _sample_fields(msgid: str) -> dict | None:
    """Values for the fields of ``msgid`` that its format specs accept (ints, else floats, else strings)."""
    import string

    names = sorted({n for _, n, _, _ in string.Formatter().parse(msgid) if n})
    for kind in (lambda i: 11 + i, lambda i: 0.25 + i, lambda i: f"S{i}"):
        values = {n: kind(i) for i, n in enumerate(names)}
        try:
            msgid.format(**values)
            return values
        except (ValueError, TypeError, KeyError, IndexError):
            continue
    return None


def test_the_grader_translates_every_hidden_test_message():
    """Hidden-test messages stay out of the kernel (hidden_message.py), so the grader translates what ``tr()``
    wrote there ("[en] " and the English, fields filled in): every finished message of every private catalog
    (the course's and the fixture's), and a hint nested in another message's last field."""
    from dlcourse.course import i18n

    hidden = {}
    for po in sorted((ROOT / "translations").glob("*/hidden/*/*.po")) + sorted(COURSE.glob("translations/*/hidden/*/*.po")):
        hidden.update({m.id: m.string for m in i18n.load_catalog(po) if m.id and m.string and not m.fuzzy})
    assert hidden
    edition = i18n.Edition("es", hidden_messages=hidden)
    missed = []
    for en, es in hidden.items():
        values = _sample_fields(en)
        assert values is not None, f"no sample values fit the fields of {en!r}"
        got = edition.translate_messages(f"AssertionError: [en] {en.format(**values)}\n")
        if got != f"AssertionError: {es.format(**values)}\n":
            missed.append((en, got))
    assert not missed, missed[:5]
    inner = "inner hint, {x}"
    nested = i18n.Edition("es", hidden_messages={"{a} is wrong: {hint}": "{a} está mal: {hint}", inner: "pista, {x}"})
    assert nested.translate_messages("E: [en] 3 is wrong: [en] inner hint, 4") == "E: 3 está mal: pista, 4"


def test_every_student_graded_and_batch_completed(batch):
    for aid, (proc, seconds) in batch["runs"].items():
        n = sum(1 for name, *_ in SUBMISSIONS if batch["cases"][name].ASSIGNMENT == aid) + len(HONEST)
        rows = list(csv.DictReader((batch["ctx"]["out"] / aid / f"autograde-{aid}.csv").open()))
        assert len(rows) == n, (aid, len(rows), n)
        assert list(rows[0]) == ["student_id", "assignment", "auto_score", "auto_max_score", "status"]
        print(f"{aid}: {n} submissions in {seconds:.0f} s")


def test_no_submission_or_course_file_changed(batch):
    assert batch["before"]["course"] == batch["after"]["course"]
    assert batch["before"]["submissions"] == batch["after"]["submissions"]


def test_gradebook_agrees_with_autograde_csv(batch, tmp_path):
    out = tmp_path / "export.csv"
    proc = subprocess.run([sys.executable, "-m", "dlcourse.grading", "export", "--gradebook",
                           str(batch["ctx"]["gradebook"]), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    exported = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(out.open())}
    for aid in batch["reports"]:
        for r in csv.DictReader((batch["ctx"]["out"] / aid / f"autograde-{aid}.csv").open()):
            e = exported[(r["student_id"], aid)]
            assert float(e["score"]) == float(r["auto_score"]), (r, e)
            assert (e["status"] == "flagged") == (r["status"] != "ok"), (r, e)


def test_nothing_left_running(batch):
    """No cgroup of this batch's jobs is left (names hold the student id; others may be grading too)."""
    ours = [f"-{sid}-" for sid in HONEST] + ["-h_"]

    def find() -> list[Path]:
        return [d for ctrl in ("memory", "pids", "cpu") for d in Path("/sys/fs/cgroup", ctrl).rglob("dlcourse-*")
                if d.is_dir() and any(tag in d.name for tag in ours)]

    # A SIGKILLed kernel with torch loaded leaves its cgroup only once the kernel has torn its memory
    # down, which takes seconds on a loaded machine (the sandbox retries for up to 60 s); a leaked
    # process never leaves. Look again for a bounded time before calling it left running.
    deadline = time.monotonic() + 90
    leftovers = find()
    while leftovers and time.monotonic() < deadline:
        time.sleep(2)
        leftovers = find()
    from dlcourse.grading.sandbox import describe_jail  # the members of each cgroup left, threads too, and their state

    assert not leftovers, "\n".join(describe_jail(d) for d in leftovers)


def test_feedback_shows_no_hidden_tests(batch):
    from dlcourse.grading import feedback

    import nbformat

    for aid in batch["reports"]:
        src = nbformat.read(COURSE / "solutions" / aid / f"{aid}.ipynb", as_version=4)
        hidden = feedback.hidden_test_lines(c.source for c in src.cells)
        assert hidden
        pages = list((batch["ctx"]["out"] / aid / "feedback").rglob("*.html"))
        assert len(pages) >= 3
        for page in pages:
            text = page.read_text()
            leaked = [ln for ln in hidden if ln in text or html.escape(ln) in text]
            assert not leaked, (page, leaked)
            assert "BEGIN HIDDEN TESTS" not in text, page
