"""Google-style docstrings on the public API of ``dlcourse`` (issue #12, DESIGN.md §4 rule 4).

The rule, built from the code with :mod:`ast` (nothing is imported):

* **Public** means: a module whose dotted path has no underscored part (``__init__`` aside;
  ``__main__`` modules are excluded), a function or class whose name has no leading
  underscore and that is listed in the module's ``__all__`` when the module has one, and
  the methods (not underscored) of such classes.
* A public function is **in scope** when it takes three or more parameters (``self`` /
  ``cls`` not counted, ``*args`` and ``**kwargs`` counted) or has a ``raise`` directly in its
  body (not in a nested function or class).
* Three or more parameters -> an ``Args:`` section naming every parameter (as ``name:``,
  ``name (type):`` or in a ``a, b: ...`` line).
* A ``raise`` -> a ``Raises:`` section naming each exception class raised there, when the
  raised object is a plain name of a class (``raise ValueError(...)``, ``raise KeyError``).
* In scope and returning a value (a ``return <expr>`` that is not ``return None``) ->
  ``Returns:``; a generator -> ``Yields:``; properties are exempt.
* In scope and a parameter annotated ``torch.Tensor`` -> its ``Args`` entry mentions a shape
  in parentheses (``(N, C, H, W)``, ``(T,)``) or says "any shape".

``python tests/test_docstrings.py`` prints every finding.
"""
from __future__ import annotations

import ast
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shared" / "dlcourse"

SECTION = re.compile(
    r"^(Args|Arguments|Returns|Return|Yields|Yield|Raises|Attributes|Examples?|Notes?|"
    r"Warnings?|Todo|See Also|References|Keyword Args|Keyword Arguments|Methods):\s*$"
)
ALIASES = {"Arguments": "Args", "Return": "Returns", "Yield": "Yields",
           "Keyword Args": "Args", "Keyword Arguments": "Args"}
