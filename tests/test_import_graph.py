"""The import graph of ``dlcourse``, built from the code: no cycle, the layers of DESIGN.md §3, ``course`` below ``grading``.

Every ``import`` and ``from ... import`` of every module counts (absolute and relative, at module
level or inside a function, under ``if TYPE_CHECKING`` too), so a cycle that only bites when a
function runs is caught as well. ``from pkg import name`` is an edge to the submodule ``pkg.name``
when there is one, else to the package ``pkg`` itself.
"""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "shared" / "dlcourse"


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package in ``package_dir``."""
    root = package_dir.parent
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The innermost module of ``modules`` that importing ``target`` names (None outside the package)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (self-imports left out)."""
    modules = module_files(package_dir)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = here.split(".")
                    if node.level - 1 >= len(base_parts):
                        raise ValueError(f"{path}: relative import beyond the top-level package")
                    base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                # `from pkg import sub` imports the submodule pkg.sub when it exists, else names in pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for t in targets:
                dep = _resolve(t, modules)
                if dep and dep != name:
                    deps.add(dep)
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (first module repeated at the end), or None."""
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        return list(e.args[1])
    return None


def test_dlcourse_has_no_import_cycle():
    graph = import_graph(PACKAGE_DIR)
    assert len(graph) > 20, f"only {len(graph)} modules found under {PACKAGE_DIR}"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in dlcourse: " + " -> ".join(cycle or [])


def test_course_never_imports_grading():
    graph = import_graph(PACKAGE_DIR)
    assert "dlcourse.course" in graph and "dlcourse.grading" in graph
    bad = sorted(f"{m} imports {d}" for m, deps in graph.items()
                 if m == "dlcourse.course" or m.startswith("dlcourse.course.")
                 for d in deps if d == "dlcourse.grading" or d.startswith("dlcourse.grading."))
    assert not bad, "dlcourse.course must not import dlcourse.grading (grading sits on top of course):\n" + "\n".join(bad)


def test_grading_uses_course():
    graph = import_graph(PACKAGE_DIR)
    used = {d for m, deps in graph.items() if m.startswith("dlcourse.grading") for d in deps}
    assert "dlcourse.course.nbgrader_api" in used, "grading should release through dlcourse.course.nbgrader_api"


#: The layers of DESIGN.md §3, from the ground up: a module imports only from its own layer or below.
LAYERS = (
    ("ground", {"dlcourse", "_core", "config", "device", "seed", "lang"}),
    ("plotting", {"plotting"}),
    ("training and data", {"training", "data"}),
    ("lecture helpers", {"arch", "checklist", "zoo", "viz", "_lecture_viz", "rf_explorer", "diagrams",
                         "anomaly_data", "restoration", "compression"}),
    ("audio", {"audio"}),
    ("course", {"course"}),
    ("grading", {"grading"}),
)


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of a dlcourse module (by its first name below ``dlcourse``)."""
    top = module.split(".")[1] if "." in module else "dlcourse"
    for i, (_, names) in enumerate(LAYERS):
        if top in names:
            return i
    raise KeyError(f"{module} is in no layer of DESIGN.md §3: add it to LAYERS in {Path(__file__).name}")


def test_every_import_goes_down_or_sideways_never_up():
    graph = import_graph(PACKAGE_DIR)
    up = sorted(f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
                for m, deps in graph.items() for d in deps if layer_of(d) > layer_of(m))
    assert not up, "imports that go up a layer (DESIGN.md §3):\n" + "\n".join(up)


def test_the_layer_check_catches_an_upward_import():
    graph = {"dlcourse.training": {"dlcourse.plotting.core"}, "dlcourse.plotting.core": {"dlcourse.viz"},
             "dlcourse.viz": set()}
    up = [(m, d) for m, deps in graph.items() for d in deps if layer_of(d) > layer_of(m)]
    assert up == [("dlcourse.plotting.core", "dlcourse.viz")]
    with pytest.raises(KeyError, match="no layer"):
        layer_of("dlcourse.brand_new_module")


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root / "pkg"


def test_the_graph_sees_relative_function_level_and_from_imports(tmp_path):
    pkg = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from .sub import b\n",
        "pkg/sub/__init__.py": "from .. import a  # noqa\n",
        "pkg/sub/b.py": "import pkg.c\nfrom ..c import thing\n",
        "pkg/c.py": "from pkg.sub import missing_name\nimport os\n",
    })
    graph = import_graph(pkg)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.sub.b"}, "pkg.sub": {"pkg.a"}, "pkg.sub.b": {"pkg.c"},
                     "pkg.c": {"pkg.sub"}}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"pkg.a", "pkg.sub", "pkg.sub.b", "pkg.c"}


def test_an_acyclic_graph_passes(tmp_path):
    pkg = _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "import json\n"})
    graph = import_graph(pkg)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": set()}
    assert find_cycle(graph) is None


def test_a_relative_import_beyond_the_package_is_reported(tmp_path):
    pkg = _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from ... import x\n"})
    with pytest.raises(ValueError, match="beyond the top-level package"):
        import_graph(pkg)
