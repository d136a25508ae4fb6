"""Check mistake fixtures by replaying the reference notebook, forking at each mistake's cell.

Grading a mistake fixture as a whole submission (a fresh kernel that imports torch, loads the data
and runs every cell) repeats, for every mistake, all the work before the mistake's cell and all the
work after the last cell it must fail. Here one process runs the reference notebook once, in order,
and just before the solution cell a mistake replaces it forks twice, each child starting from the
very state a fresh run has at that point:

* the **control** child runs the reference cell and the cells after it, up to the last test cell
  the mistake names;
* the **mistake** child runs the fixture's code in its place, then the same cells.

A mistake is *caught* when every test cell it names scores full marks in the control and below full
marks with the mistake. Cells are scored with nbgrader's own rule (:func:`nbgrader.utils.determine_grade`:
an error or any stderr output is 0, a numeric last value is partial credit, else full marks), each
cell under a time limit (a timeout is an error, as in the grader). The control is what makes the
verdict sound: a test cell that fails for a reason other than the mistake fails in the control too.

Children run one after the other; the files they write are the only state they share (the control
runs right before its mistake, from the same snapshot). The whole grading path (sandbox, gradebook,
feedback) is tested on the reference solution, the blank release and hostile submissions; this is
only the fixtures' check that the hidden tests catch each mistake.

``python -m dlcourse.course mistakes [ID ...]`` prints the table.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .fixtures import Mistake, load_mistakes

__all__ = ["CellScore", "MistakeResult", "replay_mistakes", "check_mistakes", "format_results", "main"]


@dataclass
class CellScore:
    """One test cell's score in one run (control or mistake)."""

    score: float
    max_score: float
    why: str = ""  #: the error or the first stderr line, when the cell lost points


@dataclass
class MistakeResult:
    """What the replay found for one mistake fixture."""

    name: str
    why: str
    loses: list[str]
    control: dict[str, CellScore] = field(default_factory=dict)
    mistake: dict[str, CellScore] = field(default_factory=dict)
    problem: str = ""  #: the replay itself failed (child crashed or overran), when not empty

    @property
    def control_passes(self) -> bool:
        """Every named test cell scored full marks with the reference code."""
        return not self.problem and all(g in self.control and self.control[g].score >= self.control[g].max_score
                                        for g in self.loses)

    @property
    def kept(self) -> list[str]:
        """Named test cells the mistake did not lose points on."""
        return [g for g in self.loses if g not in self.mistake or self.mistake[g].score >= self.mistake[g].max_score]

    @property
    def caught(self) -> bool:
        """The control passes every named cell and the mistake loses points on every one."""
        return self.control_passes and not self.kept


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that ``except Exception`` in a cell cannot swallow it."""


def _alarm(signum, frame):
    raise _Timeout()


class _Runner:
    """Executes cells in one IPython shell, capturing each cell's outputs the way a kernel reports them."""

    def __init__(self, cell_timeout: float) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        cfg = Config()
        cfg.HistoryManager.enabled = False  # no sqlite thread: the process forks
        self.shell = InteractiveShell.instance(config=cfg, colors="nocolor")
        self.timeout = cell_timeout

    def _timeout_output(self) -> dict:
        return {"output_type": "error", "ename": "TimeoutError", "evalue": f"the cell ran over {self.timeout:g} s",
                "traceback": []}

    def run(self, source: str) -> list[dict]:
        """Run one cell; return its outputs as nbformat output dicts (stream, error, execute_result)."""
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        outputs: list[dict] = []
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        result = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                result = self.shell.run_cell(source, store_history=False, silent=False)
        except _Timeout:  # raised outside the cell's own code (IPython catches it inside: error_in_exec below)
            outputs.append(self._timeout_output())
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if result is not None:
            exc = result.error_in_exec or result.error_before_exec
            if isinstance(exc, _Timeout):
                outputs.append(self._timeout_output())
            elif exc is not None:
                outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc)[:300],
                                "traceback": []})
            elif result.result is not None:
                outputs.append({"output_type": "execute_result", "execution_count": None, "metadata": {},
                                "data": {"text/plain": repr(result.result)}})
        if err.getvalue():
            outputs.insert(0, {"output_type": "stream", "name": "stderr", "text": err.getvalue()})
        try:
            import matplotlib.pyplot as plt

            plt.close("all")
        except Exception:  # noqa: BLE001 - matplotlib may be absent or broken by the cell; nothing to close then
            pass
        return outputs


