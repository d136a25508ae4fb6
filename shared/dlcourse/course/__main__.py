"""``python -m dlcourse.course``: the course's command line.

Subcommands:

* ``release [ID...]``: regenerate ``assignments/`` from ``solutions/`` with nbgrader; refuses (exit 1,
  nothing written) an assignment whose release would leak a solution or hidden-test line;
* ``check-release [ID...]``: exit 1 when the committed ``assignments/`` is stale or leaks;
* ``demo [--out build]``: the offline course build (release, lectures to HTML, reference solutions graded);
* ``run NB...``: execute notebooks with nbclient, report seconds and the first error;
* ``roundtrip [ID...] [--full]``: grade solution, blank release and mistake fixtures (trusted, no sandbox);
* ``mistakes [ID...]``: check that every mistake fixture loses the points it names, by replaying the
  reference notebook once (:mod:`dlcourse.course.replay`; seconds per fixture instead of a whole grading);
* ``stamp|check|strip NB...``: the notebook conventions (Colab badge and setup cell, outputs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m dlcourse.course`` (one subparser per subcommand)."""
    ap = argparse.ArgumentParser(prog="python -m dlcourse.course", description=__doc__.split("\n")[0])
    ap.add_argument("--course", type=Path, default=None,
                    help="course root (the folder with course.toml); default: found from the current folder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, text in (("release", "regenerate assignments/ from solutions/; refuse a release that leaks"),
                       ("check-release", "fail when assignments/ is out of sync with solutions/ or leaks")):
        p = sub.add_parser(name, help=text)
        p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p = sub.add_parser("demo", help="the course's main job, offline: release, lectures -> HTML, grade the solutions")
    p.add_argument("--out", type=Path, default=Path("build"), help="output folder (relative to the course root)")
    p = sub.add_parser("run", help="execute notebooks with nbclient")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    p = sub.add_parser("roundtrip", help="autograde solution, blank release and mistake fixtures (no sandbox)")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--full", action="store_true", help="grade in full mode instead of FAST mode")
    p = sub.add_parser("mistakes", help="replay the reference notebook: does every mistake fixture lose its points?")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--cell-timeout", type=float, default=120.0, help="seconds one cell may run (then it scores 0)")
    for name, text in (("stamp", "write the Colab badge and the setup cell"), ("check", "report convention violations"),
                       ("strip", "remove outputs and execution counts")):
        p = sub.add_parser(name, help=text)
        p.add_argument("notebooks", nargs="+", type=Path)
    return ap


def _conventions(cmd: str, notebooks: list[Path]) -> int:
    from .conventions import check, stamp, strip_outputs

    status = 0
    for nb in notebooks:
        if cmd == "stamp":
            print(f"{nb}: {'stamped' if stamp(nb) else 'unchanged'}")
        elif cmd == "strip":
            print(f"{nb}: {'stripped' if strip_outputs(nb) else 'unchanged'}")
        else:
            problems = check(nb)
            for p in problems:
                print(f"{nb}: {p}")
            status |= bool(problems)
    return status


def _run(notebooks: list[Path], timeout: int) -> int:
    from .build import execute_notebook

    status = 0
    for nb in notebooks:
        res = execute_notebook(nb, timeout=timeout)
        print(f"{nb}: {res.seconds:.1f} s, {'ok' if res.error is None else 'ERROR'}")
        if res.error:
            print(res.error)
            status = 1
    return status


def _roundtrip(root: Path, aids: list[str], full: bool) -> int:
    from .build import print_table, roundtrip
    from .conventions import assignments

    status = 0
    for aid in aids or assignments(root):
        t = time.perf_counter()
        rt = roundtrip(root, aid, fast=not full)
        print(f"== {aid} ({time.perf_counter() - t:.0f} s)")
        print_table(rt.rows, ("submission", "auto score", "auto max", "verdict"))
        for f in rt.failures:
            print("FAIL: " + f)
        status |= not rt.ok
    return status


def _mistakes(root: Path, aids: list[str], cell_timeout: float) -> int:
    from .conventions import assignments
    from .replay import check_mistakes, format_results

    status = 0
    for aid in aids or assignments(root):
        t = time.perf_counter()
        results = check_mistakes(root, aid, cell_timeout=cell_timeout)
        print(format_results(aid, results) + f"\n  ({time.perf_counter() - t:.0f} s)")
        status |= not all(r.caught for r in results)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand of ``python -m dlcourse.course``.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 ok, 1 a check failed (argparse exits with 2 on a usage error).

    Raises:
        FileNotFoundError: no ``course.toml`` in the current folder or above (without ``--course``).
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["i18n"]:  # the Spanish edition: extract | build | status | check (dlcourse.course.i18n)
        from .i18n import main as i18n_main

        return i18n_main(argv[1:])
    if argv[:1] == ["site"]:  # the course website: site [--mode fast|full|off] (dlcourse.course.site)
        from .site import main as site_main

        return site_main(argv[1:])
    if argv[:1] == ["publish"]:  # the student repository: publish OUT (dlcourse.course.publish)
        from .publish import main as publish_main

        return publish_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.cmd in ("stamp", "check", "strip"):
        return _conventions(args.cmd, args.notebooks)
    if args.cmd == "run":
        return _run(args.notebooks, args.timeout)
    from .conventions import find_course_root

    root = (args.course or find_course_root(Path.cwd())).resolve()
    if args.cmd in ("release", "check-release"):
        from .release import cli_release

        return cli_release(root, args.assignments, check_only=args.cmd == "check-release")
    if args.cmd == "roundtrip":
        return _roundtrip(root, args.assignments, args.full)
    if args.cmd == "mistakes":
        return _mistakes(root, args.assignments, args.cell_timeout)
    if args.cmd == "demo":
        from .build import demo

        return demo(root, args.out if args.out.is_absolute() else root / args.out)
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
