"""Grades for the LMS: Moodle and Canvas import files, due dates, extensions and the late policy.

Everything comes from the nbgrader gradebook, through nbgrader's own API:

* **due dates** are nbgrader's (``Assignment.duedate``). ``course.toml`` may set them under
  ``[grading.due]`` (``a1_conv_arithmetic = "2027-03-08T23:59:00+01:00"``); :func:`sync_due_dates`
  writes those into the gradebook, where formgrader shows them too.
* **extensions** are nbgrader's (``Gradebook.grant_extension``, ``SubmittedAssignment.extension``):
  ``python -m dlcourse.grading extension``.
* **lateness** is nbgrader's ``SubmittedAssignment.total_seconds_late`` (the submission's
  timestamp against the due date plus the student's extension).
* the **late policy** is the course's, ``[grading.late]`` in ``course.toml``
  (:class:`LatePolicy`): a percentage of the score off per started day late, a cap, an optional
  hard cutoff after which the submission scores 0, and a grace period.

:func:`export_rows` computes one row per student and assignment (score, lateness, penalty, final
score) and :func:`write_export` writes it as ``csv`` (one row per student and assignment),
``moodle`` (Grade import › CSV file: an identifier column, one column per grade item) or
``canvas`` (Gradebook › Import: Student, ID, SIS User ID, SIS Login ID, Section, one column per
assignment, a "Points Possible" row). A roster maps nbgrader ids to LMS identities; a student
in the gradebook but not in the roster, or the reverse, is reported by name (:class:`ExportReport`).
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LatePolicy", "load_policy", "load_due_dates", "sync_due_dates", "grant_extension", "RosterEntry",
           "read_roster", "ExportRow", "ExportReport", "export_rows", "write_export", "late_notice", "annotate_feedback",
           "add_late_notices", "FORMATS"]

FORMATS = ("csv", "moodle", "canvas")
DAY = 86400.0


@dataclass(frozen=True)
class LatePolicy:
    """The course's late rule (``[grading.late]`` in course.toml).

    Attributes:
        percent_per_day: percent of the score taken off per started day late (after the grace).
        max_percent: the penalty never exceeds this percent (100: a late submission can reach 0).
        cutoff_days: submissions later than this many days score 0 (None: no cutoff).
        grace_minutes: lateness up to this is not late (clock skew, a slow upload).
    """

    percent_per_day: float = 0.0
    max_percent: float = 100.0
    cutoff_days: float | None = None
    grace_minutes: float = 0.0

    def __post_init__(self) -> None:
        for name in ("percent_per_day", "max_percent", "grace_minutes"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"[grading.late] {name} must be a number >= 0, got {v!r}")
        if self.max_percent > 100:
            raise ValueError(f"[grading.late] max_percent must be at most 100, got {self.max_percent!r}")
        if self.cutoff_days is not None and (isinstance(self.cutoff_days, bool)
                                             or not isinstance(self.cutoff_days, (int, float))
                                             or self.cutoff_days <= 0):
            raise ValueError(f"[grading.late] cutoff_days must be a number > 0, got {self.cutoff_days!r}")

    def late_seconds(self, seconds_late: float) -> float:
        """Seconds that count as late: 0 within the grace period."""
        return 0.0 if seconds_late <= self.grace_minutes * 60 else float(seconds_late)

    def penalty_percent(self, seconds_late: float) -> float:
        """Percent taken off a submission ``seconds_late`` after its (extended) due date."""
        late = self.late_seconds(seconds_late)
        if late <= 0:
            return 0.0
        if self.cutoff_days is not None and late > self.cutoff_days * DAY:
            return 100.0
        days = math.ceil(late / DAY)
        return float(min(self.max_percent, days * self.percent_per_day))

    def describe(self) -> str:
        if self.percent_per_day == 0 and self.cutoff_days is None:
            return "no late penalty"
        parts = [f"{self.percent_per_day:g} % off per started day late, at most {self.max_percent:g} %"]
        if self.cutoff_days is not None:
            parts.append(f"0 points after {self.cutoff_days:g} days")
        if self.grace_minutes:
            parts.append(f"{self.grace_minutes:g} minutes of grace")
        return "; ".join(parts)


def _course_toml(course_root: Path | str) -> dict:
    p = Path(course_root) / "course.toml"
    try:
        return tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ValueError(f"no course.toml in {course_root}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{p} is not valid TOML: {e}") from None


def load_policy(course_root: Path | str) -> LatePolicy:
    """The late policy of ``course.toml`` (no penalty when ``[grading.late]`` is absent).

    Args:
        course_root: the course root.

    Returns:
        The policy.

    Raises:
        ValueError: an unknown key or a value out of range (the message names it).
    """
    late = _course_toml(course_root).get("grading", {}).get("late", {})
    known = {"percent_per_day", "max_percent", "cutoff_days", "grace_minutes"}
    unknown = set(late) - known
    if unknown:
        raise ValueError(f"course.toml [grading.late]: unknown key(s) {sorted(unknown)}; expected {sorted(known)}")
    return LatePolicy(**late)


def _parse_due(aid: str, value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, str):
        try:
            d = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"course.toml [grading.due] {aid} = {value!r}: expected an ISO date and time with "
                             "its UTC offset, e.g. \"2027-03-08T23:59:00+01:00\"") from None
    else:
        raise ValueError(f"course.toml [grading.due] {aid}: expected a date and time, got {value!r}")
    if d.tzinfo is None:
        raise ValueError(f"course.toml [grading.due] {aid} = {value!r} has no UTC offset: add one (e.g. +01:00), "
                         "so the due date means the same on every machine")
    return d.astimezone(dt.timezone.utc)


def load_due_dates(course_root: Path | str) -> dict[str, dt.datetime]:
    """``[grading.due]`` of course.toml: assignment id → due date (aware, UTC)."""
    due = _course_toml(course_root).get("grading", {}).get("due", {})
    return {aid: _parse_due(aid, v) for aid, v in due.items()}


def _naive_utc(d: dt.datetime) -> dt.datetime:
    return d.astimezone(dt.timezone.utc).replace(tzinfo=None)  # nbgrader stores naive UTC


def sync_due_dates(gradebook: Path | str, due: dict[str, dt.datetime]) -> list[str]:
    """Write due dates into the gradebook (nbgrader's ``Assignment.duedate``); return what changed.

    Only assignments already in the gradebook are touched (autograde registers them).
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .gradebook import db_url

    changed = []
    with Gradebook(db_url(gradebook)) as gb:
        for aid, d in sorted(due.items()):
            try:
                a = gb.find_assignment(aid)
            except MissingEntry:
                continue
            if a.duedate != _naive_utc(d):
                a.duedate = _naive_utc(d)
                changed.append(f"{aid}: due {d.isoformat()}")
        gb.db.commit()
    return changed


def grant_extension(gradebook: Path | str, assignment: str, student: str, *, days: float = 0, hours: float = 0,
                    minutes: float = 0) -> dt.timedelta | None:
    """Give ``student`` an extension on ``assignment`` (nbgrader's own; all zero removes it).

    Args:
        gradebook: the nbgrader gradebook file.
        assignment: the assignment id.
        student: the student id.
        days, hours, minutes: the extension (added up).

    Returns:
        The extension now recorded, or None when it was removed.

    Raises:
        ValueError: the assignment or the student's submission is not in the gradebook, or a
            negative or non-numeric duration.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .gradebook import db_url

    for name, v in (("days", days), ("hours", hours), ("minutes", minutes)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a number >= 0, got {v!r}")
    with Gradebook(db_url(gradebook)) as gb:
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            raise ValueError(f"{student!r} has no submission of {assignment!r} in {gradebook}: grade it first "
                             "(an extension belongs to a submission in nbgrader)") from None
        gb.grant_extension(assignment, student, minutes=minutes, hours=hours, days=days)
        sub = gb.find_submission(assignment, student)
        return sub.extension


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster: the nbgrader id and the LMS identities."""

    student_id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""        # Canvas "ID" (user id) / Moodle "ID number"
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def read_roster(path: Path | str) -> dict[str, RosterEntry]:
    """Read a roster CSV: ``student_id`` and any of name, email, lms_id, sis_user_id, sis_login_id, section.

    Args:
        path: the CSV file.

    Returns:
        student id -> the student's entry.

    Raises:
        ValueError: no ``student_id`` column, an empty or duplicated id (the line is named).
    """
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"roster {path} does not exist") from None
    with fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        if "student_id" not in cols:
            raise ValueError(f"{path}: the roster needs a 'student_id' column (optional: name, email, lms_id, "
                             f"sis_user_id, sis_login_id, section); found {cols}")
        out: dict[str, RosterEntry] = {}
        fields = RosterEntry.__dataclass_fields__
        for i, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            sid = row.get("student_id", "")
            if not sid:
                raise ValueError(f"{path} line {i}: empty student_id")
            if sid in out:
                raise ValueError(f"{path} line {i}: student_id {sid!r} appears twice")
            out[sid] = RosterEntry(**{k: row.get(k, "") for k in fields})
    return out


