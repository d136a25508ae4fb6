"""The course website: Sphinx + MyST-NB + sphinx-book-theme, outputs cached by jupyter-cache.

``python -m dlcourse.course site [--mode fast|full|off] [--language all|en|es] [--only STEM ...]`` (``make site``):

1. :func:`stage_sources` lays out one edition's sources in ``build/site-src/<language>/`` with the
   student repository's layout: the landing page (``index.md``: the course README for English, a
   Spanish page for the Spanish edition, with the navigation in lecture order), the edition's
   lectures (``lectures/*.ipynb``; ``lectures/es/*.ipynb`` and ``lectures/es/glosario.md``), its
   *student release* (``assignments/<id>/``, ``assignments/es/<id>/``; never ``solutions/``) and
   the ``docs/`` pages the README links to. A lecture or assignment the Spanish edition lacks gets a
   page ``solo-en-ingles/...`` that says so and links to the English page (never silently left out);
2. :func:`build` runs Sphinx with the configuration in ``site/conf.py`` into
   ``build/site/<language>/``. Lectures are executed through MyST-NB's ``cache`` mode: each
   notebook is executed once per mode (FAST or full) and edition and its outputs kept in
   ``build/site-cache/<mode>`` (English) or ``build/site-cache/<mode>-<language>`` (jupyter-cache
   is keyed by the notebook's code, which the Spanish notebooks share with the English ones, while
   their outputs are Spanish: ``tr()`` reads ``DLCOURSE_LANG=es``, which the build sets), so a
   rebuild executes only the notebooks whose code changed. ``tests/test_notebooks.py`` stores each
   English FAST execution there (:func:`cache_executed`), so CI builds the English FAST site
   without running a lecture twice;
3. every page carries a language switch (EN | ES: the same page in the other edition when it has
   it, else that edition's landing page) and the Spanish pages say ``lang="es"``;
   ``build/site/index.html`` offers both editions (:func:`write_language_index`);
4. :func:`check_site` reads the built HTML: every page, every internal link (with its ``#anchor``)
   and image, and every launch link (Colab, and the course JupyterHub through nbgitpuller), which
   must open the page's notebook in the student repository at the term's tag.

The cache is keyed by the notebooks' code, not by the helper package: after changing ``dlcourse``
in a way that changes outputs, rebuild with ``--refresh`` (or delete ``build/site-cache/<mode>*``).

Editions are registered in :data:`EDITIONS`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import nbformat

from .conventions import CourseConfig, assignments, badge_url, course_config, lectures

__all__ = [
    "MODES",
    "Edition",
    "EDITIONS",
    "SitePaths",
    "write_language_index",
    "site_paths",
    "cache_executed",
    "git_pull_link",
    "nbgitpuller_link",
    "edition_pages",
    "counterpart",
    "language_links",
    "stage_sources",
    "SiteBuild",
    "build",
    "SiteCheck",
    "check_site",
    "launch_problems",
    "main",
]

#: Execution modes: the value of ``DLCOURSE_FAST`` the lectures run with (``off``: no execution).
MODES = {"fast": "1", "full": "0", "off": None}


@dataclass(frozen=True)
class Edition:
    """One edition (language) of the site, as the student repository lays it out.

    Attributes:
        language: the language code (``en``, ``es``): the HTML ``lang``, Sphinx's language, ``DLCOURSE_LANG``.
        label: the language switch's label (``EN``).
        name: the edition's name in its own language (the root index's link).
        lectures: the folder of its lecture notebooks (relative to the course root).
        assignments: the folder of its student releases (``<folder>/<id>/``).
        pages: markdown pages of the edition beside its lectures (paths relative to the course root).
        missing: for a translated edition, the folder of the pages that stand for a lecture or
            assignment it lacks ("" for the source edition, which lacks nothing).
        missing_note: what those pages say (``solo en inglés``).
    """

    language: str
    label: str
    name: str
    lectures: str
    assignments: str
    pages: tuple[str, ...] = ()
    missing: str = ""
    missing_note: str = ""


#: Editions of the site: language -> :class:`Edition`. English is the source; the others are generated.
EDITIONS = {
    "en": Edition("en", "EN", "English", "lectures", "assignments"),
    "es": Edition("es", "ES", "Español", "lectures/es", "assignments/es", pages=("lectures/es/glosario.md",),
                  missing="solo-en-ingles", missing_note="solo en inglés"),
}
#: Pages every Sphinx HTML build has (the switch keeps them).
_SPHINX_PAGES = ("index", "search", "genindex")
#: Sources copied beside the notebooks when the README links to them.
DOC_FOLDERS = ("docs",)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
COLAB_PREFIX = "https://colab.research.google.com/github/"


@dataclass(frozen=True)
class SitePaths:
    """Where one edition's site is staged, built and cached (all under ``root/build``)."""

    src: Path
    out: Path
    doctrees: Path
    cache: Path


