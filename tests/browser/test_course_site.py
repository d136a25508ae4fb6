"""The course website in Debian's Chromium (issues #14, #15).

Both editions of the FAST site (built from the jupyter-cache, as tests/test_site.py builds them: the
English tree from test_notebooks.py's executions, the Spanish tree with one lecture executed and the
others without outputs, see tests/test_site.py) are served on 127.0.0.1 from one folder
(``index.html`` offering both, ``en/``, ``es/``); every page of both trees is opened in Chromium and
must load without a page error or a failed request, with every image drawn, every internal link
answering (and its #anchor on the page), and launch links (Colab, the course JupyterHub through
nbgitpuller) opening the page's own notebook in the student repository at the term's tag (the
Spanish pages: the Spanish notebooks). A Spanish page says lang="es" and the language switch works
both ways. The search page finds a lecture. Screenshots go to build/screenshots/site-*.png (the
Spanish edition's: site-es-*.png).
"""
from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qs, unquote, urldefrag, urlparse

import pytest

import jlab
from dlcourse.course import site
from dlcourse.course.conventions import assignments, course_config, lectures

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("lectures")]
ROOT = jlab.ROOT
CFG = course_config(ROOT)


#: The Spanish lecture built with its outputs (the others without: tests/test_site.py says why).
ES_EXECUTED = "02_receptive_fields_parameters"


@pytest.fixture(scope="module")
def served(chromium, tmp_path_factory):
    """``(base URL of the site root, {language: SiteBuild})``: both editions served from one folder."""
    root_dir = tmp_path_factory.mktemp("site")
    res = {"en": site.build(ROOT, mode="fast", out=root_dir / "en")}
    res["es"] = site.build(ROOT, mode="fast", language="es", out=root_dir / "es", execute=[ES_EXECUTED])
    port = jlab.free_port()
    log = tmp_path_factory.mktemp("http") / "http.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                 "--directory", str(root_dir)], stdout=fh, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/"
        jlab.wait_http(base + "index.html", timeout=30, proc=proc, log=log)
        yield base, res
    finally:
        proc.terminate()
        proc.wait(timeout=10)


#: What a page may load from outside the site (the machine is offline: these requests are refused and
#: the page must not depend on them): the Colab badge image of each notebook's first cell.
EXTERNAL_ALLOWED = {"https://colab.research.google.com/assets/colab-badge.svg"}


def _visit(page, url: str) -> tuple[list[str], dict]:
    """Open ``url`` (requests outside the site refused); return (problems, links, ids and images it holds)."""
    problems: list[str] = []
    base = url.split("/", 3)[:3]
    local = "/".join(base) + "/"

    def route(r):
        if r.request.url.startswith(local):
            r.continue_()
        else:
            if r.request.url not in EXTERNAL_ALLOWED:
                problems.append(f"loads from outside the site: {r.request.url}")
            r.abort()

    page.unroute("**/*")
    page.route("**/*", route)
    handlers = {"pageerror": lambda e: problems.append(f"page error: {e}"),
                "requestfailed": lambda r: r.url.startswith(local) and problems.append(f"request failed: {r.url}"),
                "response": lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}")}
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        resp = page.goto(url, wait_until="networkidle")  # MathJax loads its fonts after the load event
    finally:  # this page's problems only (the listeners of earlier visits are gone)
        for event, handler in handlers.items():
            page.remove_listener(event, handler)
    if resp is None or not resp.ok:
        problems.append(f"{url} answered {resp.status if resp else 'nothing'}")
    info = page.evaluate("""() => ({
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        ids: [...document.querySelectorAll('[id]')].map(e => e.id),
        images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    })""")
    problems += [f"image not drawn: {i['src']}" for i in info["images"] if not i["ok"] and i["src"].startswith(local)]
    return problems, info


def _is_notebook_page(res, rel: str) -> bool:
    """A page made from a notebook of the student repository (not the glossary, a guide or a 'solo en inglés' page)."""
    return rel.startswith(("lectures/", "assignments/")) and (res.out / "_sources" / f"{rel[:-5]}.ipynb").is_file()


def _screenshot_pages(language: str) -> set[str]:
    a = assignments(ROOT)[0]
    if language == "en":
        return {"index.html", f"lectures/{lectures(ROOT)[0].stem}.html", f"assignments/{a}/{a}.html"}
    return {"index.html", f"lectures/es/{ES_EXECUTED}.html", f"assignments/es/{a}/{a}.html", "lectures/es/glosario.html"}