@dataclass
class ExportRow:
    """One student and assignment, as exported."""

    student_id: str
    assignment: str
    score: float | None          # gradebook total (manual overrides automatic); 0 when nothing was handed in
    max_score: float
    status: str                  # graded | needs_manual_grade | flagged | missing
    timestamp: str = ""          # submission time (UTC, ISO)
    due: str = ""                # due date including the student's extension (UTC, ISO)
    extension_seconds: float = 0.0
    seconds_late: float = 0.0
    penalty_percent: float = 0.0
    final_score: float | None = None
    parts: dict[str, float] = field(default_factory=dict)       # graded cell -> score
    part_max: dict[str, float] = field(default_factory=dict)    # graded cell -> points


def export_rows(gradebook: Path | str, policy: LatePolicy, assignment: str | None = None, *,
                parts: bool = False) -> list[ExportRow]:
    """One :class:`ExportRow` per student of the gradebook and assignment, late penalty applied.

    Args:
        gradebook: the nbgrader gradebook file.
        policy: the late policy (:func:`load_policy`).
        assignment: only this assignment (default: all).
        parts: also collect the score of each graded cell (``parts``: grade id → score).

    Returns:
        The rows, one per student and assignment.

    Raises:
        ValueError: ``assignment`` is not in the gradebook.
    """
    from nbgrader.api import Gradebook

    from .gradebook import db_url, export_rows as status_rows

    statuses = {(r["student_id"], r["assignment"]): r["status"] for r in status_rows(gradebook, assignment)}
    rows: list[ExportRow] = []
    with Gradebook(db_url(gradebook)) as gb:
        for a in [a for a in gb.assignments if assignment is None or a.name == assignment]:
            subs = {s.student.id: s for s in a.submissions}
            for st in sorted(gb.students, key=lambda s: s.id):
                status = statuses.get((st.id, a.name), "missing")
                sub = subs.get(st.id)
                if sub is None:
                    # nothing handed in: 0, as nbgrader's own export has it
                    rows.append(ExportRow(st.id, a.name, 0.0, float(a.max_score), "missing", final_score=0.0))
                    continue
                late = float(sub.total_seconds_late or 0.0)
                pen = policy.penalty_percent(late)
                score = float(sub.score)
                row = ExportRow(st.id, a.name, score, float(a.max_score), status,
                                timestamp=sub.timestamp.isoformat() + "Z" if sub.timestamp else "",
                                due=sub.duedate.isoformat() + "Z" if sub.duedate else "",
                                extension_seconds=sub.extension.total_seconds() if sub.extension else 0.0,
                                seconds_late=policy.late_seconds(late), penalty_percent=pen,
                                final_score=round(score * (1 - pen / 100), 4))
                if parts:
                    for nb in sub.notebooks:
                        for g in nb.grades:
                            key = g.name if len(sub.notebooks) == 1 else f"{nb.name}:{g.name}"
                            row.parts[key] = float(g.score)
                            row.part_max[key] = float(g.max_score)
                rows.append(row)
    return rows


