"""Unit and CLI tests of dlcourse.grading on the tiny fixture course (tests/fixtures/grading_course).

Fast pure-Python parts (rebuilding a submission, sanitizing, leak checks, collect) run
in-process; the CLI paths that start kernels are batched: one ``--unsafe`` autograde run
(also used for the export and feedback re-render tests) and the no-sandbox refusal.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from dlcourse.course import release
from dlcourse.grading import collect, feedback, rebuild, sandbox, worker

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "tests" / "fixtures" / "grading_course"
SRC = COURSE / "solutions" / "g1_basics" / "g1_basics.ipynb"


def cli(*args, env=None, cwd=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse.grading", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def release_dir() -> Path:
    """The fixture course's committed release (test_release_then_publish checks it is in sync)."""
    return COURSE / "assignments" / "g1_basics"


def _source_and_release(release_dir):
    return nbformat.read(SRC, as_version=4), nbformat.read(release_dir / "g1_basics.ipynb", as_version=4)


def _write(tmp_path, nb_dict, name="sub.ipynb") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(nb_dict))
    return p


def _as_dict(nb) -> dict:
    return json.loads(nbformat.writes(nb))


# ----------------------------------------------------------------- rebuilding submissions

def test_an_untouched_answer_cell_is_unanswered(release_dir):
    # nbgrader's checksum rule (nbgrader.utils.determine_grade): the release's text is no answer
    answers = [c for c in nbformat.read(release_dir / "g1_basics.ipynb", as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")]
    assert answers, "the fixture course should have a manually graded answer cell"
    for cell in answers:
        assert worker._unanswered(cell)
        edited = copy.deepcopy(cell)
        edited.source += "\nMy answer."
        assert not worker._unanswered(edited)
    assert not worker._unanswered(nbformat.v4.new_markdown_cell("no nbgrader metadata"))


def test_rebuild_takes_answers_and_keeps_course_tests(release_dir, tmp_path):
    source, rel = _source_and_release(release_dir)
    sub = _as_dict(rel)
    for c in sub["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id")
        if gid == "ex1_add":
            c["source"] = "def add(a, b):\n    return 99"
        if gid == "test_add_hidden":
            c["source"] = "pass"
            c["metadata"]["nbgrader"]["points"] = 1000
    sub["cells"].insert(4, {"cell_type": "code", "metadata": {}, "source": "helper = 1", "outputs": [],
                            "execution_count": None})
    cells, notes = rebuild.read_submission(_write(tmp_path, sub))
    canon = rebuild.build(source, rel, cells)
    srcs = [c.source for c in canon.nb.cells]
    assert "def add(a, b):\n    return 99" in srcs
    hidden = canon.nb.cells[canon.graded["test_add_hidden"]]
    assert "BEGIN HIDDEN TESTS" in hidden.source and hidden.metadata.nbgrader.points == 2
    assert srcs.index("helper = 1") == srcs.index("def add(a, b):\n    return 99") + 1  # extra cell kept in place
    assert canon.roles[srcs.index("helper = 1")] == "student"
    assert canon.roles[canon.graded["test_add_hidden"]] == "test"
    assert any("was edited" in n for n in canon.notes) and any("points" in n for n in canon.notes)
    assert canon.nb.metadata.kernelspec.name == "python3"


def test_rebuild_without_nbgrader_metadata_finds_answers_by_place(release_dir, tmp_path):
    """Another editor dropped all metadata and ids: answers are found between the unchanged cells."""
    source, rel = _source_and_release(release_dir)
    sub = _as_dict(rel)
    for c in sub["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id")
        if gid == "ex1_add":
            c["source"] = "def add(a, b):\n    return a + b"
        c["metadata"] = {}
        c.pop("id", None)
    sub["nbformat_minor"] = 4
    cells, _ = rebuild.read_submission(_write(tmp_path, sub))
    canon = rebuild.build(source, rel, cells)
    assert canon.answers.get("ex1_add") == "def add(a, b):\n    return a + b"
    assert not any("was missing" in n for n in canon.notes), canon.notes


@pytest.mark.parametrize("content, why", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not an object"),
    ('{"cells": 5}', "no list of cells"),
    ('{"cells": [1, {"cell_type": "nope"}]}', "no readable cell"),
])
def test_malformed_submissions_are_reported(tmp_path, content, why):
    p = tmp_path / "bad.ipynb"
    p.write_text(content)
    with pytest.raises(rebuild.Malformed, match=why):
        rebuild.read_submission(p)


def test_duplicate_grade_id_grades_the_first(release_dir, tmp_path):
    source, rel = _source_and_release(release_dir)
    sub = _as_dict(rel)
    idx = next(i for i, c in enumerate(sub["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_add")
    first = copy.deepcopy(sub["cells"][idx])
    first["source"] = "def add(a, b):\n    return a + b"
    sub["cells"].insert(idx, first)
    cells, _ = rebuild.read_submission(_write(tmp_path, sub))
    canon = rebuild.build(source, rel, cells)
    assert canon.answers["ex1_add"] == "def add(a, b):\n    return a + b"
    assert "duplicate ex1_add" in canon.edited


def test_instructor_names_and_imports():
    assert rebuild.instructor_names("import numpy as np\nfrom x import y as z\ndef f(): pass\nA = 1") == \
        ["np", "z", "f", "A"]
    assert rebuild.imported_modules(["import torch.nn.functional as F", "from numpy.testing import assert_allclose"]) \
        == ["torch", "torch.nn", "torch.nn.functional", "numpy", "numpy.testing", "numpy.testing.assert_allclose"]


def test_cell_score_rules():
    cell = nbformat.v4.new_code_cell("assert True")
    ok = worker.executor.CellRun(0, status="ok", reply={"status": "ok"})
    assert worker.cell_score(cell, ok, 2.0) == (2.0, "passed", None)
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="warning")]
    assert worker.cell_score(cell, ok, 2.0) == (0.0, "failed (wrote to stderr)", "warning")
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)]
    assert worker.cell_score(cell, ok, 2.0) == (0.5, "partial credit", None)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "7"}, execution_count=1)]
    assert worker.cell_score(cell, ok, 2.0)[0] == 0.0  # more than the cell's points: nbgrader refuses it
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "'done'"}, execution_count=1)]
    assert worker.cell_score(cell, ok, 2.0)[0] == 2.0  # not a number: full marks, as nbgrader
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong shape", traceback=[])]
    assert worker.cell_score(cell, ok, 2.0) == (0.0, "failed", "AssertionError: wrong shape")
    cell.outputs = []
    hidden_error = worker.executor.CellRun(0, status="error", reply={"status": "error", "ename": "AssertionError"})
    assert worker.cell_score(cell, hidden_error, 2.0)[0] == 0.0  # error reply without an error output
    void = worker.executor.CellRun(0, status="ok", reply={"status": "ok"}, void=True)
    assert worker.cell_score(cell, void, 2.0)[0] == 0.0
    assert worker.cell_score(cell, None, 2.0)[0] == 0.0


