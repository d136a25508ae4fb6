"""Per-notebook teaching figures: questions, figures drawn, run time (and the machine's load).

    .venv/bin/python tools/lecture_stats.py                 # every lecture, full mode
    .venv/bin/python tools/lecture_stats.py --fast          # FAST mode (what CI runs)
    .venv/bin/python tools/lecture_stats.py lectures/03_classic_architectures.ipynb solutions/a2_architectures/a2_architectures.ipynb

Each notebook runs in a fresh kernel, one after the other (``dlcourse.course.build.execute_notebook``).
"Figures" counts the images the executed notebook shows; "questions" counts the "check
yourself" answers hidden in ``<details>`` blocks. The load average is printed beside each time,
since a time measured on a busy machine is only an upper bound.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dlcourse.course.build import execute_notebook
from dlcourse.course.conventions import count_figures, count_questions, find_course_root, lectures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every lecture")
    ap.add_argument("--fast", action="store_true", help="run in FAST mode (DLCOURSE_FAST=1)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = ap.parse_args(argv)
    root = find_course_root(Path.cwd())
    paths = args.notebooks or lectures(root)
    mode = "FAST" if args.fast else "full"
    print(f"{'notebook':<48} {'questions':>9} {'figures':>7} {mode + ' s':>8} {'load 1 min':>10}")
    status = 0
    for p in paths:
        res = execute_notebook(p, fast=args.fast, timeout=args.timeout)
        load = os.getloadavg()[0]
        print(f"{p.name:<48} {count_questions(res.nb):>9} {count_figures(res.nb):>7} {res.seconds:>8.1f} {load:>10.2f}"
              + ("" if res.error is None else "  ERROR"), flush=True)
        if res.error is not None:
            print(res.error[-2000:], file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
