"""LMS exports, due dates, extensions and the late policy, on a gradebook built with nbgrader's API.

A small class: ana on time, ben one day and a bit late, cat late but within her two-day
extension, dan past the cutoff, eve in the gradebook but not in the roster, fay in the roster
but not in the gradebook, gus in both without a submission. The expected numbers are worked out by hand below.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from dlcourse.grading import lms

DUE = dt.datetime(2027, 3, 8, 22, 59)  # naive UTC, as nbgrader stores it (23:59 +01:00)


@pytest.fixture()
def course(tmp_path) -> Path:
    (tmp_path / "course.toml").write_text(
        '[course]\nrepository = "x/y"\nbranch = "main"\n\n'
        '[grading.late]\npercent_per_day = 10\nmax_percent = 50\ncutoff_days = 7\ngrace_minutes = 15\n\n'
        '[grading.due]\na1 = "2027-03-08T23:59:00+01:00"\n')
    return tmp_path


@pytest.fixture()
def gradebook(tmp_path, monkeypatch) -> Path:
    from nbgrader.api import Gradebook

    # nbgrader stamps a new gradebook with its `alembic` script, looked up on PATH
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")

    path = tmp_path / "gradebook.db"
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{path}") as gb:
        warnings.simplefilter("ignore")  # nbgrader's own add_submission warns about SQLAlchemy autoflush
        gb.add_assignment("a1")
        gb.add_notebook("a1", "a1")
        gb.add_grade_cell("ex1", "a1", "a1", max_score=6, cell_type="code")
        gb.add_grade_cell("ex2", "a1", "a1", max_score=4, cell_type="code")
        when = {"ana": DUE - dt.timedelta(hours=2), "ben": DUE + dt.timedelta(days=1, hours=3),
                "cat": DUE + dt.timedelta(days=1, hours=20), "dan": DUE + dt.timedelta(days=8),
                "eve": DUE + dt.timedelta(minutes=10)}
        scores = {"ana": (6, 4), "ben": (6, 2), "cat": (3, 4), "dan": (6, 4), "eve": (5, 4)}
        for sid in ["ana", "ben", "cat", "dan", "eve", "gus"]:
            gb.update_or_create_student(sid)
        for sid, ts in when.items():
            sub = gb.add_submission("a1", sid, timestamp=ts)
            for g in sub.notebooks[0].grades:
                g.auto_score = scores[sid][0 if g.name == "ex1" else 1]
                g.needs_manual_grade = False
        gb.db.commit()
    return path


@pytest.fixture()
def roster(tmp_path) -> Path:
    p = tmp_path / "roster.csv"
    p.write_text("student_id,name,email,lms_id,sis_user_id,sis_login_id,section\n"
                 "ana,Ana Alba,ana@uni.es,101,S101,ana.alba,G1\n"
                 "ben,Ben Bravo,ben@uni.es,102,S102,ben.bravo,G1\n"
                 "cat,Cat Cruz,cat@uni.es,103,S103,cat.cruz,G2\n"
                 "dan,Dan Díaz,dan@uni.es,104,S104,dan.diaz,G2\n"
                 "fay,Fay Font,fay@uni.es,106,S106,fay.font,G2\n"
                 "gus,Gus Gil,gus@uni.es,107,S107,gus.gil,G2\n")
    return p


def test_policy_rules_and_bad_config():
    p = lms.LatePolicy(percent_per_day=10, max_percent=50, cutoff_days=7, grace_minutes=15)
    assert p.penalty_percent(0) == 0 and p.penalty_percent(14 * 60) == 0, "within the grace period"
    assert p.penalty_percent(16 * 60) == 10, "any started day counts"
    assert p.penalty_percent(lms.DAY + 1) == 20
    assert p.penalty_percent(6.5 * lms.DAY) == 50, "the cap"
    assert p.penalty_percent(7 * lms.DAY + 1) == 100, "past the cutoff: nothing"
    assert lms.LatePolicy().penalty_percent(10 * lms.DAY) == 0, "no policy, no penalty"
    with pytest.raises(ValueError, match="percent_per_day must be a number >= 0"):
        lms.LatePolicy(percent_per_day=-1)
    with pytest.raises(ValueError, match="max_percent must be at most 100"):
        lms.LatePolicy(max_percent=150)
    with pytest.raises(ValueError, match="cutoff_days must be a number > 0"):
        lms.LatePolicy(cutoff_days=0)


def test_config_errors_name_the_key(tmp_path):
    (tmp_path / "course.toml").write_text('[grading.late]\npercent_per_dya = 5\n')
    with pytest.raises(ValueError, match="unknown key.*percent_per_dya"):
        lms.load_policy(tmp_path)
    (tmp_path / "course.toml").write_text('[grading.due]\na1 = "2027-03-08T23:59:00"\n')
    with pytest.raises(ValueError, match="has no UTC offset"):
        lms.load_due_dates(tmp_path)
    (tmp_path / "course.toml").write_text('[grading.due]\na1 = "next monday"\n')
    with pytest.raises(ValueError, match="expected an ISO date"):
        lms.load_due_dates(tmp_path)


def test_due_dates_extensions_and_penalties(course, gradebook):
    assert lms.sync_due_dates(gradebook, lms.load_due_dates(course)) == ["a1: due 2027-03-08T22:59:00+00:00"]
    assert lms.sync_due_dates(gradebook, lms.load_due_dates(course)) == [], "already in sync"
    ext = lms.grant_extension(gradebook, "a1", "cat", days=2)
    assert ext == dt.timedelta(days=2)
    with pytest.raises(ValueError, match="no submission of 'a1'"):
        lms.grant_extension(gradebook, "a1", "fay", days=1)
    with pytest.raises(ValueError, match="days must be a number >= 0"):
        lms.grant_extension(gradebook, "a1", "cat", days=-1)
    rows = {r.student_id: r for r in lms.export_rows(gradebook, lms.load_policy(course), parts=True)}
    assert set(rows) == {"ana", "ben", "cat", "dan", "eve", "gus"}
    assert (rows["ana"].seconds_late, rows["ana"].penalty_percent, rows["ana"].final_score) == (0, 0, 10)
    assert rows["ben"].seconds_late == 27 * 3600 and rows["ben"].penalty_percent == 20
    assert rows["ben"].final_score == pytest.approx(8 * 0.8)
    assert rows["cat"].seconds_late == 0 and rows["cat"].extension_seconds == 2 * 86400, "late, but not after the extension"
    assert rows["cat"].final_score == 7
    assert rows["dan"].penalty_percent == 100 and rows["dan"].final_score == 0, "past the cutoff"
    assert rows["eve"].seconds_late == 0, "10 minutes: within the 15-minute grace"
    assert rows["gus"].final_score == 0 and rows["gus"].status == "missing", "nothing handed in: 0"
    assert rows["ben"].parts == {"ex1": 6, "ex2": 2} and rows["ben"].part_max == {"ex1": 6, "ex2": 4}


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_moodle_export(course, gradebook, roster, tmp_path):
    lms.sync_due_dates(gradebook, lms.load_due_dates(course))
    lms.grant_extension(gradebook, "a1", "cat", days=2)
    rows = lms.export_rows(gradebook, lms.load_policy(course))
    r = lms.read_roster(roster)
    rep = lms.write_export(rows, tmp_path / "moodle.csv", "moodle", roster=r)
    table = _read(tmp_path / "moodle.csv")
    assert table[0] == ["Email address", "Full name", "a1", "a1 seconds late", "a1 penalty %"]
    body = {line[0]: line[2:] for line in table[1:]}
    assert body["ana@uni.es"] == ["10", "0", "0"]
    assert body["ben@uni.es"] == ["6.4", "97200", "20"]
    assert body["cat@uni.es"] == ["7", "0", "0"]
    assert body["dan@uni.es"] == ["0", "691200", "100"]
    assert body["fay@uni.es"] == ["", "", ""], "not in the gradebook: left empty, not 0"
    assert body["gus@uni.es"] == ["0", "0", "0"], "in the gradebook, nothing handed in: 0"
    assert rep.not_in_roster == ["eve"] and rep.not_in_gradebook == ["fay"]
    msgs = " ".join(rep.messages(r))
    assert "not in the roster, so NOT in moodle.csv: eve" in msgs and "Fay Font" in msgs


def test_canvas_export_with_parts(course, gradebook, roster, tmp_path):
    lms.sync_due_dates(gradebook, lms.load_due_dates(course))
    rows = lms.export_rows(gradebook, lms.load_policy(course), parts=True)
    lms.write_export(rows, tmp_path / "canvas.csv", "canvas", roster=lms.read_roster(roster), parts=True)
    table = _read(tmp_path / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "a1: ex1", "a1: ex2", "Notes"]
    assert table[1] == ["Points Possible", "", "", "", "", "10", "6", "4", ""]
    ben = next(line for line in table if line[1] == "102")
    assert ben[:6] == ["Ben Bravo", "102", "S102", "ben.bravo", "G1", "6.4"]
    assert ben[6:8] == ["6", "2"] and ben[8] == "a1: 97200 s late, -20 %"


def test_export_needs_a_roster_for_an_lms_and_a_known_format(gradebook, tmp_path):
    rows = lms.export_rows(gradebook, lms.LatePolicy())
    with pytest.raises(ValueError, match="needs --roster"):
        lms.write_export(rows, tmp_path / "x.csv", "canvas")
    with pytest.raises(ValueError, match="format must be one of csv, moodle, canvas"):
        lms.write_export(rows, tmp_path / "x.csv", "blackboard")
    bad = tmp_path / "r.csv"
    bad.write_text("id,email\n1,a@b\n")
    with pytest.raises(ValueError, match="needs a 'student_id' column"):
        lms.read_roster(bad)
    bad.write_text("student_id,email\nana,a@b\nana,c@d\n")
    with pytest.raises(ValueError, match="line 3: student_id 'ana' appears twice"):
        lms.read_roster(bad)


def test_late_notice_for_the_feedback():
    p = lms.LatePolicy(percent_per_day=10, max_percent=50)
    assert lms.late_notice(0, 0, p) == "Submitted on time."
    text = lms.late_notice(27 * 3600, 20, p, score=8, max_score=10)
    assert "1 day 3 h after the due date" in text and "Penalty: 20 %: 8 → 6.4 of 10" in text
    assert "extension of 2 days" in lms.late_notice(0, 0, p, extension_seconds=2 * 86400)


def test_cli_export_and_extension(course, gradebook, roster, tmp_path):
    def cli(*a):
        return subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(course), *map(str, a)],
                              capture_output=True, text=True, timeout=120)

    r = cli("extension", "--gradebook", gradebook, "--assignment", "a1", "--student", "cat", "--days", "2")
    assert r.returncode == 0 and "cat" in r.stdout and "2 days" in r.stdout, r.stdout + r.stderr
    r = cli("export", "--gradebook", gradebook, "--format", "moodle", "--roster", roster, "--out", tmp_path / "m.csv")
    assert r.returncode == 1, "a student left out must not pass silently"
    assert "eve" in r.stderr and "NOT in m.csv" in r.stderr, r.stderr
    assert "due dates: a1: due 2027-03-08T22:59:00+00:00" in r.stdout, r.stdout
    assert any(line[0] == "cat@uni.es" and line[2] == "7" for line in _read(tmp_path / "m.csv"))
    r = cli("export", "--gradebook", gradebook, "--format", "canvas", "--out", tmp_path / "c.csv")
    assert r.returncode == 2 and "needs --roster" in r.stderr
    r = cli("export", "--gradebook", gradebook, "--out", tmp_path / "all.csv")
    assert r.returncode == 0, r.stderr
    assert _read(tmp_path / "all.csv")[0][-3:] == ["seconds_late", "penalty_percent", "final_score"]


def test_autograde_puts_the_penalty_in_the_feedback(tmp_path):
    """A hub submission one day late: its feedback page states the lateness and the penalty."""
    import shutil

    fixture = Path(__file__).resolve().parent / "fixtures" / "grading_course"
    course = tmp_path / "course"
    shutil.copytree(fixture, course)
    (course / "course.toml").write_text((fixture / "course.toml").read_text()
                                        + '\n[grading.late]\npercent_per_day = 25\n\n'
                                          '[grading.due]\ng1_basics = "2027-01-10T12:00:00+00:00"\n')
    subs = tmp_path / "submitted"
    for sid, ts in (("late", "2027-01-11 13:00:00.000000 UTC"), ("early", "2027-01-09 09:00:00.000000 UTC")):
        shutil.copytree(fixture / "solutions" / "g1_basics", subs / sid / "g1_basics")
        (subs / sid / "g1_basics" / "timestamp.txt").write_text(ts)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", "--assignment",
            "g1_basics", "--submissions", str(subs), "--out", str(out), "--fast"]
    if shutil.which("bwrap") is None:
        args.append("--unsafe")  # the course's own solution
    r = subprocess.run(args, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert r.returncode == 0, r.stdout + r.stderr
    late = next(out.glob("feedback*/late/g1_basics/g1_basics.html")).read_text()
    assert '<p class="late">Submitted 1 day 1 h after the due date' in late and "Penalty: 50 %" in late, late[:2000]
    early = next(out.glob("feedback*/early/g1_basics/g1_basics.html")).read_text()
    assert '<p class="late">Submitted on time.</p>' in early
    r = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(course), "export", "--gradebook",
                        str(out / "gradebook.db"), "--out", str(tmp_path / "grades.csv")], capture_output=True, text=True)
    rows = {row[0]: row for row in _read(tmp_path / "grades.csv")[1:]}
    assert rows["late"][8:] == ["90000", "50", "2.5"], rows  # 5 autograded points, half off (manual answer pending)
