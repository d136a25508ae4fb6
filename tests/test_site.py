"""The course website and the student repository (issues #14, #15).

* the FAST site builds from the jupyter-cache that tests/test_notebooks.py fills (same xdist group,
  run after it: no lecture is executed twice in CI), has a page per lecture with outputs and a page
  per assignment (the student release), navigation in lecture order, search, downloadable
  notebooks, 0 broken internal links or images, and launch links at the student repository's tag;
* the Spanish edition is a second tree beside it (``site/es/``): its lectures, the Spanish release of
  the assignments, the glossary, a page that says "solo en inglés" for each notebook it lacks, a
  language switch on every page of both trees, ``lang="es"``, launch links at the Spanish notebooks.
  What it costs in CI, and what is checked instead of executing every Spanish lecture: no test
  executes a Spanish lecture (tests/test_i18n*.py check generation, staleness and grading without
  running one), so there is no execution to reuse as test_notebooks.py's are reused for English.
  The Spanish notebooks share every code cell with the English ones (tests/test_i18n.py holds them
  to that), so what differs is their text and the messages ``tr()`` prints: ONE Spanish lecture,
  :data:`ES_EXECUTED` (the quickest, ~5 s in FAST mode), is executed with ``DLCOURSE_LANG=es`` into
  the Spanish cache (``build/site-cache/fast-es``) and its page must show Spanish output; the other
  Spanish lectures are built by the same Sphinx run with ``site.build(execute=[ES_EXECUTED])``, i.e.
  without outputs, and checked for everything else (pages, links, images, switch, launch links).
  ``make site`` executes every Spanish lecture;
* ``publish`` writes a student tree the leak check passes (the site it carries is the one built
  here, not built again), and the check fails on every kind of hidden thing put into it;
* the Colab setup cell of a published notebook, run as Colab runs it (``google.colab`` imported, a
  clean virtual environment that already has torch), installs dlcourse from the published tree at
  the term's tag (a file:// git repository standing in for GitHub), keeps torch and prints the versions.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest

from dlcourse.course import publish as pub
from dlcourse.course import release, site
from dlcourse.course.conventions import SETUP_TAG, assignments, course_config, lectures

ROOT = Path(__file__).resolve().parents[1]
CFG = course_config(ROOT)
pytestmark = pytest.mark.xdist_group("lectures")


#: The one Spanish lecture the tests execute (see the module's docstring); the quickest in FAST mode.
ES_EXECUTED = "02_receptive_fields_parameters"


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("site")


@pytest.fixture(scope="module")
def fast_site(site_dir):
    res = site.build(ROOT, mode="fast", out=site_dir / "en", fresh=True)
    print(f"FAST site: {res.seconds:.1f} s, {len(res.pages)} pages, {res.executed} executed, {res.cached} from the cache")
    return res


@pytest.fixture(scope="module")
def es_site(site_dir, fast_site):
    res = site.build(ROOT, mode="fast", language="es", out=site_dir / "es", fresh=True, execute=[ES_EXECUTED])
    print(f"FAST Spanish site: {res.seconds:.1f} s, {len(res.pages)} pages, {res.executed} executed, "
          f"{res.cached} from the cache, built without outputs: {res.not_executed}")
    return res


def _es_lectures() -> list[Path]:
    return sorted((ROOT / "lectures" / "es").glob("*.ipynb"))


def _es_assignments() -> list[str]:
    return [a for a in assignments(ROOT) if (ROOT / "assignments" / "es" / a / f"{a}.ipynb").is_file()]


def test_fast_site_has_every_page_and_no_broken_link(fast_site, es_site):
    chk = site.check_site(fast_site.out, ROOT, fast_site.pages)  # with es/ beside it (the switch's links)
    want = {f"lectures/{p.stem}.html" for p in lectures(ROOT)}
    want |= {f"assignments/{a}/{p.stem}.html" for a in assignments(ROOT) for p in (ROOT / "assignments" / a).glob("*.ipynb")}
    assert want <= set(chk.pages), f"pages missing: {sorted(want - set(chk.pages))}"
    assert "index.html" in chk.pages and "search.html" in chk.pages
    assert chk.links > 100 and chk.images > 0
    assert not chk.broken, "broken internal links or images:\n" + "\n".join(chk.broken[:30])
    assert not chk.launch, "launch links:\n" + "\n".join(chk.launch[:30])
    assert not fast_site.warnings, "Sphinx warnings:\n" + "\n".join(fast_site.warnings[:20])
    assert fast_site.executed + fast_site.cached == len(lectures(ROOT)), fast_site.log[-2000:]


def test_lecture_pages_show_executed_outputs_and_assignments_do_not(fast_site):
    for nb in lectures(ROOT):
        html = (fast_site.out / "lectures" / f"{nb.stem}.html").read_text()
        assert "cell_output" in html, f"{nb.stem}: the page shows no output"
        assert re.search(r'<img[^>]+src="[^"]*\.(png|svg)"', html), f"{nb.stem}: no figure on the page"
    for aid in assignments(ROOT):
        html = (fast_site.out / "assignments" / aid / f"{aid}.html").read_text()
        assert "NotImplementedError" in html or "YOUR CODE HERE" in html, f"{aid}: not the student release"
        assert "cell_output" not in html, f"{aid}: the student release must not be executed"


def test_nothing_hidden_reaches_the_site(fast_site):
    problems = [p for p in release.check_published(ROOT, fast_site.out) if not p.startswith("warning:")]
    assert not problems, problems[:10]


def test_navigation_is_in_lecture_order_and_search_and_downloads_work(fast_site):
    index = (fast_site.out / "index.html").read_text()
    order = [index.find(f'href="lectures/{p.stem}.html"') for p in lectures(ROOT)]
    assert all(i >= 0 for i in order) and order == sorted(order), f"navigation out of lecture order: {order}"
    assert "Quick start" in index, "the landing page is the course README"
    searchindex = (fast_site.out / "searchindex.js").read_text()
    assert "recept" in searchindex and "autoencod" in searchindex
    for nb in lectures(ROOT):
        src = fast_site.out / "_sources" / "lectures" / nb.name
        assert src.is_file(), f"{nb.name}: no downloadable notebook"
        assert nbformat.reads(src.read_text(), as_version=4).cells[0].source == \
            nbformat.read(nb, as_version=4).cells[0].source


def test_launch_links_open_the_student_repository_at_the_term_tag(fast_site):
    html = (fast_site.out / "lectures" / f"{lectures(ROOT)[0].stem}.html").read_text()
    colab = set(re.findall(r'href="(https://colab\.research\.google\.com/github/[^"]+)"', html))
    assert f"https://colab.research.google.com/github/{CFG.student_repository}/blob/{CFG.term_tag}/lectures/" \
           f"{lectures(ROOT)[0].name}" in colab
    hub = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*git-pull[^"]*)"', html)]
    assert hub, "no JupyterHub launch link"
    q = parse_qs(urlparse(hub[0]).query)
    assert q["repo"] == [f"https://github.com/{CFG.student_repository}"] and q["branch"] == [CFG.term_tag]


def test_check_site_catches_what_it_must(tmp_path):
    """A broken link, a missing anchor, a missing image and launch links elsewhere are all reported."""
    (tmp_path / "lectures").mkdir()
    bad_colab = f"https://colab.research.google.com/github/{CFG.student_repository}/blob/main/lectures/x.ipynb"
    (tmp_path / "index.html").write_text('<a href="lectures/x.html#there">x</a><a href="gone.html">g</a>'
                                         '<img src="_images/none.png"><a href="#top">t</a><p id="top"></p>')
    (tmp_path / "lectures" / "x.html").write_text(f'<p id="here"></p><a href="{bad_colab}">Colab</a>'
                                                  '<a href="https://other.example/hub/user-redirect/git-pull?'
                                                  'repo=https://github.com/a/b&branch=main&urlpath=lab/tree/b/x">hub</a>')
    chk = site.check_site(tmp_path, ROOT, ["index", "lectures/x", "lectures/y"])
    text = "\n".join(chk.broken)
    assert "gone.html" in text and "#there" in text and "none.png" in text and "lectures/y.html" in text
    assert "#top" not in text
    launch = "\n".join(chk.launch)
    assert "does not open" in launch and "hub_url" in launch and "pulls https://github.com/a/b@main" in launch
    assert not chk.ok


def test_site_refuses_an_edition_that_does_not_exist():
    with pytest.raises(ValueError, match="no 'fr' edition"):
        site.site_paths(ROOT, language="fr")
    with pytest.raises(ValueError, match="mode must be"):
        site.site_paths(ROOT, mode="quick")
    assert site.site_paths(ROOT, language="es").cache == ROOT / "build" / "site-cache" / "fast-es"
    assert site.site_paths(ROOT, mode="full", language="es").cache.name == "full-es"
    with pytest.raises(ValueError, match="execute names no lecture"):
        site.build(ROOT, mode="off", language="es", out=ROOT / "build" / "site-unused" / "es", execute=["99_nothing"])


# ------------------------------------------------------------------ the Spanish edition (#15)
def test_spanish_site_has_every_page_the_switch_and_no_broken_link(fast_site, es_site):
    chk = site.check_site(es_site.out, ROOT, es_site.pages)
    want = {f"lectures/es/{p.stem}.html" for p in _es_lectures()}
    want |= {f"assignments/es/{a}/{a}.html" for a in _es_assignments()}
    want |= {"index.html", "search.html", "lectures/es/glosario.html"}
    assert want <= set(chk.pages), f"pages missing: {sorted(want - set(chk.pages))}"
    assert _es_lectures() and _es_assignments(), "no Spanish edition to build"
    assert not chk.broken, "broken internal links or images:\n" + "\n".join(chk.broken[:30])
    assert not chk.launch, "launch links:\n" + "\n".join(chk.launch[:30])
    assert not es_site.warnings, "Sphinx warnings:\n" + "\n".join(es_site.warnings[:20])
    assert es_site.executed + es_site.cached == 1 and len(es_site.not_executed) == len(_es_lectures()) - 1
    # every page of both trees: lang, and a switch to the other edition's same page (else its index)
    es_pages = site.edition_pages(ROOT, "es")
    for out, lang, other in ((fast_site.out, "en", "es"), (es_site.out, "es", "en")):
        for rel in site.check_site(out, ROOT).pages:
            html = (out / rel).read_text()
            assert f'<html lang="{lang}"' in html, f"{lang}/{rel}: not lang={lang!r}"
            switch = re.search(r'<nav class="language-switch".*?</nav>', html, re.S)
            assert switch, f"{lang}/{rel}: no language switch"
            link = re.search(rf'<a class="language-other" href="([^"]+)" hreflang="{other}"', switch.group(0))
            assert link and (out / rel).parent.joinpath(link.group(1)).resolve().is_file(), f"{lang}/{rel}: {switch.group(0)}"
    for nb in lectures(ROOT):
        html = (fast_site.out / "lectures" / f"{nb.stem}.html").read_text()
        want_es = f"lectures/es/{nb.stem}" if f"lectures/es/{nb.stem}" in es_pages else f"solo-en-ingles/lectures/{nb.stem}"
        assert f'href="../../es/{want_es}.html" hreflang="es"' in html, f"{nb.stem}: the ES switch does not open {want_es}"


def test_spanish_pages_show_spanish_outputs_and_their_own_launch_links(fast_site, es_site):
    page = (es_site.out / "lectures" / "es" / f"{ES_EXECUTED}.html").read_text()
    assert "cell_output" in page and "campo receptivo medido" in page, "the Spanish lecture's output is not Spanish"
    english = (fast_site.out / "lectures" / f"{ES_EXECUTED}.html").read_text()
    assert "measured field" in english and "campo receptivo medido" not in english
    for nb in _es_lectures():
        html = (es_site.out / "lectures" / "es" / f"{nb.stem}.html").read_text()
        assert "Clase" in html or "clase" in html
        colab = f"https://colab.research.google.com/github/{CFG.student_repository}/blob/{CFG.term_tag}/lectures/es/{nb.name}"
        assert f'href="{colab}"' in html, f"{nb.stem}: no Colab link to the Spanish notebook"
        hub = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*git-pull[^"]*)"', html)]
        assert any(parse_qs(urlparse(h).query).get("urlpath") == [f"lab/tree/{CFG.student_repository.split('/')[1]}"
                                                                  f"/lectures/es/{nb.name}"] for h in hub), hub
    for aid in _es_assignments():
        html = (es_site.out / "assignments" / "es" / aid / f"{aid}.html").read_text()
        assert f"/blob/{CFG.term_tag}/assignments/es/{aid}/{aid}.ipynb" in html and "cell_output" not in html


def test_notebooks_the_spanish_edition_lacks_say_so_and_link_to_english(fast_site, es_site):
    index = (es_site.out / "index.html").read_text()
    missing = [p for p in lectures(ROOT) if not (ROOT / "lectures" / "es" / p.name).is_file()]
    missing_a = [a for a in assignments(ROOT) if a not in _es_assignments()]
    for page in [f"lectures/{p.stem}" for p in missing] + [f"assignments/{a}/{a}" for a in missing_a]:
        stub = es_site.out / "solo-en-ingles" / f"{page}.html"
        assert stub.is_file(), f"{page}: the Spanish site says nothing about it"
        html = stub.read_text()
        assert "solo en inglés" in html and f'href="{"../" * (page.count("/") + 2)}en/{page}.html"' in html
        assert f"solo-en-ingles/{page}.html" in index, f"{page}: not in the Spanish navigation"
    order = [index.find(f'href="lectures/es/{p.stem}.html"') if p not in missing else
             index.find(f'href="solo-en-ingles/lectures/{p.stem}.html"') for p in lectures(ROOT)]
    assert all(i >= 0 for i in order) and order == sorted(order), f"Spanish navigation out of lecture order: {order}"
    assert 'href="lectures/es/glosario.html"' in index and "edición en español" in index


def test_a_notebook_the_spanish_edition_lacks_gets_a_page_that_says_so(tmp_path):
    """Staging only (no Sphinx): a copy of the course without the last Spanish lecture and assignment."""
    course = tmp_path / "course"
    course.mkdir()
    for item in ("course.toml", "README.md", "docs", "lectures", "assignments", "solutions"):
        (shutil.copytree if (ROOT / item).is_dir() else shutil.copy2)(ROOT / item, course / item)
    stem, aid = _es_lectures()[-1].stem, _es_assignments()[-1]
    (course / "lectures" / "es" / f"{stem}.ipynb").unlink()
    shutil.rmtree(course / "assignments" / "es" / aid)
    src = tmp_path / "src"
    pages = site.stage_sources(course, src, language="es")
    for page in (f"lectures/{stem}", f"assignments/{aid}/{aid}"):
        assert f"solo-en-ingles/{page}" in pages, pages
        text = (src / "solo-en-ingles" / f"{page}.md").read_text()
        assert "solo en inglés" in text and f'href="{"../" * (page.count("/") + 2)}en/{page}.html"' in text, text
        assert f"solo-en-ingles/{page}" in (src / "index.md").read_text()
    assert not (src / "lectures" / "es" / f"{stem}.ipynb").exists()
    have = site.edition_pages(course, "es")
    assert site.counterpart(f"lectures/{stem}", "en", "es", have) == f"solo-en-ingles/lectures/{stem}"
    assert site.counterpart(f"assignments/{aid}/{aid}", "en", "es", have) == f"solo-en-ingles/assignments/{aid}/{aid}"
    assert "Todavía faltan en español" in (src / "index.md").read_text()


def test_the_site_root_offers_both_editions(fast_site, es_site):
    root_index = (fast_site.out.parent / "index.html").read_text()
    assert 'href="en/index.html"' in root_index and 'href="es/index.html"' in root_index
    assert "English" in root_index and "Español" in root_index


def test_language_switch_targets():
    es_pages = {"index", "search", "lectures/es/01_x", "assignments/es/a1/a1", "solo-en-ingles/lectures/06_y"}
    en_pages = {"index", "search", "lectures/01_x", "lectures/06_y", "assignments/a1/a1", "docs/hub"}
    assert site.counterpart("lectures/01_x", "en", "es", es_pages) == "lectures/es/01_x"
    assert site.counterpart("lectures/06_y", "en", "es", es_pages) == "solo-en-ingles/lectures/06_y"
    assert site.counterpart("assignments/a1/a1", "en", "es", es_pages) == "assignments/es/a1/a1"
    assert site.counterpart("docs/hub", "en", "es", es_pages) == "index"
    assert site.counterpart("search", "en", "es", es_pages) == "search"
    assert site.counterpart("lectures/es/01_x", "es", "en", en_pages) == "lectures/01_x"
    assert site.counterpart("solo-en-ingles/lectures/06_y", "es", "en", en_pages) == "lectures/06_y"
    assert site.counterpart("lectures/es/glosario", "es", "en", en_pages) == "index"
    assert site.counterpart("lectures/es/02_z", "es", "en", en_pages) == "index"  # the other lacks it
    links = site.language_links(ROOT, "es", "lectures/es/01_x", {"en": en_pages, "es": es_pages})
    assert [(x["label"], x["current"], x["url"]) for x in links] == [
        ("EN", False, "../../../en/lectures/01_x.html"), ("ES", True, "../../../es/lectures/es/01_x.html")]


# ---------------------------------------------------------------------------------- publish
@pytest.fixture(scope="module")
def published(tmp_path_factory, fast_site, es_site):
    out = tmp_path_factory.mktemp("student") / "cnn-course"
    return pub.publish(ROOT, out, site_dir=fast_site.out.parent)  # the site built above, both editions


def test_publish_writes_a_clean_student_tree(published):
    out = published.out
    assert not published.errors, "\n".join(published.errors[:20])
    files = set(published.files)
    for nb in lectures(ROOT):
        assert f"lectures/{nb.name}" in files
    for aid in assignments(ROOT):
        assert f"assignments/{aid}/{aid}.ipynb" in files
    assert "shared/pyproject.toml" in files and "shared/dlcourse/__init__.py" in files
    assert "site/en/index.html" in files and "site/es/index.html" in files and "site/index.html" in files
    assert f"site/es/lectures/es/{ES_EXECUTED}.html" in files
    assert not any(f.startswith(("solutions/", "tests/", "shared/dlcourse/grading/", "shared/dlcourse/course/"))
                   for f in files), sorted(f for f in files if "grading" in f or "solutions" in f)[:5]
    assert "nbgrader_config.py" not in files and "instructor_repository" not in (out / "course.toml").read_text()
    readme = (out / "README.md").read_text()
    assert f"{CFG.student_repository}@{CFG.term_tag}#subdirectory=shared" in readme
    if CFG.hub_url:
        link = re.search(r"\((https://[^)]*git-pull[^)]*)\)", readme).group(1)
        assert parse_qs(urlparse(link).query)["branch"] == [CFG.term_tag]


def _copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("site"))
    return dest


def test_the_leak_check_catches_every_hidden_thing(published, tmp_path):
    aid = assignments(ROOT)[0]
    sol = nbformat.read(ROOT / "solutions" / aid / f"{aid}.ipynb", as_version=4)
    secrets = release.course_secrets(ROOT, [aid])
    solution_line = next(iter(secrets.solution))
    hidden_line = next(s for s in secrets.hidden if "assert" in s and len(s) >= 25)  # gives an answer away anywhere
    fixture = next(iter(pub._mistake_secrets(ROOT).solution))
    assert sol.cells and solution_line and hidden_line and fixture

    def leaked(edit) -> list[str]:
        tree = _copy_tree(published.out, tmp_path / f"t{len(list(tmp_path.iterdir()))}")
        edit(tree)
        return [p for p in pub.check_tree(ROOT, tree) if not p.startswith("warning:")]

    def add_to_notebook(path: Path, text: str):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(text))
        nbformat.write(nb, path)

    release_nb = lambda t: t / "assignments" / aid / f"{aid}.ipynb"  # noqa: E731
    lecture_nb = lambda t: t / "lectures" / lectures(ROOT)[0].name  # noqa: E731
    cases = {
        "solution region": lambda t: add_to_notebook(release_nb(t), solution_line),
        "hidden-test line": lambda t: add_to_notebook(lecture_nb(t), hidden_line),
        "hidden-test line in the release": lambda t: add_to_notebook(release_nb(t), hidden_line),
        "nbgrader marker": lambda t: add_to_notebook(lecture_nb(t), "### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"),
        "mistake fixture": lambda t: (t / "shared" / "dlcourse" / "oops.py").write_text(fixture + "\n"),
        "grading internals": lambda t: shutil.copytree(ROOT / "shared" / "dlcourse" / "grading",
                                                      t / "shared" / "dlcourse" / "grading"),
        "solutions folder": lambda t: shutil.copytree(ROOT / "solutions" / aid, t / "solutions" / aid),
        "badge on a branch": lambda t: _rewrite_first_line(lecture_nb(t), f"/blob/{CFG.term_tag}/", "/blob/main/"),
        "Spanish setup cell on a branch": lambda t: _rewrite_setup_cell(t / "lectures" / "es" / _es_lectures()[0].name,
                                                                        f"@{CFG.term_tag}#", "@main#"),
    }
    assert not leaked(lambda t: None), "the unchanged copy must pass"
    for name, edit in cases.items():
        assert leaked(edit), f"the check missed: {name}"


def _rewrite_setup_cell(path: Path, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and SETUP_TAG in c.metadata.get("tags", []))
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)


def _rewrite_first_line(path: Path, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert old in nb.cells[0].source
    nb.cells[0].source = nb.cells[0].source.replace(old, new)
    nbformat.write(nb, path)


def test_student_pyproject_drops_the_grading_command_and_extras():
    text = (ROOT / "shared" / "pyproject.toml").read_text()
    import tomllib

    student = tomllib.loads(pub.student_pyproject(text))["project"]
    assert "scripts" not in student
    assert not {"grading", "cluster", "site"} & set(student.get("optional-dependencies", {}))
    assert "test" in student["optional-dependencies"]
    assert student["dependencies"] == tomllib.loads(text)["project"]["dependencies"]
    with pytest.raises(ValueError, match="could not drop"):
        pub.student_pyproject(text.replace('grading = [', 'grading = [\n    '))  # an extra over two lines


# ------------------------------------------------------------------- the Colab setup cell
def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_colab_setup_cell_installs_the_tagged_helper_and_keeps_torch(published, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    # The student repository as GitHub would serve it: the published tree, committed and tagged.
    repo = _copy_tree(published.out, tmp_path / CFG.student_repository.split("/")[1])
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", CFG.term_tag)
    _git(repo, "tag", CFG.term_tag)
    commit = _git(repo, "rev-parse", "HEAD")
    gitconfig = tmp_path / "gitconfig"  # https://github.com/OWNER/ -> the local repository's folder
    owner = CFG.student_repository.split("/")[0]
    gitconfig.write_text(f'[url "file://{tmp_path}/"]\n\tinsteadOf = https://github.com/{owner}/\n')
    # A clean environment that already has torch, as Colab has: a new venv seeing .venv's packages
    # through a plain path entry (pip, setuptools, torch...; not this checkout's editable dlcourse).
    env_dir = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    target = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    (target / "colab-preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    nb = nbformat.read(repo / "lectures" / lectures(ROOT)[0].name, as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and SETUP_TAG in c.metadata.get("tags", []))
    assert "torch" not in re.search(r"\[sys\.executable, .*\]", cell).group(0), "torch must not be in the pip line"
    run_cell = ("import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
                f"exec(compile({cell!r}, 'setup-cell', 'exec'))\n"
                "import torch, dlcourse\nprint('TORCH_AT', torch.__file__)\nprint('DLCOURSE_AT', dlcourse.__file__)\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))},
           "GIT_CONFIG_GLOBAL": str(gitconfig), "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull}
    proc = subprocess.run([str(py), "-c", run_cell], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    versions = next(ln for ln in lines if ln.startswith("python "))
    from importlib.metadata import version

    want = (f"python {sys.version.split()[0]} | torch {version('torch')} | torchvision {version('torchvision')} | "
            f"torchaudio {version('torchaudio')} | dlcourse {version('dlcourse')} | ")
    assert versions.startswith(want), versions
    assert f"dlcourse from https://github.com/{CFG.student_repository}@{CFG.term_tag} ({commit[:10]})" in versions
    torch_at = next(ln for ln in lines if ln.startswith("TORCH_AT")).split(" ", 1)[1]
    assert torch_at.startswith(sysconfig.get_paths()["purelib"]), f"torch was reinstalled: {torch_at}"
    assert not list(target.glob("torch*")), f"torch was reinstalled into the clean venv: {list(target.glob('torch*'))}"
    assert next(ln for ln in lines if ln.startswith("DLCOURSE_AT")).split(" ", 1)[1].startswith(str(target))
    # every module of the published helper imports (none needs the unpublished grading/course)
    walk = ("import pkgutil, importlib, dlcourse\nbad = []\n"
            "for m in pkgutil.walk_packages(dlcourse.__path__, 'dlcourse.'):\n"
            "    try:\n        importlib.import_module(m.name)\n"
            "    except Exception as e:\n        bad.append(f'{m.name}: {type(e).__name__}: {e}')\n"
            "print(json.dumps(bad))\n")
    proc = subprocess.run([str(py), "-c", "import json\n" + walk], capture_output=True, text=True, cwd=tmp_path,
                          env={**env, "MPLBACKEND": "Agg"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == [], proc.stdout[-3000:]