def _score(cell: dict, outputs: list[dict]) -> CellScore:
    import nbformat
    from nbgrader.utils import determine_grade

    graded = nbformat.from_dict({"cell_type": "code", "source": cell["source"], "execution_count": None,
                                 "metadata": cell["metadata"], "outputs": outputs})
    score, max_score = determine_grade(graded)
    why = ""
    for o in outputs:
        if o["output_type"] == "error":
            why = f"{o['ename']}: {o['evalue']}".splitlines()[0][:200]
            break
        if o["output_type"] == "stream":
            why = "stderr: " + o["text"].strip().splitlines()[0][:200] if o["text"].strip() else "stderr"
            break
    return CellScore(float(score if score is not None else 0.0), float(max_score), why)


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _child(runner: _Runner, cells: list[dict], start: int, stop: int, first_source: str, out: Path) -> None:
    """In a forked child: run ``first_source`` as cell ``start``, then cells up to ``stop``; write the scores."""
    scores: dict[str, dict] = {}
    for i in range(start, stop + 1):
        cell = cells[i]
        if cell["cell_type"] != "code":
            continue
        outputs = runner.run(first_source if i == start else cell["source"])
        if _is_test(cell):
            s = _score(cell, outputs)
            scores[_grade_id(cell)] = s.__dict__
    out.write_text(json.dumps(scores))