def test_limits_validation():
    with pytest.raises(ValueError, match="memory_mb"):
        sandbox.Limits(memory_mb=0)
    with pytest.raises(ValueError, match="cell_timeout"):
        sandbox.Limits(cell_timeout=-1)
    with pytest.raises(ValueError, match="too small"):
        sandbox.Limits(pids=3)


# ----------------------------------------------------------------- sanitizing and feedback

def test_sanitize_html_removes_scripts_and_handlers():
    dirty = ('<b>x</b><script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">l</a>'
             '<iframe src="https://e.example"></iframe><img src="data:image/png;base64,iVBORw0KGgo=">')
    clean = feedback.sanitize_html(dirty)
    assert "<b>x</b>" in clean and "<script" not in clean and "onerror" not in clean
    assert "javascript:" not in clean and "<iframe" not in clean
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean


def test_sanitize_notebook_drops_active_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x"), nbformat.v4.new_markdown_cell("<script>1</script>")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<i>ok</i><script>x</script>", "text/plain": "ok"}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg><script>x</script></svg>"}),
    ]
    removed = feedback.sanitize_notebook(nb)
    assert removed == 2
    [kept] = nb.cells[0].outputs  # the script's text may stay, as inert text
    assert kept.data["text/html"].startswith("<i>ok</i>") and "<script" not in kept.data["text/html"]
    assert "<script" not in nb.cells[1].source