# An entry of an Args / Raises section: ``name:``, ``a, b:``, ``name (type):``, ``*args:``.
ENTRY = re.compile(r"^(?P<names>[*\w.]+(?:\s*,\s*[*\w.]+)*)\s*(?:\([^()]*(?:\([^()]*\)[^()]*)*\))?\s*:(?:\s|$)")
# One dimension of a shape: a name (``N``, ``n_mels``, ``C'``), a number, ``...`` or ``*``,
# optionally with simple arithmetic (``H + 2``, ``2*C``, ``T // hop``).
_DIM = r"(?:[A-Za-z_][\w']*|\d+|\.\.\.|…|\*)"
_DIM_EXPR = rf"{_DIM}(?:\s*(?:[-+*/]|//)\s*{_DIM})*"
SHAPE = re.compile(rf"\(\s*{_DIM_EXPR}\s*,(?:\s*{_DIM_EXPR}\s*,)*(?:\s*{_DIM_EXPR})?\s*\)")
ANY_SHAPE = re.compile(r"\bany\s+shape\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def sections(doc: str) -> dict[str, list[str]]:
    """Split a cleaned docstring into its Google sections: ``{"Args": [lines...], ...}``.

    A section header is a line ``Name:`` at the docstring's left margin; its body is every
    following line up to the next header or the next non-indented non-empty line. Body lines
    are dedented to the section's own margin.
    """
    out: dict[str, list[str]] = {}
    current: str | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            out.setdefault(current, []).extend(textwrap.dedent("\n".join(body)).splitlines())

    for line in doc.splitlines():
        m = SECTION.match(line)
        if m:
            close()
            current, body = ALIASES.get(m.group(1), m.group(1)), []
        elif current is not None and line.strip() and not line[:1].isspace():
            close()
            current, body = None, []
        elif current is not None:
            body.append(line)
    close()
    return out


def entries(lines: list[str]) -> dict[str, str]:
    """The entries of an Args / Raises section: ``{name: its whole text}``.

    An entry starts at the section margin with ``name:`` (or ``a, b:``, ``name (type):``);
    indented lines continue it. Leading ``*`` are dropped from names; a dotted exception name
    (``json.JSONDecodeError``) is also entered under its last part.
    """
    out: dict[str, str] = {}
    names: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        m = ENTRY.match(line) if not line[:1].isspace() else None
        if m:
            names = []
            for raw in m.group("names").split(","):
                name = raw.strip().lstrip("*")
                names += [name] + ([name.rsplit(".", 1)[1]] if "." in name else [])
            for name in names:
                out[name] = line
        else:
            for name in names:
                out[name] += "\n" + line
    return out


def _described(entry: str) -> bool:
    """Does an Args / Raises entry say something after its ``name:``?"""
    return bool(re.search(r"\w", ENTRY.sub("", entry, count=1)))


def _own_nodes(fn: ast.AST):
    """Every node in ``fn``'s body that is not inside a nested function, lambda or class."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names bound inside ``fn`` (parameters, assignments, ``except ... as``, loop targets)."""
    a = fn.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    names |= {p.arg for p in (a.vararg, a.kwarg) if p is not None}
    for node in _own_nodes(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def is_tensor_annotation(ann: ast.expr | None) -> bool:
    """Is ``ann`` ``torch.Tensor`` (or ``Tensor``), alone or in a union / ``Optional``?

    A container or callable of tensors (``list[torch.Tensor]``, ``Callable[..., Tensor]``) is
    not a tensor parameter. String annotations are parsed.
    """
    if ann is None:
        return False
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            ann = ast.parse(ann.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(ann, ast.Attribute):
        return ann.attr == "Tensor" and ast.unparse(ann.value) in ("torch", "th")
    if isinstance(ann, ast.Name):
        return ann.id == "Tensor"
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return is_tensor_annotation(ann.left) or is_tensor_annotation(ann.right)
    if isinstance(ann, ast.Subscript) and ast.unparse(ann.value).rsplit(".", 1)[-1] in ("Optional", "Union"):
        inner = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        return any(is_tensor_annotation(e) for e in inner)
    return False


def _decorator_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    out = set()
    for d in fn.decorator_list:
        d = d.func if isinstance(d, ast.Call) else d
        out.add(ast.unparse(d).rsplit(".", 1)[-1])
    return out


def check_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, where: str) -> list[Finding]:
    """Apply the rule to one function node; return what its docstring lacks."""
    a = fn.args
    params = [p for p in a.posonlyargs + a.args + a.kwonlyargs if p.arg not in ("self", "cls")]
    params += [p for p in (a.vararg, a.kwarg) if p is not None]
    own = list(_own_nodes(fn))
    raises = [n for n in own if isinstance(n, ast.Raise)]
    if len(params) < 3 and not raises:
        return []
    doc = ast.get_docstring(fn) or ""
    secs = sections(doc)
    found: list[Finding] = []

    args = entries(secs.get("Args", []))
    if len(params) >= 3:
        if "Args" not in secs:
            found.append(Finding(where, "takes 3+ parameters but has no Args: section"))
        else:
            missing = [p.arg for p in params if p.arg not in args]
            if missing:
                found.append(Finding(where, f"Args: does not name {', '.join(missing)}"))
            empty = [p.arg for p in params if p.arg in args and not _described(args[p.arg])]
            if empty:
                found.append(Finding(where, f"Args: {', '.join(empty)} named without a description"))
    for p in params:
        if not is_tensor_annotation(p.annotation):
            continue
        if p.arg in args:
            if not (SHAPE.search(args[p.arg]) or ANY_SHAPE.search(args[p.arg])):
                found.append(Finding(where, f"Args: {p.arg} is a tensor; give its shape, e.g. (N, C, H, W), or say 'any shape'"))
        elif len(params) < 3:  # with 3+ parameters the missing entry is reported above
            found.append(Finding(where, f"Args: {p.arg} is a tensor; document it with its shape"))

    if raises:
        local = _local_names(fn)
        classes: list[str] = []
        for r in raises:
            exc = r.exc.func if isinstance(r.exc, ast.Call) else r.exc
            if isinstance(exc, ast.Name) and exc.id not in local and exc.id not in classes:
                classes.append(exc.id)
        if "Raises" not in secs:
            found.append(Finding(where, "raises but has no Raises: section"))
        else:
            named = entries(secs["Raises"])
            missing = [c for c in classes if c not in named]
            if missing:
                found.append(Finding(where, f"Raises: does not name {', '.join(missing)}"))

    if not ({"property", "cached_property", "setter", "getter", "deleter"} & _decorator_names(fn)):
        generator = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own)
        returns = any(isinstance(n, ast.Return) and n.value is not None
                      and not (isinstance(n.value, ast.Constant) and n.value.value is None)
                      for n in own)
        if generator and "Yields" not in secs:
            found.append(Finding(where, "is a generator but has no Yields: section"))
        elif not generator and returns and "Returns" not in secs:
            found.append(Finding(where, "returns a value but has no Returns: section"))
    return found


def _module_all(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and node.value is not None:
            return set(ast.literal_eval(node.value))
    return None


def check_source(source: str, module: str) -> list[Finding]:
    """Apply the rule to every public function and method of one module's source."""
    tree = ast.parse(source)
    public = _module_all(tree)
    found: list[Finding] = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if node.name.startswith("_"):
            continue
        if public is not None and node.name not in public:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if "overload" not in _decorator_names(node):
                found += check_function(node, f"{module}:{node.lineno} {node.name}")
        elif isinstance(node, ast.ClassDef):
            for m in node.body:
                if (isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not m.name.startswith("_")
                        and "overload" not in _decorator_names(m)):
                    found += check_function(m, f"{module}:{m.lineno} {node.name}.{m.name}")
    return found


def public_modules() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        out.append(path)
    return out


def check_package() -> list[Finding]:
    found: list[Finding] = []
    for path in public_modules():
        found += check_source(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    return found


# ------------------------------------------------------------------ the checker on snippets
def _check(src: str) -> list[str]:
    return [f.what for f in check_source(textwrap.dedent(src), "m")]


def test_args_rule():
    ok = '''
    def f(a, b, *rest, key=1, **kw):
        """Do it.

        Args:
            a, b: the two operands.
            *rest: more operands.
            key (int): a key.
            **kw: passed on.
        """
    '''
    bad = '''
    def f(a, b, c):
        """Do it.

        Args:
            a: one.
            b: two.
        """
    '''
    none = '''
    def f(a, b, c):
        """Do it with a, b and c."""
    '''
    assert _check(ok) == []
    assert _check(bad) == ["Args: does not name c"]
    assert _check(bad.replace("b: two.", "b:\n            c: three.")) == ["Args: b named without a description"]
    assert _check(bad.replace("b: two.", "b:\n                the second.\n            c: three.")) == []
    assert _check(none) == ["takes 3+ parameters but has no Args: section"]
    # Two parameters (self not counted) and no raise: out of scope.
    assert _check('class K:\n    def f(self, a, b):\n        """Do it."""\n') == []
    # A name mentioned only in a description does not count as its entry.
    assert _check('def f(a, b, c):\n    """Do it.\n\n    Args:\n        a: like b and c.\n    """\n') == [
        "Args: does not name b, c"]


def test_raises_rule():
    ok = '''
    def f(x):
        """Check x.

        Raises:
            ValueError: x is negative.
            json.JSONDecodeError: never, in fact.
        """
        if x < 0:
            raise ValueError("x must be >= 0")
        try:
            pass
        except OSError as err:
            raise err
        raise JSONDecodeError
    '''
    bad = '''
    def f(x):
        """Check x.

        Raises:
            ValueError: x is negative.
        """
        if x < 0:
            raise ValueError("x must be >= 0")
        raise TypeError("x must be a number") from None
    '''
    none = '''
    def f(x):
        """Check x; raises ValueError when negative."""
        raise ValueError("x")
    '''
    nested = '''
    def f(x):
        """Nothing raised here."""
        def g():
            raise ValueError("x")
        return None
    '''
    assert _check(ok) == []
    assert _check(bad) == ["Raises: does not name TypeError"]
    assert _check(none) == ["raises but has no Raises: section"]
    assert _check(nested) == []


def test_returns_rule():
    ok = '''
    def f(a, b, c):
        """Sum.

        Args:
            a, b, c: the terms.

        Returns:
            a + b + c.
        """
        return a + b + c
    '''
    bad = ok.replace("Returns:", "Result:")
    gen_ok = ok.replace("Returns:", "Yields:").replace("return a + b + c", "yield a")
    gen_bad = ok.replace("return a + b + c", "yield a")
    prop = '''
    class K:
        @property
        def f(self):
            """The value."""
            if self.x is None:
                raise AttributeError
            return self.x
    '''
    assert _check(ok) == []
    assert _check(bad) == ["returns a value but has no Returns: section"]
    assert _check(gen_ok) == []
    assert _check(gen_bad) == ["is a generator but has no Yields: section"]
    assert _check(prop) == ["raises but has no Raises: section"]
    assert _check(ok.replace("return a + b + c", "return None").replace("Returns:", "Result:")) == []


def test_tensor_shape_rule():
    src = '''
    import torch
    def f(x: torch.Tensor, w: "torch.Tensor | None", k: int, y: torch.Tensor):
        """Apply.

        Args:
            x: images ``(N, C, H, W)``.
            w: weights {w}
            k: a count (at least 1, see below).
            y: targets of any shape.
        """
    '''
    assert _check(src.format(w="``(C_out, C, k, k)``.")) == []
    assert _check(src.format(w="(one per filter).")) == [
        "Args: w is a tensor; give its shape, e.g. (N, C, H, W), or say 'any shape'"]
    assert _check(src.format(w="(C,) float.")) == []
    assert is_tensor_annotation(ast.parse("Optional[torch.Tensor]", mode="eval").body)
    assert is_tensor_annotation(ast.parse("np.ndarray | Tensor", mode="eval").body)
    assert not is_tensor_annotation(ast.parse("Callable[[torch.Tensor], torch.Tensor]", mode="eval").body)
    assert not is_tensor_annotation(ast.parse("list[torch.Tensor]", mode="eval").body)
    few = 'import torch\ndef f(x: torch.Tensor):\n    """Apply."""\n    raise ValueError\n'
    assert "Args: x is a tensor; document it with its shape" in _check(few)


def test_public_selection():
    src = '''
    __all__ = ["f", "K"]
    def f(a, b, c):
        """No Args."""
    def g(a, b, c):
        """Not exported."""
    def _h(a, b, c):
        """Private."""
    class K:
        def m(self, a, b, c):
            """No Args."""
        def _p(self, a, b, c):
            """Private."""
    class L:
        def m(self, a, b, c):
            """Not exported."""
    '''
    where = [f.where for f in check_source(textwrap.dedent(src), "m")]
    assert where == ["m:3 f", "m:10 K.m"]
    names = {str(p.relative_to(PACKAGE.parent)) for p in public_modules()}
    assert "dlcourse/viz.py" in names and "dlcourse/grading/__init__.py" in names
    assert not any("/_" in n.replace("/__init__", "") or n.endswith("__main__.py") for n in names)


# ------------------------------------------------------------------ the package itself
def test_package_docstrings():
    found = check_package()
    assert not found, f"{len(found)} public functions need docstring work:\n" + "\n".join(map(str, found))


if __name__ == "__main__":
    findings = check_package()
    print("\n".join(map(str, findings)))
    print(len(findings), "findings", file=sys.stderr)