def _fork_run(runner: _Runner, cells: list[dict], start: int, stop: int, source: str, out: Path,
              wall_timeout: float) -> str:
    """Fork, run the child, wait for it; '' on success, else what went wrong."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's loop
        code = 0
        try:
            _child(runner, cells, start, stop, source, out)
        except BaseException:  # noqa: BLE001 - report and leave; the parent reads the missing file as a failure
            code = 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + wall_timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return f"the replay ran over {wall_timeout:g} s"
        time.sleep(0.05)
    if not out.exists():
        return f"the replay child exited with status {os.waitstatus_to_exitcode(status)} and wrote no scores"
    return ""


def _replay(notebook: Path, mistakes: list[Mistake], cell_timeout: float, wall_timeout: float) -> list[dict]:
    """The replay itself (runs in its own process: see :func:`replay_mistakes`)."""
    cells = json.loads(notebook.read_text())["cells"]
    for c in cells:
        c["source"] = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
    index = {_grade_id(c): i for i, c in enumerate(cells) if _grade_id(c)}
    plan: dict[int, list[Mistake]] = {}
    results: dict[str, dict] = {}
    for m in mistakes:
        problem = ""
        if m.cell not in index:
            problem = f"no cell with grade_id {m.cell!r} in {notebook.name}"
        elif not cells[index[m.cell]].get("metadata", {}).get("nbgrader", {}).get("solution"):
            problem = f"cell {m.cell!r} is not a solution cell"
        else:
            missing = [g for g in m.loses if g not in index or not _is_test(cells[index[g]])]
            if missing:
                problem = f"not autograded test cells of {notebook.name}: {', '.join(missing)}"
            elif min(index[g] for g in m.loses) < index[m.cell]:
                problem = "a named test cell comes before the mistake's cell, so the mistake cannot reach it"
        results[m.name] = {"name": m.name, "why": m.why, "loses": m.loses, "control": {}, "mistake": {},
                           "problem": problem}
        if not problem:
            plan.setdefault(index[m.cell], []).append(m)
    import nbformat  # noqa: F401 - imported once here, not in every forked child (nbgrader's import takes seconds)
    import nbgrader.utils  # noqa: F401

    runner = _Runner(cell_timeout)
    work = Path(tempfile.mkdtemp(prefix="replay-"))
    for i, cell in enumerate(cells):
        for m in plan.get(i, []):
            stop = max(index[g] for g in m.loses)
            for role, source in (("control", cell["source"]), ("mistake", m.source)):
                out = work / f"{m.name}.{role}.json"
                problem = _fork_run(runner, cells, i, stop, source, out, wall_timeout)
                if problem:
                    results[m.name]["problem"] = f"{role}: {problem}"
                    break
                results[m.name][role] = json.loads(out.read_text())
        if cell["cell_type"] == "code":
            runner.run(cell["source"])
    return [results[m.name] for m in mistakes]


def replay_mistakes(notebook: Path | str, mistakes: list[Mistake], *, cell_timeout: float = 120.0,
                    wall_timeout: float = 900.0, env: dict | None = None) -> list[MistakeResult]:
    """Replay the reference ``notebook`` once and score every mistake against a control (module doc).

    The replay runs in a child Python process, in a temporary copy of the notebook's folder (so the
    files beside it are found and the course's folder is never written), in FAST mode unless ``env``
    says otherwise, on one thread.

    Args:
        notebook: the reference (solution) notebook, with its hidden tests.
        mistakes: the fixtures to check (from :func:`~dlcourse.course.fixtures.load_mistakes`).
        cell_timeout: seconds one cell may run (a cell over it scores 0, as in the grader).
        wall_timeout: seconds one control or mistake replay may take in all.
        env: extra environment variables for the replay process.

    Returns:
        One result per mistake, in the given order.

    Raises:
        RuntimeError: the replay process failed (the reference notebook itself raised outside a child).
    """
    notebook = Path(notebook).resolve()
    if not mistakes:
        return []
    import shutil

    with tempfile.TemporaryDirectory(prefix="replay-job-") as tmp:
        folder = Path(tmp) / "work"
        shutil.copytree(notebook.parent, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        job = Path(tmp) / "job.json"
        out = Path(tmp) / "out.json"
        job.write_text(json.dumps({"notebook": str(folder / notebook.name), "cell_timeout": cell_timeout,
                                   "wall_timeout": wall_timeout, "out": str(out),
                                   "mistakes": [m.__dict__ for m in mistakes]}))
        run_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLCOURSE_LANG")}
        run_env.update({"DLCOURSE_FAST": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        run_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "dlcourse.course.replay", "--job", str(job)],
                              cwd=folder, env=run_env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"the replay of {notebook} failed (exit {proc.returncode}):\n"
                               + (proc.stdout[-2000:] + proc.stderr[-3000:]).strip())
        raw = json.loads(out.read_text())
    return [MistakeResult(r["name"], r["why"], r["loses"],
                          {g: CellScore(**s) for g, s in r["control"].items()},
                          {g: CellScore(**s) for g, s in r["mistake"].items()}, r["problem"]) for r in raw]


def check_mistakes(root: Path | str, assignment: str, tests_dir: Path | str | None = None,
                   **kwargs) -> list[MistakeResult]:
    """Replay every mistake fixture of ``assignment`` against its reference notebook.

    Args:
        root: the course root (``solutions/<assignment>/`` below it).
        assignment: the assignment id.
        tests_dir: the folder holding ``mistakes/<assignment>/`` (default ``<root>/tests``).
        **kwargs: passed to :func:`replay_mistakes`.

    Returns:
        One result per fixture (sorted by name); empty when the assignment has none.

    Raises:
        ValueError: a fixture names a notebook the solution folder does not have, or the folder has
            several notebooks and a fixture does not say which (``# notebook:``).
    """
    root = Path(root)
    mistakes = load_mistakes(Path(tests_dir) if tests_dir else root / "tests", assignment)
    nbs = sorted((root / "solutions" / assignment).glob("*.ipynb"))
    by_nb: dict[Path, list[Mistake]] = {}
    for m in mistakes:
        if m.notebook:
            nb = root / "solutions" / assignment / m.notebook
            if nb not in nbs:
                raise ValueError(f"mistake {m.name}: solutions/{assignment}/{m.notebook} does not exist")
        elif len(nbs) == 1:
            nb = nbs[0]
        else:
            raise ValueError(f"mistake {m.name}: solutions/{assignment}/ has {len(nbs)} notebooks; "
                             "say which with a '# notebook:' header line")
        by_nb.setdefault(nb, []).append(m)
    results = {r.name: r for nb, ms in by_nb.items() for r in replay_mistakes(nb, ms, **kwargs)}
    return [results[m.name] for m in mistakes]


def format_results(assignment: str, results: list[MistakeResult]) -> str:
    """A table of the replay: one line per mistake, its verdict and the cells it lost or kept."""
    lines = [f"{assignment}: {sum(r.caught for r in results)}/{len(results)} mistakes caught"]
    for r in results:
        if r.problem:
            verdict = f"REPLAY FAILED ({r.problem})"
        elif not r.control_passes:
            failing = [f"{g} ({r.control[g].why})" if g in r.control else g for g in r.loses
                       if g not in r.control or r.control[g].score < r.control[g].max_score]
            verdict = f"CONTROL FAILS {', '.join(failing)}"
        elif r.kept:
            verdict = f"NOT CAUGHT: keeps {', '.join(r.kept)}"
        else:
            verdict = "caught: " + ", ".join(f"{g} {r.mistake[g].score:g}/{r.mistake[g].max_score:g}"
                                             + (f" ({r.mistake[g].why})" if r.mistake[g].why else "")
                                             for g in r.loses)
        lines.append(f"  {r.name}: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m dlcourse.course.replay --job JOB``: the replay process (see :func:`replay_mistakes`)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m dlcourse.course.replay")
    ap.add_argument("--job", type=Path, required=True)
    args = ap.parse_args(argv)
    job = json.loads(args.job.read_text())
    mistakes = [Mistake(**m) for m in job["mistakes"]]
    results = _replay(Path(job["notebook"]), mistakes, job["cell_timeout"], job["wall_timeout"])
    Path(job["out"]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