def test_feedback_hides_hidden_tests(release_dir):
    source, rel = _source_and_release(release_dir)
    hidden = feedback.hidden_test_lines(c.source for c in source.cells)
    roles = ["test" if rebuild.cell_role(c) == "test" else "student" for c in source.cells]
    release_src = {c.metadata.nbgrader.grade_id: r.source for c, r in zip(source.cells, rel.cells)
                   if rebuild.cell_role(c) == "test"}
    leak_line = next(iter(hidden))
    source.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="I found: " + leak_line)]
    page = feedback.render_feedback(source, student="s1", assignment="g1_basics", notebook="g1_basics",
                                    cells={"test_add_hidden": {"score": 0, "max_score": 2, "verdict": "failed",
                                                               "message": "AssertionError: " + leak_line}},
                                    test_release_sources=release_src, hidden=hidden, status="ok", notes=[],
                                    roles=roles, score=0, max_score=5)
    import html as html_mod

    assert not [ln for ln in hidden if ln in page or html_mod.escape(ln) in page]
    assert "[hidden test redacted]" in page and feedback.CSP in page


def test_feedback_page_has_no_image_its_csp_blocks(release_dir):
    """Issue 19 item 9: the Colab badge (an external SVG) showed as broken alt text under the page's CSP."""
    from dlcourse.course import conventions as nbtools

    source, rel = _source_and_release(release_dir)
    badge = nbtools.badge_markdown("assignments/g1_basics/g1_basics.ipynb", "dlcourse-kit/cnn-course", "main")
    source.cells.insert(0, nbformat.v4.new_markdown_cell(badge + "\n\n# G1\n![a diagram](https://example.org/d.png)"))
    roles = ["student"] + ["test" if rebuild.cell_role(c) == "test" else "student" for c in source.cells[1:]]
    code = next(c for c, r in zip(source.cells, roles) if c.cell_type == "code" and r == "student")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": '<img src="https://example.org/x.png" alt="remote"><img src="data:image/png;base64,iVBORw0KGgo=">'})]
    page = feedback.render_feedback(source, student="s1", assignment="g1_basics", notebook="g1_basics", cells={},
                                    test_release_sources={}, hidden=set(), status="ok", notes=[], roles=roles,
                                    score=0, max_score=5)
    import re as re_mod

    imgs = re_mod.findall(r"<img\b[^>]*>", page)
    assert imgs and all('src="data:image/' in i for i in imgs), imgs  # only images the CSP allows (img-src data:)
    assert "colab-badge" not in page and "Open In Colab" not in page, "the badge is left out of feedback pages"
    assert "[image: a diagram]" in page and "[image: remote]" in page  # other external images: their alt text


# ----------------------------------------------------------------- release and publish

def test_release_leak_check_finds_solution_and_hidden_lines(tmp_path, release_dir):
    bad = tmp_path / "bad_release"
    shutil.copytree(release_dir, bad)
    nb = nbformat.read(bad / "g1_basics.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Hint: `return (x - x.mean()) / x.std() * SCALE`"))
    nb.cells.append(nbformat.v4.new_code_cell('assert result == 42, "add(20, 22) should be 42"'))
    nbformat.write(nb, bad / "g1_basics.ipynb")
    problems = release.release_leaks(COURSE / "solutions" / "g1_basics", bad)
    assert any("solution line" in p for p in problems) and any("hidden-test line" in p for p in problems), problems
    assert not release.release_leaks(COURSE / "solutions" / "g1_basics", release_dir)


