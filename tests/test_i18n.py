"""The Spanish edition (issue #15): catalogs, staleness, generated notebooks, glossary, runtime
messages, and grading a Spanish submission (alone and in a batch mixed with English ones).

The Spanish notebooks share their code cells with the English ones, so nothing here executes a
lecture twice: what differs (generation, staleness, rendering, grading) is tested.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from babel.messages.pofile import read_po

from dlcourse import lang
from dlcourse.course import i18n
from dlcourse.course.conventions import badge_url, course_settings

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ a tiny course in tmp_path

def _course(tmp: Path, paragraphs: list[str], code: str = 'print(tr("{n} shapes", n=3))') -> Path:
    (tmp / "lectures").mkdir(parents=True)
    (tmp / "translations").mkdir()
    (tmp / "translations" / "glossary.csv").write_text("en,es,note\nreceptive field,campo receptivo;campos receptivos,\n")
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell("\n\n".join(paragraphs))
    md.id = "intro"
    cc = nbformat.v4.new_code_cell(code)
    cc.id = "code1"
    nb.cells = [md, cc]
    nbformat.write(nb, tmp / "lectures" / "01_x.ipynb")
    return tmp


def _translate(po: Path, mapping: dict[str, str]) -> None:
    cat = i18n.load_catalog(po)
    for m in cat:
        if m.id in mapping:
            m.string = mapping[m.id]
            m.flags.discard("fuzzy")
    i18n._write_catalog(po, cat)


def test_split_blocks_gives_the_text_back_and_keeps_fences_whole():
    text = "# Title\n\nOne paragraph\non two lines.\n\n```python\nx = 1\n\ny = 2\n```\n\n<details><summary>A</summary>\n\nanswer\n\n</details>\n"
    parts = i18n.split_blocks(text)
    assert "".join(parts) == text
    blocks = parts[::2]
    assert "```python\nx = 1\n\ny = 2\n```" in blocks
    assert [b for b in blocks if i18n.is_prose(b)] == ["# Title", "One paragraph\non two lines.", "answer"]
    assert not i18n.is_prose("</details>") and not i18n.is_prose("$$W_{out} = (W - F)/S + 1$$")


def test_extract_build_and_a_changed_english_paragraph_goes_stale(tmp_path):
    root = _course(tmp_path, ["# Receptive fields", "The receptive field grows.", "</details>"])
    src = root / "lectures" / "01_x.ipynb"
    i18n.extract(root, [src])
    po = i18n.catalog_path(root, src)
    ids = {m.id for m in read_po(po.open("rb")) if m.id}
    assert ids == {"# Receptive fields", "The receptive field grows.", "{n} shapes"}, ids
    [st] = i18n.status(root)
    assert (st.translated, st.cells, st.missing, st.messages, st.messages_translated) == (0, 1, 1, 1, 0)
    with pytest.raises(i18n.IncompleteTranslation, match="no translation"):
        i18n.build(root)  # never English in place of a missing translation
    _translate(po, {"# Receptive fields": "# Campos receptivos", "The receptive field grows.": "El campo receptivo crece.",
                    "{n} shapes": "{n} formas"})
    i18n.build(root)
    es = nbformat.read(root / "lectures" / "es" / "01_x.ipynb", as_version=4)
    assert es.cells[0].source == "# Campos receptivos\n\nEl campo receptivo crece.\n\n</details>"
    assert es.cells[1].source == nbformat.read(src, as_version=4).cells[1].source  # code unchanged
    assert es.metadata["language"] == "es"
    assert json.loads((root / "shared" / "dlcourse" / "locale" / "es.json").read_text()) == {"{n} shapes": "{n} formas"}
    assert i18n.check(root) == []

    nb = nbformat.read(src, as_version=4)  # the English source changes one paragraph
    nb.cells[0].source = "# Receptive fields\n\nThe receptive field grows with depth.\n\n</details>"
    nbformat.write(nb, src)
    assert any("not in the catalog" in p for p in i18n.check(root))
    i18n.extract(root)
    entry = next(m for m in read_po(po.open("rb")) if m.id == "The receptive field grows with depth.")
    assert entry.fuzzy and entry.string == "El campo receptivo crece.", "the old translation is kept, marked fuzzy"
    shown = '#| msgid "The receptive field grows."\nmsgctxt "intro"\nmsgid "The receptive field grows with depth."'
    assert shown in po.read_text(), "the translator sees the previous English"
    i18n.extract(root)  # a second extract keeps it
    assert shown in po.read_text()
    [st] = i18n.status(root)
    assert (st.translated, st.stale, st.missing) == (0, 1, 0)
    with pytest.raises(i18n.IncompleteTranslation, match="stale"):
        i18n.build(root)
    assert any("1 stale" in p for p in i18n.check(root))
    i18n.build(root, draft=True)  # a draft marks the stale cell, visibly
    assert "Traducción pendiente" in nbformat.read(root / "lectures" / "es" / "01_x.ipynb", as_version=4).cells[0].source


COMMENTED = ('import torch  # noqa: F401\n'
             '# Build the layer:\n'
             '# three channels in.\n'
             'x = torch.zeros(3)  # the input\n'
             '# YOUR CODE HERE\n'
             'y = x + 1  # (3,)\n'
             '%time z = x * 2  # a magic line is not Python\n')


def test_comment_units_keep_pragmas_markers_and_wordless_comments():
    assert i18n.comment_units(COMMENTED) == ["Build the layer:\nthree channels in.", "the input"]
    es = i18n.translate_comments(COMMENTED, {"Build the layer:\nthree channels in.": "Construye la capa\n(tres canales\nde entrada).",
                                             "the input": "la entrada"}.get)
    assert es.splitlines() == ["import torch  # noqa: F401", "# Construye la capa", "# (tres canales", "# de entrada).",
                               "x = torch.zeros(3)  # la entrada", "# YOUR CODE HERE", "y = x + 1  # (3,)",
                               "%time z = x * 2  # a magic line is not Python"]
    assert i18n.comment_tokens(es) == i18n.comment_tokens(COMMENTED)
    assert i18n.translate_comments(COMMENTED, lambda text: None) == COMMENTED


def test_code_comments_are_extracted_built_and_go_stale(tmp_path):
    root = _course(tmp_path, ["Shapes."], code=COMMENTED)
    src = root / "lectures" / "01_x.ipynb"
    i18n.extract(root, [src])
    po = i18n.catalog_path(root, src)
    comments = {m.id for m in read_po(po.open("rb")) if m.context == "code1#comment"}
    assert comments == {"Build the layer:\nthree channels in.", "the input"}
    _translate(po, {"Shapes.": "Formas."})
    [st] = i18n.status(root)
    assert (st.cells, st.translated, st.missing, st.comments, st.comments_translated) == (2, 1, 1, 2, 0), st
    with pytest.raises(i18n.IncompleteTranslation, match="no translation for the comment 'the input'"):
        i18n.build(root)  # never an English comment in place of a missing translation
    _translate(po, {"Build the layer:\nthree channels in.": "Construye la capa:\ntres canales de entrada.",
                    "the input": "la entrada"})
    i18n.build(root)
    es = nbformat.read(root / "lectures" / "es" / "01_x.ipynb", as_version=4).cells[1].source
    assert "# tres canales de entrada.\nx = torch.zeros(3)  # la entrada\n" in es and "# noqa: F401" in es
    assert i18n.comment_tokens(es) == i18n.comment_tokens(COMMENTED)
    assert i18n.check(root) == []

    nb = nbformat.read(src, as_version=4)  # the English comment changes: its translation goes stale
    nb.cells[1].source = COMMENTED.replace("# the input", "# the input tensor")
    nbformat.write(nb, src)
    i18n.extract(root)
    entry = next(m for m in read_po(po.open("rb")) if m.id == "the input tensor")
    assert entry.context == "code1#comment" and entry.fuzzy and entry.string == "la entrada"
    [st] = i18n.status(root)
    assert (st.stale, st.stale_cells) == (1, ["cell 1 (code1, comments)"]), st
    with pytest.raises(i18n.IncompleteTranslation, match="stale translation of the comment"):
        i18n.build(root)


def test_the_grader_takes_the_course_code_cells_with_the_student_edition_comments(tmp_path):
    """A Spanish submission's test cells carry Spanish comments: Edition.translated gives the course's cells the same
    comments (so they are not taken for edited test cells) and keeps answer cells and hidden tests' comments as they are."""
    aid = "a1_conv_arithmetic"
    source = ROOT / "solutions" / aid / f"{aid}.ipynb"
    es_release = nbformat.read(ROOT / "assignments" / "es" / aid / f"{aid}.ipynb", as_version=4)
    edition = i18n.Edition.of_submission(ROOT / "assignments" / "es" / aid / f"{aid}.ipynb", source)
    assert edition.lang == "es" and edition.comments
    release = edition.translated(nbformat.read(ROOT / "assignments" / aid / f"{aid}.ipynb", as_version=4))
    assert [c.source for c in release.cells if c.cell_type == "code"] == \
        [c.source for c in es_release.cells if c.cell_type == "code"]
    sol_en = nbformat.read(source, as_version=4)
    sol = edition.translated(sol_en)
    changed = [b for a, b in zip(sol_en.cells, sol.cells) if a.cell_type == "code" and a.source != b.source]
    assert changed and all(i18n.comment_tokens(a.source) == i18n.comment_tokens(b.source)
                           for a, b in zip(sol_en.cells, sol.cells) if a.cell_type == "code")
    assert all(a.source == b.source for a, b in zip(sol_en.cells, sol.cells)
               if (a.metadata.get("nbgrader") or {}).get("solution"))
    from dlcourse.course.fixtures import with_answers
    from dlcourse.grading import rebuild

    submitted = tmp_path / f"{aid}.ipynb"
    nbformat.write(with_answers(es_release, sol_en), submitted)
    cells, _ = rebuild.read_submission(submitted)
    canon = rebuild.build(sol, release, cells)
    assert canon.edited == [] and not canon.notes, (canon.edited, canon.notes)  # no Spanish test cell taken for an edit