def site_paths(root: Path | str, *, mode: str = "fast", language: str = "en", out: Path | None = None) -> SitePaths:
    """The folders of the ``language`` edition built in ``mode``.

    Args:
        root: the course root.
        mode: ``fast``, ``full`` or ``off`` (see :data:`MODES`).
        language: the edition (a key of :data:`EDITIONS`).
        out: the HTML folder (default ``root/build/site/<language>``).

    Returns:
        The :class:`SitePaths`.

    Raises:
        ValueError: an unknown mode or language.
    """
    _check_mode_language(mode, language)
    build_dir = Path(root) / "build"
    cache = "fast" if mode == "off" else mode
    return SitePaths(src=build_dir / "site-src" / language, out=Path(out) if out else build_dir / "site" / language,
                     doctrees=build_dir / "site-doctrees" / f"{language}-{mode}",
                     cache=build_dir / "site-cache" / (cache if language == "en" else f"{cache}-{language}"))


def _check_mode_language(mode: str, language: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    if language not in EDITIONS:
        raise ValueError(f"no {language!r} edition of the site: the editions are {sorted(EDITIONS)}")


def cache_executed(nb, source: Path | str, *, root: Path | str, mode: str = "fast", language: str = "en",
                   seconds: float | None = None) -> None:
    """Store an executed notebook in the site's jupyter-cache, as if the site build had executed it.

    Args:
        nb: the executed notebook (nbformat node; it is not modified).
        source: the notebook file it was executed from.
        root: the course root.
        mode: ``fast`` or ``full``: the mode it was executed in.
        language: the edition it belongs to (its cache; executed with ``DLCOURSE_LANG`` of that edition).
        seconds: how long it took (shown in the build's execution report).

    Raises:
        ValueError: ``mode`` is ``off`` or unknown, or an unknown language.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if MODES.get(mode) is None:
        raise ValueError(f"mode must be 'fast' or 'full' (the mode the notebook ran in), got {mode!r}")
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # a copy
    for cell in nb.cells:  # nbclient's timing metadata would change the notebook's cache key
        cell.metadata.pop("execution", None)
    cache = get_cache(str(site_paths(root, mode=mode, language=language).cache))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(Path(source).resolve()),
                                              data={"execution_seconds": seconds}), check_validity=False,
                                overwrite=True)


def git_pull_link(hub_url: str, *, repo: str, branch: str, path: str = "lectures", target: str | None = None,
                  app: str = "lab") -> str:
    """An nbgitpuller link: opening it on a hub pulls ``repo`` at ``branch`` into the user's home and opens ``path``.

    The one implementation of the link (the site's launch buttons and pages, the student README and
    ``hub/course_hub.py link`` all build it here).

    Args:
        hub_url: the hub's address (``https://hub.example.org``).
        repo: ``owner/name`` on GitHub or a full git URL.
        branch: the branch or tag to pull (the term's tag).
        path: what to open after pulling, relative to the repository (a folder or a notebook).
        target: folder in the user's home (default: the repository's name).
        app: ``lab`` (JupyterLab) or ``tree`` (classic).

    Returns:
        ``<hub>/hub/user-redirect/git-pull?repo=...&urlpath=<app>/tree/<target>/<path>&branch=...&targetPath=...``.

    Raises:
        ValueError: a hub URL that is not http(s), an empty repo or branch, an unknown app.
    """
    hub = urlparse(hub_url or "")
    if hub.scheme not in ("http", "https") or not hub.netloc:
        raise ValueError(f"hub_url must be the hub's http(s) address, got {hub_url!r}")
    if not repo or not branch:
        raise ValueError("repo and branch are needed (course.toml's [course] student_repository and term_tag)")
    if app not in ("lab", "tree"):
        raise ValueError(f"app must be 'lab' or 'tree', got {app!r}")
    url = repo if "://" in repo or repo.startswith("git@") else f"https://github.com/{repo}"
    name = target or url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    urlpath = f"{app}/tree/{name}/{path.strip('/')}".rstrip("/")
    query = urlencode({"repo": url, "urlpath": urlpath, "branch": branch, "targetPath": name}, safe="/")
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def nbgitpuller_link(cfg: CourseConfig, path: str = "lectures", *, app: str = "lab") -> str:
    """The nbgitpuller link that opens ``path`` of the student repository at the term's tag on the hub.

    Args:
        cfg: the course's configuration (``hub_url``, ``student_repository``, ``term_tag``).
        path: a folder or notebook of the student repository.
        app: ``lab`` (JupyterLab) or ``tree`` (classic).

    Returns:
        :func:`git_pull_link` of the student repository at the term's tag.

    Raises:
        ValueError: no ``hub_url`` in course.toml, or an unknown app.
    """
    if not cfg.hub_url:
        raise ValueError("course.toml has no [course] hub_url: there is no hub to link to")
    return git_pull_link(cfg.hub_url, repo=cfg.student_repository, branch=cfg.term_tag, path=path, app=app)


def _title(nb_path: Path) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb_path.stem


def _copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` unless it is already identical (keeps Sphinx's incremental build)."""
    if dest.is_file() and dest.stat().st_size == src.stat().st_size and dest.read_bytes() == src.read_bytes():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


@dataclass(frozen=True)
class _Item:
    """A lecture or an assignment notebook of the course, and where one edition has it."""

    kind: str          # "lecture" or "assignment"
    english: str       # the English page name (lectures/<stem>, assignments/<id>/<stem>)
    page: str          # this edition's page name (its own notebook, or the page saying it lacks one)
    path: Path | None  # this edition's notebook (None: the edition lacks it)
    title: str         # the English notebook's title (for the missing-page note)


def _edition_items(root: Path, language: str, only: list[str] | None = None) -> list[_Item]:
    """Every lecture (in lecture order) and assignment notebook of the course, for the ``language`` edition."""
    ed = EDITIONS[language]
    items = []
    english_lectures = lectures(root)
    if only:
        unknown = sorted(set(only) - {p.stem for p in english_lectures})
        if unknown:
            raise ValueError(f"no lecture {unknown}: the lectures are {[p.stem for p in english_lectures]}")
        english_lectures = [p for p in english_lectures if p.stem in only]
    for en in english_lectures:
        mine = root / ed.lectures / en.name
        page = f"{ed.lectures}/{en.stem}"
        items.append(_Item("lecture", f"lectures/{en.stem}", page if mine.is_file() else f"{ed.missing}/lectures/{en.stem}",
                           mine if mine.is_file() else None, _title(en)))
    for aid in assignments(root):
        release = root / "assignments" / aid
        if not release.is_dir():
            raise ValueError(f"assignments/{aid}/ is missing: run `make release` before building the site")
        for en in sorted(release.glob("*.ipynb")):
            mine = root / ed.assignments / aid / en.name
            page = f"{ed.assignments}/{aid}/{en.stem}"
            items.append(_Item("assignment", f"assignments/{aid}/{en.stem}",
                               page if mine.is_file() else f"{ed.missing}/assignments/{aid}/{en.stem}",
                               mine if mine.is_file() else None, _title(en)))
    if not ed.missing and any(i.path is None for i in items):
        raise AssertionError("the source edition lacks a notebook of its own course")
    return items


def edition_pages(root: Path | str, language: str) -> set[str]:
    """The page names the ``language`` edition of the whole course has (what the language switch may open).

    Args:
        root: the course root.
        language: the edition (a key of :data:`EDITIONS`).

    Returns:
        Page names without ``.html`` (``index``, ``lectures/es/01_cnn_stacks``, ``solo-en-ingles/...``).

    Raises:
        ValueError: an unknown language.
    """
    _check_mode_language("fast", language)
    root = Path(root)
    ed = EDITIONS[language]
    pages = {*_SPHINX_PAGES, *(i.page for i in _edition_items(root, language))}
    pages |= {p[:-3] for p in ed.pages if (root / p).is_file()}
    if language == "en":
        pages |= {d[:-3] for d in _readme_docs(root)}
    return pages


def counterpart(page: str, language: str, other: str, other_pages: set[str]) -> str:
    """The page of the ``other`` edition that shows what ``page`` of the ``language`` edition shows.

    A lecture or assignment maps to its translation (``lectures/01_x`` <-> ``lectures/es/01_x``,
    ``assignments/a1/a1`` <-> ``assignments/es/a1/a1``); a page that stands for a missing translation
    (``solo-en-ingles/lectures/06_x``) maps to the English page. When ``other_pages`` lacks the
    result, or the page has no counterpart (the glossary, a guide), it is the other edition's ``index``.

    Args:
        page: a page name of the ``language`` edition (no ``.html``).
        language: its edition.
        other: the edition to switch to.
        other_pages: the page names the ``other`` edition has (:func:`edition_pages`).

    Returns:
        A page name of the ``other`` edition.
    """
    src, dst = EDITIONS[language], EDITIONS[other]
    english = None
    if page in _SPHINX_PAGES:
        english = page
    elif src.missing and page.startswith(src.missing + "/"):
        english = page[len(src.missing) + 1:]
    else:
        for kind_src, kind_en in ((src.lectures, "lectures"), (src.assignments, "assignments")):
            rest = page[len(kind_src) + 1:] if page.startswith(kind_src + "/") else None
            depth = 0 if kind_en == "lectures" else 1
            if rest is not None and rest.count("/") == depth:
                english = f"{kind_en}/{rest}"
                break
    if english is None:
        return "index"
    if english in _SPHINX_PAGES:
        target = english
    elif english.startswith("lectures/"):
        target = f"{dst.lectures}/{english[len('lectures/'):]}"
    else:
        target = f"{dst.assignments}/{english[len('assignments/'):]}"
    if target not in other_pages and dst.missing and f"{dst.missing}/{english}" in other_pages:
        target = f"{dst.missing}/{english}"
    return target if target in other_pages else "index"


def language_links(root: Path | str, language: str, page: str,
                   pages: dict[str, set[str]] | None = None) -> list[dict[str, str | bool]]:
    """The language switch of ``page`` in the ``language`` edition: one entry per edition.

    Args:
        root: the course root.
        language: the page's edition.
        page: the page name (no ``.html``).
        pages: every edition's page names (default: :func:`edition_pages` of each).

    Returns:
        ``[{"language", "label", "name", "url", "current"}, ...]`` in :data:`EDITIONS` order; ``url`` is
        relative to the page (the editions are sibling folders ``site/<language>/``).
    """
    up = "../" * (page.count("/") + 1)
    out = []
    for lang, ed in EDITIONS.items():
        if lang == language:
            target = page
        else:
            have = pages[lang] if pages is not None else edition_pages(root, lang)
            target = counterpart(page, language, lang, have)
        out.append({"language": lang, "label": ed.label, "name": ed.name, "current": lang == language,
                    "url": f"{up}{lang}/{target}.html"})
    return out


def _readme_docs(root: Path) -> list[str]:
    readme = (root / "README.md").read_text()
    docs = sorted({m.split("#")[0] for m in re.findall(r"\]\(((?:%s)/[^)\s]+\.md(?:#[^)\s]*)?)\)" % "|".join(DOC_FOLDERS),
                                                          readme)})
    for d in docs:
        if not (root / d).is_file():
            raise ValueError(f"README.md links to {d}, which does not exist")
    return docs


def stage_sources(root: Path | str, src: Path | str, *, language: str = "en", mode: str = "fast",
                  only: list[str] | None = None) -> list[str]:
    """Lay out one edition's sources in ``src`` (the student repository's layout); return the page names.

    Args:
        root: the course root.
        src: the folder to stage into (files no longer part of the site are removed from it).
        language: the edition.
        mode: the execution mode (the landing page says which mode the outputs come from).
        only: lecture stems to include (default: every lecture); assignments are always included.

    Returns:
        The page names (``lectures/01_cnn_stacks``, ``assignments/a1/a1``, ...), in navigation order.

    Raises:
        ValueError: an unknown language or mode, or a name in ``only`` that is no lecture.
    """
    _check_mode_language(mode, language)
    root, src = Path(root), Path(src)
    cfg = course_config(root)
    ed = EDITIONS[language]
    items = _edition_items(root, language, only)
    wanted: dict[str, Path] = {}
    for it in items:
        if it.path is None:
            continue
        if it.kind == "lecture":
            wanted[f"{it.page}.ipynb"] = it.path
        else:  # the whole release folder (data files beside the notebook)
            release = it.path.parent
            for f in sorted(release.rglob("*")):
                if f.is_file() and ".ipynb_checkpoints" not in f.parts and "__pycache__" not in f.parts:
                    wanted[f"{ed.assignments}/{release.name}/{f.relative_to(release).as_posix()}"] = f
    extra = [p for p in ed.pages if (root / p).is_file()]
    for p in extra:
        wanted[p] = root / p
    docs = _readme_docs(root) if language == "en" else []
    for d in docs:
        wanted[d] = root / d
    for rel, path in wanted.items():
        _copy(path, src / rel)
    generated = {"index.md": _index_page(root, cfg, language, items, [d[:-3] for d in docs], [p[:-3] for p in extra],
                                         mode)}
    for it in items:
        if it.path is None:
            generated[f"{it.page}.md"] = _missing_page(it, ed)
    for rel, text in generated.items():
        dest = src / rel
        if not (dest.is_file() and dest.read_text() == text):
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
    keep = set(wanted) | set(generated)
    for f in sorted(src.rglob("*"), reverse=True):
        rel = f.relative_to(src).as_posix()
        if f.is_file() and rel not in keep:
            f.unlink()
        elif f.is_dir() and not any(f.iterdir()):
            f.rmdir()
    lecture_pages = [it.page for it in items if it.kind == "lecture"]
    assignment_pages = [it.page for it in items if it.kind == "assignment"]
    return ["index", *lecture_pages, *[p[:-3] for p in extra], *assignment_pages, *[d[:-3] for d in docs]]


def _missing_page(it: _Item, ed: Edition) -> str:
    """The page of a translated edition that stands for a notebook it lacks: it says so and links to English."""
    up = "../" * (it.page.count("/") + 1)
    what = "Esta clase" if it.kind == "lecture" else "Esta tarea"
    return "\n".join([
        f"# {it.title} ({ed.missing_note})", "",
        ":::{note}", f"{what} todavía no tiene versión en español: está **{ed.missing_note}**.", ":::", "",
        f'<p><a class="only-in-source" hreflang="en" href="{up}en/{it.english}.html">Abrir la versión en inglés: '
        f"{it.title}</a></p>", ""])


def _index_page(root: Path, cfg: CourseConfig, language: str, items: list[_Item], doc_pages: list[str],
                extra_pages: list[str], mode: str) -> str:
    """The landing page of an edition (the course README for English) with the navigation."""
    def toc(caption: str, pages: list[str]) -> str:
        return "\n".join(["", "```{toctree}", ":hidden:", ":maxdepth: 1", f":caption: {caption}", "", *pages, "```", ""])

    lecture_items = [it for it in items if it.kind == "lecture"]
    assignment_pages = [it.page for it in items if it.kind == "assignment"]

    def row(i: int, it: _Item) -> str:
        if it.path is None:
            return f"| {i} | [{it.title}]({it.page}.md) ({EDITIONS[language].missing_note}) | — |"
        nb = it.page + ".ipynb"
        return (f"| {i} | [{_title(it.path)}]({nb}) | [Colab]({badge_url(nb, cfg.student_repository, cfg.term_tag)})"
                + (f" · [JupyterHub]({nbgitpuller_link(cfg, nb)})" if cfg.hub_url else "") + " |")

    ed = EDITIONS[language]
    if language == "en":
        where = {"fast": "in FAST mode (small data, few epochs: what CI runs)",
                 "full": "in full mode (what students run)", "off": "not executed (no outputs)"}[mode]
        hub = (f"On the course JupyterHub, [this link]({nbgitpuller_link(cfg, 'lectures')}) copies the lectures of "
               f"this term into your home (and pulls later changes, keeping your edits). " if cfg.hub_url else "")
        head = (root / "README.md").read_text().rstrip() + "\n" + "\n".join([
            "", "## Open the notebooks", "",
            f"Every lecture and assignment page has launch buttons at the top (the rocket): Colab, or the course "
            f"JupyterHub. They open the notebook of the student repository "
            f"[{cfg.student_repository}](https://github.com/{cfg.student_repository}/tree/{cfg.term_tag}) at this "
            f"term's tag `{cfg.term_tag}`; the download button gives the `.ipynb` file. {hub}"
            f"The outputs on this site were executed {where}. The Spanish edition: the ES link at the top of "
            f"every page.", "",
            "| # | lecture | open |", "|---|---|---|", *[row(i, it) for i, it in enumerate(lecture_items, 1)], ""])
        return (head + toc("Lectures", [it.page for it in lecture_items]) + toc("Assignments", assignment_pages)
                + (toc("Guides", doc_pages) if doc_pages else ""))
    if language != "es":
        raise ValueError(f"no landing page written for the {language!r} edition")
    where = {"fast": "en modo FAST (pocos datos y pocas épocas: lo que ejecuta la integración continua)",
             "full": "en modo completo (lo que ejecutan los estudiantes)", "off": "sin ejecutar (sin salidas)"}[mode]
    hub = (f"En el JupyterHub del curso, [este enlace]({nbgitpuller_link(cfg, ed.lectures)}) copia las clases en "
           f"español de este periodo a tu carpeta personal (y trae los cambios posteriores sin borrar tus "
           f"ediciones). " if cfg.hub_url else "")
    glossary = next((p for p in extra_pages if p.endswith("glosario")), None)
    missing = [it for it in items if it.path is None]
    head = "\n".join([
        f"# {cfg.title}: edición en español", "",
        "Las clases y las tareas del curso en español. El código es el mismo que el de la edición en inglés "
        "(los nombres de funciones y argumentos quedan en inglés, como en PyTorch); el texto, los comentarios, "
        "las preguntas y los mensajes están traducidos"
        + (f", con los términos del [glosario]({glossary}.md)." if glossary else "."), "",
        "## Abrir los cuadernos", "",
        "Cada página de clase o de tarea tiene arriba botones para abrirla (el cohete): Colab o el JupyterHub "
        "del curso. Abren el cuaderno en español del repositorio de estudiantes "
        f"[{cfg.student_repository}](https://github.com/{cfg.student_repository}/tree/{cfg.term_tag}) en la "
        f"etiqueta `{cfg.term_tag}` de este periodo; el botón de descarga entrega el archivo `.ipynb`. {hub}"
        f"Las salidas de este sitio se ejecutaron {where}. La edición en inglés: el enlace EN arriba de cada página.",
        "",
        *([f"Todavía {'falta' if len(missing) == 1 else 'faltan'} en español (sus páginas llevan a la versión en "
           "inglés): " + ", ".join(f"[{it.title}]({it.page}.md)" for it in missing) + ".", ""] if missing else []),
        "| # | clase | abrir |", "|---|---|---|", *[row(i, it) for i, it in enumerate(lecture_items, 1)], ""])
    return (head + toc("Clases", [it.page for it in lecture_items] + ([glossary] if glossary else []))
            + toc("Tareas", assignment_pages))


@dataclass
class SiteBuild:
    """What :func:`build` did: where, how long, and of the notebooks Sphinx read in this run, how many
    were executed and how many had their outputs from the cache (pages Sphinx did not need to read
    again count in neither)."""

    out: Path
    mode: str
    seconds: float
    pages: list[str]
    executed: int
    cached: int
    warnings: list[str] = field(default_factory=list)
    log: str = ""
    language: str = "en"
    not_executed: list[str] = field(default_factory=list)


def build(root: Path | str, *, mode: str = "fast", language: str = "en", out: Path | str | None = None,
          only: list[str] | None = None, refresh: bool = False, fresh: bool = False,
          timeout: float | None = None, execute: list[str] | None = None) -> SiteBuild:
    """Build the ``language`` edition of the course site.

    The lectures of the Spanish edition run with ``DLCOURSE_LANG=es`` (their messages in Spanish) and
    have their own cache (see :func:`site_paths`).

    Args:
        root: the course root (with ``site/conf.py``).
        mode: ``fast`` (``DLCOURSE_FAST=1``), ``full`` (what students run) or ``off`` (no outputs).
        language: the edition (a key of :data:`EDITIONS`).
        out: the HTML folder (default ``build/site/<language>``); the other editions are its siblings
            (the language switch links to ``../<language>/``).
        only: lecture stems to build (default: all).
        refresh: forget the cached executions of this mode first (every lecture runs again).
        fresh: forget Sphinx's parsed pages first, so every page is read again (its outputs then come
            from the cache or a new execution, and ``executed + cached`` counts every lecture). A build
            into another ``out`` than the last one reads every page again too.
        timeout: seconds the whole Sphinx run may take (default: no limit).
        execute: lecture stems whose outputs are shown (executed or from the cache); the other lectures'
            pages are built without outputs (default: every lecture has its outputs). Tests use it to
            check an edition's pages without running every lecture again.

    Returns:
        The :class:`SiteBuild`.

    Raises:
        ValueError: an unknown mode or language, or a missing ``site/conf.py``.
        RuntimeError: Sphinx failed (a notebook raised, a broken reference); the message holds its log.
    """
    root = Path(root).resolve()
    paths = site_paths(root, mode=mode, language=language, out=Path(out).resolve() if out else None)
    conf = root / "site" / "conf.py"
    if not conf.is_file():
        raise ValueError(f"{conf} is missing: the site's configuration lives in site/conf.py")
    if refresh and paths.cache.exists():
        shutil.rmtree(paths.cache)
    # MyST-NB writes the outputs' images beside the HTML folder (<out>/../jupyter_execute) when it reads a
    # notebook; parsed pages of a build into another folder would point at images this one lacks.
    marker = paths.doctrees / "dlcourse-out.txt"
    if paths.doctrees.exists() and (fresh or refresh or not marker.is_file() or marker.read_text() != str(paths.out)):
        shutil.rmtree(paths.doctrees)
    t0 = time.perf_counter()
    pages = stage_sources(root, paths.src, language=language, mode=mode, only=only)
    lecture_pages = [p for p in pages if (paths.src / f"{p}.ipynb").is_file() and not p.startswith("assignments")]
    if execute is not None:
        unknown = sorted(set(execute) - {p.rsplit("/", 1)[-1] for p in lecture_pages})
        if unknown:
            raise ValueError(f"execute names no lecture of the {language!r} site: {unknown}")
    not_executed = [p for p in lecture_pages if execute is not None and p.rsplit("/", 1)[-1] not in execute]
    if paths.out.exists():  # no page of an earlier build may linger (Sphinx rewrites HTML from its doctrees)
        shutil.rmtree(paths.out)
    paths.out.mkdir(parents=True)
    warn_file = paths.doctrees.parent / f"warnings-{language}-{mode}.txt"
    warn_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernels draw with Jupyter's inline backend, as a student's do
    env.setdefault("PYTHONHASHSEED", "0")
    if MODES[mode] is not None:
        env["DLCOURSE_FAST"] = MODES[mode]
    env["DLCOURSE_LANG"] = language  # tr(): the edition's messages (the notebooks' metadata says so too)
    env["DLCOURSE_SITE_NOT_EXECUTED"] = json.dumps([f"{p}.ipynb" for p in not_executed])  # read by site/conf.py
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(root / "site"), "-d", str(paths.doctrees),
           "-w", str(warn_file), "--keep-going",
           "-D", f"nb_execution_mode={'off' if mode == 'off' else 'cache'}",
           "-D", f"nb_execution_cache_path={paths.cache}", "-D", f"language={language}",
           "-D", f"html_search_language={language}", str(paths.src), str(paths.out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=timeout)
    if paths.doctrees.is_dir():
        marker.write_text(str(paths.out))
    log = proc.stdout + proc.stderr
    warnings = [w for w in warn_file.read_text().splitlines() if w.strip()] if warn_file.is_file() else []
    if proc.returncode != 0:
        raise RuntimeError(f"sphinx failed (exit {proc.returncode}):\n{log[-6000:]}")
    if paths.out.name == language:
        write_language_index(paths.out.parent, course_config(root).title)
    return SiteBuild(out=paths.out, mode=mode, seconds=time.perf_counter() - t0, pages=pages,
                     executed=log.count("Executing notebook using"), cached=log.count("Using cached notebook"),
                     warnings=warnings, log=log, language=language, not_executed=not_executed)


def write_language_index(site_dir: Path, title: str = "Course site") -> list[str]:
    """``<site_dir>/index.html``: the site's entry, offering every edition built in ``site_dir/<language>/``.

    Args:
        site_dir: the folder holding the editions (``build/site``).
        title: the course's title.

    Returns:
        The languages offered (none: no edition is built there, nothing is written).
    """
    from html import escape

    site_dir = Path(site_dir)
    have = [ed for lang, ed in EDITIONS.items() if (site_dir / lang / "index.html").is_file()]
    if not have:
        return []
    links = "\n".join(f'<li><a href="{ed.language}/index.html" hreflang="{ed.language}" lang="{ed.language}">'
                      f"{escape(ed.name)}</a></li>" for ed in have)
    (site_dir / "index.html").write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}"
        "li{font-size:1.4em;margin:.4em 0}</style></head>\n"
        f"<body><h1>{escape(title)}</h1><p>Choose the edition · Elige la edición:</p>\n"
        f'<ul class="editions">\n{links}\n</ul></body></html>\n')
    return [ed.language for ed in have]


