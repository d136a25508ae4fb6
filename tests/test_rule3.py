"""Rule 3 (DESIGN.md §4): ``dlcourse`` never ships what an assignment asks students to write.

Two checks per assignment:

* **static** (cheap): no notebook of ``solutions/<id>/`` or ``assignments/<id>/`` imports a
  private ``dlcourse._*`` module or a private name, or reaches one by attribute
  (``viz._hooked``) or by a string handed to ``importlib``.
* **behavioural**: a probe executes the reference notebook in order (FAST mode, in a
  subprocess). At every exercise, for every function or class the solution cell defines, it
  tries each public callable of the ``dlcourse`` modules the *student release* imports (and
  their public submodules) whose signature can take the exercise's arguments and shares a
  parameter name with it (or its name) as the student's answer: a thin wrapper that maps the
  exercise's arguments onto the helper's (by name, then in order; or purely in order) and
  returns what the helper returns. The exercise's test cells then run on it. The test fails
  when such a wrapper passes a *hidden* test cell that

  - the reference solution passes (control) and
  - a wrapper that only raises ``NotImplementedError`` fails (so the cell really exercises
    that function; a cell a null answer passes is reported as not testing it).

Run ``python tests/test_rule3.py [ID ...]`` to print the full probe report (every candidate
tried, which test cells it passed, the points it would earn).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Leave these names importable from this file without dlcourse (the probe imports it lazily).
CELL_TIMEOUT_S = 20.0  # one test cell of one candidate; the reference gets CONTROL_TIMEOUT_S
CONTROL_TIMEOUT_S = 120.0


def _assignments() -> list[str]:
    sol = ROOT / "solutions"
    return sorted(p.name for p in sol.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if sol.is_dir() else []


ASSIGNMENTS = _assignments()


def _code_sources(nb_path: Path) -> list[str]:
    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _parse(source: str) -> ast.Module | None:
    """Parse a cell; IPython magics / shell lines are blanked (they cannot import dlcourse)."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def dlcourse_references(source: str) -> tuple[set[str], list[str]]:
    """Modules of ``dlcourse`` a cell imports, and every private reference it makes.

    Returns:
        ``(modules, private)``: dotted module names (``"dlcourse.viz"``; ``from dlcourse.viz
        import f`` counts as ``dlcourse.viz``), and one line per private reference found.
    """
    tree = _parse(source)
    modules: set[str] = set()
    private: list[str] = []
    if tree is None:
        return modules, private
    aliases: dict[str, str] = {}  # local name -> dotted dlcourse module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "dlcourse" or a.name.startswith("dlcourse."):
                    modules.add(a.name)
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        aliases["dlcourse"] = "dlcourse"
                    if any(part.startswith("_") for part in a.name.split(".")):
                        private.append(f"line {node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                (node.module == "dlcourse" or node.module.startswith("dlcourse.")):
            if any(part.startswith("_") for part in node.module.split(".")):
                private.append(f"line {node.lineno}: from {node.module} import ...")
            for a in node.names:
                if a.name.startswith("_"):
                    private.append(f"line {node.lineno}: from {node.module} import {a.name}")
                if node.module == "dlcourse":
                    modules.add(f"dlcourse.{a.name}")
                    aliases[a.asname or a.name] = f"dlcourse.{a.name}"
                else:
                    modules.add(node.module)
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "dlcourse._" in node.value:
            private.append(f"line {node.lineno}: string {node.value!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                private.append(f"line {node.lineno}: {ast.unparse(node)} (private name of {aliases[base.id]})")
    return modules, private


def _notebooks(aid: str) -> list[Path]:
    return sorted((ROOT / "solutions" / aid).glob("*.ipynb")) + sorted((ROOT / "assignments" / aid).glob("*.ipynb"))


# --------------------------------------------------------------------------- static check
def test_static_check_catches_private_references():
    """The checker itself: each way of reaching a private module or name is reported."""
    src = ("import dlcourse._lecture_viz\nfrom dlcourse import _lecture_viz as lv\n"
           "from dlcourse._lecture_viz import grad_cam\nfrom dlcourse.viz import _hooked\n"
           "from dlcourse import viz\nviz._hooked\nimport importlib\nimportlib.import_module('dlcourse._x')\n"
           "%matplotlib inline\nfrom dlcourse import config\nconfig.fast_mode()\n")
    modules, private = dlcourse_references(src)
    assert len(private) == 6, private
    assert "dlcourse.viz" in modules and "dlcourse.config" in modules
    assert dlcourse_references("from dlcourse import viz\nviz.pointing_game(m, b)\nx.__class__\n")[1] == []


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_no_private_dlcourse_reference(aid):
    found = []
    for nb_path in _notebooks(aid):
        for i, src in enumerate(_code_sources(nb_path)):
            found += [f"{nb_path.relative_to(ROOT)} code cell {i}: {p}" for p in dlcourse_references(src)[1]]
    assert not found, ("an assignment reaches a private dlcourse module or name (those are for lectures only, "
                       "DESIGN rule 3):\n" + "\n".join(found))


# --------------------------------------------------------------------------- behavioural check
def run_probe(aid: str, out: Path, *, timeout: float = 900) -> dict:
    """Run the probe for ``aid`` in a fresh interpreter (FAST mode, CPU, Agg) and return its report."""
    env = dict(os.environ, DLCOURSE_FAST="1", MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), PYTHONHASHSEED="0")
    workdir = out.parent / f"work-{aid}"
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--probe", aid, "--out", str(out)],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"the rule-3 probe of {aid} crashed (rc {proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def format_report(report: dict, *, verbose: bool = False) -> str:
    lines = [f"== {report['assignment']}: modules the release imports: {', '.join(report['modules']) or '-'}; "
             f"{report['n_callables']} public callables; {report['seconds']:.0f} s"]
    for ex in report["exercises"]:
        head = f"  {ex['cell']}.{ex['function']}{ex['signature']}"
        if ex.get("control_failed"):
            lines.append(f"{head}: REFERENCE FAILS IN THE PROBE: {ex['control_failed']}")
            continue
        lines.append(f"{head}: {len(ex['candidates'])} candidate wrappers tried; hidden cells that test it: "
                     f"{', '.join(ex['judged_cells']) or 'NONE'}"
                     + (f"; passed by a null answer (do not test it): {', '.join(ex['null_passes'])}"
                        if ex["null_passes"] else ""))
        for c in ex["candidates"]:
            if c["hidden_points"] > 0 or (verbose and c.get("timeouts")):
                tag = "SOLVES" if c["hidden_points"] > 0 else "passes"
                lines.append(f"    {tag}: {c['call']} -> passes {', '.join(c['passed']) or 'nothing'}"
                             f" ({c['hidden_points']:g} hidden points)"
                             + (f"; timed out in {', '.join(c['timeouts'])}" if c.get("timeouts") else ""))
        if verbose:
            tried = sorted({c["callable"] for c in ex["candidates"]})
            lines.append(f"    tried: {', '.join(tried) or '-'}")
    return "\n".join(lines)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_no_public_dlcourse_helper_solves_an_exercise(aid, tmp_path):
    report = run_probe(aid, tmp_path / f"{aid}.json")
    print(format_report(report, verbose=True))
    broken = [f"{ex['cell']}.{ex['function']}: {ex['control_failed']}" for ex in report["exercises"]
              if ex.get("control_failed")]
    assert not broken, ("the reference solution fails its own test cells inside the probe, so the probe cannot "
                        "judge those exercises:\n" + "\n".join(broken))
    assert report["exercises"], f"{aid}: the probe found no exercise (solution cell defining a function or class)"
    solved = [f"{ex['cell']}.{ex['function']}: {c['call']} earns {c['hidden_points']:g} hidden points "
              f"({', '.join(c['passed_hidden'])})"
              for ex in report["exercises"] for c in ex["candidates"] if c["hidden_points"] > 0]
    assert not solved, (f"{aid}: a public dlcourse helper that the assignment imports solves an exercise "
                        "(DESIGN rule 3: move it to a private module or stop importing it):\n" + "\n".join(solved))


# =========================================================================== the probe
# Everything below runs in the probe subprocess (python tests/test_rule3.py --probe ID).
class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that a candidate's ``except Exception`` cannot swallow it."""


def _alarm(signum, frame):
    raise _Timeout()


def _run_cell(source: str, ns: dict, timeout: float) -> str | None:
    """Execute ``source`` in ``ns``; None when it ran through, else a one-line reason."""
    import contextlib
    import io
    import signal
    import warnings

    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    code = compile("\n".join(lines), "<cell>", "exec")
    sink = io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, ns)
        return None
    except _Timeout:
        return "timeout"
    except (Exception, SystemExit) as e:  # noqa: BLE001 - a candidate may raise anything; we only record it
        return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            import matplotlib.pyplot as plt

            plt.close("all")
        except Exception:  # noqa: BLE001
            pass


def _reachable_callables(module_names: set[str]) -> dict[str, object]:
    """Public callables (functions, classes) defined in dlcourse by the modules and their public submodules."""
    import importlib
    import inspect
    import pkgutil

    seen_mods: dict[str, object] = {}
    todo = sorted(module_names)
    while todo:
        name = todo.pop()
        if name in seen_mods:
            continue
        try:
            mod = importlib.import_module(name)
        except ImportError:  # ``from dlcourse.viz import f``: f is not a module; its module is already listed
            continue
        if not inspect.ismodule(mod):
            continue
        seen_mods[name] = mod
        if hasattr(mod, "__path__"):  # a package: its public submodules are one import away
            todo += [f"{name}.{m.name}" for m in pkgutil.iter_modules(mod.__path__) if not m.name.startswith("_")]
    out: dict[str, object] = {}
    ids: set[int] = set()
    for name, mod in sorted(seen_mods.items()):
        public = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for attr in public:
            obj = getattr(mod, attr, None)
            if obj is None or inspect.ismodule(obj) or not callable(obj) or id(obj) in ids:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not str(getattr(obj, "__module__", "")).startswith("dlcourse"):
                continue  # re-exported torch / numpy names are not dlcourse helpers
            ids.add(id(obj))
            out[f"{name}.{attr}"] = obj
    return out


def _params(obj) -> list | None:
    import inspect

    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return list(sig.parameters.values())


def _plans(f_params: list, c_params: list) -> list[tuple[str, tuple, tuple]]:
    """Ways to call a candidate with the exercise's arguments: (strategy, positional sources, keyword sources).

    Sources are names of the exercise's parameters, or ``("default", value)`` for a skipped
    positional parameter of the candidate.
    """
    import inspect

    P = inspect.Parameter
    fnames = [p.name for p in f_params if p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)]
    pos_kinds = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
    cpos = [p for p in c_params if p.kind in pos_kinds]
    ckw = [p for p in c_params if p.kind == P.KEYWORD_ONLY]
    has_varargs = any(p.kind == P.VAR_POSITIONAL for p in c_params)
    has_varkw = any(p.kind == P.VAR_KEYWORD for p in c_params)
    plans = []

    # by name, then the remaining exercise arguments in order for the helper's required parameters
    unused = [n for n in fnames if n not in {p.name for p in c_params}]
    src: dict[str, object] = {}
    ok = True
    for p in cpos + ckw:
        if p.name in fnames:
            src[p.name] = p.name
        elif p.default is P.empty:
            if unused:
                src[p.name] = unused.pop(0)
            else:
                ok = False
    if ok:
        last = max((i for i, p in enumerate(cpos) if p.name in src), default=-1)
        pos = tuple(src.get(p.name, ("default", p.default)) for p in cpos[:last + 1])
        kw = tuple((p.name, src[p.name]) for p in ckw if p.name in src)
        if has_varkw:
            kw += tuple((n, n) for n in unused)
        plans.append(("by name", pos, kw))

    # purely in order (the helper's parameters may be named differently)
    n = len(fnames) if has_varargs else min(len(fnames), len(cpos))
    pos = tuple(fnames[:n])
    kw = tuple((p.name, p.name) for p in ckw if p.name in fnames[n:])
    filled = {p.name for p in cpos[:n]} | {k for k, _ in kw}
    if all(p.name in filled or p.default is not P.empty for p in cpos + ckw):
        plans.append(("in order", pos, kw))
    out, seen = [], set()
    for plan in plans:
        key = (plan[1], plan[2])
        if key not in seen:
            seen.add(key)
            out.append(plan)
    return out


def _make_wrapper(ref, cand, plan):
    """A thin answer: ``ref``'s signature, ``cand``'s behaviour (a subclass when both are classes)."""
    import functools
    import inspect

    fsig = inspect.signature(ref)
    _, pos_src, kw_src = plan

    def mapped(args, kwargs):
        bound = fsig.bind(*args, **kwargs)
        bound.apply_defaults()
        vals = dict(bound.arguments)
        pos = [s[1] if isinstance(s, tuple) else vals[s] for s in pos_src]
        kw = {k: vals[s] for k, s in kw_src}
        return pos, kw

    if inspect.isclass(ref) and inspect.isclass(cand):
        def __init__(self, *args, **kwargs):
            pos, kw = mapped(args, kwargs)
            cand.__init__(self, *pos, **kw)

        return type(ref.__name__, (cand,), {"__init__": __init__, "__module__": "__main__"})

    @functools.wraps(ref)
    def answer(*args, **kwargs):
        pos, kw = mapped(args, kwargs)
        return cand(*pos, **kw)

    return answer


def _null_answer(ref):
    import functools
    import inspect

    if inspect.isclass(ref):
        def __init__(self, *args, **kwargs):
            raise NotImplementedError("null answer")

        return type(ref.__name__, (ref.__mro__[1] if len(ref.__mro__) > 1 else object,), {"__init__": __init__})

    @functools.wraps(ref)
    def answer(*args, **kwargs):
        raise NotImplementedError("null answer")

    return answer


def _fmt_call(name: str, plan) -> str:
    strategy, pos, kw = plan
    parts = [repr(s[1]) if isinstance(s, tuple) else s for s in pos] + [f"{k}={s}" for k, s in kw]
    return f"{name}({', '.join(parts)}) [{strategy}]"


def _snapshot(ns: dict) -> dict:
    """A copy of a notebook namespace in which a candidate cannot change the reference run's objects.

    Values are deep-copied where possible (models, tensors, arrays, containers); modules,
    functions, classes and objects that cannot be copied are shared.
    """
    import copy
    import inspect

    out = {}
    for k, v in ns.items():
        if k.startswith("__") or inspect.ismodule(v) or inspect.isroutine(v) or inspect.isclass(v):
            out[k] = v
            continue
        try:
            out[k] = copy.deepcopy(v)
        except Exception:  # noqa: BLE001 - generators, open files, locks: share them
            out[k] = v
    return out


def _blocks(cells: list, meta: list, is_test: list, is_sol: list) -> dict[int, list[int]]:
    """For each solution cell, the cells that follow it up to the end of the test cells that judge it.

    Tests judge every solution cell above them back to the previous test cell (one exercise may
    have several solution cells before its tests); the cells in between (including later
    solution cells, run as the reference) run too, as in the notebook.
    """
    out = {}
    for i, sol in enumerate(is_sol):
        if not sol:
            continue
        block, seen_test = [], False
        for j in range(i + 1, len(cells)):
            if cells[j].cell_type != "code":
                continue
            if is_test[j]:
                seen_test = True
            elif seen_test:
                break
            block.append(j)
        while block and not is_test[block[-1]]:
            block.pop()
        out[i] = block
    return out


def probe(aid: str) -> dict:
    """Execute the reference notebook of ``aid`` and try every reachable helper at every exercise."""
    import inspect
    import random
    import time

    import numpy as np

    try:
        import torch
    except ImportError:  # pragma: no cover - torch is in the lock
        torch = None

    start = time.perf_counter()
    report: dict = {"assignment": aid, "exercises": [], "modules": [], "n_callables": 0}
    for sol_path in sorted((ROOT / "solutions" / aid).glob("*.ipynb")):
        release_path = ROOT / "assignments" / aid / sol_path.name
        modules: set[str] = set()
        for s in _code_sources(release_path if release_path.exists() else sol_path):
            modules |= dlcourse_references(s)[0]
        callables = _reachable_callables(modules)
        report["modules"] = sorted(set(report["modules"]) | modules)
        report["n_callables"] += len(callables)
        cand_params = {name: _params(obj) for name, obj in callables.items()}

        nb = nbformat.read(sol_path, as_version=4)
        cells = nb.cells
        meta = [c.get("metadata", {}).get("nbgrader", {}) for c in cells]
        is_test = [c.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")
                   for c, m in zip(cells, meta)]
        is_sol = [c.cell_type == "code" and bool(m.get("solution")) for c, m in zip(cells, meta)]
        blocks = _blocks(cells, meta, is_test, is_sol)
        last = max((b[-1] for b in blocks.values() if b), default=-1)
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover
            display = print
        g: dict = {"__name__": "__main__", "display": display}
        os.chdir(sol_path.parent)  # the notebook's own folder, as nbgrader runs it

        def rng_state():
            return (random.getstate(), np.random.get_state(), torch.get_rng_state() if torch else None)

        def set_rng(state):
            random.setstate(state[0])
            np.random.set_state(state[1])
            if torch is not None:
                torch.set_rng_state(state[2])

        for i, cell in enumerate(cells[:last + 1]):
            if cell.cell_type != "code":
                continue
            err = _run_cell(cell.source, g, CONTROL_TIMEOUT_S)
            if err is not None and not (is_sol[i] or is_test[i]):
                raise RuntimeError(f"{sol_path.name} cell {i} failed in the probe: {err}")
            if not is_sol[i] or not blocks.get(i):
                continue
            block = blocks[i]
            tests = {meta[j]["grade_id"]: float(meta[j].get("points", 0) or 0) for j in block if is_test[j]}
            hidden = {gid for j in block if is_test[j] and "BEGIN HIDDEN TESTS" in cells[j].source
                      for gid in [meta[j]["grade_id"]]}
            state = rng_state()

            def run_block(ns, timeout):
                """Run the block in ns: (test cells passed, first error per failed test cell, timeouts)."""
                passed, errors, timeouts = [], {}, []
                set_rng(state)
                for j in block:
                    err = _run_cell(cells[j].source, ns, timeout)
                    if is_test[j]:
                        if err is None:
                            passed.append(meta[j]["grade_id"])
                        else:
                            errors[meta[j]["grade_id"]] = err
                    if err == "timeout":
                        timeouts.append(meta[j].get("grade_id") or f"cell {j}")
                        break  # a candidate that hangs gets no more of this block
                return passed, errors, timeouts

            base = _snapshot(g)
            c_passed, c_errors, _ = run_block(_snapshot(base), CONTROL_TIMEOUT_S)
            tree = _parse(cell.source)
            defined = [n.name for n in (tree.body if tree else [])
                       if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
            for fname in defined:
                ref = g.get(fname)
                entry = {"cell": meta[i]["grade_id"], "function": fname, "tests": list(tests),
                         "candidates": [], "null_passes": [], "judged_cells": []}
                try:
                    f_params = list(inspect.signature(ref).parameters.values())
                    entry["signature"] = str(inspect.signature(ref))
                except (TypeError, ValueError):
                    f_params, entry["signature"] = [], "(?)"
                if c_errors:
                    entry["control_failed"] = "; ".join(f"{k}: {v}" for k, v in c_errors.items())
                    report["exercises"].append(entry)
                    continue
                ns = _snapshot(base)
                ns[fname] = _null_answer(ref)
                n_passed, _, _ = run_block(ns, CELL_TIMEOUT_S)
                entry["null_passes"] = [gid for gid in n_passed if gid in hidden]
                judged = [gid for gid in tests if gid in hidden and gid in c_passed and gid not in n_passed]
                entry["judged_cells"] = judged
                fset = {p.name for p in f_params}
                for cname, obj in callables.items():
                    cp = cand_params[cname]
                    if cp is None:
                        continue
                    short = cname.rsplit(".", 1)[1]
                    if not (fset & {p.name for p in cp}) and short.lower() != fname.lower():
                        continue
                    for plan in _plans(f_params, cp):
                        ns = _snapshot(base)
                        ns[fname] = _make_wrapper(ref, obj, plan)
                        p_passed, p_errors, p_timeouts = run_block(ns, CELL_TIMEOUT_S)
                        won = [gid for gid in judged if gid in p_passed]
                        entry["candidates"].append({
                            "callable": cname, "call": _fmt_call(cname, plan), "passed": p_passed,
                            "passed_hidden": won, "hidden_points": sum(tests[gid] for gid in won),
                            "timeouts": p_timeouts, "first_error": next(iter(p_errors.values()), None),
                        })
                report["exercises"].append(entry)
            set_rng(state)  # the reference run goes on as if no candidate had run
    report["seconds"] = time.perf_counter() - start
    return report


def _main(argv: list[str]) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the reports to this JSON file")
    args = ap.parse_args(argv)
    if args.probe:
        sys.path.insert(0, str(ROOT / "shared"))
        Path(args.out).write_text(json.dumps(probe(args.probe), indent=1, default=str))
        return 0
    reports = []
    with tempfile.TemporaryDirectory(prefix="rule3-") as tmp:
        for aid in args.assignments or ASSIGNMENTS:
            rep = run_probe(aid, Path(tmp) / f"{aid}.json")
            reports.append(rep)
            print(format_report(rep, verbose=True), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1, default=str))
    solved = sum(c["hidden_points"] > 0 for r in reports for ex in r["exercises"] for c in ex["candidates"])
    print(f"\n{solved} helper wrapper(s) earn hidden points" if solved else "\nno helper earns hidden points")
    return 1 if solved else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