def test_glossary_check_names_the_term_a_translation_missed(tmp_path):
    root = _course(tmp_path, ["The receptive field grows."], code="x = 1")
    src = root / "lectures" / "01_x.ipynb"
    i18n.extract(root, [src])
    _translate(i18n.catalog_path(root, src), {"The receptive field grows.": "La zona que ve una neurona crece."})
    problems = i18n.glossary_problems(root)
    assert len(problems) == 1 and "campo receptivo" in problems[0]


# ------------------------------------------------------------------ the course's own Spanish edition

EDITION = [(p, i18n.edition_path(ROOT, p)) for p in i18n.sources(ROOT) if i18n.catalog_path(ROOT, p).is_file()]


def test_the_spanish_edition_is_complete_up_to_date_and_follows_the_glossary():
    assert {p.relative_to(ROOT).as_posix() for p, _ in EDITION} >= {
        "lectures/01_cnn_stacks.ipynb", "assignments/a1_conv_arithmetic/a1_conv_arithmetic.ipynb"}
    problems = i18n.check(ROOT)
    assert not problems, "\n".join(problems) + "\n(run `python -m dlcourse.course i18n extract`, translate, then `i18n build`)"
    for st in i18n.status(ROOT):
        assert st.stale == 0 and st.missing == 0 and st.translated == st.cells, st


