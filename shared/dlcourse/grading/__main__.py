"""``python -m dlcourse.grading`` (also ``dlcourse-grade``): the course's grading CLI.

Subcommands: release, publish, collect, autograde, feedback, export, extension. Run with ``-h`` for
each one's options. Exit status: 0 success, 1 a check failed (leak, unmatched files with
``--strict``, a submission a Dask worker could not grade), 2 usage or environment error (no sandbox without ``--unsafe``), 3 the Dask
scheduler of ``autograde --scheduler`` went away (what was graded is recorded; run it again).
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

_BANNER = "!" * 78


def _course_root(arg: Path | None) -> Path:
    from ..course.conventions import find_course_root

    return (arg or find_course_root(Path.cwd())).resolve()


def _env_pairs(values: list[str]) -> dict[str, str]:
    env = {}
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k or not k.replace("_", "a").isalnum():
            raise SystemExit(f"--env expects NAME=VALUE, got {v!r}")
        env[k] = val
    return env


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m dlcourse.grading",
                                 description="Grade a class safely: release, publish, collect, autograde, feedback, export.")
    ap.add_argument("--course", type=Path, default=None,
                    help="course root (the folder with course.toml); default: found from the current folder")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("release", help="regenerate assignments/ from solutions/; refuse if solutions or hidden tests leak")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--check", action="store_true", help="only check: fail if assignments/ is stale or leaks")

    p = sub.add_parser("publish", help="write the student-facing tree (no solutions, no hidden tests) and check it "
                                       "(dlcourse.course.publish, as `python -m dlcourse.course publish`)")
    p.add_argument("--out", type=Path, required=True, help="folder to create (must not exist, or use --force)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--site-mode", choices=("off", "fast", "full"), default="off",
                   help="also build the course site into it (default off: no site)")

    p = sub.add_parser("collect", help="map exchange submissions or uploaded notebooks to submitted/<student>/<assignment>/")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--exchange", type=Path, help="nbgrader exchange root (holds <course_id>/inbound/)")
    src.add_argument("--uploads", type=Path, help="a folder of uploaded .ipynb files (e.g. downloaded from Colab)")
    p.add_argument("--course-id", help="nbgrader course id in the exchange")
    p.add_argument("--assignment", help="only this assignment (also: what uploaded files are, if they do not say)")
    p.add_argument("--roster", type=Path, help="CSV with a student_id column (and optional name/email/aliases)")
    p.add_argument("--pattern", help="regex with (?P<student>...) [and (?P<assignment>...)] matched on file names")
    p.add_argument("--out", type=Path, required=True, help="submissions folder to fill (submitted/)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any file could not be matched")

    p = sub.add_parser("autograde", help="grade every submission of one assignment, each in its own sandbox")
    p.add_argument("--assignment", required=True)
    p.add_argument("--submissions", type=Path, required=True, help="folder of <student_id>/<assignment_id>/*.ipynb")
    p.add_argument("--out", type=Path, required=True, help="where autograde-ID.csv, autograde-ID.json, feedback/, "
                   "feedback_uploads/ and autograded/ go (the course folder on a hub: nbgrader's layout)")
    p.add_argument("--workers", type=int, default=1, help="students graded in parallel (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler (tcp://host:port or a scheduler file): one task per submission on its "
                        "workers, each sandboxed there; a rerun grades only what is missing")
    p.add_argument("--gradebook", type=Path, help="nbgrader gradebook to update (default OUT/gradebook.db)")
    p.add_argument("--unsafe", action="store_true", help="grade WITHOUT a sandbox (trusted notebooks only)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment of the kernels")
    p.add_argument("--fast", action="store_true", help="shorthand for --env DLCOURSE_FAST=1")
    p.add_argument("--cell-timeout", type=float, default=300.0, help="seconds per cell (default 300)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per notebook (default 1800)")
    p.add_argument("--memory", type=int, default=3072, help="MB of memory per notebook (default 3072)")
    p.add_argument("--pids", type=int, default=256, help="processes/threads per notebook (default 256)")
    p.add_argument("--cpus", type=float, default=1.0, help="CPU cores per notebook (default 1)")
    p.add_argument("--output-kb", type=int, default=10240, help="outputs kept per notebook in KB (default 10240)")
    p.add_argument("--disk-mb", type=int, default=512, help="size of the sandbox's home and /tmp in MB (default 512)")

    p = sub.add_parser("feedback", help="re-render feedback pages from autograded notebooks and the gradebook")
    p.add_argument("--assignment", required=True)
    p.add_argument("--out", type=Path, required=True, help="the autograde --out folder")
    p.add_argument("--gradebook", type=Path, help="default OUT/gradebook.db")

    p = sub.add_parser("export", help="grades CSV from the nbgrader gradebook (manual scores included)")
    p.add_argument("--gradebook", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="CSV file to write (e.g. grades.csv; statuses: graded, "
                   "needs_manual_grade, flagged, missing)")
    p.add_argument("--assignment", help="only this assignment")
    p.add_argument("--format", choices=["csv", "moodle", "canvas"], default="csv",
                   help="csv: a row per student and assignment (score, lateness, penalty, final score); moodle / "
                        "canvas: the LMS's grade-import layout (needs --roster). The late policy and due dates "
                        "come from course.toml [grading.late] / [grading.due] (and nbgrader's due dates)")
    p.add_argument("--roster", type=Path, help="CSV: student_id plus email (Moodle) or lms_id / sis_user_id / "
                   "sis_login_id (Canvas), name, section; students not matched are reported by name")
    p.add_argument("--parts", action="store_true", help="also one column per graded cell (moodle / canvas)")
    p.add_argument("--moodle-id", choices=["email", "lms_id"], default="email",
                   help="what Moodle matches students on: Email address (default) or ID number (the roster's lms_id)")

    p = sub.add_parser("extension", help="give a student more time on an assignment (nbgrader's extensions)")
    p.add_argument("--gradebook", type=Path, required=True)
    p.add_argument("--assignment", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--days", type=float, default=0.0)
    p.add_argument("--hours", type=float, default=0.0)
    p.add_argument("--minutes", type=float, default=0.0, help="all zero removes the extension")
    return ap


def main(argv: list[str] | None = None) -> int:
    # see dlcourse.grading.worker: skip a grammar jsonschema would build for nothing (seconds)
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.cmd == "autograde":
        return _autograde(args)
    if args.cmd == "export":
        return _export(args)
    if args.cmd == "extension":
        from . import lms

        ext = lms.grant_extension(args.gradebook, args.assignment, args.student, days=args.days, hours=args.hours,
                                  minutes=args.minutes)
        print(f"{args.student}: extension on {args.assignment} " +
              (f"of {lms._duration(ext.total_seconds())}" if ext else "removed"))
        return 0
    if args.cmd == "feedback":
        from .rerender_feedback import rerender_feedback

        n = rerender_feedback(args.out, args.assignment, args.gradebook or args.out / "gradebook.db")
        print(f"wrote {n} feedback page(s) under {args.out / 'feedback'}")
        return 0
    if args.cmd == "release":
        from ..course import release

        return release.cli_release(_course_root(args.course), args.assignments, check_only=args.check)
    if args.cmd == "publish":
        from ..course import publish

        return publish.main([str(args.out), "--site-mode", args.site_mode, *(["--force"] if args.force else [])],
                            root=_course_root(args.course), prog="python -m dlcourse.grading publish",
                            default_site_mode="off")
    if args.cmd == "collect":
        from . import collect

        return collect.cli_collect(args, _course_root(args.course))
    raise AssertionError(args.cmd)


def _export(args) -> int:
    from . import lms

    if not args.gradebook.is_file():
        raise ValueError(f"no gradebook at {args.gradebook}: autograde writes OUT/gradebook.db (on a hub: the "
                         "course folder's gradebook.db)")
    if args.out.name.startswith("autograde-"):
        raise ValueError(f"{args.out} is the name autograde gives its per-run file: export to another file "
                         "(e.g. grades.csv)")
    root = _course_root(args.course)
    changed = lms.sync_due_dates(args.gradebook, lms.load_due_dates(root))
    if changed:
        print("due dates: " + "; ".join(changed) + " (from course.toml, written into the gradebook)")
    policy = lms.load_policy(root)
    roster = lms.read_roster(args.roster) if args.roster else None
    rows = lms.export_rows(args.gradebook, policy, args.assignment, parts=args.parts)
    report = lms.write_export(rows, args.out, args.format, roster=roster, moodle_id=args.moodle_id, parts=args.parts)
    late = sum(r.seconds_late > 0 for r in rows)
    print(f"wrote {report.rows} row(s) to {args.out} ({args.format}); late policy: {policy.describe()}; "
          f"{late} late submission(s)")
    for m in report.messages(roster):
        print("WARNING: " + m, file=sys.stderr)
    return 0 if report.complete else 1


def _autograde(args) -> int:
    from .autograde import autograde
    from .cluster import ClusterLost
    from .sandbox import Limits, SandboxUnavailable, sandbox_info, sandbox_report

    env = _env_pairs(args.env)
    if args.fast:
        env["DLCOURSE_FAST"] = "1"
    limits = Limits(memory_mb=args.memory, pids=args.pids, cpus=args.cpus, cell_timeout=args.cell_timeout,
                    notebook_timeout=args.timeout, output_kb=args.output_kb, disk_mb=args.disk_mb)
    info = sandbox_info()
    if args.unsafe:
        print(f"{_BANNER}\nWARNING: --unsafe: student code runs WITHOUT a sandbox, as {Path.home().name or 'you'}, "
              f"next to the gradebook,\nthe hidden tests and every other submission. Use it only for trusted "
              f"notebooks.\n{_BANNER}", file=sys.stderr)
    elif args.scheduler:
        print(f"grading on the Dask cluster at {args.scheduler}: each worker checks its own sandbox and refuses "
              "the task without one")
    elif not info.ok:
        print(f"{_BANNER}\nNO SANDBOX: {info.reason}\nRefusing to run student code without one (--unsafe grades "
              f"without it: for trusted notebooks only).\n{_BANNER}", file=sys.stderr)
        return 2
    else:
        print(sandbox_report())
    root = _course_root(args.course)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"
    fast = " in FAST mode (DLCOURSE_FAST=1)" if env.get("DLCOURSE_FAST") else ""
    print(f"autograding {args.assignment} from {args.submissions} on {where}{fast}")
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so workers and sandboxes are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        batch = autograde(root, args.assignment, args.submissions, args.out, workers=args.workers, limits=limits,
                          env=env, unsafe=args.unsafe, gradebook_path=args.gradebook, scheduler=args.scheduler)
    except SandboxUnavailable as e:
        print(f"{_BANNER}\nNO SANDBOX: {e}\n{_BANNER}", file=sys.stderr)
        return 2
    except ClusterLost as e:
        print(f"error: the Dask cluster went away: {e}", file=sys.stderr)
        return 3
    n = len(batch.students)
    per = batch.seconds / n if n else 0.0
    not_ok = sum(s.status != "ok" for s in batch.students)
    print(f"graded {n} submission(s) in {batch.seconds:.1f} s ({per:.2f} s per submission); "
          f"{not_ok} with a status other than ok")
    if batch.not_graded:
        print(f"NOT GRADED ({len(batch.not_graded)}): " + "; ".join(f"{k}: {v}" for k, v in batch.not_graded.items()),
              file=sys.stderr)
    from .autograde import FEEDBACK_HUB, FEEDBACK_UPLOADS, csv_path, report_path

    print(f"wrote {csv_path(args.out, args.assignment)} (autograded points), {report_path(args.out, args.assignment)}")
    hub = [s.student_id for s in batch.students if s.feedback.startswith(FEEDBACK_HUB + "/")]
    up = [s.student_id for s in batch.students if s.feedback.startswith(FEEDBACK_UPLOADS + "/")]
    if hub:
        print(f"feedback of {len(hub)} hub submission(s) in {args.out / FEEDBACK_HUB}: release it with "
              f"`nbgrader release_feedback {args.assignment}`")
    if up:
        print(f"feedback of {len(up)} upload(s) in {args.out / FEEDBACK_UPLOADS}/<student>/{args.assignment}/: "
              f"hand each page back through your LMS ({', '.join(up[:5])}{' ...' if len(up) > 5 else ''})")
    return 1 if batch.not_graded else 0


if __name__ == "__main__":
    sys.exit(main())
