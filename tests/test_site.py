"""The course website and the student repository (issue #14).

* the FAST site builds from the jupyter-cache that tests/test_notebooks.py fills (same xdist group,
  run after it: no lecture is executed twice in CI), has a page per lecture with outputs and a page
  per assignment (the student release), navigation in lecture order, search, downloadable
  notebooks, 0 broken internal links or images, and launch links at the student repository's tag;
* ``publish`` writes a student tree the leak check passes, and the check fails on every kind of
  hidden thing put into it;
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


@pytest.fixture(scope="module")
def fast_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "en"
    res = site.build(ROOT, mode="fast", out=out, fresh=True)
    print(f"FAST site: {res.seconds:.1f} s, {len(res.pages)} pages, {res.executed} executed, {res.cached} from the cache")
    return res


def test_fast_site_has_every_page_and_no_broken_link(fast_site):
    chk = site.check_site(fast_site.out, ROOT, fast_site.pages)
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
    with pytest.raises(ValueError, match="no 'es' edition"):
        site.site_paths(ROOT, language="es")
    with pytest.raises(ValueError, match="mode must be"):
        site.site_paths(ROOT, mode="quick")


# ---------------------------------------------------------------------------------- publish
@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "cnn-course"
    return pub.publish(ROOT, out, site_mode="fast")


def test_publish_writes_a_clean_student_tree(published):
    out = published.out
    assert not published.errors, "\n".join(published.errors[:20])
    files = set(published.files)
    for nb in lectures(ROOT):
        assert f"lectures/{nb.name}" in files
    for aid in assignments(ROOT):
        assert f"assignments/{aid}/{aid}.ipynb" in files
    assert "shared/pyproject.toml" in files and "shared/dlcourse/__init__.py" in files
    assert "site/en/index.html" in files and "site/index.html" in files
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
    }
    assert not leaked(lambda t: None), "the unchanged copy must pass"
    for name, edit in cases.items():
        assert leaked(edit), f"the check missed: {name}"


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
