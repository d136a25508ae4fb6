"""The course website in Debian's Chromium (issue #14).

The FAST site (built from the jupyter-cache, as tests/test_site.py builds it) is served on
127.0.0.1; every page is opened in Chromium and must load without a page error or a failed
request, with every image drawn, every internal link answering (and its #anchor on the page),
and launch links (Colab, the course JupyterHub through nbgitpuller) opening the page's notebook in
the student repository at the term's tag. The search page finds a lecture. Screenshots go to
build/screenshots/site-*.png.
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


@pytest.fixture(scope="module")
def served(chromium, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "en"
    res = site.build(ROOT, mode="fast", out=out)
    port = jlab.free_port()
    log = tmp_path_factory.mktemp("http") / "http.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                 "--directory", str(res.out)], stdout=fh, stderr=subprocess.STDOUT)
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
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: r.url.startswith(local) and problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    resp = page.goto(url, wait_until="networkidle")  # MathJax loads its fonts after the load event
    if resp is None or not resp.ok:
        problems.append(f"{url} answered {resp.status if resp else 'nothing'}")
    info = page.evaluate("""() => ({
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        ids: [...document.querySelectorAll('[id]')].map(e => e.id),
        images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    })""")
    problems += [f"image not drawn: {i['src']}" for i in info["images"] if not i["ok"] and i["src"].startswith(local)]
    return problems, info


def test_every_page_loads_with_links_images_and_launch_buttons(served, browser):
    base, res = served
    pages = [f"{p}.html" for p in res.pages]
    assert len(pages) == 1 + len(lectures(ROOT)) + sum(1 for a in assignments(ROOT)
                                                       for _ in (ROOT / "assignments" / a).glob("*.ipynb")) + \
        sum(1 for p in res.pages if p.startswith("docs/"))
    pg = browser.new_page()
    problems: dict[str, list[str]] = {}
    seen: dict[str, dict] = {}
    try:
        for rel in pages:
            probs, info = _visit(pg, base + rel)
            problems[rel] = probs
            seen[base + rel] = info
            if rel.startswith(("lectures/", "assignments/")):
                _check_launch_links(rel, info["links"], problems[rel])
            if rel in ("index.html", f"lectures/{lectures(ROOT)[0].stem}.html",
                       f"assignments/{assignments(ROOT)[0]}/{assignments(ROOT)[0]}.html"):
                jlab.screenshot(pg, "site-" + rel[:-5].replace("/", "-"))
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
        assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, "\n".join(f"{k}: {v[:5]}" for k, v in bad.items())
        assert sum(len(i["images"]) for i in seen.values()) > len(lectures(ROOT)), "the lectures show their figures"
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
        pg.goto(base + "search.html?q=receptive", wait_until="load")
        pg.wait_for_selector("#search-results li a", timeout=30_000)
        hits = pg.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("lectures/02_" in h for h in hits), hits
        jlab.screenshot(pg, "site-search")
    finally:
        pg.close()