@pytest.mark.parametrize("src,out", EDITION, ids=[p.stem for p, _ in EDITION])
def test_spanish_notebook_shares_code_cells_ids_and_grading_metadata(src, out):
    en, es = nbformat.read(src, as_version=4), nbformat.read(out, as_version=4)
    assert es.metadata["language"] == "es"
    assert [c.id for c in en.cells] == [c.id for c in es.cells]
    from nbgrader.utils import compute_checksum

    def flags(cell):
        return {**cell.metadata, "nbgrader": {k: v for k, v in (cell.metadata.get("nbgrader") or {}).items()
                                              if k != "checksum"}}
    for a, b in zip(en.cells, es.cells):
        assert a.cell_type == b.cell_type and flags(a) == flags(b), a.id
        if "checksum" in (b.metadata.get("nbgrader") or {}):  # nbgrader validate must not see a changed cell
            assert b.metadata.nbgrader.checksum == compute_checksum(b), f"stale nbgrader checksum in cell {a.id}"
        if (a.metadata.get("nbgrader") or {}).get("solution"):
            assert a.source == b.source, f"answer cell {a.id} differs between the editions (its checksum would too)"
        elif a.cell_type == "code":  # the same code token for token; only comments are translated
            assert i18n.comment_tokens(a.source) == i18n.comment_tokens(b.source), f"code of cell {a.id} differs"

    translated = [b for a, b in zip(en.cells, es.cells) if a.cell_type == "markdown" and a.source != b.source]
    assert translated, "no markdown cell was translated"
    if any(i18n.comment_units(a.source) for a in en.cells if a.cell_type == "code"):
        assert any(a.source != b.source for a, b in zip(en.cells, es.cells) if a.cell_type == "code"), \
            "no comment of a code cell was translated"
    repo, tag = course_settings(ROOT)
    want = badge_url(out.relative_to(ROOT).as_posix(), repo, tag)
    assert want in es.cells[0].source, f"the Colab badge must open the Spanish notebook at the term's tag: {want}"


def test_tr_picks_the_language_and_formats(monkeypatch, tmp_path):
    monkeypatch.setenv("DLCOURSE_LANG", "es")
    monkeypatch.setenv("DLCOURSE_MESSAGES", json.dumps({"{n} shapes": "{n} formas"}))
    assert lang.tr("{n} shapes", n=3) == "3 formas"
    assert lang.tr("never translated {x}", x=1) == "[en] never translated 1"
    monkeypatch.setenv("DLCOURSE_LANG", "en")
    assert lang.tr("{n} shapes", n=3) == "3 shapes"
    monkeypatch.setenv("DLCOURSE_LANG", "fr")
    with pytest.raises(ValueError, match="DLCOURSE_LANG must be one of en, es"):
        lang.tr("x")
    monkeypatch.delenv("DLCOURSE_LANG")
    es_nb = ROOT / "assignments" / "es" / "a1_conv_arithmetic" / "a1_conv_arithmetic.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(es_nb))  # Jupyter Server names the notebook to the kernel
    lang._detected.cache_clear()
    try:
        assert lang.language() == "es"
    finally:
        lang._detected.cache_clear()
    with pytest.raises(TypeError, match="English message as a str"):
        lang.tr(3)