@dataclass
class SiteCheck:
    """What :func:`check_site` found in a built site."""

    pages: list[str]
    links: int
    images: int
    broken: list[str]
    launch: list[str]

    @property
    def ok(self) -> bool:
        return not self.broken and not self.launch


def _pages(html_dir: Path) -> dict[str, object]:
    from bs4 import BeautifulSoup

    return {p.relative_to(html_dir).as_posix(): BeautifulSoup(p.read_text(errors="replace"), "html.parser")
            for p in sorted(html_dir.rglob("*.html")) if "_static" not in p.parts and "_sources" not in p.parts}


def check_site(html_dir: Path | str, root: Path | str, pages: list[str] | None = None) -> SiteCheck:
    """Check a built site: every internal link, anchor and image resolves; launch links are the course's.

    Args:
        html_dir: the built edition (``build/site/en``).
        root: the course root (its course.toml names the student repository and the tag).
        pages: page names that must have been built (from :class:`SiteBuild`).

    Returns:
        The :class:`SiteCheck`: ``broken`` lists ``page: reference`` for every internal link or image
        that does not resolve (or a page missing), ``launch`` every launch-link problem.
    """
    html_dir = Path(html_dir)
    soups = _pages(html_dir)
    ids = {rel: {t.get("id") for t in s.find_all(id=True)} | {t.get("name") for t in s.find_all("a", attrs={"name": True})}
           for rel, s in soups.items()}
    broken = [f"{p}.html: page was not built" for p in pages or [] if f"{p}.html" not in soups]
    n_links = n_images = 0
    for rel, soup in soups.items():
        base = (html_dir / rel).parent
        refs = [("href", t["href"]) for t in soup.find_all(["a", "link"], href=True)]
        refs += [("src", t["src"]) for t in soup.find_all(["img", "script", "source"], src=True)]
        for attr, ref in refs:
            if not ref or _EXTERNAL.match(ref):
                continue
            is_image = attr == "src" and ref.split("?")[0].lower().endswith((".png", ".jpg", ".jpeg", ".svg", ".gif"))
            n_images += is_image
            n_links += not is_image
            path, _, frag = ref.partition("#")
            path = unquote(path.split("?")[0])
            target = (base / path).resolve() if path else (html_dir / rel).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{rel}: {ref} (no such file)")
                continue
            if frag and target.suffix == ".html":
                key = target.relative_to(html_dir.resolve()).as_posix()
                if key in ids and unquote(frag) not in ids[key]:
                    broken.append(f"{rel}: {ref} (no anchor #{frag} in {key})")
    return SiteCheck(pages=sorted(soups), links=n_links, images=n_images, broken=broken,
                     launch=launch_problems(html_dir, root, soups=soups))


