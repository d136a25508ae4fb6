"""Hidden-test messages in the Spanish edition (issue #15).

The hidden tests live only in the instructor notebooks ``solutions/<id>/<id>.ipynb``: their messages
are not in the student release, so they have a private catalog ``translations/es/hidden/<id>/<id>.po``
(``i18n extract solutions/<id>/<id>.ipynb``) that the grader merges into ``DLCOURSE_MESSAGES`` for a
Spanish submission and that is never published. These tests read the instructor notebooks of every
assignment of the edition with :mod:`ast` (the literal finder of ``test_i18n_messages``, plus the
arguments through which tests speak to students: ``hint=``, ``msg=``, ``err_msg=`` and the message
of a raised exception) and check the private catalogs against them.
"""
from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import nbformat
import pytest
from test_i18n_messages import _english, _shown_literals, untranslated_literals

from dlcourse import lang
from dlcourse.course import i18n, release

ROOT = Path(__file__).resolve().parents[1]
LANG = "es"
#: Keywords through which a test's failure message reaches the student.
TEST_KEYWORDS = {"hint", "msg", "err_msg"}
_MAGIC = re.compile(r"^\s*[%!]")


def instructor_notebooks() -> list[Path]:
    """``solutions/<id>/<id>.ipynb`` of every assignment whose release is in the Spanish edition."""
    return [p for p in i18n.hidden_sources(ROOT)
            if i18n.catalog_path(ROOT, i18n.edition_release(ROOT, p), LANG).is_file()]


def _masked(source: str) -> str:
    """``source`` with IPython magics (``%...``, ``!...``) commented out, lines kept."""
    return "\n".join("#" + ln[1:] if _MAGIC.match(ln) else ln for ln in source.split("\n"))


def _parse(source: str) -> ast.Module:
    return ast.parse(_masked(source))


def test_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of English a test cell shows through ``hint=``/``msg=``/``err_msg=`` (a lambda's
    result included) or ``raise SomeError("...")``, outside ``tr()``."""
    found = []
    for node in ast.walk(_parse(source)):
        shown = []
        if isinstance(node, ast.keyword) and node.arg in TEST_KEYWORDS:
            shown.append(node.value.body if isinstance(node.value, ast.Lambda) else node.value)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            shown.append(node.exc.args[0])
        for arg in shown:
            found += [(lit.lineno, text) for lit, text in _shown_literals(arg) if _english(text)]
    return sorted(set(found))


test_literals.__test__ = False  # a helper, not a test


def _code_cells(path: Path):
    for idx, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code" and not (cell.get("metadata", {}).get("nbgrader") or {}).get("solution"):
            yield idx, cell


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _finished(po: Path) -> dict[str, str]:
    return {m.id: m.string for m in i18n.load_catalog(po, LANG)
            if m.id and m.context == i18n.MESSAGE_CONTEXT and m.string and not m.fuzzy}


@pytest.mark.parametrize("path", instructor_notebooks(), ids=lambda p: p.parent.name)
def test_hidden_tests_show_no_english_literal(path):
    problems = [f"cell {idx} ({cell.get('id')}) line {line}: {text[:70]!r}"
                for idx, cell in _code_cells(path)
                for line, text in sorted(set(untranslated_literals(_masked(cell.source))) | set(test_literals(cell.source)))]
    assert not problems, (f"{path.relative_to(ROOT)}: English a student reads, outside tr() (wrap it: "
                          "`from dlcourse.lang import tr`, see docs/translating.md):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("path", instructor_notebooks(), ids=lambda p: p.parent.name)
def test_every_hidden_test_message_has_a_spanish_translation(path):
    public = _finished(i18n.catalog_path(ROOT, i18n.edition_release(ROOT, path), LANG))
    private_po = i18n.catalog_path(ROOT, path, LANG)
    assert private_po.parent.parent.name == i18n.HIDDEN_CATALOGS, private_po
    private = _finished(private_po)
    problems = []
    for idx, cell in _code_cells(path):
        for call in (n for n in ast.walk(_parse(cell.source))
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "tr"):
            where = f"cell {idx} ({cell.get('id')}) line {call.lineno}"
            msg = call.args[0] if call.args else None
            if not (isinstance(msg, ast.Constant) and isinstance(msg.value, str)):
                problems.append(f"{where}: tr() needs its English message as a string literal")
                continue
            es = public.get(msg.value) or private.get(msg.value)
            if not es:
                problems.append(f"{where}: no Spanish for {msg.value[:60]!r}: run `python -m dlcourse.course i18n "
                                f"extract {path.relative_to(ROOT)}` and translate {private_po.relative_to(ROOT)}")
            elif _fields(es) != _fields(msg.value) or {k.arg for k in call.keywords} != _fields(msg.value):
                problems.append(f"{where}: {msg.value[:50]!r}: fields {sorted(_fields(msg.value))}, Spanish "
                                f"{sorted(_fields(es))}, passed {sorted(k.arg for k in call.keywords)}")
    assert not problems, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", instructor_notebooks(), ids=lambda p: p.parent.name)
def test_hidden_messages_stay_private(path):
    """Only the hidden tests show them: they are neither messages of the student release nor in the
    package's locale/es.json, which is published."""
    private = _finished(i18n.catalog_path(ROOT, path, LANG))
    assert private, f"{path.parent.name}: no hidden-test message translated"
    shipped = json.loads((ROOT / "shared" / "dlcourse" / "locale" / f"{LANG}.json").read_text(encoding="utf-8"))
    released = {m.id for m in i18n.template_for(ROOT, i18n.edition_release(ROOT, path)) if m.context == "message"}
    assert not set(private) & set(shipped), f"hidden-test messages in locale/{LANG}.json: {sorted(set(private) & set(shipped))[:3]}"
    assert not set(private) & released, f"messages of the student release in the private catalog: {sorted(set(private) & released)[:3]}"