# ------------------------------------------------------------------ grading: Spanish alone and mixed with English

def test_spanish_a1_round_trip_in_a_mixed_batch(tmp_path):
    """One CLI call, one gradebook: the English solution, the Spanish solution (the Spanish release with
    the answers typed in), the Spanish blank release, and the Spanish solution with one mistake (the
    off-by-one fixture). Same points; feedback in each student's edition, hidden-test messages included."""
    aid = "a1_conv_arithmetic"
    name = f"{aid}.ipynb"
    solution = nbformat.read(ROOT / "solutions" / aid / name, as_version=4)
    es_release = nbformat.read(ROOT / "assignments" / "es" / aid / name, as_version=4)
    subs = tmp_path / "submitted"
    shutil.copytree(ROOT / "solutions" / aid, subs / "sol-en" / aid)
    from dlcourse.course.fixtures import apply_mistake, load_mistakes, with_answers

    off_by_one = next(m for m in load_mistakes(ROOT / "tests", aid) if m.name == "off_by_one_output_size")
    mistaken = apply_mistake(with_answers(es_release, solution), off_by_one)
    for sid, nb in (("sol-es", with_answers(es_release, solution)), ("blank-es", es_release), ("mistake-es", mistaken)):
        (subs / sid / aid).mkdir(parents=True)
        nbformat.write(nb, subs / sid / aid / name)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dlcourse.grading", "--course", str(ROOT), "autograde", "--assignment", aid,
           "--submissions", str(subs), "--out", str(out), "--workers", "2", "--fast"]
    if shutil.which("bwrap") is None:
        cmd.append("--unsafe")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / f"autograde-{aid}.json").read_text())
    st = {s["student_id"]: s for s in report["students"]}
    table = "\n".join(f"{s['student_id']}: {s['score']:g}/{s['max_score']:g} {s['status']}" for s in report["students"])
    en, es, blank = st["sol-en"], st["sol-es"], st["blank-es"]
    assert en["max_score"] > 0 and en["score"] == en["max_score"], table
    assert es["status"] == "ok" and es["score"] == es["max_score"] == en["max_score"], \
        f"the Spanish solution must get the English full marks\n{table}\n" + "\n".join(es["notes"][-10:])
    assert blank["score"] == 0 and blank["max_score"] == en["max_score"], table
    assert {g: c["max_score"] for g, c in es["cells"].items()} == {g: c["max_score"] for g, c in en["cells"].items()}

    from nbgrader.api import Gradebook  # one gradebook holds both editions
    gb_files = sorted(out.rglob("gradebook.db")) or sorted(ROOT.glob("gradebook.db"))
    if gb_files:
        with Gradebook(f"sqlite:///{gb_files[0]}") as gb:
            graded = {s.student.id for s in gb.assignment_submissions(aid)}
        assert {"sol-en", "sol-es", "blank-es"} <= graded, graded

    page_es = next((out).rglob(f"feedback*/sol-es/{aid}/*.html")).read_text()
    page_en = next((out).rglob(f"feedback*/sol-en/{aid}/*.html")).read_text()
    assert '<html lang="es">' in page_es and "Retroalimentación" in page_es and "Tarea 1" in page_es
    assert "superada" in page_es and "Assignment 1" not in page_es
    assert '<html lang="en">' in page_en and "Assignment 1" in page_en and "Tarea 1" not in page_en
    # a hidden test's failure message, from the private catalog (translations/es/hidden/), in Spanish: the
    # blank's hidden tests stop at NotImplementedError, so the off-by-one answer shows one
    hidden_fail = st["mistake-es"]["cells"]["test_output_size_hidden"]
    assert hidden_fail["score"] == 0 and "PyTorch da" in (hidden_fail["message"] or ""), hidden_fail
    assert "PyTorch gives" not in hidden_fail["message"] and "[en]" not in hidden_fail["message"], hidden_fail
    page_mistake = next(out.rglob(f"feedback*/mistake-es/{aid}/*.html")).read_text()
    assert "PyTorch da" in page_mistake and "[en]" not in page_mistake
    assert "Retroalimentación" in next(out.rglob(f"feedback*/blank-es/{aid}/*.html")).read_text()
    print(f"\nSpanish a1 round trip, mixed batch in one gradebook ({report['seconds']:.0f} s):\n{table}")
