"""The course website: Sphinx + MyST-NB + sphinx-book-theme, outputs cached by jupyter-cache.

``python -m dlcourse.course site [--mode fast|full|off] [--language en] [--only STEM ...]`` (``make site``):

1. :func:`stage_sources` lays out the site's sources in ``build/site-src/<language>/`` with the
   student repository's layout: the course README as the landing page (``index.md``, with the
   navigation in lecture order), ``lectures/*.ipynb``, the *student release* ``assignments/<id>/``
   (never ``solutions/``) and the ``docs/`` pages the README links to;
2. :func:`build` runs Sphinx with the configuration in ``site/conf.py`` into
   ``build/site/<language>/``. Lectures are executed through MyST-NB's ``cache`` mode: each
   notebook is executed once per mode (FAST or full) and its outputs kept in
   ``build/site-cache/<mode>/`` (jupyter-cache, keyed by the notebook's code), so a rebuild executes
   only the notebooks whose code changed. ``tests/test_notebooks.py`` stores each FAST execution
   there (:func:`cache_executed`), so CI builds the FAST site without running a lecture twice;
3. :func:`check_site` reads the built HTML: every page, every internal link (with its ``#anchor``)
   and image, and every launch link (Colab, and the course JupyterHub through nbgitpuller), which
   must open the page's notebook in the student repository at the term's tag.

The cache is keyed by the notebooks' code, not by the helper package: after changing ``dlcourse``
in a way that changes outputs, rebuild with ``--refresh`` (or delete ``build/site-cache/<mode>``).

Editions: ``language`` names the edition. Only the English one exists; the Spanish edition will be
a second tree (``build/site/es/``) built from the generated Spanish notebooks, with a language
switch between the two; :data:`EDITIONS` is where it gets registered.
"""
from __future__ import annotations

import argparse
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
    "EDITIONS",
    "SitePaths",
    "write_language_index",
    "site_paths",
    "cache_executed",
    "nbgitpuller_link",
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
#: Editions of the site: language -> folder of its lectures (relative to the course root).
EDITIONS = {"en": "lectures"}
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
    return SitePaths(src=build_dir / "site-src" / language, out=Path(out) if out else build_dir / "site" / language,
                     doctrees=build_dir / "site-doctrees" / f"{language}-{mode}",
                     cache=build_dir / "site-cache" / ("fast" if mode == "off" else mode))