def test_a_spanish_submission_gets_the_hidden_test_messages(tmp_path, monkeypatch):
    aid = "a1_conv_arithmetic"
    source = ROOT / "solutions" / aid / f"{aid}.ipynb"
    hidden = _finished(i18n.catalog_path(ROOT, source, LANG))
    en, es = next(iter(sorted(hidden.items())))
    edition = i18n.Edition.of_submission(i18n.edition_path(ROOT, i18n.edition_release(ROOT, source)), source)
    assert edition.lang == LANG and edition.env["DLCOURSE_LANG"] == LANG and not edition.notes, edition.notes
    messages = json.loads(edition.env["DLCOURSE_MESSAGES"])
    # the kernel runs the student's code too: hidden-test messages stay out of it (tests/hostile/hidden_message.py)
    assert not set(hidden) & set(messages) and edition.hidden_messages[en] == es
    public = _finished(i18n.catalog_path(ROOT, i18n.edition_release(ROOT, source), LANG))
    assert set(public) <= set(messages), "the public messages of the notebook are passed"
    monkeypatch.setenv("DLCOURSE_LANG", LANG)
    monkeypatch.setenv("DLCOURSE_MESSAGES", edition.env["DLCOURSE_MESSAGES"])
    fields = {name: 1 for name in _fields(en)}
    in_kernel = lang.tr(en, **fields)  # English, marked [en]; the grader translates the test's output
    assert in_kernel == "[en] " + en.format(**fields)
    assert edition.translate_messages(f"AssertionError: {in_kernel}") == f"AssertionError: {es.format(**fields)}"
    assert i18n.Edition.of_submission(i18n.edition_release(ROOT, source), source).env == {}  # English: nothing


def test_a_spanish_submission_without_a_private_catalog_is_told(tmp_path):
    """A course whose private catalog is missing grades in Spanish and says that hidden messages stay English."""
    aid = "a1_conv_arithmetic"
    for rel in (f"solutions/{aid}/{aid}.ipynb", f"translations/es/assignments/{aid}/{aid}.po"):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_bytes((ROOT / rel).read_bytes())
    submitted = i18n.edition_path(ROOT, ROOT / "assignments" / aid / f"{aid}.ipynb")
    edition = i18n.Edition.of_submission(submitted, tmp_path / "solutions" / aid / f"{aid}.ipynb")
    assert edition.lang == LANG and any("hidden-test messages" in n for n in edition.notes), edition.notes


def test_publish_check_refuses_a_private_catalog(tmp_path):
    (tmp_path / "translations" / LANG / i18n.HIDDEN_CATALOGS / "a1").mkdir(parents=True)
    (tmp_path / "translations" / LANG / i18n.HIDDEN_CATALOGS / "a1" / "a1.po").write_text('msgid ""\nmsgstr ""\n')
    problems = release.check_published(ROOT, tmp_path)
    assert any("private catalog of hidden-test messages" in p for p in problems), problems


