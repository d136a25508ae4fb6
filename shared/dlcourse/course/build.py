"""The course build: execute notebooks, round-trip the assignments, build the course offline.

* :func:`execute_notebook`: run a notebook with nbclient (FAST mode on request), time it, keep
  the first error;
* :func:`roundtrip`: autograde the reference solution (full autograded marks), the blank
  release (zero) and every mistake fixture in ``tests/mistakes/ID/`` (each must lose the
  points it names), with one nbgrader call per assignment;
* :func:`demo`: the course's main job, offline: release (with the leak check of
  :mod:`dlcourse.course.release`), execute every lecture in FAST mode and render it to
  ``build/lectures/*.html`` with ``build/index.html``, autograde the reference solutions and
  print a per-assignment score table.

The command line is ``python -m dlcourse.course`` (see :mod:`dlcourse.course.__main__`).
"""
from __future__ import annotations

import html
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import fixtures, nbgrader_api
from .conventions import assignments, lectures
from .release import release_course

__all__ = [
    "RunResult",
    "execute_notebook",
    "RoundTrip",
    "roundtrip",
    "demo",
    "print_table",
]


@dataclass
class RunResult:
    """One executed notebook: its path, the seconds it took, the first error (None: it ran) and the
    executed copy (``nb``, with its outputs)."""

    path: Path
    seconds: float
    error: str | None = None
    nb: object | None = None


def execute_notebook(path: Path, *, fast: bool | None = None, timeout: int = 600, kernel: str = "python3") -> RunResult:
    """Execute the notebook ``path`` with nbclient, in its own folder; the file itself is not modified.

    Args:
        path: the notebook.
        fast: set ``DLCOURSE_FAST`` for the kernel (True: FAST mode, False: full mode, None: as it is).
        timeout: seconds one cell may run.
        kernel: the kernel name.

    Returns:
        The seconds it took, the first error (None when every cell ran) and the executed copy.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    env_fast = os.environ.get("DLCOURSE_FAST")
    if fast is not None:
        os.environ["DLCOURSE_FAST"] = "1" if fast else "0"
    # The kernel draws figures with Jupyter's inline backend, as a student's does (a test
    # process may have set MPLBACKEND=Agg for itself).
    env_backend = os.environ.pop("MPLBACKEND", None)
    start = time.perf_counter()
    error = None
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = str(e)
    except (RuntimeError, AssertionError) as e:  # nbclient on a kernel that dies while starting or between messages
        error = f"the kernel failed: {type(e).__name__}: {e}"
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
        if fast is not None:
            if env_fast is None:
                os.environ.pop("DLCOURSE_FAST", None)
            else:
                os.environ["DLCOURSE_FAST"] = env_fast
    return RunResult(path, time.perf_counter() - start, error, nb)


@dataclass
class RoundTrip:
    assignment: str
    rows: list[tuple[str, float, float, str]] = field(default_factory=list)  # (who, auto score, auto max, verdict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures


def roundtrip(root: Path, assignment: str, *, mistakes: bool = True, fast: bool = True) -> RoundTrip:
    """Grade the solution, the blank release and the mistake fixtures of ``assignment`` in one nbgrader run.

    Trusted notebooks only: nbgrader runs them without a sandbox (see
    :func:`~dlcourse.course.nbgrader_api.autograde_unsandboxed`).

    Args:
        root: the course root.
        assignment: the assignment id.
        mistakes: also grade the fixtures of ``tests/mistakes/<assignment>/``.
        fast: grade in FAST mode (``DLCOURSE_FAST=1``).

    Returns:
        One row per submission and the failures: the solution not at full marks or raising
        anywhere, the blank release earning points, a fixture keeping a cell it must lose.
    """
    result = RoundTrip(assignment)
    sol_dir = root / "solutions" / assignment
    fixtures_list = fixtures.load_mistakes(root / "tests", assignment) if mistakes else []
    with tempfile.TemporaryDirectory(prefix="dlcourse-roundtrip-") as tmp:
        tmp = Path(tmp)
        release_dir = nbgrader_api.generate_release(root / "solutions", assignment, tmp / "rel")
        subs = {"solution": sol_dir, "blank": release_dir}
        for m in fixtures_list:
            subs[f"mistake-{m.name}"] = fixtures.write_mistake_submission(sol_dir, m, tmp / "mistakes" / m.name)
        scores = nbgrader_api.autograde_unsandboxed(root / "solutions", assignment, subs, tmp / "course",
                                                    env={"DLCOURSE_FAST": "1" if fast else "0"})
        # The reference solution must run without any error, graded cell or not.
        for path in sorted((tmp / "course" / "autograded" / "solution" / assignment).glob("*.ipynb")):
            for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        result.failures.append(
                            f"{assignment}: {path.name} cell {i} raised {out.get('ename')}: {out.get('evalue')}")
    sol, blank = scores["solution"], scores["blank"]
    if sol.auto_max <= 0:
        result.failures.append(f"{assignment}: no autograded points at all")
    if sol.auto_score != sol.auto_max:
        lost = [f"{c.grade_id} {c.score:g}/{c.max_score:g}" for c in sol.cells.values() if c.auto and c.score < c.max_score]
        result.failures.append(f"{assignment}: the solution lost points: {', '.join(lost)}")
    result.rows.append(("solution", sol.auto_score, sol.auto_max, "full" if sol.auto_score == sol.auto_max else "NOT FULL"))
    if blank.auto_score != 0:
        won = [f"{c.grade_id} {c.score:g}" for c in blank.cells.values() if c.auto and c.score > 0]
        result.failures.append(f"{assignment}: the blank release earned points: {', '.join(won)}")
    result.rows.append(("blank", blank.auto_score, blank.auto_max, "zero" if blank.auto_score == 0 else "NOT ZERO"))
    for m in fixtures_list:
        r = scores[f"mistake-{m.name}"]
        bad = []
        for gid in m.loses:
            cell = r.cells.get(gid)
            if cell is None:
                bad.append(f"{gid} is not a graded cell")
            elif not cell.auto:
                bad.append(f"{gid} is not autograded")
            elif cell.score >= cell.max_score:
                bad.append(f"{gid} kept {cell.score:g}/{cell.max_score:g}")
        verdict = "loses points" if not bad and r.auto_score < r.auto_max else "DOES NOT LOSE: " + "; ".join(bad)
        if bad or r.auto_score >= r.auto_max:
            result.failures.append(f"{assignment}: mistake {m.name} ({m.why}): {'; '.join(bad) or 'full marks'}")
        result.rows.append((f"mistake {m.name}", r.auto_score, r.auto_max, verdict))
    return result


def print_table(rows: list[tuple], header: tuple) -> None:
    """Print ``rows`` under ``header`` as left-aligned columns."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def _render_html(nb, dest: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body)