def _check_mode_language(mode: str, language: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    if language not in EDITIONS:
        raise ValueError(f"no {language!r} edition of the site: the editions are {sorted(EDITIONS)} "
                         "(the Spanish one is built once its notebooks are generated)")


def cache_executed(nb, source: Path | str, *, root: Path | str, mode: str = "fast", seconds: float | None = None) -> None:
    """Store an executed notebook in the site's jupyter-cache, as if the site build had executed it.

    Args:
        nb: the executed notebook (nbformat node; it is not modified).
        source: the notebook file it was executed from.
        root: the course root.
        mode: ``fast`` or ``full``: the mode it was executed in.
        seconds: how long it took (shown in the build's execution report).

    Raises:
        ValueError: ``mode`` is ``off`` or unknown.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if MODES.get(mode) is None:
        raise ValueError(f"mode must be 'fast' or 'full' (the mode the notebook ran in), got {mode!r}")
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # a copy
    for cell in nb.cells:  # nbclient's timing metadata would change the notebook's cache key
        cell.metadata.pop("execution", None)
    cache = get_cache(str(site_paths(root, mode=mode).cache))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(Path(source).resolve()),
                                              data={"execution_seconds": seconds}), check_validity=False,
                                overwrite=True)


def nbgitpuller_link(cfg: CourseConfig, path: str = "lectures", *, app: str = "lab") -> str:
    """The nbgitpuller link that opens ``path`` of the student repository at the term's tag on the hub.

    Args:
        cfg: the course's configuration (``hub_url``, ``student_repository``, ``term_tag``).
        path: a folder or notebook of the student repository.
        app: ``lab`` (JupyterLab) or ``tree`` (classic).

    Returns:
        ``<hub>/hub/user-redirect/git-pull?repo=...&urlpath=...&branch=<tag>&targetPath=<name>``.

    Raises:
        ValueError: no ``hub_url`` in course.toml, or an unknown app.
    """
    if not cfg.hub_url:
        raise ValueError("course.toml has no [course] hub_url: there is no hub to link to")
    if app not in ("lab", "tree"):
        raise ValueError(f"app must be 'lab' or 'tree', got {app!r}")
    name = cfg.student_repository.split("/")[1]
    urlpath = f"{app}/tree/{name}/{path.strip('/')}".rstrip("/")
    query = urlencode({"repo": f"https://github.com/{cfg.student_repository}", "urlpath": urlpath,
                       "branch": cfg.term_tag, "targetPath": name}, safe="/")
    return f"{cfg.hub_url}/hub/user-redirect/git-pull?{query}"


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


def stage_sources(root: Path | str, src: Path | str, *, language: str = "en", mode: str = "fast",
                  only: list[str] | None = None) -> list[str]:
    """Lay out the site's sources in ``src`` (the student repository's layout); return the page names.

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
    lecture_paths = lectures(root) if EDITIONS[language] == "lectures" else sorted((root / EDITIONS[language]).glob("*.ipynb"))
    if only:
        unknown = sorted(set(only) - {p.stem for p in lecture_paths})
        if unknown:
            raise ValueError(f"no lecture {unknown}: the lectures are {[p.stem for p in lecture_paths]}")
        lecture_paths = [p for p in lecture_paths if p.stem in only]
    wanted: dict[str, Path] = {f"lectures/{p.name}": p for p in lecture_paths}
    assignment_pages = []
    for aid in assignments(root):
        release = root / "assignments" / aid
        if not release.is_dir():
            raise ValueError(f"assignments/{aid}/ is missing: run `make release` before building the site")
        for f in sorted(release.rglob("*")):
            if f.is_file() and ".ipynb_checkpoints" not in f.parts and "__pycache__" not in f.parts:
                wanted[f"assignments/{aid}/{f.relative_to(release).as_posix()}"] = f
        assignment_pages += [f"assignments/{aid}/{p.stem}" for p in sorted(release.glob("*.ipynb"))]
    readme = (root / "README.md").read_text()
    docs = sorted({m.split("#")[0] for m in re.findall(r"\]\(((?:%s)/[^)\s]+\.md(?:#[^)\s]*)?)\)" % "|".join(DOC_FOLDERS),
                                                          readme)})
    for d in docs:
        if not (root / d).is_file():
            raise ValueError(f"README.md links to {d}, which does not exist")
        wanted[d] = root / d
    for rel, path in wanted.items():
        _copy(path, src / rel)
    lecture_pages = [f"lectures/{p.stem}" for p in lecture_paths]
    (src / "index.md").write_text(_index_page(readme, cfg, lecture_paths, lecture_pages, assignment_pages,
                                              [d[:-3] for d in docs], mode))
    keep = set(wanted) | {"index.md"}
    for f in sorted(src.rglob("*"), reverse=True):
        rel = f.relative_to(src).as_posix()
        if f.is_file() and rel not in keep:
            f.unlink()
        elif f.is_dir() and not any(f.iterdir()):
            f.rmdir()
    return ["index", *lecture_pages, *assignment_pages, *[d[:-3] for d in docs]]


def _index_page(readme: str, cfg: CourseConfig, lecture_paths: list[Path], lecture_pages: list[str],
                assignment_pages: list[str], doc_pages: list[str], mode: str) -> str:
    """The landing page: the course README, how to open the notebooks, and the navigation."""
    rows = [f"| {i} | [{_title(p)}]({page}.ipynb) | [Colab]({badge_url(page + '.ipynb', cfg.student_repository, cfg.term_tag)})"
            + (f" · [JupyterHub]({nbgitpuller_link(cfg, page + '.ipynb')})" if cfg.hub_url else "") + " |"
            for i, (p, page) in enumerate(zip(lecture_paths, lecture_pages), 1)]
    where = {"fast": "in FAST mode (small data, few epochs: what CI runs)",
             "full": "in full mode (what students run)", "off": "not executed (no outputs)"}[mode]
    hub = (f"On the course JupyterHub, [this link]({nbgitpuller_link(cfg, 'lectures')}) copies the lectures of "
           f"this term into your home (and pulls later changes, keeping your edits). " if cfg.hub_url else "")
    launch = "\n".join([
        "", "## Open the notebooks", "",
        f"Every lecture and assignment page has launch buttons at the top (the rocket): Colab, or the course "
        f"JupyterHub. They open the notebook of the student repository "
        f"[{cfg.student_repository}](https://github.com/{cfg.student_repository}/tree/{cfg.term_tag}) at this "
        f"term's tag `{cfg.term_tag}`; the download button gives the `.ipynb` file. {hub}"
        f"The outputs on this site were executed {where}.", "",
        "| # | lecture | open |", "|---|---|---|", *rows, ""])

    def toc(caption: str, pages: list[str]) -> str:
        return "\n".join(["", "```{toctree}", ":hidden:", ":maxdepth: 1", f":caption: {caption}", "", *pages, "```", ""])

    return (readme.rstrip() + "\n" + launch + toc("Lectures", lecture_pages) + toc("Assignments", assignment_pages)
            + (toc("Guides", doc_pages) if doc_pages else ""))


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


