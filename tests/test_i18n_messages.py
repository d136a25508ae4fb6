"""Messages that code cells show students come from the catalog (issue #15).

The Spanish edition copies code cells byte for byte, so a code cell that prints, titles a figure
or fails an ``assert`` with an English literal shows English in the Spanish notebook. These tests
read the code cells of every notebook of the edition (those with a catalog under ``translations/``)
with :mod:`ast` and fail on:

* a student-visible string literal (``print(...)``, ``display(Markdown(...))``, ``title=``,
  ``xlabel=``, ``ylabel=``, ``label=``, ``set_title``/``suptitle``/..., ``ax.text``, an ``assert``
  message) that holds English words and is not the message of a ``tr()`` call;
* a ``tr()`` whose message is not a plain string literal (the extractor cannot see it);
* a code cell that assigns the name ``tr`` (it hides :func:`dlcourse.lang.tr` from the cells after it);
* a ``tr()`` message without a Spanish translation in the package catalog
  (``shared/dlcourse/locale/es.json``), or whose translation has other ``{fields}`` than the English
  (``tr`` would raise ``KeyError`` in the Spanish notebook only).
"""
from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import nbformat
import pytest

from dlcourse.course import i18n

ROOT = Path(__file__).resolve().parents[1]
LANG = "es"

#: Calls whose first positional argument a student reads.
SHOWN_FIRST = {"print", "Markdown", "suptitle", "set_title", "set_xlabel", "set_ylabel", "title", "xlabel", "ylabel"}
#: Keywords whose value a student reads (figure text, legend entries, captions).
SHOWN_KEYWORDS = {"title", "xlabel", "ylabel", "label", "suptitle", "labels", "captions", "row_labels"}
#: Literals that are not English prose although they hold letters: names, units and symbols that read the
#: same in both editions. Keep this list short: anything a Spanish student would read as English belongs in tr().
ALLOWED = {"FAST", "PyTorch", "PCA", "MMACs", "ROC-AUC", "t-SNE 1", "t-SNE 2", "PSNR (dB)",
           # lecture 2: names of the designs checked (model@input size), printed as headings
           "vgg@28", "alexnet-like@99", "conv5 + pool 3/2 @32", "vgg@30"}
_FIELD = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"[A-Za-z]{2,}")


def edition_notebooks() -> list[Path]:
    return [nb for nb in i18n.sources(ROOT) if i18n.catalog_path(ROOT, nb, LANG).is_file()]