def demo(root: Path, out: Path) -> int:
    """The main job (offline): release, lectures -> HTML in FAST mode, autograde solutions."""
    t0 = time.perf_counter()
    print("== 1. Student release (nbgrader generate_assignment)")
    changed = release_course(root)
    print(f"   {len(assignments(root))} assignments; regenerated: {', '.join(changed) or 'none (already in sync)'}")

    print("== 2. Lectures, executed in FAST mode and rendered to HTML")
    out.mkdir(parents=True, exist_ok=True)
    entries, failed = [], 0
    for nb_path in lectures(root):
        res = execute_notebook(nb_path, fast=True)
        html_path = out / "lectures" / (nb_path.stem + ".html")
        _render_html(res.nb, html_path)
        status = "ok" if res.error is None else "ERROR"
        failed += res.error is not None
        print(f"   {nb_path.name:45s} {res.seconds:6.1f} s  {status}")
        if res.error:
            print("   " + res.error.strip().splitlines()[-1][:300])
        title = next((c.source.splitlines()[-1] for c in res.nb.cells if c.cell_type == "markdown"), nb_path.stem)
        for c in res.nb.cells:
            if c.cell_type == "markdown":
                heads = [ln for ln in c.source.splitlines() if ln.startswith("# ")]
                if heads:
                    title = heads[0][2:]
                    break
        entries.append((nb_path.stem, title, status, res.seconds))

    print("== 3. Autograding the reference solutions (FAST mode)")
    rows = []
    for aid in assignments(root):
        rt = roundtrip(root, aid, mistakes=False)
        sol = rt.rows[0]
        rows.append((aid, f"{sol[1]:g}/{sol[2]:g}", sol[3], f"{rt.rows[1][1]:g}/{rt.rows[1][2]:g}"))
        failed += not rt.ok
    print_table(rows, ("assignment", "solution", "verdict", "blank release"))

    items = "\n".join(
        f'<li><a href="lectures/{html.escape(stem)}.html">{html.escape(title)}</a> '
        f"<small>({status}, {secs:.0f} s in FAST mode)</small></li>" for stem, title, status, secs in entries)
    grade_rows = "\n".join(f"<tr><td>{html.escape(a)}</td><td>{s}</td><td>{v}</td><td>{b}</td></tr>" for a, s, v, b in rows)
    (out / "index.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CNN course kit</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}td,th{{padding:.2em .8em;text-align:left}}</style>
</head><body>
<h1>CNN course kit: convolutional networks, visualization, autoencoders, audio</h1>
<h2>Lectures</h2><ol>
{items}
</ol>
<h2>Reference solutions, autograded (FAST mode)</h2>
<table><tr><th>assignment</th><th>solution</th><th>verdict</th><th>blank release</th></tr>
{grade_rows}
</table>
<p>Built {time.strftime('%Y-%m-%d %H:%M')} in {time.perf_counter() - t0:.0f} s.</p>
</body></html>
""")
    print(f"== Wrote {out / 'index.html'} in {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0
