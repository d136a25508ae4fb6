"""The Spanish edition: gettext catalogs keyed by cell, generated notebooks, staleness.

The English notebooks stay the source (``lectures/*.ipynb`` and the student release
``assignments/<id>/*.ipynb``). Each has one catalog, ``translations/<lang>/<notebook path>.po``
(gettext, read and written with Babel), with two kinds of entries:

* one per paragraph of each markdown cell: ``msgctxt`` = the nbformat cell id, ``msgid`` = the
  English paragraph (blocks separated by blank lines; a fenced code block stays whole),
  ``msgstr`` = its translation. Paragraphs without prose (a lone ``</details>``, a formula) and
  the Colab badge (rewritten to the translated notebook) are not in the catalog;
* one per comment of each code cell (a run of full-line comments on consecutive lines is one
  entry): ``msgctxt`` = ``<cell id>#comment``, ``msgid`` = the comment's text without its ``#``.
  Pragmas (``# noqa``, ``# type:``, ``# TRANSLATORS:``...), nbgrader markers (``### BEGIN
  SOLUTION``, ``# YOUR CODE HERE``) and comments without words stay as they are. ``build``
  replaces only the comment tokens: the translated cell is the English one token for token
  apart from comments. Answer cells (nbgrader ``solution``) are copied byte for byte;
* one per message that code cells pass to :func:`dlcourse.lang.tr`: ``msgctxt`` = ``message``,
  ``msgid`` = the English message. The translated messages go to the package catalog
  ``dlcourse/locale/<lang>.json`` that :func:`dlcourse.lang.tr` reads at run time, together with
  the messages of the package itself (``translations/<lang>/dlcourse.po``, from the ``tr()`` calls
  under ``shared/dlcourse``).

``extract`` merges the current English text into the catalogs (Babel's ``Catalog.update``): a new
paragraph gets an empty entry, a changed one keeps its old translation marked *fuzzy* (stale) with
the previous English shown (``#| msgid``) for the translator, a removed one is dropped. ``build``
writes the translated notebooks (``lectures/<lang>/...``, ``assignments/<lang>/<id>/...``) and
refuses while any entry is missing or fuzzy: English never stands in silently for a translation.
``status`` prints per notebook: cells translated / total, stale, missing, words. ``check`` lists
every problem (missing, stale, glossary term not used, generated file out of date).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


__all__ = [
    "MESSAGE_CONTEXT",
    "COMMENT_CONTEXT",
    "comment_units",
    "translate_comments",
    "comment_tokens",
    "package_template",
    "package_sources",
    "package_catalog_path",
    "EDITION_LANGUAGES",
    "GlossaryTerm",
    "NotebookStatus",
    "IncompleteTranslation",
    "split_blocks",
    "is_prose",
    "sources",
    "catalog_path",
    "hidden_sources",
    "hidden_template_for",
    "edition_release",
    "edition_path",
    "template_for",
    "extract",
    "load_catalog",
    "translate_notebook",
    "translate_markdown",
    "build",
    "status",
    "load_glossary",
    "glossary_problems",
    "check",
    "Edition",
    "main",
]

MESSAGE_CONTEXT = "message"
#: ``msgctxt`` suffix of a code cell's comment entries: ``"<cell id>#comment"``.
COMMENT_CONTEXT = "#comment"
#: Comments kept as they are: tool pragmas, translator notes, nbgrader markers, shebangs, encodings.
_KEEP_COMMENT = re.compile(r"^#!|^#\s*-\*-|^#\s*(noqa|type:|pragma|fmt:|pylint:|isort:|mypy:|TRANSLATORS:)"
                           r"|^#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)|YOUR CODE HERE|YOUR ANSWER HERE|#\s*noqa",
                           re.I)
_COMMENT_PREFIX = re.compile(r"#+[ \t]?")
#: Folder of ``translations/<lang>/`` that holds the private catalogs of hidden-test messages.
HIDDEN_CATALOGS = "hidden"
#: Languages the course is translated into (English is the source).
EDITION_LANGUAGES = ("es",)
_FENCE = re.compile(r"^\s*(```|~~~)")
_BADGE = re.compile(r"^\[!\[Open In Colab\]\((?P<img>[^)]*)\)\]\((?P<url>[^)]*/blob/[^/)]+/)(?P<path>[^)]+)\)")
_NO_PROSE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$|<[^>]*>|\]\([^)]*\)|https?://\S+", re.S)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")


class IncompleteTranslation(RuntimeError):
    """A catalog has missing or stale (fuzzy) entries; the message lists them per notebook."""


@dataclass
class GlossaryTerm:
    """One glossary row: the English term and the accepted forms of its translation."""

    en: str
    forms: list[str]
    note: str = ""

    @property
    def es(self) -> str:
        return self.forms[0]


@dataclass
class NotebookStatus:
    """Counts of one notebook's catalog (see :func:`status`)."""

    notebook: str
    """The English notebook, relative to the course root."""
    cells: int = 0
    """Cells to translate: markdown cells with prose and code cells with comments."""
    translated: int = 0
    """Of those, cells whose every paragraph has a current translation."""
    stale: int = 0
    """Cells with a translation of an older English text (fuzzy)."""
    missing: int = 0
    """Cells with a paragraph that has no translation."""
    words: int = 0
    """English words to translate (prose, comments and messages included)."""
    comments: int = 0
    """Comment entries of the notebook's code cells (answers excluded)."""
    comments_translated: int = 0
    """Of those, comments with a current translation."""
    messages: int = 0
    """``tr()`` messages of the notebook's code."""
    messages_translated: int = 0
    """Of those, messages with a current translation."""
    stale_cells: list[str] = field(default_factory=list)
    missing_cells: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- blocks of markdown

def split_blocks(text: str) -> list[str]:
    """``text`` cut into blocks and the separators between them: ``[block, sep, block, ...]``.

    Blocks are separated by blank lines; a fenced code block is never cut. ``"".join`` of the
    result gives ``text`` back.
    """
    lines = text.splitlines(keepends=True)
    parts: list[str] = []
    block: list[str] = []
    sep: list[str] = []
    fenced = False
    for ln in lines:
        blank = not ln.strip()
        if blank and not fenced:
            sep.append(ln)
            continue
        if sep:
            parts += ["".join(block), "".join(sep)]
            block, sep = [], []
        if _FENCE.match(ln):
            fenced = not fenced
        block.append(ln)
    parts.append("".join(block))
    if sep:
        parts.append("".join(sep))
    # trailing newline of a block belongs to the separator so that msgids carry no edge whitespace
    out: list[str] = []
    for i, p in enumerate(parts):
        if i % 2 == 0 and p.endswith("\n"):
            stripped = p.rstrip("\n")
            out.append(stripped)
            nl = p[len(stripped):]
            if i + 1 < len(parts):
                parts[i + 1] = nl + parts[i + 1]
            else:
                out.append(nl)
        else:
            out.append(p)
    return out