def _is_tr(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _text(node: ast.AST) -> str | None:
    """The literal text of a str constant or f-string (fields blanked), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _english(text: str) -> bool:
    return text.strip() not in ALLOWED and bool(_WORD.search(_FIELD.sub(" ", text)))


def _shown_literals(node: ast.AST):
    """String literals that reach the student through ``node`` (an argument shown as it is)."""
    if _is_tr(node):  # the message is translated; the values of its fields are shown too
        for k in node.keywords:
            yield from _shown_literals(k.value)
        return
    text = _text(node)
    if text is not None:
        yield node, text
        if isinstance(node, ast.JoinedStr):
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    yield from _shown_literals(v.value)
    elif isinstance(node, ast.IfExp):
        yield from _shown_literals(node.body)
        yield from _shown_literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _shown_literals(v)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        yield from _shown_literals(node.left)
        yield from _shown_literals(node.right)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            yield from _shown_literals(e)
    elif isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        yield from _shown_literals(node.elt)
    elif isinstance(node, ast.DictComp):
        yield from _shown_literals(node.value)


def untranslated_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every student-visible English literal of a code cell that is not a tr() message.

    Raises:
        SyntaxError: the cell is not Python (an edition notebook's code cells must parse).
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        shown = []
        if isinstance(node, ast.Call) and not _is_tr(node):
            name = _call_name(node)
            if name == "print":
                shown += node.args
            elif name in SHOWN_FIRST and node.args:
                shown.append(node.args[0])
            elif name == "text" and len(node.args) > 2:  # ax.text(x, y, s)
                shown.append(node.args[2])
            shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        elif isinstance(node, ast.Assert) and node.msg is not None:
            shown.append(node.msg)
        for arg in shown:
            found += [(lit.lineno, text) for lit, text in _shown_literals(arg) if _english(text)]
    return sorted(set(found))


def _code_cells(nb_path: Path):
    nb = nbformat.read(nb_path, as_version=4)
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            yield idx, cell


def _tr_calls(source: str):
    return [n for n in ast.walk(ast.parse(source)) if _is_tr(n)]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("path", edition_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_cells_show_no_english_literal(path):
    problems = [f"cell {idx} ({cell.get('id')}) line {line}: {text[:70]!r}"
                for idx, cell in _code_cells(path) for line, text in untranslated_literals(cell.source)]
    assert not problems, (f"{path.name}: student-visible English outside tr() (wrap it: "
                          "`from dlcourse.lang import tr`, see docs/translating.md):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("path", edition_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_message_has_a_spanish_translation(path):
    messages = json.loads((ROOT / "shared" / "dlcourse" / "locale" / f"{LANG}.json").read_text(encoding="utf-8"))
    problems = []
    for idx, cell in _code_cells(path):
        for call in _tr_calls(cell.source):
            where = f"cell {idx} ({cell.get('id')}) line {call.lineno}"
            msg = call.args[0] if call.args else None
            if not (isinstance(msg, ast.Constant) and isinstance(msg.value, str)):
                problems.append(f"{where}: tr() needs its English message as a string literal (no f-string)")
                continue
            es = messages.get(msg.value)
            if not es:
                problems.append(f"{where}: no Spanish for {msg.value[:60]!r}: run `python -m dlcourse.course i18n "
                                "extract`, translate it, then `i18n build`")
            elif _fields(es) != _fields(msg.value):
                problems.append(f"{where}: the Spanish of {msg.value[:50]!r} has fields {sorted(_fields(es))}, "
                                f"the English {sorted(_fields(msg.value))}")
            elif {k.arg for k in call.keywords} != _fields(msg.value):
                problems.append(f"{where}: tr() passes {sorted(k.arg for k in call.keywords)} for the fields "
                                f"{sorted(_fields(msg.value))} of {msg.value[:50]!r}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", edition_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_code_cell_rebinds_tr(path):
    """A cell that assigns ``tr`` (``tr, te = split(...)``) hides the message function from every later cell."""
    nb = nbformat.read(path, as_version=4)
    bound = [f"cell {idx} ({cell.get('id')}) line {n.lineno}" for idx, cell in enumerate(nb.cells) if cell.cell_type == "code"
             for n in ast.walk(ast.parse(cell.source))
             if isinstance(n, ast.Name) and n.id == "tr" and isinstance(n.ctx, (ast.Store, ast.Del))]
    assert not bound, f"{path.name}: `tr` is reassigned (rename the variable): " + ", ".join(bound)


def test_the_checker_finds_what_it_must():
    """The literal finder itself: it flags shown English and leaves translated or non-shown strings alone."""
    flagged = untranslated_literals(
        'print("done")\n'
        'print(f"{n} images", n)\n'
        'ax.set(title="Loss", xlabel=tr("epoch"))\n'
        'assert ok, f"got {x}"\n'
        'display(Markdown(tr("{a} of {b}", a=n, b="the total")))\n'
        'fig.suptitle("up" if up else tr("down"))\n'
        'plot(labels=[f"view {i}" for i in range(3)])\n')
    assert [t for _, t in flagged] == ["done", " images", "Loss", "got ", "the total", "up", "view "]
    clean = untranslated_literals(
        'print(tr("done"))\n'
        'print(f"{a:>3} {b:8.2f}")\n'           # no words: a table row
        'print(", ".join(names), r["acc"])\n'   # separators and keys are not shown as prose
        'plot(fmt="{:.3f}", color="tab:blue", title=tr("t-SNE of {n}", n=n))\n'
        'ax.set(xlabel="t-SNE 1")\n')           # allowed: reads the same in Spanish
    assert clean == []


# ------------------------------------------------------------------ the text dlcourse itself draws or prints

@pytest.mark.parametrize("path", i18n.package_sources(ROOT), ids=lambda p: p.relative_to(ROOT / "shared").as_posix())
def test_every_message_of_the_package_has_a_spanish_translation(path):
    """The package's own tr() messages (plot labels, tables, pick_device's line) are in locale/es.json, with the
    English fields; audio/ is included the day its strings go through tr()."""
    messages = json.loads((ROOT / "shared" / "dlcourse" / "locale" / f"{LANG}.json").read_text(encoding="utf-8"))
    problems = []
    for call in _tr_calls(path.read_text(encoding="utf-8")):
        msg = call.args[0] if call.args else None
        if not (isinstance(msg, ast.Constant) and isinstance(msg.value, str)):
            continue  # tr(title) and the like: the caller's text, already translated
        es = messages.get(msg.value)
        if not es:
            problems.append(f"line {call.lineno}: no Spanish for {msg.value[:60]!r} (translations/es/dlcourse.po)")
        elif _fields(es) != _fields(msg.value):
            problems.append(f"line {call.lineno}: the Spanish of {msg.value[:50]!r} has fields {sorted(_fields(es))}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_the_package_catalog_is_part_of_status():
    rows = {st.notebook: st for st in i18n.status(ROOT)}
    pkg = rows["shared/dlcourse (package)"]
    assert pkg.messages > 50 and pkg.messages_translated == pkg.messages, pkg


@pytest.mark.parametrize("lang_, label, title, device, header", [
    ("en", "epoch", "Confusion matrix", "Device: CPU, as requested.", "model"),
    ("es", "época", "Matriz de confusión", "Dispositivo: CPU, como se pidió.", "modelo"),
])
def test_dlcourse_draws_and_prints_in_the_notebook_language(monkeypatch, capsys, lang_, label, title, device, header):
    import matplotlib

    matplotlib.use("Agg")
    import torch
    from torch import nn

    from dlcourse import arch, device as dev, plotting
    from dlcourse.training import History

    monkeypatch.setenv("DLCOURSE_LANG", lang_)
    monkeypatch.delenv("DLCOURSE_MESSAGES", raising=False)
    fig = plotting.plot_history({"train_loss": [1.0, 0.5]}, metrics=(("train_loss",),))
    assert fig.axes[0].get_xlabel() == label
    fig = plotting.plot_confusion_matrix([0, 1, 1], [0, 1, 0])
    assert fig.axes[0].get_title() == title
    assert plotting.plot_confusion_matrix([0, 1], [0, 1], title="mine").axes[0].get_title() == "mine"
    assert dev.pick_device("cpu") == torch.device("cpu")
    assert capsys.readouterr().out.strip() == device
    table = arch.format_summaries([arch.summarize(nn.Conv2d(1, 2, 3), (1, 8, 8), name="conv")])
    assert table.split()[0] == header and "MMACs" in table
    history = History([{"epoch": 1.0}], stop_reason="time budget of 2 s reached in epoch 1")
    assert history.stop_reason == "time budget of 2 s reached in epoch 1", "programs compare the English value"
    assert ("presupuesto de tiempo de 2 s" in history.stop_message) == (lang_ == "es")
    after = History([], stop_reason="time budget of 9 s reached after 3 epochs").stop_message  # audio.models' reason
    assert after == ("presupuesto de tiempo de 9 s alcanzado tras 3 épocas" if lang_ == "es" else
                     "time budget of 9 s reached after 3 epochs")
    assert History([]).stop_message == ("completado" if lang_ == "es" else "completed")


@pytest.mark.parametrize("path", i18n.package_sources(ROOT), ids=lambda p: p.relative_to(ROOT / "shared").as_posix())
def test_no_package_function_rebinds_tr(path):
    """A module that uses tr() must not bind the name elsewhere (``tr = spec.transforms()`` made every tr() of that
    function an UnboundLocalError)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not any(_is_tr(n) for n in ast.walk(tree)):
        return
    bound = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "tr"
             and isinstance(n.ctx, (ast.Store, ast.Del))]
    bound += [n.lineno for n in ast.walk(tree) if isinstance(n, ast.arg) and n.arg == "tr"]
    assert not bound, f"{path.name}: the name tr is bound at line(s) {bound} (rename the variable)"