def test_hidden_extract_keeps_public_messages_out(tmp_path):
    """A message shown by a visible test goes to the public catalog only; one shown by a hidden test only
    to the private one; a changed hidden message goes stale there."""
    (tmp_path / "solutions" / "a9").mkdir(parents=True)
    (tmp_path / "assignments" / "a9").mkdir(parents=True)
    (tmp_path / "translations").mkdir()
    (tmp_path / "translations" / "glossary.csv").write_text("en,es,note\nkernel,núcleo,\n")

    def notebook(hidden_msg: str | None):
        nb = nbformat.v4.new_notebook()
        md = nbformat.v4.new_markdown_cell("A tiny assignment.")
        md.id = "intro"
        code = 'print(tr("visible {n}", n=1))\n'
        if hidden_msg is not None:
            code += f"### BEGIN HIDDEN TESTS\nassert True, tr({hidden_msg!r})\n### END HIDDEN TESTS\n"
        cc = nbformat.v4.new_code_cell(code)
        cc.id = "t1"
        cc.metadata["nbgrader"] = {"grade": True, "grade_id": "t1", "locked": True, "points": 1, "solution": False}
        nb.cells = [md, cc]
        return nb

    sol, rel = tmp_path / "solutions" / "a9" / "a9.ipynb", tmp_path / "assignments" / "a9" / "a9.ipynb"
    nbformat.write(notebook("the kernel is too big"), sol)
    nbformat.write(notebook(None), rel)
    i18n.extract(tmp_path, [rel, sol])
    public, private = i18n.catalog_path(tmp_path, rel), i18n.catalog_path(tmp_path, sol)
    assert private == tmp_path / "translations" / "es" / "hidden" / "a9" / "a9.po"
    assert {m.id for m in i18n.load_catalog(public) if m.context == "message"} == {"visible {n}"}
    assert {m.id for m in i18n.load_catalog(private) if m.id} == {"the kernel is too big"}
    assert any("messages untranslated" in p and "hidden tests" in p for p in i18n.check(tmp_path))
    cat = i18n.load_catalog(private)
    cat.get("the kernel is too big", context="message").string = "el núcleo es demasiado grande"
    i18n._write_catalog(private, cat)
    nbformat.write(notebook("the kernel is far too big"), sol)
    i18n.extract(tmp_path)  # the default extract updates the private catalog too
    m = next(m for m in i18n.load_catalog(private) if m.id)
    assert m.id == "the kernel is far too big" and m.fuzzy and m.string == "el núcleo es demasiado grande"
    row = next(s for s in i18n.status(tmp_path) if s.notebook.endswith("(hidden tests)"))
    assert (row.messages, row.messages_translated) == (1, 0)


def rebinds_tr(source: str) -> list[int]:
    """Lines of a code cell that bind the name ``tr`` (assignment, loop, import, def, argument): after
    one, every later ``tr("...")`` of the notebook calls that object instead of the translator."""
    found = []
    for node in ast.walk(_parse(source)):
        if isinstance(node, ast.Name) and node.id == "tr" and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.append(node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == "tr":
            found.append(node.lineno)
        elif isinstance(node, ast.arg) and node.arg == "tr":
            found.append(node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            translator = isinstance(node, ast.ImportFrom) and node.module == "dlcourse.lang"
            found += [node.lineno for a in node.names if (a.asname or a.name) == "tr" and not (translator and a.name == "tr")]
    return sorted(found)


rebinds_tr.__test__ = False


def _edition_and_instructor_notebooks() -> list[Path]:
    return [nb for nb in i18n.sources(ROOT) if i18n.catalog_path(ROOT, nb, LANG).is_file()] + instructor_notebooks()


@pytest.mark.parametrize("path", _edition_and_instructor_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_cell_rebinds_tr(path):
    """A variable named ``tr`` (``tr, va, te = data.split(...)``) would turn every later message into a
    TypeError: answers included, since the tests run after them."""
    nb = nbformat.read(path, as_version=4)
    problems = [f"cell {idx} ({cell.get('id')}) line {line}" for idx, cell in enumerate(nb.cells)
                if cell.cell_type == "code" for line in rebinds_tr(cell.source)]
    assert not problems, f"{path.relative_to(ROOT)} binds the name tr (rename the variable): " + ", ".join(problems)


def test_the_rebinding_finder_finds_what_it_must():
    assert rebinds_tr("tr, va, te = data.split()\nfor tr in x:\n    pass\ndef f(tr):\n    return tr\n") == [1, 2, 4]
    assert rebinds_tr("import numpy as tr\nfrom x import y as tr\n") == [1, 2]
    assert rebinds_tr('from dlcourse.lang import tr\nprint(tr("x"))\nz = tr.__name__\n') == []


def test_the_test_literal_finder_finds_what_it_must():
    flagged = test_literals(
        'expect_error(ValueError, f, 3, hint="too small")\n'
        'torch.testing.assert_close(a, b, msg=lambda m: f"differs: {m}")\n'
        'np.testing.assert_allclose(a, b, err_msg="not close")\n'
        'raise AssertionError(f"{name} failed")\n')
    assert [t for _, t in flagged] == ["too small", "differs: ", "not close", " failed"]
    assert test_literals('expect_error(ValueError, f, hint=tr("too small"))\n'
                         'assert_close(a, b, msg=lambda m: tr("differs: {m}", m=m))\n'
                         'raise KeyError(key)\n') == []