def launch_problems(html_dir: Path | str, root: Path | str, *, soups: dict | None = None) -> list[str]:
    """Launch links of the site that do not open the page's notebook in the student repository at the tag.

    Every notebook page (``lectures/*``, ``assignments/*/*``) must carry a Colab link and, when
    course.toml names a hub, an nbgitpuller link, both opening that notebook; every Colab or
    nbgitpuller link on any page must name the student repository and the term's tag and open a
    notebook the site has.

    Args:
        html_dir: the built edition.
        root: the course root.
        soups: already parsed pages (internal).

    Returns:
        One line per problem (empty when every launch link is right).
    """
    html_dir = Path(html_dir)
    cfg = course_config(root)
    soups = soups if soups is not None else _pages(html_dir)
    repo_url = f"https://github.com/{cfg.student_repository}"
    name = cfg.student_repository.split("/")[1]
    notebooks = {rel[:-5] + ".ipynb" for rel in soups if rel.startswith(("lectures/", "assignments/"))
                 and not (html_dir / "_sources" / f"{rel[:-5]}.md").is_file()}  # a markdown page (the glossary)
    problems = []
    for rel, soup in soups.items():
        hrefs = [a["href"] for a in soup.find_all("a", href=True)]
        colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/") and "/assets/" not in h]
        hub = [h for h in hrefs if "/hub/user-redirect/git-pull" in h]
        for h in colab:
            want = COLAB_PREFIX + f"{cfg.student_repository}/blob/{cfg.term_tag}/"
            if not h.startswith(want):
                problems.append(f"{rel}: Colab link {h} does not open {cfg.student_repository} at {cfg.term_tag}")
            elif unquote(h[len(want):]) not in notebooks:
                problems.append(f"{rel}: Colab link {h} opens a notebook the site does not have")
        for h in hub:
            u = urlparse(h)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            hub_base = urlparse(cfg.hub_url)
            if not cfg.hub_url or (u.scheme, u.netloc) != (hub_base.scheme, hub_base.netloc):
                problems.append(f"{rel}: hub link {h} does not go to course.toml's hub_url {cfg.hub_url!r}")
            if q.get("repo") != repo_url or q.get("branch") != cfg.term_tag:
                problems.append(f"{rel}: hub link {h} pulls {q.get('repo')}@{q.get('branch')}, not "
                                f"{repo_url}@{cfg.term_tag}")
            path = q.get("urlpath", "")
            prefix = f"lab/tree/{name}/"
            folders = {ed.lectures for ed in EDITIONS.values()}
            if not path.startswith(prefix) or not (path[len(prefix):] in notebooks or path[len(prefix):] in folders):
                problems.append(f"{rel}: hub link {h} opens {path!r}, not a notebook of the site under {prefix}")
        if rel[:-5] + ".ipynb" in notebooks:
            own = rel[:-5] + ".ipynb"
            if not any(unquote(h).endswith(f"/{cfg.term_tag}/{own}") for h in colab):
                problems.append(f"{rel}: no Colab launch link to {own}")
            if cfg.hub_url and not any(parse_qs(urlparse(h).query).get("urlpath", [""])[0] == f"lab/tree/{name}/{own}"
                                       for h in hub):
                problems.append(f"{rel}: no JupyterHub (nbgitpuller) launch link to {own}")
    return problems


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    """``python -m dlcourse.course site``: build the editions, check them, print the figures; 0 when clean."""
    ap = argparse.ArgumentParser(prog="python -m dlcourse.course site", description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=sorted(MODES), default="fast",
                    help="fast: DLCOURSE_FAST=1 outputs (default; CI); full: what students run; off: no outputs")
    ap.add_argument("--language", default="all", choices=["all", *EDITIONS],
                    help="edition to build (default all: every edition, each in build/site/<language>/)")
    ap.add_argument("--out", type=Path, help="HTML folder holding the editions (default build/site)")
    ap.add_argument("--only", nargs="+", metavar="STEM", help="build only these lectures (e.g. 02_receptive_fields_parameters)")
    ap.add_argument("--refresh", action="store_true", help="execute every lecture again (forget this mode's cache)")
    args = ap.parse_args(argv)
    if root is None:
        from .conventions import find_course_root

        root = find_course_root(Path.cwd())
    languages = list(EDITIONS) if args.language == "all" else [args.language]
    results = []
    for language in languages:
        load0 = os.getloadavg()[0]
        res = build(root, mode=args.mode, language=language, out=args.out / language if args.out else None,
                    only=args.only, refresh=args.refresh)
        results.append(res)
        print(f"site ({language}, {args.mode} mode) built in {res.seconds:.1f} s at load {load0:.1f} -> "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: {len(res.pages)} pages ({res.executed} "
              f"notebooks executed, {res.cached} from the cache "
              f"{site_paths(root, mode=args.mode, language=language).cache})")
    status = 0
    for res in results:  # checked once every edition is built (the language switch links across them)
        chk = check_site(res.out, root, res.pages)
        status |= not chk.ok
        print(f"  {res.language}: {len(chk.pages)} HTML pages, {chk.links} internal links and {chk.images} images "
              f"checked: {len(chk.broken)} broken; launch links: {len(chk.launch)} problem(s); "
              f"Sphinx warnings: {len(res.warnings)}")
        for line in [*chk.broken, *chk.launch, *res.warnings][:40]:
            print("    " + line)
    print(f"  open {results[0].out.parent / 'index.html'} (editions: {', '.join(languages)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
