# Sphinx configuration of the course website (built by `make site` / `python -m dlcourse.course site`).
#
# Generator: Sphinx + MyST-NB + sphinx-book-theme, all from PyPI, pinned in requirements-lock.txt,
# offline (no theme or template is fetched at build time). The sources are staged by
# dlcourse.course.site into build/site-src/<language>/ with the student repository's layout
# (README -> index, lectures/*.ipynb, assignments/<id>/*.ipynb = the student release, docs/*.md),
# so the theme's launch buttons open the same paths in the student repository at the term's tag.
# The builder passes the execution mode, the cache folder and the language with -D overrides, and
# in DLCOURSE_SITE_NOT_EXECUTED the lectures whose pages are built without outputs.
# Editions (dlcourse.course.site.EDITIONS): every page gets a language switch (EN | ES) in its header.
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jupyter_server_mathjax

from dlcourse.course import site as course_site
from dlcourse.course.conventions import course_config

ROOT = Path(__file__).resolve().parents[1]
COURSE = course_config(ROOT)

project = COURSE.title
author = "the course team"
language = "en"
root_doc = "index"
extensions = ["myst_nb", "sphinx_book_theme"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_title = COURSE.title
html_theme = "sphinx_book_theme"
html_sourcelink_suffix = ""          # the download button gives the notebook itself (.ipynb)
html_last_updated_fmt = None
html_copy_source = True
html_search_language = "en"

html_theme_options = {
    "repository_url": f"https://github.com/{COURSE.student_repository}",
    "repository_branch": COURSE.term_tag,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
        **({"jupyterhub_url": COURSE.hub_url} if COURSE.hub_url else {}),
    },
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "article_header_end": ["language-switch.html", "article-header-buttons.html"],
}

# MyST: the markdown of README, docs and notebook cells (GitHub-style tables, raw HTML <details>).
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "html_image"]
myst_heading_anchors = 3

# MyST-NB: outputs are executed once and cached by jupyter-cache (a rebuild executes only the
# notebooks whose code changed); the student release of an assignment is never executed.
nb_execution_mode = "cache"          # overridden by the builder: cache (fast / full) or off
nb_execution_cache_path = str(ROOT / "build" / "site-cache" / "fast")
nb_execution_excludepatterns = ["assignments/*/*.ipynb", "assignments/*/*/*.ipynb"]  # matched from the right
# lectures built without outputs (dlcourse.course.site.build(execute=...): a test's cheaper check)
nb_execution_excludepatterns += json.loads(os.environ.get("DLCOURSE_SITE_NOT_EXECUTED", "[]"))
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# Heading-level style notes of MyST ("H1 to H3") are about the notebooks' markdown, not broken output.
suppress_warnings = ["myst.header"]

# Offline pages: MathJax from the jupyter-server-mathjax package (copied to _static/mathjax/),
# not from a CDN; no ipywidgets JavaScript from a CDN (progress-bar widgets of the executed
# lectures are not interactive on a static page: their text fallback is shown).
MATHJAX_DIR = Path(jupyter_server_mathjax.__file__).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
# the package ships MathJax 2 with the STIX-Web fonts only (as Jupyter's classic notebook configures it)
mathjax2_config = {"HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
                   "SVG": {"font": "STIX-Web"}}
nb_ipywidgets_js = {}


def _copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX_DIR, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


_EDITION_PAGES = {}


def _language_switch(app, pagename, templatename, context, doctree):
    """Give the page's template its language switch (the other edition's same page, else its index)."""
    if not _EDITION_PAGES:
        _EDITION_PAGES.update({lang: course_site.edition_pages(ROOT, lang) for lang in course_site.EDITIONS})
    context["language_links"] = course_site.language_links(ROOT, app.config.language, pagename, _EDITION_PAGES)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _language_switch)
