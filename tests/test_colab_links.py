"""Colab links open what they promise, on the repository and branch named in course.toml.

``tests/test_notebook_conventions.py`` already checks that each notebook's first line is the
badge ``nbtools`` writes, that its target file exists in the working tree, and that the setup
cell is the course's. This file adds what a student clicking a link would hit:

* every Colab URL anywhere (any markdown cell of any notebook, README.md, CONTRIBUTING.md,
  docs/*.md) points to ``<repository>/blob/<branch>/`` of course.toml and to an ``.ipynb``
  that exists;
* a notebook's badge opens that notebook itself (a solution's badge: its student release),
  not some other file that happens to exist;
* the path exists *on the configured branch* in git (Colab reads GitHub, not the working tree);
* the Colab setup cell, read from the notebook, installs ``dlcourse`` from the same repository
  and branch as its badge, from a subdirectory whose pyproject names the package ``dlcourse``,
  and only when running on Colab;
* course.toml's repository is the GitHub remote of this checkout, when it has one.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

from dlcourse.course import conventions as nbtools

ROOT = Path(__file__).resolve().parents[1]
REPO, BRANCH = nbtools.course_settings(ROOT)
NOTEBOOKS = sorted(
    p for d in ("lectures", "solutions", "assignments") for p in (ROOT / d).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
DOCS = [p for p in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
        if p.is_file()]
# Colab URLs that open something (the badge image under /assets/ is not a link target).
COLAB_URL = re.compile(r"https?://colab\.research\.google\.com/(?!assets/)[^\s)\"'>\]]+")
GITHUB_URL = re.compile(r"^https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([^/]+)/(.+)$")
INSTALL_SPEC = re.compile(r"git\+https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?@([^#\s\"']+)#subdirectory=([\w./-]+)")


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _links() -> list[tuple[str, str]]:
    """(where, url) for every Colab URL in notebooks' markdown and in the docs."""
    out = []
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                out += [(f"{_rel(nb_path)} cell {i}", u) for u in COLAB_URL.findall(cell.source)]
    for doc in DOCS:
        out += [(_rel(doc), u) for u in COLAB_URL.findall(doc.read_text())]
    return out


LINKS = _links()


def _check_url(url: str) -> str:
    """The repository path a Colab URL opens; raise AssertionError if it is not the course's."""
    m = GITHUB_URL.match(url)
    assert m, f"{url} is not a Colab link to a GitHub notebook (colab.research.google.com/github/OWNER/REPO/blob/BRANCH/PATH)"
    repo, branch, path = m.groups()
    assert repo == REPO and branch == BRANCH, (
        f"{url} opens {repo}@{branch}, but course.toml names {REPO}@{BRANCH} (run nbtools stamp)")
    assert " " not in path and path == path.strip(), f"{url}: the path must be URL-encoded"
    path = unquote(path.split("#")[0].split("?")[0])
    assert path.endswith(".ipynb"), f"{url} does not open a notebook"
    assert (ROOT / path).is_file(), f"{url} opens {path}, which is not in the repository"
    return path


def test_there_are_links_to_check():
    assert len(LINKS) >= len(NOTEBOOKS) >= 1, "every notebook carries a Colab badge"