def test_every_page_loads_with_links_images_and_launch_buttons(served, browser):
    base, builds = served
    en = builds["en"]
    assert len(en.pages) == 1 + len(lectures(ROOT)) + sum(1 for a in assignments(ROOT)
                                                          for _ in (ROOT / "assignments" / a).glob("*.ipynb")) + \
        sum(1 for p in en.pages if p.startswith("docs/"))
    pages = [(lang, f"{p}.html") for lang, res in builds.items() for p in res.pages]
    pg = browser.new_page()
    problems: dict[str, list[str]] = {}
    seen: dict[str, dict] = {}
    try:
        probs, seen[base + "index.html"] = _visit(pg, base + "index.html")  # the root: both editions
        problems["index.html"] = probs
        assert {base + "en/index.html", base + "es/index.html"} <= set(seen[base + "index.html"]["links"])
        jlab.screenshot(pg, "site-root")
        for lang, rel in pages:
            url = f"{base}{lang}/{rel}"
            probs, info = _visit(pg, url)
            problems[f"{lang}/{rel}"] = probs
            seen[url] = info
            if _is_notebook_page(builds[lang], rel):
                _check_launch_links(rel, info["links"], probs)
            if rel in _screenshot_pages(lang):
                prefix = "site-" if lang == "en" else f"site-{lang}-"
                jlab.screenshot(pg, prefix + rel[:-5].replace("/", "-"))
        # every internal link answers, and its #anchor exists on the page it opens
        internal = sorted({h for info in seen.values() for h in info["links"] if h.startswith(base)})
        broken = []
        for href in internal:
            url, frag = urldefrag(href)
            if url not in seen:
                r = pg.request.get(url)
                if not r.ok:
                    broken.append(f"{href}: HTTP {r.status}")
                    continue
                if not url.endswith(".html") or not frag:
                    continue
                _, seen[url] = _visit(pg, url)
            if frag and unquote(frag) not in seen[url]["ids"]:
                broken.append(f"{href}: no #{frag} on the page")
        assert len(internal) > 50
        assert any(h.startswith(base + "es/") for h in internal) and any(h.startswith(base + "en/") for h in internal)
        assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, "\n".join(f"{k}: {v[:5]}" for k, v in bad.items())
        assert sum(len(i["images"]) for i in seen.values()) > len(lectures(ROOT)), "the lectures show their figures"
    finally:
        pg.close()


def test_a_spanish_page_and_the_language_switch_both_ways(served, browser):
    base, builds = served
    pg = browser.new_page()
    try:
        en_url = f"{base}en/lectures/{ES_EXECUTED}.html"
        pg.goto(en_url, wait_until="load")
        assert pg.evaluate("document.documentElement.lang") == "en"
        pg.click('nav.language-switch a[hreflang="es"]')
        pg.wait_for_load_state("load")
        assert pg.url == f"{base}es/lectures/es/{ES_EXECUTED}.html", pg.url
        assert pg.evaluate("document.documentElement.lang") == "es"
        text = pg.inner_text("main")
        assert "campo receptivo medido" in text, "the Spanish page does not show the Spanish lecture's output"
        assert pg.inner_text("nav.language-switch [aria-current]") == "ES"
        pg.click('nav.language-switch a[hreflang="en"]')
        pg.wait_for_load_state("load")
        assert pg.url == en_url and pg.evaluate("document.documentElement.lang") == "en"
        # a lecture the Spanish edition lacks: the ES link opens a page that says so and leads back
        missing = [p for p in lectures(ROOT) if not (ROOT / "lectures" / "es" / p.name).is_file()]
        if missing:
            pg.goto(f"{base}en/lectures/{missing[0].stem}.html", wait_until="load")
            pg.click('nav.language-switch a[hreflang="es"]')
            pg.wait_for_load_state("load")
            assert "solo en inglés" in pg.inner_text("main") and pg.evaluate("document.documentElement.lang") == "es"
            pg.click("a.only-in-source")
            pg.wait_for_load_state("load")
            assert pg.url == f"{base}en/lectures/{missing[0].stem}.html"
    finally:
        pg.close()


def _check_launch_links(rel: str, links: list[str], problems: list[str]) -> None:
    notebook = rel[:-5] + ".ipynb"
    want_colab = f"https://colab.research.google.com/github/{CFG.student_repository}/blob/{CFG.term_tag}/{notebook}"
    if want_colab not in links:
        problems.append(f"no Colab launch link {want_colab}")
    if CFG.hub_url:
        name = CFG.student_repository.split("/")[1]
        hub = [h for h in links if "/hub/user-redirect/git-pull" in h]
        ok = [h for h in hub if h.startswith(CFG.hub_url + "/hub/")
              and parse_qs(urlparse(h).query).get("repo") == [f"https://github.com/{CFG.student_repository}"]
              and parse_qs(urlparse(h).query).get("branch") == [CFG.term_tag]
              and parse_qs(urlparse(h).query).get("urlpath") == [f"lab/tree/{name}/{notebook}"]]
        if not ok:
            problems.append(f"no JupyterHub (nbgitpuller) link to {notebook} at {CFG.term_tag}: {hub}")


def test_search_finds_a_lecture(served, browser):
    base, _ = served
    pg = browser.new_page()
    try:
        pg.goto(base + "en/search.html?q=receptive", wait_until="load")
        pg.wait_for_selector("#search-results li a", timeout=30_000)
        hits = pg.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("lectures/02_" in h for h in hits), hits
        jlab.screenshot(pg, "site-search")
        pg.goto(base + "es/search.html?q=receptivo", wait_until="load")  # the Spanish tree's own index
        pg.wait_for_selector("#search-results li a", timeout=30_000)
        hits = pg.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("lectures/es/02_" in h for h in hits), hits
    finally:
        pg.close()

