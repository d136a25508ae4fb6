"""Every assignment, graded through the grading CLI: solution full marks, blank release 0; where the
assignment has a Spanish edition (assignments/es/<id>/), the Spanish solution (the Spanish release
with the reference answers typed in) full marks and the Spanish blank release 0, in the same batch,
the same gradebook, the same grade ids and points, feedback in Spanish. Every mistake fixture
(tests/mistakes/<id>/*.py) loses the points it names.

One ``python -m dlcourse.grading autograde --workers 2`` call per assignment grades the reference
solution, the blank release(s) and the first mistake fixture as students, in FAST mode, sandboxed
when bubblewrap is installed (else ``--unsafe``: these notebooks are the course's own). All the
mistake fixtures are checked by :mod:`dlcourse.course.replay` (the reference notebook runs once and
forks a control and a mistake run at each fixture's cell, scored with nbgrader's rule): grading
each of the 89 fixtures as a whole submission took most of the suite's time (a4 alone: 370 s). The
mistake graded through the CLI must lose exactly what the replay says it loses, which keeps the
replay honest against the grader. The same check runs on the tiny fixture course so the tool is
tested even before assignments exist.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlcourse.course import fixtures, replay
from dlcourse.course import nbgrader_api as nbg
from dlcourse.course.conventions import assignments

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "grading_course"


def grade_through_cli(course: Path, aid: str, tests_dir: Path, tmp: Path) -> tuple[dict, list, subprocess.CompletedProcess]:
    """Grade solution, blank release(s) and the first mistake of ``aid`` in one CLI call; return report, mistakes, process."""
    subs = tmp / "submitted"
    release = course / "assignments" / aid  # the committed release (kept in sync by test_assignments.py)
    if not release.is_dir():
        release = nbg.generate_release(course / "solutions", aid, tmp / "release")
    shutil.copytree(course / "solutions" / aid, subs / "solution" / aid)
    shutil.copytree(release, subs / "blank" / aid)
    es_release = course / "assignments" / "es" / aid
    if es_release.is_dir():  # the Spanish edition, graded in the same batch as the English one
        shutil.copytree(es_release, subs / "blank-es" / aid)
        shutil.copytree(es_release, subs / "solution-es" / aid)
        for path in sorted((subs / "solution-es" / aid).glob("*.ipynb")):
            nbformat.write(fixtures.with_answers(nbformat.read(path, as_version=4),
                                        nbformat.read(course / "solutions" / aid / path.name, as_version=4)), path)
    mistakes = fixtures.load_mistakes(tests_dir, aid)
    for m in mistakes[:1]:  # the others: replay.check_mistakes (module doc)
        fixtures.write_mistake_submission(course / "solutions" / aid, m, subs / f"mistake-{m.name}" / aid)
    cmd = [sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", "--assignment", aid,
           "--submissions", str(subs), "--out", str(tmp / "out"), "--workers", "2", "--fast"]
    if shutil.which("bwrap") is None:
        cmd.append("--unsafe")  # trusted notebooks (the course's own); the hostile tests need the sandbox
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp / "out" / f"autograde-{aid}.json").read_text())
    return report, mistakes, proc


def check_round_trip(course: Path, aid: str, tests_dir: Path, tmp: Path) -> None:
    report, mistakes, proc = grade_through_cli(course, aid, tests_dir, tmp)
    st = {s["student_id"]: s for s in report["students"]}
    table = "\n".join(f"{s['student_id']}: {s['score']:g}/{s['max_score']:g} {s['status']}" for s in report["students"])
    sol, blank = st["solution"], st["blank"]
    assert sol["max_score"] > 0, f"{aid}: no autograded points\n{table}"
    assert sol["status"] == "ok" and sol["score"] == sol["max_score"], \
        f"{aid}: the solution did not get full marks\n{table}\n" + "\n".join(sol["notes"][-10:])
    nb_dir = tmp / "out" / "autograded" / "solution" / aid
    for path in sorted(nb_dir.glob("*.ipynb")):
        errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
                  for i, c in enumerate(nbformat.read(path, as_version=4).cells) for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{aid}: the solution raised errors in {path.name}: {errors[:3]}"
    assert blank["score"] == 0, f"{aid}: the blank release earned points\n{table}"
    if "solution-es" in st:
        sol_es, blank_es = st["solution-es"], st["blank-es"]
        assert sol_es["status"] == "ok" and sol_es["score"] == sol_es["max_score"] == sol["max_score"], \
            f"{aid}: the Spanish solution did not get the English full marks\n{table}\n" + "\n".join(sol_es["notes"][-10:])
        assert {g: c["max_score"] for g, c in sol_es["cells"].items()} == {g: c["max_score"] for g, c in sol["cells"].items()}
        assert blank_es["score"] == 0 and blank_es["max_score"] == sol["max_score"], f"{aid}: Spanish blank\n{table}"
        for sid, want in (("solution-es", "es"), ("blank-es", "es"), ("solution", "en")):
            pages = sorted((tmp / "out").glob(f"feedback*/{sid}/{aid}/*.html"))
            assert pages, f"{aid}: no feedback page for {sid}"
            for page in pages:
                html = page.read_text()
                assert f'<html lang="{want}">' in html, f"{aid}: {sid}'s feedback is not in its edition ({want})"
                if want == "es":
                    assert "Retroalimentación" in html and "[en] " not in html, \
                        f"{aid}: {sid}'s feedback shows English (untranslated '[en] ' text or labels)"
    results = replay.check_mistakes(course, aid, tests_dir)
    assert [r.name for r in results] == [m.name for m in mistakes]
    report_text = replay.format_results(aid, results)
    bad = [r.name for r in results if not r.caught]
    assert not bad, f"{aid}: mistakes that keep points (or whose control fails):\n{report_text}"
    for m in mistakes[:1]:  # graded by the CLI too: the grader must agree with the replay, cell by cell
        r = st[f"mistake-{m.name}"]
        replayed = next(x for x in results if x.name == m.name)
        kept = [g for g in m.loses if r["cells"][g]["score"] >= r["cells"][g]["max_score"]]
        assert not kept and r["score"] < r["max_score"], \
            f"{aid}: mistake {m.name} ({m.why}) kept the points of {kept or 'everything'} in the grader\n{table}"
        assert {g: r["cells"][g]["score"] for g in m.loses} == {g: replayed.mistake[g].score for g in m.loses}, \
            f"{aid}: the grader and the replay disagree on mistake {m.name}\n{table}\n{report_text}"
    print(report_text)
    print(f"\n{aid}: {len(st)} submissions graded in {report['seconds']:.0f} s\n{table}")


def test_cli_round_trip_on_fixture_course(tmp_path):
    check_round_trip(FIXTURE, "g1_basics", FIXTURE / "tests", tmp_path)


@pytest.mark.parametrize("aid", assignments(ROOT))
def test_cli_round_trip(aid, tmp_path):
    check_round_trip(ROOT, aid, ROOT / "tests", tmp_path)