def test_release_cli_refuses_a_leaking_solution(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    nb = nbformat.read(course / "solutions" / "g1_basics" / "g1_basics.ipynb", as_version=4)
    # an instruction cell that quotes the solution: the release would hand it out
    nb.cells.insert(2, nbformat.v4.new_markdown_cell("Answer: `return (x - x.mean()) / x.std() * SCALE`"))
    nbformat.write(nb, course / "solutions" / "g1_basics" / "g1_basics.ipynb")
    before = (course / "assignments" / "g1_basics" / "g1_basics.ipynb").read_bytes()
    proc = cli("--course", course, "release", "g1_basics")
    assert proc.returncode == 1 and "REFUSED g1_basics" in proc.stdout, proc.stdout + proc.stderr
    assert (course / "assignments" / "g1_basics" / "g1_basics.ipynb").read_bytes() == before  # not overwritten


def test_release_then_publish(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    shutil.rmtree(course / "assignments" / "g1_basics")
    proc = cli("--course", course, "release", "g1_basics")
    assert proc.returncode == 0 and "released g1_basics" in proc.stdout, proc.stdout + proc.stderr
    fresh, committed = course / "assignments" / "g1_basics", COURSE / "assignments" / "g1_basics"
    assert sorted(p.name for p in fresh.iterdir()) == ["g1_basics.ipynb", "scale.txt"]
    for p in fresh.iterdir():  # the committed fixture release is in sync with its source
        assert p.read_bytes() == (committed / p.name).read_bytes(), f"run: python -m dlcourse.grading --course " \
            f"tests/fixtures/grading_course release ({p.name} differs)"
    (course / "lectures").mkdir()
    shutil.copy(course / "assignments" / "g1_basics" / "g1_basics.ipynb", course / "lectures" / "01_intro.ipynb")
    out = tmp_path / "student_tree"
    proc = cli("--course", course, "publish", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "README.md").is_file() and (out / "assignments" / "g1_basics" / "g1_basics.ipynb").is_file()
    assert not (out / "solutions").exists()
    # a lecture that shows a hidden test makes the check fail
    nb = nbformat.read(course / "lectures" / "01_intro.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('assert result == 42, "add(20, 22) should be 42"'))
    nbformat.write(nb, course / "lectures" / "01_intro.ipynb")
    proc = cli("--course", course, "publish", "--out", out, "--force")
    assert proc.returncode == 1 and "hidden-test line" in proc.stdout, proc.stdout


# ----------------------------------------------------------------- collect

def _nb_with_ids(release_dir) -> str:
    return (release_dir / "g1_basics.ipynb").read_text()


def test_collect_uploads_with_roster(tmp_path, release_dir):
    up = tmp_path / "uploads"
    up.mkdir()
    text = _nb_with_ids(release_dir)
    (up / "Jane Doe - g1_basics.ipynb").write_text(text)
    (up / "jsmith_g1_basics (1).ipynb").write_text(text)
    older = up / "jsmith_g1_basics.ipynb"
    older.write_text(text)
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    (up / "unknown person.ipynb").write_text(text)
    (up / "notes.txt").write_text("hello")
    stripped = json.loads(text)
    for c in stripped["cells"]:
        c["metadata"] = {}
    (up / "amy_colab_download.ipynb").write_text(json.dumps(stripped))  # Colab lost the metadata
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\ns001,Jane Doe,jane@uni.example\ns002,John Smith,jsmith@uni.example\n"
                      "s003,Amy Lee,amy@uni.example\n")
    out = tmp_path / "submitted"
    proc = cli("--course", COURSE, "collect", "--uploads", up, "--roster", roster, "--assignment", "g1_basics",
               "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "s001" / "g1_basics" / "g1_basics.ipynb").is_file()
    assert (out / "s002" / "g1_basics" / "g1_basics.ipynb").is_file()
    assert (out / "s003" / "g1_basics" / "g1_basics.ipynb").is_file()
    rows = {Path(r["file"]).name: r for r in csv.DictReader((out / ".collect-report.csv").open())}
    assert rows["jsmith_g1_basics.ipynb"]["status"] == "superseded"
    assert rows["unknown person.ipynb"]["status"] == "unmatched" and "roster" in rows["unknown person.ipynb"]["reason"]
    assert rows["notes.txt"]["status"] == "unmatched"
    assert "UNMATCHED" in proc.stdout
    assert cli("--course", COURSE, "collect", "--uploads", up, "--roster", roster, "--out", tmp_path / "o2",
               "--strict").returncode == 1


def test_collect_uploads_by_pattern_and_folders(tmp_path, release_dir):
    up = tmp_path / "uploads"
    (up / "alice").mkdir(parents=True)
    (up / "alice" / "whatever.ipynb").write_text(_nb_with_ids(release_dir))
    items = collect.collect_uploads(up, COURSE)
    assert [(i.student, i.assignment, i.status) for i in items] == [("alice", "g1_basics", "collected")]
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "g1_basics__bob.ipynb").write_text("{broken")
    items = collect.collect_uploads(flat, COURSE, pattern=r"(?P<assignment>g\d_\w+?)__(?P<student>\w+)\.ipynb")
    assert [(i.student, i.assignment, i.status) for i in items] == [("bob", "g1_basics", "collected")]
    with pytest.raises(ValueError, match="student"):
        collect.collect_uploads(flat, COURSE, pattern=r"(?P<who>\w+)")


def test_collect_exchange_takes_latest(tmp_path, release_dir):
    inbound = tmp_path / "exchange" / "cnn101" / "inbound"
    for ts in ("2025-05-08 10:00:00.000000 UTC", "2025-05-09 09:00:00.000000 UTC"):
        d = inbound / f"s001+g1_basics+{ts}+abc"
        d.mkdir(parents=True)
        (d / "g1_basics.ipynb").write_text(_nb_with_ids(release_dir).replace("YOUR", ts[:10]))
        (d / "timestamp.txt").write_text(ts)
        (d / "submission_secret.txt").write_text("secret-" + ts[:10])
    (inbound / "garbage").mkdir()
    out = tmp_path / "submitted"
    proc = cli("--course", COURSE, "collect", "--exchange", tmp_path / "exchange", "--course-id", "cnn101", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = out / "s001" / "g1_basics"
    assert "2025-05-09" in (got / "g1_basics.ipynb").read_text()
    assert (got / "timestamp.txt").read_text().startswith("2025-05-09")
    # nbgrader release_feedback pairs the feedback with the submission through this file
    assert (got / "submission_secret.txt").read_text() == "secret-2025-05-09"


def test_collect_colab_downloads_need_a_roster(tmp_path, release_dir):
    """Issue 19 item 2: Colab names every download after the notebook; without a roster (and the LMS's
    file names) nobody can be told apart, and collect says so and what to give it."""
    up = tmp_path / "uploads"
    up.mkdir()
    text = _nb_with_ids(release_dir)
    (up / "g1_basics.ipynb").write_text(text)  # as Colab downloads it
    (up / "g1_basics (1).ipynb").write_text(text)  # the browser's second download
    proc = cli("--course", COURSE, "collect", "--uploads", up, "--out", tmp_path / "sub")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nothing collected: none of the 2 notebook(s) says whose it is" in proc.stderr, proc.stderr
    assert "Next step: give --roster" in proc.stderr, proc.stderr
    # what an LMS hands over: Moodle's "download all" (a folder per submission) and Canvas' flat names
    lms = tmp_path / "lms"
    (lms / "Ana Lopez_1234_assignsubmission_file_").mkdir(parents=True)
    (lms / "Ana Lopez_1234_assignsubmission_file_" / "g1_basics.ipynb").write_text(text)
    (lms / "pereztomas_5678_91011_g1_basics.ipynb").write_text(text)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\nana,Ana Lopez,ana@uni.example\ntomas,Tomas Perez,tperez@uni.example\n")
    proc = cli("--course", COURSE, "collect", "--uploads", lms, "--roster", roster, "--out", tmp_path / "sub2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for sid in ("ana", "tomas"):
        got = tmp_path / "sub2" / sid / "g1_basics"
        assert (got / "g1_basics.ipynb").is_file() and not (got / "submission_secret.txt").exists()


def test_an_upload_never_replaces_a_hub_submission(tmp_path, release_dir):
    """A student with a hub submission in submitted/ keeps it: the upload is reported as skipped."""
    out = tmp_path / "submitted"
    hub = out / "ana" / "g1_basics"
    hub.mkdir(parents=True)
    (hub / "g1_basics.ipynb").write_text("hub version")
    (hub / "submission_secret.txt").write_text("s3cret")
    up = tmp_path / "uploads" / "ana"
    up.mkdir(parents=True)
    (up / "g1_basics.ipynb").write_text(_nb_with_ids(release_dir))
    items = collect.collect_uploads(tmp_path / "uploads", COURSE)
    counts = collect.write_collected(items, out, out / ".collect-report.csv")
    assert counts == {"skipped": 1}, [(i.status, i.reason) for i in items]
    assert "hub submission" in items[0].reason and "remove the folder" in items[0].reason
    assert (hub / "g1_basics.ipynb").read_text() == "hub version"


# ----------------------------------------------------------------- the CLI end to end

def test_autograde_refuses_without_sandbox(tmp_path):
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no bwrap on PATH
    (tmp_path / "subs").mkdir()
    proc = cli("--course", COURSE, "autograde", "--assignment", "g1_basics", "--submissions", tmp_path / "subs",
               "--out", tmp_path / "out", env=env)
    assert proc.returncode == 2 and "NO SANDBOX" in proc.stderr and "--unsafe" in proc.stderr, proc.stderr
    assert "Cause: bubblewrap (bwrap) is not installed" in proc.stderr and "Next step: run tools/sysdeps.sh" \
        in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (tools/sysdeps.sh)")
def test_sandbox_works_from_a_venv_that_is_a_symlink(tmp_path):
    """Issue 19 item 10: with .venv a link to another folder, the sandbox bound the real folder but
    started Python by the link's path, and blamed user namespaces. Now the link exists in the sandbox too."""
    link = tmp_path / "linked-venv"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    py = link / "bin" / Path(sys.executable).name
    code = ("import json, sys; from dlcourse.grading import sandbox; i = sandbox.sandbox_info(); "
            "print(json.dumps([sys.prefix, i.ok, i.reason]))")
    proc = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    prefix, ok, reason = json.loads(proc.stdout)
    assert prefix == str(link), f"the test did not reproduce a linked venv (sys.prefix {prefix})"
    assert ok, f"the sandbox does not start Python from a linked venv: {reason}"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (tools/sysdeps.sh)")
def test_sandbox_refusals_name_the_cause(tmp_path):
    """When the probe fails, the message names what it found, not a guess about user namespaces."""
    bwrap = shutil.which("bwrap")
    other = tmp_path / "other-link"  # a link the sandbox knows nothing about
    other.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    msg = sandbox._probe_bwrap(bwrap, [str(other / "bin" / "python"), "-c", "pass"])
    assert msg and f"Cause: the sandbox starts Python as {other}/bin/python, but {other} is a symbolic link" in msg, msg
    assert "Next step: run the grader with the real path" in msg and "user namespaces work" in msg, msg
    msg = sandbox._probe_bwrap(bwrap, [str(tmp_path / "no-such-python")])
    assert "does not exist on this machine either" in msg and "Next step:" in msg, msg
    msg = sandbox.diagnose_bwrap_failure(bwrap, 1, "bwrap: No permissions to creating new namespace", ["python"])
    assert "Cause: the kernel refused to create the sandbox's namespaces" in msg and "Next step:" in msg, msg
    msg = sandbox.diagnose_bwrap_failure(bwrap, 1, "bwrap: something else", ["python"])
    assert "something else" in msg and "Next step:" in msg, msg
    from dlcourse.grading.autograde import _check_isolation

    with pytest.raises(sandbox.SandboxUnavailable, match=r"Cause: .* every sandbox can read .* Next step: move it"):
        _check_isolation([Path(sys.prefix) / "gradebook.db"])


def test_autograde_refusals_say_cause_and_next_step(tmp_path):
    """Every refusal of autograde (beyond the sandbox) reads as: what it found; what to do."""
    subs = tmp_path / "subs"
    proc = cli("--course", COURSE, "autograde", "--assignment", "g1_basics", "--submissions", subs,
               "--out", tmp_path / "out", "--unsafe")
    assert proc.returncode == 2 and f"submissions folder {subs} does not exist. Next step: collect first" \
        in proc.stderr, proc.stderr
    subs.mkdir()
    proc = cli("--course", COURSE, "autograde", "--assignment", "nope", "--submissions", subs,
               "--out", tmp_path / "out", "--unsafe")
    assert proc.returncode == 2 and "no assignment 'nope'" in proc.stderr and "g1_basics, g2_tensors" in proc.stderr
    proc = cli("--course", COURSE, "autograde", "--assignment", "g1_basics", "--submissions", subs,
               "--out", tmp_path / "out", "--unsafe")
    assert proc.returncode == 2 and "no student folder in" in proc.stderr and "Next step: collect" in proc.stderr, \
        proc.stderr
    with pytest.raises(ValueError, match="export to another file"):
        from dlcourse.grading import gradebook

        gradebook.write_csv([], tmp_path / "autograde-g1_basics.csv")


@pytest.fixture(scope="module")
def unsafe_batch(tmp_path_factory, release_dir):
    """One --unsafe run (trusted notebooks) of a mixed class: ``sol`` handed in on the hub (nbgrader collect
    left timestamp.txt and submission_secret.txt), ``blank`` uploaded (Colab); plus a missing student."""
    tmp = tmp_path_factory.mktemp("unsafe")
    subs = tmp / "subs"
    shutil.copytree(COURSE / "solutions" / "g1_basics", subs / "sol" / "g1_basics")
    shutil.copytree(release_dir, subs / "blank" / "g1_basics")
    # what nbgrader collect leaves beside a notebook; release_feedback needs both next to the feedback
    (subs / "sol" / "g1_basics" / "timestamp.txt").write_text("2025-05-09 09:00:00.000000 UTC")
    (subs / "sol" / "g1_basics" / "submission_secret.txt").write_text("f00dfeed")
    (subs / "blank" / "g1_basics" / "timestamp.txt").symlink_to(COURSE / "course.toml")  # never followed
    (subs / "nobody").mkdir()
    (subs / "bad name!").mkdir()
    # a page an earlier run filed under feedback/ for the upload: release_feedback would fail on it
    stale = tmp / "out" / "feedback" / "blank" / "g1_basics"
    stale.mkdir(parents=True)
    (stale / "g1_basics.html").write_text("<p>from an earlier run</p>")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin")
    proc = cli("--course", COURSE, "autograde", "--assignment", "g1_basics", "--submissions", subs, "--out",
               tmp / "out", "--unsafe", "--workers", "2", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return tmp, proc


@pytest.mark.xdist_group("grading_unsafe_batch")  # both users of the module fixture on one worker
def test_unsafe_mode_warns_and_grades(unsafe_batch):
    tmp, proc = unsafe_batch
    assert "WARNING: --unsafe" in proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((tmp / "out" / "autograde-g1_basics.csv").open())}
    assert list(next(iter(rows.values()))) == ["student_id", "assignment", "auto_score", "auto_max_score", "status"]
    assert rows["sol"]["auto_score"] == "5" and rows["sol"]["auto_max_score"] == "5" and rows["sol"]["status"] == "ok"
    assert rows["blank"]["auto_score"] == "0"
    assert rows["nobody"]["status"] == "missing"
    assert "bad name!" not in rows
    fb = tmp / "out" / "feedback"
    assert (fb / "sol" / "g1_basics" / "g1_basics.html").is_file()
    assert (fb / "sol" / "g1_basics" / "timestamp.txt").read_text() == "2025-05-09 09:00:00.000000 UTC"
    assert (fb / "sol" / "g1_basics" / "submission_secret.txt").read_text() == "f00dfeed"
    # the upload's page is filed for the LMS, where nbgrader release_feedback does not look (the
    # earlier run's page there is gone)
    assert not (fb / "blank" / "g1_basics").exists()
    up = tmp / "out" / "feedback_uploads" / "blank" / "g1_basics"
    assert (up / "g1_basics.html").is_file() and not (up / "timestamp.txt").exists()
    assert "feedback of 1 upload(s) in" in proc.stdout and "hand each page back through your LMS" in proc.stdout
    assert "release it with `nbgrader release_feedback g1_basics`" in proc.stdout


@pytest.mark.xdist_group("grading_unsafe_batch")
def test_release_feedback_works_for_a_mixed_class(unsafe_batch):
    """Issue 19 item 1: with an upload among the hub submissions, nbgrader release_feedback raised
    FileNotFoundError (timestamp.txt); now it releases the hub student's page and nothing else."""
    tmp, _ = unsafe_batch
    exchange = tmp / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "release_feedback", "g1_basics",
                           f"--CourseDirectory.root={tmp / 'out'}", f"--Exchange.root={exchange}",
                           "--CourseDirectory.course_id=cnn101"], capture_output=True, text=True, env=env,
                          cwd=tmp / "out", timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    released = sorted((exchange / "cnn101" / "feedback").glob("*.html"))
    from nbgrader.utils import notebook_hash

    assert [p.name for p in released] == [notebook_hash(secret="f00dfeed", notebook_id="g1_basics") + ".html"]


@pytest.mark.xdist_group("grading_unsafe_batch")
def test_export_and_feedback_after_manual_grading(unsafe_batch):
    from nbgrader.api import Gradebook

    tmp, _ = unsafe_batch
    out = tmp / "out"
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("q_why", "g1_basics", "g1_basics", "sol")
        assert grade.needs_manual_grade and grade.auto_score is None
        grade.manual_score = 1.0
        grade.needs_manual_grade = False  # what formgrader's grade API does with a manual score
        gb.find_comment("q_why", "g1_basics", "g1_basics", "sol").manual_comment = "Clear answer."
        gb.db.commit()
        blank = gb.find_grade("q_why", "g1_basics", "g1_basics", "blank")
        assert blank.auto_score == 0  # unchanged written answer: zero, as in nbgrader
    before = (out / "autograde-g1_basics.csv").read_text()
    proc = cli("export", "--gradebook", out / "gradebook.db", "--out", out / "grades.csv")
    assert proc.returncode == 0, proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["sol"]["score"] == "6" and rows["sol"]["max_score"] == "6" and rows["sol"]["status"] == "graded"
    assert rows["blank"]["status"] == "graded" and rows["blank"]["score"] == "0"  # unchanged answer: 0, as in nbgrader
    assert rows["nobody"]["status"] == "missing"
    # issue 19 item 3: the export and the autograde run have files of their own in the same folder
    assert (out / "autograde-g1_basics.csv").read_text() == before
    proc = cli("feedback", "--assignment", "g1_basics", "--out", out)
    assert proc.returncode == 0, proc.stderr
    page = (out / "feedback" / "sol" / "g1_basics" / "g1_basics.html").read_text()
    assert "Clear answer." in page and "6 / 6" in page
    assert (out / "feedback_uploads" / "blank" / "g1_basics" / "g1_basics.html").is_file()
    assert not (out / "feedback" / "blank" / "g1_basics").exists(), \
        "the re-rendered upload page went where release_feedback looks"


def test_sysdeps_is_idempotent_and_quiet():
    t0 = time.monotonic()
    proc = subprocess.run(["bash", str(ROOT / "tools" / "sysdeps.sh")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    if shutil.which("bwrap"):
        assert proc.stdout == "" and proc.stderr == "" and time.monotonic() - t0 < 5
    else:
        assert "bubblewrap" in proc.stderr