@dataclass
class ExportReport:
    """What an export wrote and whom it could not match."""

    path: Path
    rows: int
    not_in_roster: list[str] = field(default_factory=list)      # in the gradebook, not in the roster: left out
    not_in_gradebook: list[str] = field(default_factory=list)   # in the roster, no gradebook entry: empty grade
    missing_identity: list[str] = field(default_factory=list)   # in both, but without the identity the LMS needs

    @property
    def complete(self) -> bool:
        return not (self.not_in_roster or self.not_in_gradebook or self.missing_identity)

    def messages(self, roster: dict[str, RosterEntry] | None = None) -> list[str]:
        def who(ids):
            return ", ".join(f"{s} ({roster[s].name})" if roster and s in roster and roster[s].name else s for s in ids)
        out = []
        if self.not_in_roster:
            out.append(f"in the gradebook but not in the roster, so NOT in {self.path.name}: {who(self.not_in_roster)}"
                       " (add them to the roster and export again)")
        if self.not_in_gradebook:
            out.append(f"in the roster but not in the gradebook (no submission graded; their grade is left empty "
                       f"in {self.path.name}): {who(self.not_in_gradebook)}")
        if self.missing_identity:
            out.append(f"in the roster without the identifier the LMS matches on, so NOT in {self.path.name}: "
                       f"{who(self.missing_identity)}")
        return out


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{round(float(v), 4):g}"