def is_prose(block: str) -> bool:
    """Whether a block holds words to translate (not only code, math, tags, links or the badge)."""
    if _BADGE.match(block.strip()):
        return False
    return bool(_WORD.search(_NO_PROSE.sub(" ", block)))


def _is_answer(cell) -> bool:
    """A student's answer cell (nbgrader ``solution``): copied unchanged, like code, so that nbgrader sees
    the same blank answer (same checksum) in both editions."""
    return bool((cell.get("metadata", {}).get("nbgrader") or {}).get("solution"))


def _prose_blocks(text: str) -> list[str]:
    parts = split_blocks(text)
    return [p for i, p in enumerate(parts) if i % 2 == 0 and p and is_prose(p)]


# --------------------------------------------------------------------------- comments of code cells

@dataclass
class _Comment:
    first: int  # 0-based first line
    last: int  # 0-based last line (a run of full-line comments)
    col: int
    prefix: str
    inline: bool
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _tokens(source: str):
    """Python tokens of a code cell, IPython line magics blanked (line numbers kept); None when it is not Python."""
    import tokenize

    lines = source.splitlines(keepends=True)
    if any(ln.startswith("%%") for ln in lines[:1]):
        return None
    masked = "".join("\n" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    try:
        return list(tokenize.generate_tokens(io.StringIO(masked).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def _comments(source: str) -> list[_Comment]:
    import tokenize

    toks = _tokens(source)
    if not toks:
        return []
    lines = source.splitlines()
    units: list[_Comment] = []
    for t in toks:
        if t.type != tokenize.COMMENT or _KEEP_COMMENT.search(t.string):
            continue
        prefix = _COMMENT_PREFIX.match(t.string).group()
        text = t.string[len(prefix):].rstrip()
        row, col = t.start[0] - 1, t.start[1]
        inline = bool(lines[row][:col].strip())
        if not _WORD.search(text):
            continue
        prev = units[-1] if units else None
        if (not inline and prev is not None and not prev.inline and prev.last == row - 1
                and prev.col == col and prev.prefix == prefix):
            prev.last = row
            prev.lines.append(text)
        else:
            units.append(_Comment(row, row, col, prefix, inline, [text]))
    return units


def comment_units(source: str) -> list[str]:
    """The translatable comments of a code cell, in order: each a catalog ``msgid``.

    A comment's text is the token without its ``#`` (and one space); consecutive full-line comments at
    the same column form one unit, their lines joined by ``\\n``. Pragmas, nbgrader markers and
    comments without words are left out (they are copied as they are).

    Args:
        source: the code cell's source (IPython line magics allowed).

    Returns:
        The units' texts; empty when the cell has none or does not tokenize as Python.
    """
    return [u.text for u in _comments(source)]


def translate_comments(source: str, lookup) -> str:
    """``source`` with each translatable comment replaced by ``lookup(text)`` (kept when it returns None).

    Only comment tokens change: a unit's translation may have another number of lines (each written at
    the unit's column with its ``#`` prefix); an inline comment's translation is put on one line.

    Args:
        source: the code cell's source.
        lookup: comment text (see :func:`comment_units`) -> its translation, or None.

    Returns:
        The cell's source with translated comments.
    """
    units = _comments(source)
    if not units:
        return source
    lines = source.splitlines(keepends=True)
    for u in reversed(units):
        got = lookup(u.text)
        if got is None:
            continue
        last = lines[u.last]
        end = last[len(last.rstrip("\r\n")):]
        if u.inline:
            lines[u.first] = lines[u.first][:u.col] + u.prefix + " ".join(got.split("\n")) + end
            continue
        indent = lines[u.first][:u.col]
        new = [indent + u.prefix + ln for ln in got.split("\n")]
        lines[u.first:u.last + 1] = [ln + "\n" for ln in new[:-1]] + [new[-1] + end]
    return "".join(lines)


def comment_tokens(source: str) -> list[tuple[int, str]] | None:
    """A code cell's tokens but its comments and non-logical newlines: ``(type, string)`` pairs.

    Two editions of a cell compare equal here when they differ only in comments. None: not Python.
    """
    import tokenize

    toks = _tokens(source)
    if toks is None:
        return None
    return [(t.type, t.string) for t in toks if t.type not in (tokenize.COMMENT, tokenize.NL)]


# --------------------------------------------------------------------------- paths

def sources(root: Path | str) -> list[Path]:
    """English notebooks that have a translated edition: lectures and the student release."""
    root = Path(root)
    found = sorted((root / "lectures").glob("*.ipynb"))
    rel = root / "assignments"
    if rel.is_dir():
        found += sorted(p for p in rel.glob("*/*.ipynb") if p.parent.name not in EDITION_LANGUAGES)
    return found


def catalog_path(root: Path | str, notebook: Path | str, lang: str = "es") -> Path:
    """``translations/<lang>/<notebook path relative to root>.po``; for an instructor notebook
    ``solutions/<id>/<name>.ipynb``, its private catalog of hidden-test messages
    ``translations/<lang>/hidden/<id>/<name>.po`` (never published).

    Args:
        root: course root.
        notebook: an English notebook under ``root`` (a lecture, a student release or an
            instructor notebook); relative paths are resolved against the working directory.
        lang: language of the edition (``"es"``).

    Returns:
        the catalog's path (it need not exist yet). ``notebook`` outside ``root`` makes
        :meth:`pathlib.Path.relative_to` raise ``ValueError``.
    """
    root = Path(root)
    if _is_package(root, notebook):
        return package_catalog_path(root, lang)
    rel = Path(notebook).resolve().relative_to(root.resolve())
    if rel.parts[0] == "solutions":
        rel = Path(HIDDEN_CATALOGS, *rel.parts[1:])
    return root / "translations" / lang / rel.with_suffix(".po")


def hidden_sources(root: Path | str) -> list[Path]:
    """Instructor notebooks ``solutions/<id>/<name>.ipynb`` whose student release is a notebook of the edition."""
    root = Path(root)
    return [p for p in sorted((root / "solutions").glob("*/*.ipynb")) if edition_release(root, p).is_file()]


def _is_instructor(root: Path, notebook: Path) -> bool:
    return Path(notebook).resolve().relative_to(root.resolve()).parts[0] == "solutions"


def _catalogued(root: Path) -> list[Path]:
    """Everything that has (or may have) a catalog: notebooks, instructor notebooks, and the package folder."""
    return sources(root) + hidden_sources(root) + [_package_dir(root)]


def edition_release(root: Path | str, solution: Path | str) -> Path:
    """The student release ``assignments/<id>/<name>.ipynb`` of the instructor notebook ``solutions/<id>/<name>.ipynb``."""
    solution = Path(solution)
    return Path(root) / "assignments" / solution.parent.name / solution.name


def edition_path(root: Path | str, notebook: Path | str, lang: str = "es") -> Path:
    """Where the translated notebook goes: ``lectures/<lang>/x.ipynb``, ``assignments/<lang>/<id>/x.ipynb``.

    Args:
        root: course root.
        notebook: an English notebook under ``root`` (``lectures/x.ipynb`` or
            ``assignments/<id>/x.ipynb``).
        lang: language of the edition, inserted after the notebook's top-level folder.

    Returns:
        ``root/<top folder>/<lang>/<rest of the path>`` (it need not exist yet). ``notebook``
        outside ``root`` makes :meth:`pathlib.Path.relative_to` raise ``ValueError``.
    """
    root = Path(root)
    rel = Path(notebook).resolve().relative_to(root.resolve())
    return root / rel.parts[0] / lang / Path(*rel.parts[1:])


def _rel(root: Path, p: Path) -> str:
    return p.resolve().relative_to(root.resolve()).as_posix()


# --------------------------------------------------------------------------- the package's own messages

#: Folders of the package whose text students never read (instructor tooling): no catalog entries from them.
_PACKAGE_SKIP = ("course", "grading")


def _package_dir(root: Path | str) -> Path:
    """The helper package's folder in the course: ``root/shared/dlcourse`` (it also stands for its catalog)."""
    return Path(root) / "shared" / "dlcourse"


def package_sources(root: Path | str) -> list[Path]:
    """The package's modules whose ``tr()`` messages students read: ``shared/dlcourse/**/*.py`` but the
    instructor tooling (``course/``, ``grading/``)."""
    pkg = _package_dir(root)
    return sorted(p for p in pkg.rglob("*.py") if p.relative_to(pkg).parts[0] not in _PACKAGE_SKIP)


def package_catalog_path(root: Path | str, lang: str = "es") -> Path:
    """``translations/<lang>/dlcourse.po``: the catalog of the text that ``dlcourse`` itself draws or prints."""
    return Path(root) / "translations" / lang / "dlcourse.po"


def package_template(root: Path | str):
    """A Babel catalog (template) of the ``tr("...")`` messages of :func:`package_sources`.

    Args:
        root: course root (the package is ``root/shared/dlcourse``).

    Returns:
        One ``msgctxt "message"`` entry per message, located at ``shared/dlcourse/<module>.py:<line>``, with
        the ``# TRANSLATORS:`` comments above the call.
    """
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract

    root = Path(root)
    tmpl = Catalog(project="dlcourse", fuzzy=False)
    for path in package_sources(root):
        rel = _rel(root, path)
        with path.open("rb") as f:
            for line, msg, comments, _ctx in extract("python", f, keywords={"tr": (1,)},
                                                     comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
                if not isinstance(msg, str) or not msg:
                    continue
                old = tmpl.get(msg, context=MESSAGE_CONTEXT)
                tmpl.add(msg, context=MESSAGE_CONTEXT, locations=(old.locations if old else []) + [(rel, line)],
                         auto_comments=(old.auto_comments if old else []) + [c for c in comments if
                                                                             not old or c not in old.auto_comments])
    return tmpl


def _is_package(root: Path, path: Path) -> bool:
    return Path(path).resolve() == _package_dir(root).resolve()


# --------------------------------------------------------------------------- catalogs

def _messages_in(source: str) -> list[tuple[str, list[str]]]:
    """English messages passed to ``tr(...)`` in a code cell, with their translator comments (Babel)."""
    from babel.messages.extract import extract

    try:
        found = extract("python", io.BytesIO(source.encode("utf-8")), keywords={"tr": (1,)},
                        comment_tags=("TRANSLATORS:",), strip_comment_tags=True)
        return [(m[1], list(m[2])) for m in found if isinstance(m[1], str) and m[1]]
    except SyntaxError:  # IPython magics: Babel's tokenizer may still stop; the cell then has no message
        return []


def template_for(root: Path | str, notebook: Path | str):
    """A Babel catalog (template) of the English text of ``notebook``: paragraphs and messages.

    For an instructor notebook (``solutions/<id>/<name>.ipynb``) it is :func:`hidden_template_for`.

    Returns:
        a ``babel.messages.catalog.Catalog`` with one entry per prose block of each markdown
        cell (context: the cell id) and one per ``tr(...)`` message of the code cells (context
        ``MESSAGE_CONTEXT``); answer cells are left out.

    Raises:
        ValueError: a markdown cell has no cell id (run ``nbformat``'s normalizer: ids are the keys).
    """
    from babel.messages.catalog import Catalog

    root, notebook = Path(root), Path(notebook)
    if _is_package(root, notebook):
        return package_template(root)
    if _is_instructor(root, notebook):
        return hidden_template_for(root, notebook)
    rel = _rel(root, notebook)
    nb = nbformat.read(notebook, as_version=4)
    tmpl = Catalog(project="dlcourse", fuzzy=False)
    for idx, cell in enumerate(nb.cells):
        if _is_answer(cell):
            continue
        if cell.cell_type == "markdown":
            cid = cell.get("id")
            if not cid:
                raise ValueError(f"{rel}: markdown cell {idx} has no id; catalogs are keyed by cell id")
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            note = f"cell {idx}" + (f", nbgrader {gid}" if gid else "")
            for block in _prose_blocks(cell.source):
                tmpl.add(block, context=cid, locations=[(rel, idx)], auto_comments=[note])
        elif cell.cell_type == "code":
            units = comment_units(cell.source)
            if units and not cell.get("id"):
                raise ValueError(f"{rel}: code cell {idx} has no id; catalogs are keyed by cell id")
            for text in units:
                tmpl.add(text, context=cell.id + COMMENT_CONTEXT, locations=[(rel, idx)],
                         auto_comments=[f"cell {idx}, a comment in the code (code stays English)"])
            for msg, comments in _messages_in(cell.source):
                old = tmpl.get(msg, context=MESSAGE_CONTEXT)
                locs = (old.locations if old else []) + [(rel, idx)]
                tmpl.add(msg, context=MESSAGE_CONTEXT, locations=locs, auto_comments=comments)
    return tmpl


def hidden_template_for(root: Path | str, solution: Path | str):
    """A Babel catalog (template) of the messages that only the hidden tests of ``solution`` show.

    These are the ``tr()`` messages of the instructor notebook's code cells (answers excluded) that its
    student release ``assignments/<id>/<name>.ipynb`` lacks: they enter the private catalog
    ``translations/<lang>/hidden/<id>/<name>.po``, never the public one nor the package's
    ``locale/<lang>.json``. The grader passes their translations to a Spanish submission's kernel.

    Args:
        root: course root.
        solution: ``root/solutions/<id>/<name>.ipynb``.

    Returns:
        The template: one ``msgctxt "message"`` entry per hidden-test message.

    Raises:
        ValueError: ``solution`` is not an instructor notebook under ``root/solutions``.
    """
    from babel.messages.catalog import Catalog

    root, solution = Path(root), Path(solution)
    if not _is_instructor(root, solution):
        raise ValueError(f"{solution} is not an instructor notebook solutions/<id>/<name>.ipynb of {root}")
    release = edition_release(root, solution)
    public = {m.id for m in template_for(root, release) if m.id and m.context == MESSAGE_CONTEXT} \
        if release.is_file() else set()
    rel = _rel(root, solution)
    tmpl = Catalog(project="dlcourse", fuzzy=False)
    for idx, cell in enumerate(nbformat.read(solution, as_version=4).cells):
        if cell.cell_type != "code" or _is_answer(cell):
            continue
        for msg, comments in _messages_in(cell.source):
            if msg in public:
                continue
            old = tmpl.get(msg, context=MESSAGE_CONTEXT)
            locs = (old.locations if old else []) + [(rel, idx)]
            tmpl.add(msg, context=MESSAGE_CONTEXT, locations=locs, auto_comments=comments)
    return tmpl


def load_catalog(path: Path | str, lang: str = "es"):
    """Read a ``.po`` catalog with Babel (an empty catalog for ``lang`` when the file is absent)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = Path(path)
    if not path.is_file():
        return Catalog(locale=lang, project="dlcourse", fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _atomic_write(path: Path, text: str) -> None:
    from .._core import atomic_write_text  # imported here: the grader's workers import this module without torch

    atomic_write_text(path, text)


def _write_catalog(path: Path, cat) -> bool:
    from babel.messages.pofile import write_po

    buf = io.BytesIO()
    write_po(buf, cat, width=0, omit_header=False, ignore_obsolete=True, include_previous=True,
             sort_output=False, sort_by_file=False)
    text = re.sub(r'^"POT-Creation-Date: .*\\n"\n|^"PO-Revision-Date: .*\\n"\n|^"Generated-By: .*\\n"\n', "",
                  buf.getvalue().decode("utf-8"), flags=re.M)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, text)
    return True


def _previous_ids(path: Path) -> dict[tuple[str, str], str]:
    """``#| msgid`` (the English a fuzzy entry was translated from) of each entry: Babel writes it but does not read it."""
    from babel.messages.pofile import denormalize

    found: dict[tuple[str, str], str] = {}
    if not path.is_file():
        return found
    for chunk in path.read_text(encoding="utf-8").split("\n\n"):
        lines = chunk.splitlines()
        prev = [ln[3:] for ln in lines if ln.startswith("#| ")]
        if not prev:
            continue
        fields: dict[str, list[str]] = {}
        key = None
        for ln in lines:
            if ln.startswith(("msgctxt ", "msgid ", "msgstr ")):
                key, rest = ln.split(" ", 1)
                fields[key] = [rest]
            elif ln.startswith('"') and key:
                fields[key].append(ln)
        prev[0] = prev[0].removeprefix("msgid ")
        if "msgid" in fields:
            ctx = denormalize("\n".join(fields["msgctxt"])) if "msgctxt" in fields else ""
            found[(ctx, denormalize("\n".join(fields["msgid"])))] = denormalize("\n".join(prev))
    return found


def extract(root: Path | str, notebooks: list[Path] | None = None, lang: str = "es") -> list[Path]:
    """Merge the English text of ``notebooks`` (default: those that already have a catalog) into their catalogs.

    Args:
        root: course root.
        notebooks: English notebooks; a notebook without a catalog gets a new one. The package folder
            ``root/shared/dlcourse`` stands for the package's catalog (``translations/<lang>/dlcourse.po``).
        lang: the edition's language.

    Returns:
        The catalogs that changed.
    """
    root = Path(root)
    if notebooks is None:
        notebooks = [nb for nb in _catalogued(root) if catalog_path(root, nb, lang).is_file()]
    changed = []
    for nb in notebooks:
        path = catalog_path(root, nb, lang)
        cat = load_catalog(path, lang)
        kept = _previous_ids(path)
        before = {m.string: m.id for m in cat if m.id and m.string}
        cat.update(template_for(root, nb), no_fuzzy_matching=False, update_header_comment=False,
                   keep_user_comments=True)
        for m in cat:  # Babel keeps the old translation of a changed paragraph; show its old English too (#|)
            old = (kept.get((m.context or "", m.id)) or before.get(m.string)) if m.id and m.fuzzy and m.string else None
            if old and old != m.id and not m.previous_id:
                m.previous_id = [old]
        cat.obsolete.clear()
        if _write_catalog(path, cat):
            changed.append(path)
    return changed


def _entries(cat) -> dict[tuple[str, str], object]:
    return {(m.context or "", m.id): m for m in cat if m.id}


def _done(m) -> bool:
    return bool(m is not None and m.string and not m.fuzzy)


# --------------------------------------------------------------------------- building

def _badge(block: str, src_rel: str, out_rel: str) -> str:
    m = _BADGE.match(block.strip())
    if not m or m.group("path") != src_rel:
        return block
    return block.replace(f"{m.group('url')}{src_rel})", f"{m.group('url')}{out_rel})", 1)


def translate_markdown(text: str, lookup, problems: list[str], where: str) -> str:
    """``text`` with each prose block replaced by ``lookup(block)``; a block it lacks is added to ``problems``.

    Args:
        text: English markdown.
        lookup: block -> translation, or None when there is no finished translation.
        problems: receives ``"<where>: ..."`` for every untranslated block.
        where: names the cell in the problems.

    Returns:
        The translated markdown (untranslated blocks are left in English: callers refuse on problems).
    """
    parts = split_blocks(text)
    for i in range(0, len(parts), 2):
        block = parts[i]
        if not block or not is_prose(block):
            continue
        got = lookup(block)
        if got is None:
            problems.append(f"{where}: no translation for {block[:70]!r}")
        else:
            parts[i] = got
    return "".join(parts)


def translate_notebook(root: Path | str, notebook: Path | str, lang: str = "es", *, draft: bool = False):
    """The translated edition of ``notebook`` as an nbformat notebook (code cells unchanged).

    Args:
        root: course root.
        notebook: English notebook.
        lang: language of the edition.
        draft: mark untranslated cells with a visible banner instead of refusing.

    Returns:
        The translated notebook, ``metadata.language`` set to ``lang``.

    Raises:
        IncompleteTranslation: an entry is missing or fuzzy (and ``draft`` is False).
    """
    root, notebook = Path(root), Path(notebook)
    src_rel = _rel(root, notebook)
    out_rel = edition_path(root.resolve(), notebook, lang).relative_to(root.resolve()).as_posix()
    entries = _entries(load_catalog(catalog_path(root, notebook, lang), lang))
    nb = nbformat.read(notebook, as_version=4)
    problems: list[str] = []
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not _is_answer(cell):
            ctx = cell.get("id", "") + COMMENT_CONTEXT

            def comment(text: str, ctx=ctx, idx=idx):
                m = entries.get((ctx, text))
                if m is not None and m.string and m.fuzzy:
                    problems.append(f"{src_rel} cell {idx} ({ctx}): stale translation of the comment {text[:50]!r}")
                    return m.string if draft else None
                if not _done(m):
                    problems.append(f"{src_rel} cell {idx} ({ctx}): no translation for the comment {text[:50]!r}")
                    return None
                return m.string
            translated = translate_comments(cell.source, comment)
            if translated != cell.source:
                cell.source = translated
                _refresh_checksum(cell)
            continue
        if cell.cell_type != "markdown" or _is_answer(cell):
            continue
        cid = cell.get("id", "")
        before = len(problems)

        def lookup(block: str, cid=cid):
            m = entries.get((cid, block))
            if m is not None and m.string and m.fuzzy:
                problems.append(f"{src_rel} cell {idx} ({cid}): stale translation of {block[:60]!r}")
                return m.string if draft else None
            return m.string if _done(m) else None

        cell.source = "".join(_badge(p, src_rel, out_rel) if i % 2 == 0 else p
                              for i, p in enumerate(split_blocks(translate_markdown(cell.source, lookup, problems,
                                                                                    f"{src_rel} cell {idx} ({cid})"))))
        if draft and len(problems) > before:
            cell.source = "> **⚠ Traducción pendiente / translation pending**\n\n" + cell.source
    if problems and not draft:
        raise IncompleteTranslation(f"{src_rel}: {len(problems)} untranslated or stale paragraph(s)/comment(s):\n  "
                                    + "\n  ".join(problems[:20]))
    nb.metadata["language"] = lang
    nb.metadata["dlcourse"] = {**nb.metadata.get("dlcourse", {}), "edition": lang, "source": src_rel}
    return nb


def _refresh_checksum(cell) -> None:
    """Recompute the nbgrader checksum of a read-only or test cell whose comments were translated, so that
    ``nbgrader validate`` does not report the Spanish cell as changed (answer cells are never translated)."""
    nbg = cell.get("metadata", {}).get("nbgrader") or {}
    if "checksum" in nbg:
        from nbgrader.utils import compute_checksum  # imported here: nbgrader is slow to import

        nbg["checksum"] = compute_checksum(cell)


def _notebook_text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def _message_catalog(root: Path, lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for nb in sources(root) + [_package_dir(root)]:
        path = catalog_path(root, nb, lang)
        if not path.is_file():
            continue
        for (ctx, msgid), m in _entries(load_catalog(path, lang)).items():
            if ctx == MESSAGE_CONTEXT and _done(m):
                if out.get(msgid, m.string) != m.string:
                    raise IncompleteTranslation(f"message {msgid[:60]!r} has two translations ({path.name})")
                out[msgid] = m.string
    return dict(sorted(out.items()))


def _glossary_page(root: Path, lang: str) -> str:
    rows = "\n".join(f"| {t.en} | {' / '.join(t.forms)} | {t.note} |" for t in load_glossary(root))
    return ("# Glosario del curso (inglés → español)\n\n"
            "Los términos que usan las notas, las clases y las tareas. El código (nombres de funciones, "
            "argumentos como `padding` o `stride`) queda en inglés, como en PyTorch.\n\n"
            "| inglés | español | nota |\n|---|---|---|\n" + rows + "\n")


def _outputs(root: Path, lang: str, *, draft: bool = False, notebooks: list[Path] | None = None) -> dict[Path, str]:
    """Every generated file of the edition and its text (of the translated notebooks, only ``notebooks`` when given)."""
    files: dict[Path, str] = {}
    only = None if notebooks is None else {Path(n).resolve() for n in notebooks}
    for nb in sources(root):
        if only is not None and nb.resolve() not in only:
            continue
        if catalog_path(root, nb, lang).is_file():
            files[edition_path(root, nb, lang)] = _notebook_text(translate_notebook(root, nb, lang, draft=draft))
    files[_package_dir(root) / "locale" / f"{lang}.json"] = \
        json.dumps(_message_catalog(root, lang), ensure_ascii=False, indent=1) + "\n"
    files[root / "lectures" / lang / "glosario.md"] = _glossary_page(root, lang)
    return files


def build(root: Path | str, lang: str = "es", *, draft: bool = False, notebooks: list[Path] | None = None) -> list[Path]:
    """Write the translated notebooks, the message catalog and the glossary page; return what changed.

    Args:
        root: course root.
        lang: language of the edition.
        draft: write untranslated cells in English under a banner instead of refusing.
        notebooks: English notebooks to build (default: every one with a catalog); the message
            catalog and the glossary page are always written.

    Returns:
        the files written this time, in the order written; a file whose text is unchanged is
        not rewritten and not listed.

    Raises:
        IncompleteTranslation: some catalog has missing or stale entries (and ``draft`` is False).
    """
    root = Path(root)
    changed = []
    for path, text in _outputs(root, lang, draft=draft, notebooks=notebooks).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, text)
        changed.append(path)
    return changed


def _tally(st: NotebookStatus, found: list, label: str) -> None:
    """Count one cell in ``st`` by its catalog entries ``found``: missing, stale (fuzzy) or translated."""
    if any(m is None or not m.string for m in found):
        st.missing += 1
        st.missing_cells.append(label)
    elif any(m.fuzzy for m in found):
        st.stale += 1
        st.stale_cells.append(label)
    else:
        st.translated += 1


def status(root: Path | str, lang: str = "es") -> list[NotebookStatus]:
    """Per notebook with a catalog: cells translated / total, stale, missing, words (English prose).

    The private catalog of an assignment's hidden tests has a row of its own (``... (hidden tests)``):
    messages only, no cells; so has the package's catalog (``shared/dlcourse (package)``)."""
    root = Path(root)
    out = []
    for nb_path in _catalogued(root):
        path = catalog_path(root, nb_path, lang)
        if not path.is_file():
            continue
        entries = _entries(load_catalog(path, lang))
        st = NotebookStatus(_rel(root, nb_path))
        if _is_package(root, nb_path):  # the package's own messages: no cells
            st.notebook += " (package)"
            msgs = [m.id for m in package_template(root) if m.id]
            st.messages = len(msgs)
            st.messages_translated = sum(_done(entries.get((MESSAGE_CONTEXT, msg))) for msg in msgs)
            st.words = sum(len(_WORD.findall(msg)) for msg in msgs)
            out.append(st)
            continue
        if _is_instructor(root, nb_path):  # the private catalog: hidden-test messages only
            st.notebook += " (hidden tests)"
            hidden = [m.id for m in hidden_template_for(root, nb_path) if m.id]
            st.messages = len(hidden)
            st.messages_translated = sum(_done(entries.get((MESSAGE_CONTEXT, msg))) for msg in hidden)
            out.append(st)
            continue
        nb = nbformat.read(nb_path, as_version=4)
        for idx, cell in enumerate(nb.cells):
            if _is_answer(cell):
                continue
            if cell.cell_type == "markdown":
                blocks = _prose_blocks(cell.source)
                if not blocks:
                    continue
                st.cells += 1
                st.words += sum(len(_WORD.findall(_NO_PROSE.sub(" ", b))) for b in blocks)
                _tally(st, [entries.get((cell.get("id", ""), b)) for b in blocks], f"cell {idx} ({cell.get('id')})")
            elif cell.cell_type == "code":
                units = comment_units(cell.source)
                if units:
                    st.cells += 1
                    st.comments += len(units)
                    st.words += sum(len(_WORD.findall(u)) for u in units)
                    found = [entries.get((cell.get("id", "") + COMMENT_CONTEXT, u)) for u in units]
                    st.comments_translated += sum(_done(m) for m in found)
                    _tally(st, found, f"cell {idx} ({cell.get('id')}, comments)")
                for msg, _ in _messages_in(cell.source):
                    st.messages += 1
                    st.messages_translated += _done(entries.get((MESSAGE_CONTEXT, msg)))
        out.append(st)
    return out


# --------------------------------------------------------------------------- glossary

def load_glossary(root: Path | str) -> list[GlossaryTerm]:
    """``translations/glossary.csv``: columns ``en``, ``es`` (accepted forms separated by ``;``), ``note``.

    Args:
        root: course root.

    Returns:
        one :class:`GlossaryTerm` per row, in file order (forms stripped, empty forms dropped).

    Raises:
        ValueError: a row lacks its English term or its translation.
    """
    path = Path(root) / "translations" / "glossary.csv"
    terms = []
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            en, es = (row.get("en") or "").strip(), (row.get("es") or "").strip()
            if not en or not es:
                raise ValueError(f"{path}:{i}: every row needs an English term and its Spanish forms, got {row}")
            terms.append(GlossaryTerm(en, [s.strip() for s in es.split(";") if s.strip()], (row.get("note") or "").strip()))
    return terms


def _plain(text: str) -> str:
    return " ".join(_NO_PROSE.sub(" ", text).lower().split())


def glossary_problems(root: Path | str, lang: str = "es") -> list[str]:
    """Translated paragraphs whose English uses a glossary term but whose translation uses none of its forms."""
    root = Path(root)
    terms = [(t, re.compile(rf"\b{re.escape(t.en.lower())}(?:s|es)?\b")) for t in load_glossary(root)]
    problems = []
    for nb in _catalogued(root):
        path = catalog_path(root, nb, lang)
        if not path.is_file():
            continue
        for (ctx, msgid), m in _entries(load_catalog(path, lang)).items():
            if not _done(m):
                continue
            en, es = _plain(msgid), _plain(m.string)
            for term, pattern in terms:
                if pattern.search(en) and not any(f.lower() in es for f in term.forms):
                    problems.append(f"{path.relative_to(root)} [{ctx}] {msgid[:50]!r}: {term.en!r} should be "
                                    f"translated as {' or '.join(repr(f) for f in term.forms)}")
    return problems


# --------------------------------------------------------------------------- check and CLI

def check(root: Path | str, lang: str = "es") -> list[str]:
    """Every reason the edition is not releasable: catalogs behind the English, missing or stale
    entries, glossary terms not followed, generated files out of date."""
    root = Path(root)
    problems = []
    for nb in _catalogued(root):
        path = catalog_path(root, nb, lang)
        if path.is_file():
            have = set(_entries(load_catalog(path, lang)))
            want = {(m.context or "", m.id) for m in template_for(root, nb) if m.id}
            if want - have:
                problems.append(f"{_rel(root, path)}: {len(want - have)} English paragraph(s)/message(s) not in the "
                                "catalog: run `python -m dlcourse.course i18n extract`")
        elif _is_instructor(root, nb) and catalog_path(root, edition_release(root, nb), lang).is_file() \
                and any(m.id for m in template_for(root, nb)):
            problems.append(f"{_rel(root, nb)}: its hidden tests show tr() messages but {_rel(root, path)} does not "
                            f"exist: run `python -m dlcourse.course i18n extract {_rel(root, nb)}`")
        elif _is_package(root, nb) and nb.is_dir() and any(m.id for m in package_template(root)):
            problems.append(f"the package's tr() messages have no catalog {_rel(root, path) if path.exists() else path}: "
                            "run `python -m dlcourse.course i18n extract shared/dlcourse`")
    for st in status(root, lang):
        if st.stale or st.missing:
            problems.append(f"{st.notebook}: {st.stale} stale cell(s) {st.stale_cells[:5]}, {st.missing} missing "
                            f"{st.missing_cells[:5]}")
        if st.messages_translated < st.messages:
            problems.append(f"{st.notebook}: {st.messages - st.messages_translated} of {st.messages} messages untranslated")
    problems += glossary_problems(root, lang)
    if not problems:
        for path, text in _outputs(root, lang).items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                problems.append(f"{_rel(root, path) if path.exists() else path}: out of date: run "
                                "`python -m dlcourse.course i18n build`")
    return problems


def _print_status(rows: list[NotebookStatus]) -> None:
    print(f"{'notebook':58} {'cells':>9} {'stale':>5} {'missing':>7} {'words':>6} {'comments':>9} {'messages':>9}")
    for r in rows:
        print(f"{r.notebook:58} {r.translated:>4}/{r.cells:<4} {r.stale:>5} {r.missing:>7} {r.words:>6} "
              f"{r.comments_translated:>4}/{r.comments:<4} {r.messages_translated:>4}/{r.messages:<4}")


def main(argv: list[str] | None = None) -> int:
    """``python -m dlcourse.course i18n extract|build|status|check [--lang es] [--root DIR] [NOTEBOOK...]``."""
    ap = argparse.ArgumentParser(prog="python -m dlcourse.course i18n", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["extract", "build", "status", "check"])
    ap.add_argument("notebooks", nargs="*", type=Path,
                    help="extract: English notebooks to add; build: English notebooks to build (default: those with a catalog)")
    ap.add_argument("--lang", default="es", choices=EDITION_LANGUAGES)
    ap.add_argument("--root", type=Path, default=Path.cwd())
    ap.add_argument("--draft", action="store_true", help="build: mark untranslated cells instead of refusing")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if args.command == "extract":
        nbs = [p.resolve() for p in args.notebooks] or None
        for p in extract(root, nbs, args.lang):
            print(f"updated {p.relative_to(root)}")
        _print_status(status(root, args.lang))
        return 0
    if args.command == "build":
        try:
            changed = build(root, args.lang, draft=args.draft,
                            notebooks=[p.resolve() for p in args.notebooks] or None)
        except IncompleteTranslation as e:
            print(f"error: {e}\nTranslate or review the entries (clear the fuzzy flag), or build with --draft.",
                  file=sys.stderr)
            return 1
        for p in changed:
            print(f"wrote {p.relative_to(root)}")
        print(f"{len(changed)} file(s) changed")
        return 0
    if args.command == "status":
        rows = status(root, args.lang)
        _print_status(rows)
        return 1 if any(r.stale or r.missing for r in rows) else 0
    problems = check(root, args.lang)
    print("\n".join(problems) or f"the {args.lang} edition is complete and up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())


# --------------------------------------------------------------------------- grading a translated submission

_FEEDBACK_ES = {
    "<html lang=\"en\">": "<html lang=\"es\">",
    "<title>Feedback: ": "<title>Retroalimentación: ",
    "<h1>Feedback: ": "<h1>Retroalimentación: ",
    "<p>Student: <b>": "<p>Estudiante: <b>",
    " - autograded score: <b>": " - puntuación automática: <b>",
    " - status: <b>": " - estado: <b>",
    "<th>cell</th><th>points</th><th>result</th>": "<th>celda</th><th>puntos</th><th>resultado</th>",
}
_VERDICTS_ES = {
    "passed": "superada", "failed": "no superada", "failed (wrote to stderr)": "no superada (escribió en stderr)",
    "partial credit": "crédito parcial", "did not run": "no se ejecutó", "timed out": "se agotó el tiempo",
    "the kernel died": "el kernel se detuvo", "no answer": "sin respuesta",
    "to be graded by hand": "se califica a mano", "not submitted": "no entregado", "missing": "falta",
    "manually graded": "calificada a mano",
}


def _message_pattern(msgid: str) -> tuple[re.Pattern, dict[str, str]] | None:
    """A regex that finds ``msgid`` as ``tr()`` writes it when it has no translation (``[en] `` then the
    fields filled in), and field name -> its group. None: ``msgid`` is not a format template."""
    import string

    try:
        parsed = list(string.Formatter().parse(msgid))
    except ValueError:
        return None
    parts, groups = [r"\[en\] "], {}  # tr()'s mark: a leading field cannot swallow the text before it
    for literal, name, _spec, _conv in parsed:
        parts.append(re.escape(literal))
        if name is not None:
            if name in groups:
                parts.append(f"(?P={groups[name]})")
            else:
                groups[name] = f"f{len(groups)}"
                parts.append(f"(?P<{groups[name]}>[^\n]+?)")
    if parsed and parsed[-1][1] is not None:  # a field at the end runs to the end of the line
        parts.append(r"(?=\x1b|\n|$)")
    return re.compile("".join(parts)), groups


def _fill_fields(template: str, values: dict[str, str]) -> str | None:
    """``template`` with its fields replaced by the already formatted ``values`` (None: a field has no value)."""
    import string

    out = []
    try:
        for literal, name, _spec, _conv in string.Formatter().parse(template):
            out.append(literal)
            if name is not None:
                if name not in values:
                    return None
                out.append(values[name])
    except ValueError:
        return None
    return "".join(out)


@dataclass
class Edition:
    """The edition a submission was made in, and what grading it in that edition needs.

    ``env``: variables for the grading kernel (``DLCOURSE_LANG``, and ``DLCOURSE_MESSAGES`` with the
    translated messages of the notebook's public catalog). ``hidden_messages``: the private catalog's
    (hidden tests') messages; they never enter the kernel, whose code is the student's too (it could print
    them): there ``tr()`` shows them in English, marked ``[en]``, and the grader translates the test cells'
    outputs afterwards (:meth:`translate_outputs`). ``paragraphs``: English paragraph -> translation, to
    show the course's cells of the graded notebook in the student's language. ``comments``: ``(cell id,
    English comment) -> translation``: the course's code cells (read-only and test cells) are taken in the
    student's edition, so the Spanish release's test cells match the course's and the graded notebook shows
    them as the student saw them.
    """

    lang: str = "en"
    env: dict[str, str] = field(default_factory=dict)
    paragraphs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hidden_messages: dict[str, str] = field(default_factory=dict)
    comments: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def of_submission(cls, submitted: Path | str, source: Path | str) -> Edition:
        """The edition of ``submitted`` (its ``metadata.language``) for the course notebook ``source``.

        Args:
            submitted: the student's notebook.
            source: the instructor's notebook ``<root>/solutions/<id>/<name>.ipynb``; its catalog is
                ``<root>/translations/<lang>/assignments/<id>/<name>.po``, and the messages of its hidden
                tests are in the private catalog ``<root>/translations/<lang>/hidden/<id>/<name>.po``.

        Returns:
            The English edition when the submission is English or its catalog is missing (with a note).
            Otherwise ``env["DLCOURSE_MESSAGES"]`` holds the finished messages of both catalogs.
        """
        from ..lang import notebook_language

        lang = notebook_language(submitted) or "en"
        if lang == "en":
            return cls(notes=cls.language_note(submitted))
        source = Path(source)
        po = source.parents[2] / "translations" / lang / "assignments" / source.parent.name / f"{source.stem}.po"
        if not po.is_file():
            return cls(notes=[f"the submission is in the {lang!r} edition but {po.name} has no catalog: "
                              "graded and shown in English"])
        paragraphs, messages, comments, notes = {}, {}, {}, []
        for (ctx, msgid), m in _entries(load_catalog(po, lang)).items():
            if not _done(m):
                continue
            if ctx.endswith(COMMENT_CONTEXT):
                comments[(ctx[:-len(COMMENT_CONTEXT)], msgid)] = m.string
            else:
                (messages if ctx == MESSAGE_CONTEXT else paragraphs)[msgid] = m.string
        hidden, hidden_messages = catalog_path(source.parents[2], source, lang), {}
        if hidden.is_file():  # kept out of the kernel's environment (see the class docstring)
            hidden_messages = {msgid: m.string for (ctx, msgid), m in _entries(load_catalog(hidden, lang)).items()
                               if ctx == MESSAGE_CONTEXT and _done(m)}
        else:
            notes.append(f"the {lang!r} edition has no catalog of hidden-test messages ({hidden.name}): "
                         "those messages are shown in English")
        env = {"DLCOURSE_LANG": lang, "DLCOURSE_MESSAGES": json.dumps(messages, ensure_ascii=False)}
        return cls(lang, env, paragraphs, notes, hidden_messages, comments)

    def translated(self, nb):
        """A copy of a course notebook (source or release) with its markdown and code comments in this edition,
        answer cells kept.

        The grader rebuilds a submission from these copies, so the course's cells it takes (read-only
        text, test cells) are compared and shown in the student's edition, and no student cell is ever
        translated. Comments only the instructor's notebook has (hidden tests) have no entry and stay English.
        """
        import copy

        if self.lang == "en":
            return nb
        nb = copy.deepcopy(nb)
        for cell in nb.cells:
            if _is_answer(cell):
                continue
            if cell.cell_type == "markdown":
                cell.source = translate_markdown(cell.source, lambda b: self.paragraphs.get(b, b), [], "")
            elif cell.cell_type == "code" and self.comments:
                cid = cell.get("id", "")
                cell.source = translate_comments(cell.source, lambda t, cid=cid: self.comments.get((cid, t)))
        return nb

    def translate_messages(self, text: str) -> str:
        """``text`` with every hidden-test message that ``tr()`` wrote in English (``[en] ...``, fields filled)
        in this edition, the same field values put into the translation."""
        for msgid, msgstr in self.hidden_messages.items():
            found = _message_pattern(msgid)
            if found is None:
                continue
            pattern, groups = found

            def fill(m: re.Match, msgstr: str = msgstr, groups: dict[str, str] = groups) -> str:
                done = _fill_fields(msgstr, {name: m.group(g) for name, g in groups.items()})
                return m.group(0) if done is None else done
            text = pattern.sub(fill, text)
        return text

    def translate_outputs(self, cell) -> None:
        """Translate in place the hidden-test messages in the outputs of an executed test cell."""
        if not self.hidden_messages:
            return
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = self.translate_messages(str(out.get("text", "")))
            elif out.get("output_type") == "error":
                out["evalue"] = self.translate_messages(str(out.get("evalue", "")))
                out["traceback"] = [self.translate_messages(str(t)) for t in out.get("traceback", [])]
            elif isinstance((out.get("data") or {}).get("text/plain"), str):
                out["data"]["text/plain"] = self.translate_messages(out["data"]["text/plain"])

    @staticmethod
    def language_note(submitted: Path | str) -> list[str]:
        """A note when ``metadata.language`` of ``submitted`` is set but is no language of the course."""
        from ..lang import LANGUAGES

        try:
            declared = json.loads(Path(submitted).read_text(encoding="utf-8"))["metadata"].get("language", "en")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return []
        if declared in LANGUAGES:
            return []
        shown = repr(declared)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return [f"metadata.language {shown} is not a language of the course ({', '.join(LANGUAGES)}): "
                "graded and shown in English"]

    def localize_page(self, page: str) -> str:
        """A feedback page of :func:`dlcourse.grading.feedback.render_feedback` with its labels in this edition."""
        if self.lang == "en":
            return page
        for en, es in _FEEDBACK_ES.items():
            page = page.replace(en, es)
        for en, es in _VERDICTS_ES.items():
            page = page.replace(f"<td>{en}</td>", f"<td>{es}</td>").replace(f" - {en}</span>", f" - {es}</span>")
        return page