@pytest.mark.parametrize("where,url", LINKS, ids=[f"{w}" for w, _ in LINKS])
def test_every_colab_link_opens_a_course_notebook(where, url):
    try:
        _check_url(url)
    except AssertionError as e:
        raise AssertionError(f"{where}: {e}") from None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_badge_opens_this_notebook_and_setup_installs_from_the_same_repository(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source.splitlines()[0] if nb.cells and nb.cells[0].source else ""
    urls = COLAB_URL.findall(first)
    assert len(urls) == 1, f"{_rel(path)}: the first line must hold one Colab badge, found {urls}"
    target = _check_url(urls[0])
    own = nbtools.badge_target(path, ROOT)
    assert target == own, f"{_rel(path)}: its badge opens {target}, not {own}"

    badge_repo, badge_branch = GITHUB_URL.match(urls[0]).group(1, 2)
    setup = [c for c in nb.cells if c.cell_type == "code" and nbtools.SETUP_TAG in c.metadata.get("tags", [])]
    assert len(setup) == 1, f"{_rel(path)}: expected one code cell tagged {nbtools.SETUP_TAG!r}, found {len(setup)}"
    src = setup[0].source
    specs = INSTALL_SPEC.findall(src)
    assert len(specs) == 1, f"{_rel(path)}: the setup cell must pip-install one git+https://github.com/... spec: {src}"
    repo, branch, subdir = specs[0]
    assert (repo, branch) == (badge_repo, badge_branch), (
        f"{_rel(path)}: the badge opens {badge_repo}@{badge_branch} but the setup cell installs from {repo}@{branch}")
    pyproject = ROOT / subdir / "pyproject.toml"
    assert pyproject.is_file(), f"{_rel(path)}: the setup cell installs #subdirectory={subdir}, which has no pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["name"] == "dlcourse", (
        f"{_rel(path)}: {subdir}/pyproject.toml does not build the package `dlcourse` the notebooks import")
    assert re.search(r"""if\s+["']google\.colab["']\s+in\s+sys\.modules\s*:""", src), (
        f"{_rel(path)}: the setup cell must install only on Colab (if \"google.colab\" in sys.modules:)")
    assert "pip" in src and "install" in src


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def _branch_ref() -> str:
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout: cannot check what the branch holds")
    for ref in (f"refs/heads/{BRANCH}", f"refs/remotes/origin/{BRANCH}"):
        if _git("rev-parse", "--verify", "--quiet", ref).returncode == 0:
            return ref
    pytest.skip(f"the branch {BRANCH!r} of course.toml is not in this clone (neither local nor origin/)")


def test_badge_targets_are_committed_on_the_configured_branch():
    """Colab opens the file from GitHub: it must be committed on the branch the badges name."""
    ref = _branch_ref()
    tracked = set(_git("ls-tree", "-r", "--name-only", ref).stdout.splitlines())
    targets = sorted({nbtools.badge_target(p, ROOT) for p in NOTEBOOKS}
                     | {_check_url(u) for _, u in LINKS})
    missing = [t for t in targets if t not in tracked]
    assert not missing, (f"Colab links open notebooks that are not committed on {BRANCH!r} ({ref}): "
                         f"{missing}: commit them (make release for assignments/)")
    assert "shared/pyproject.toml" in tracked, f"the Colab setup installs shared/ from {BRANCH!r}, which lacks it"


def test_course_toml_names_this_checkouts_github_repository():
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    remotes = _git("remote", "-v").stdout
    github = sorted(set(re.findall(r"github\.com[:/]([\w.-]+/[\w.-]+?)(?:\.git)?\s", remotes)))
    if not github:
        pytest.skip("this checkout has no GitHub remote to compare course.toml with")
    assert REPO in github, (f"course.toml names {REPO}, but this checkout's GitHub remotes are {github}: "
                            "a fork must update course.toml (then nbtools stamp the notebooks)")


def test_the_checks_catch_wrong_links():
    """The URL check rejects another repository, another branch, a missing file and a non-notebook."""
    good = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/"
    existing = nbtools.badge_target(NOTEBOOKS[0], ROOT) if NOTEBOOKS else "README.md"
    bad = [
        good.replace(REPO, "someone/else") + existing,
        good.replace(f"/blob/{BRANCH}/", "/blob/not-the-branch/") + existing,
        good + "lectures/99_does_not_exist.ipynb",
        good + "README.md",
        "https://colab.research.google.com/drive/1abc",
    ]
    for url in bad:
        with pytest.raises(AssertionError):
            _check_url(url)
    if NOTEBOOKS:
        assert _check_url(good + existing) == existing