def _columns(rows: list[ExportRow], parts: bool) -> tuple[list[str], dict[str, list[str]], dict[str, float]]:
    aids = sorted({r.assignment for r in rows})
    part_names: dict[str, list[str]] = {a: [] for a in aids}
    maxes: dict[str, float] = {}
    for r in rows:
        maxes[r.assignment] = r.max_score
        if parts:
            for p in r.parts:
                if p not in part_names[r.assignment]:
                    part_names[r.assignment].append(p)
    return aids, part_names, maxes


def write_export(rows: list[ExportRow], out: Path | str, fmt: str, *, roster: dict[str, RosterEntry] | None = None,
                 moodle_id: str = "email", parts: bool = False) -> ExportReport:
    """Write ``rows`` in ``fmt`` (``csv``, ``moodle`` or ``canvas``) and say whom it could not match.

    ``moodle``: columns ``Email address`` (or ``ID number`` with ``moodle_id="lms_id"``), then per
    assignment the final score, ``<aid> seconds late`` and ``<aid> penalty %`` (map the score
    columns to grade items on import and leave the others "ignore"); with ``parts``, one column per
    graded cell. ``canvas``: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per
    assignment (and graded cell with ``parts``), a ``Points Possible`` row, and the lateness in the
    ``Notes`` column (Canvas turns any other new column into an assignment).

    Args:
        rows: the rows (:func:`export_rows`).
        out: the file to write.
        fmt: ``csv``, ``moodle`` or ``canvas``.
        roster: the roster (:func:`read_roster`), needed by ``moodle`` and ``canvas``.
        moodle_id: what Moodle matches students on: ``email`` or ``lms_id``.
        parts: one column per graded cell too.

    Returns:
        What was written and whom the roster could not match.

    Raises:
        ValueError: unknown format, or ``moodle``/``canvas`` without a roster.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out, 0)
    if fmt == "csv":
        keys = ["student_id", "assignment", "score", "max_score", "status", "timestamp", "due", "extension_seconds",
                "seconds_late", "penalty_percent", "final_score"]
        with out.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(keys)
            for r in rows:
                if roster is not None and r.student_id not in roster:
                    continue
                w.writerow([r.student_id, r.assignment, _fmt(r.score), _fmt(r.max_score), r.status, r.timestamp,
                            r.due, _fmt(r.extension_seconds), _fmt(r.seconds_late), _fmt(r.penalty_percent),
                            _fmt(r.final_score)])
                report.rows += 1
        if roster is not None:
            _reconcile(rows, roster, report, ident=None)
        return report
    if roster is None:
        raise ValueError(f"--format {fmt} needs --roster: a CSV mapping student_id to the LMS identity "
                         "(email for Moodle; lms_id, sis_user_id or sis_login_id for Canvas)")
    aids, part_names, maxes = _columns(rows, parts)
    by = {(r.student_id, r.assignment): r for r in rows}
    ident = ("email" if moodle_id == "email" else "lms_id") if fmt == "moodle" else None
    students = _reconcile(rows, roster, report, ident=ident, canvas=fmt == "canvas")
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        if fmt == "moodle":
            head = ["Email address" if ident == "email" else "ID number", "Full name"]
            for a in aids:
                head += [a, *[f"{a}: {p}" for p in part_names[a]], f"{a} seconds late", f"{a} penalty %"]
            w.writerow(head)
            for sid in students:
                e = roster[sid]
                line = [getattr(e, ident), e.name]
                for a in aids:
                    r = by.get((sid, a))
                    line += [_fmt(r.final_score if r else None),
                             *[_fmt(r.parts.get(p)) if r else "" for p in part_names[a]],
                             _fmt(r.seconds_late) if r else "", _fmt(r.penalty_percent) if r else ""]
                w.writerow(line)
                report.rows += 1
        else:
            head = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
            for a in aids:
                head += [a, *[f"{a}: {p}" for p in part_names[a]]]
            head.append("Notes")
            w.writerow(head)
            points = ["Points Possible", "", "", "", ""]
            pmax = {(r.assignment, p): v for r in rows for p, v in r.part_max.items()}
            for a in aids:
                points += [_fmt(maxes[a]), *[_fmt(pmax.get((a, p))) for p in part_names[a]]]
            points.append("")
            w.writerow(points)
            for sid in students:
                e = roster[sid]
                line = [e.name or sid, e.lms_id, e.sis_user_id, e.sis_login_id, e.section]
                notes = []
                for a in aids:
                    r = by.get((sid, a))
                    line += [_fmt(r.final_score if r else None),
                             *[_fmt(r.parts.get(p)) if r else "" for p in part_names[a]]]
                    if r and r.seconds_late > 0:
                        notes.append(f"{a}: {r.seconds_late:.0f} s late, -{r.penalty_percent:g} %")
                line.append("; ".join(notes))
                w.writerow(line)
                report.rows += 1
    return report


def _reconcile(rows: list[ExportRow], roster: dict[str, RosterEntry], report: ExportReport, *, ident: str | None,
               canvas: bool = False) -> list[str]:
    """Roster students to write, in roster order; fill the report with whom it could not match."""
    in_gb = {r.student_id for r in rows}
    report.not_in_roster = sorted(in_gb - set(roster))
    report.not_in_gradebook = [s for s in roster if s not in in_gb]
    keep = []
    for sid, e in roster.items():
        has = (bool(e.lms_id or e.sis_user_id or e.sis_login_id) if canvas
               else bool(getattr(e, ident)) if ident else True)
        if not has:
            report.missing_identity.append(sid)
        else:
            keep.append(sid)
    return keep


def late_notice(seconds_late: float, penalty_percent: float, policy: LatePolicy, *, score: float | None = None,
                max_score: float | None = None, extension_seconds: float = 0.0) -> str:
    """One sentence for the student's feedback: how late, the penalty, what it leaves of the score.

    Args:
        seconds_late: how late the submission was (after any extension).
        penalty_percent: the penalty the policy gives for it.
        policy: the late policy.
        score, max_score: the score before the penalty, when known.
        extension_seconds: the student's extension, mentioned when there is one.

    Returns:
        The sentence (empty when the submission was on time).
    """
    if seconds_late <= 0:
        ext = f" (with your extension of {_duration(extension_seconds)})" if extension_seconds > 0 else ""
        return f"Submitted on time{ext}."
    text = f"Submitted {_duration(seconds_late)} after the due date"
    if extension_seconds > 0:
        text += f" (your extension of {_duration(extension_seconds)} included)"
    text += f". Late policy: {policy.describe()}. Penalty: {penalty_percent:g} %"
    if score is not None:
        final = score * (1 - penalty_percent / 100)
        text += f": {score:g} → {final:.4g}" + (f" of {max_score:g}" if max_score is not None else "")
    return text + "."


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    parts = [f"{d} day{'s' if d != 1 else ''}"] if d else []
    if h:
        parts.append(f"{h} h")
    if m and not d:
        parts.append(f"{m} min")
    return " ".join(parts) or f"{s} s"


_LATE_P = re.compile(r'\n?<p class="late">.*?</p>', re.DOTALL)


def annotate_feedback(page: Path, notice: str) -> None:
    """Put ``notice`` (a sentence from :func:`late_notice`) under the score line of a feedback page.

    Idempotent: a notice from an earlier run is replaced.

    Args:
        page: the feedback page (rewritten in place).
        notice: the sentence.

    Raises:
        ValueError: ``page`` is not a feedback page of this grader (no score line).
    """
    text = _LATE_P.sub("", page.read_text())
    body = text.find("<body>")
    end = text.find("</p>", body) if body >= 0 else -1
    if end < 0:
        raise ValueError(f"{page} is not a feedback page of this course (no score line after <body>)")
    end += len("</p>")
    page.write_text(text[:end] + f'\n<p class="late">{html.escape(notice)}</p>' + text[end:])


def add_late_notices(course_root: Path | str, gradebook: Path | str, assignment: str, out: Path | str) -> int:
    """After autograde: due dates from course.toml into the gradebook, then each graded student's
    lateness and penalty into their feedback pages (``OUT/feedback*/<student>/<assignment>/*.html``).

    Args:
        course_root: the course root (its ``course.toml``).
        gradebook: the nbgrader gradebook file.
        assignment: the assignment id.
        out: the autograde run's output folder.

    Returns:
        The number of pages annotated (0 when the assignment has no due date).
    """
    sync_due_dates(gradebook, load_due_dates(course_root))
    policy = load_policy(course_root)
    n = 0
    for r in export_rows(gradebook, policy, assignment):
        if r.status == "missing" or not r.due:
            continue
        notice = late_notice(r.seconds_late, r.penalty_percent, policy, score=r.score, max_score=r.max_score,
                             extension_seconds=r.extension_seconds)
        for page in sorted(Path(out).glob(f"feedback*/{r.student_id}/{assignment}/*.html")):
            annotate_feedback(page, notice)
            n += 1
    return n