def build(root: Path | str, *, mode: str = "fast", language: str = "en", out: Path | str | None = None,
          only: list[str] | None = None, refresh: bool = False, fresh: bool = False,
          timeout: float | None = None) -> SiteBuild:
    """Build the ``language`` edition of the course site.

    Args:
        root: the course root (with ``site/conf.py``).
        mode: ``fast`` (``DLCOURSE_FAST=1``), ``full`` (what students run) or ``off`` (no outputs).
        language: the edition (a key of :data:`EDITIONS`).
        out: the HTML folder (default ``build/site/<language>``).
        only: lecture stems to build (default: all).
        refresh: forget the cached executions of this mode first (every lecture runs again).
        fresh: forget Sphinx's parsed pages first, so every page is read again (its outputs then come
            from the cache or a new execution, and ``executed + cached`` counts every lecture).
        timeout: seconds the whole Sphinx run may take (default: no limit).

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
    if (fresh or refresh) and paths.doctrees.exists():
        shutil.rmtree(paths.doctrees)
    t0 = time.perf_counter()
    pages = stage_sources(root, paths.src, language=language, mode=mode, only=only)
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
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(root / "site"), "-d", str(paths.doctrees),
           "-w", str(warn_file), "--keep-going",
           "-D", f"nb_execution_mode={'off' if mode == 'off' else 'cache'}",
           "-D", f"nb_execution_cache_path={paths.cache}", "-D", f"language={language}",
           "-D", f"html_search_language={language}", str(paths.src), str(paths.out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=timeout)
    log = proc.stdout + proc.stderr
    warnings = [w for w in warn_file.read_text().splitlines() if w.strip()] if warn_file.is_file() else []
    if proc.returncode != 0:
        raise RuntimeError(f"sphinx failed (exit {proc.returncode}):\n{log[-6000:]}")
    write_language_index(paths.out.parent)
    return SiteBuild(out=paths.out, mode=mode, seconds=time.perf_counter() - t0, pages=pages,
                     executed=log.count("Executing notebook using"), cached=log.count("Using cached notebook"),
                     warnings=warnings, log=log)


def write_language_index(site_dir: Path) -> None:
    """``<site_dir>/index.html`` (``site_dir`` named ``site``): sends the visitor to the English edition
    in ``en/`` (the other editions sit beside it)."""
    if site_dir.name != "site" or not (site_dir / "en" / "index.html").is_file():
        return
    (site_dir / "index.html").write_text('<!doctype html><html lang="en"><head><meta charset="utf-8">'
                                         '<meta http-equiv="refresh" content="0; url=en/index.html">'
                                         '<title>Course site</title></head><body>'
                                         '<a href="en/index.html">English</a></body></html>\n')


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
    notebooks = {rel[:-5] + ".ipynb" for rel in soups if rel.startswith(("lectures/", "assignments/"))}
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
            if not path.startswith(prefix) or not (path[len(prefix):] in notebooks or path[len(prefix):] == "lectures"):
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
    """``python -m dlcourse.course site``: build one edition, check it, print the figures; 0 when clean."""
    ap = argparse.ArgumentParser(prog="python -m dlcourse.course site", description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=sorted(MODES), default="fast",
                    help="fast: DLCOURSE_FAST=1 outputs (default; CI); full: what students run; off: no outputs")
    ap.add_argument("--language", default="en", help=f"edition ({', '.join(sorted(EDITIONS))})")
    ap.add_argument("--out", type=Path, help="HTML folder (default build/site/<language>)")
    ap.add_argument("--only", nargs="+", metavar="STEM", help="build only these lectures (e.g. 02_receptive_fields_parameters)")
    ap.add_argument("--refresh", action="store_true", help="execute every lecture again (forget this mode's cache)")
    args = ap.parse_args(argv)
    if root is None:
        from .conventions import find_course_root

        root = find_course_root(Path.cwd())
    load0 = os.getloadavg()[0]
    res = build(root, mode=args.mode, language=args.language, out=args.out, only=args.only, refresh=args.refresh)
    chk = check_site(res.out, root, res.pages)
    print(f"site ({args.language}, {args.mode} mode) built in {res.seconds:.1f} s at load {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores: {len(res.pages)} pages ({res.executed} notebooks executed, "
          f"{res.cached} from the cache {site_paths(root, mode=args.mode).cache})")
    print(f"  {len(chk.pages)} HTML pages, {chk.links} internal links and {chk.images} images checked: "
          f"{len(chk.broken)} broken; launch links: {len(chk.launch)} problem(s); Sphinx warnings: {len(res.warnings)}")
    for line in [*chk.broken, *chk.launch, *res.warnings][:40]:
        print("  " + line)
    print(f"  open {res.out / 'index.html'}")
    return 0 if chk.ok else 1


if __name__ == "__main__":
    sys.exit(main())
