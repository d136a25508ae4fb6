"""Grading throughput: N copies of a reference solution, sandboxed ``--workers 2`` vs plain nbgrader.

Side by side in one run, on the same machine and the same submissions:

* **nbgrader**: one plain ``nbgrader autograde`` call for all copies (serial, no sandbox, what
  nbgrader does out of the box), in a throw-away course folder;
* **dlcourse.grading**: ``python -m dlcourse.grading autograde --workers W`` (each submission
  rebuilt from the course source and run in its own bubblewrap sandbox, W at a time).

Both totals include everything the command does (starting up, generating the release,
writing the gradebook). Prints seconds per submission and the speed-up, and checks that
both graded every copy with full marks.

    .venv/bin/python bench/grading_throughput.py                       # first assignment, 20 copies
    .venv/bin/python bench/grading_throughput.py --assignment a1_conv_arithmetic --copies 20 --workers 2
    .venv/bin/python bench/grading_throughput.py --course tests/fixtures/grading_course --assignment g1_basics

No data set is used (``--data-root`` is accepted for symmetry with the other benchmarks).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--course", type=Path, default=ROOT, help="course root (default: this repository)")
    ap.add_argument("--assignment", help="assignment id (default: the first one in solutions/)")
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="grade in full mode (default: FAST mode, as CI)")
    ap.add_argument("--data-root", type=Path, help="unused: the benchmark needs no data set")
    args = ap.parse_args(argv)
    if args.copies < 1 or args.workers < 1:
        ap.error("--copies and --workers must be positive")

    sys.path.insert(0, str(ROOT / "shared"))
    from dlcourse.course import nbgrader_api as nbg
    from dlcourse.course.conventions import assignments

    course = args.course.resolve()
    aid = args.assignment or next(iter(assignments(course)), None)
    if aid is None:
        ap.error(f"no assignment in {course / 'solutions'}; pass --course tests/fixtures/grading_course "
                 "--assignment g1_basics")
    fast = "0" if args.full else "1"
    students = [f"s{i:02d}" for i in range(1, args.copies + 1)]
    sandboxed = shutil.which("bwrap") is not None
    print(f"assignment {aid}: {args.copies} copies of the reference solution, FAST={fast}, "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "submitted"
        for s in students:
            shutil.copytree(course / "solutions" / aid, subs / s / aid)

        t0 = time.perf_counter()
        plain = nbg.autograde_unsandboxed(course / "solutions", aid, {s: subs / s / aid for s in students},
                                          tmp / "nbgrader", env={"DLCOURSE_FAST": fast})
        t_plain = time.perf_counter() - t0
        plain_full = sum(r.auto_score == r.auto_max > 0 for r in plain.values())

        cmd = [sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", "--assignment", aid,
               "--submissions", str(subs), "--out", str(tmp / "ours"), "--workers", str(args.workers),
               "--env", f"DLCOURSE_FAST={fast}"]
        if not sandboxed:
            cmd.append("--unsafe")  # the copies are the course's own solution
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        t_ours = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            return 1
        report = json.loads((tmp / "ours" / f"autograde-{aid}.json").read_text())
        ours_full = sum(s["score"] == s["max_score"] > 0 and s["status"] == "ok" for s in report["students"])

    n = args.copies
    rows = [("plain nbgrader autograde (serial, no sandbox)", t_plain, plain_full),
            (f"dlcourse.grading --workers {args.workers} ({'sandboxed' if sandboxed else 'UNSAFE: no bwrap'})",
             t_ours, ours_full)]
    print(f"{'':52s} {'total s':>8s} {'s/submission':>13s} {'full marks':>11s}")
    for name, t, full in rows:
        print(f"{name:52s} {t:8.1f} {t / n:13.2f} {full:>6d}/{n}")
    print(f"speed-up (plain nbgrader time / dlcourse.grading time): {t_plain / t_ours:.2f}x")
    return 0 if plain_full == n and ours_full == n else 1


if __name__ == "__main__":
    sys.exit(main())
