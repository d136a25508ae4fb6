"""Notebook conventions of the course: Colab badge, Colab-only setup cell, stripped outputs.

Every lecture and assignment notebook opens the same way (DESIGN.md rule 2):

1. a markdown cell whose first line is an "Open in Colab" badge built from the repository
   and branch configured in ``course.toml`` at the repository root;
2. a code cell (tagged ``colab-setup``) that installs ``dlcourse`` only when running on Colab;
3. a code cell with the imports, paths, seed, device and FAST switch.

``python -m dlcourse.course stamp NOTEBOOK...`` writes (1) and (2); ``check`` reports every
violation; ``strip`` removes outputs. Solution notebooks get the badge of their student
release (``solutions/A/x.ipynb`` -> ``assignments/A/x.ipynb``): nbgrader copies that cell.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "SETUP_TAG",
    "CourseConfig",
    "course_config",
    "course_settings",
    "badge_url",
    "setup_cell_matches",
    "find_course_root",
    "assignments",
    "lectures",
    "badge_target",
    "badge_markdown",
    "setup_cell_source",
    "stamp",
    "check",
    "strip_outputs",
    "output_problems",
    "QUESTION_RE",
    "count_questions",
    "count_figures",
]

SETUP_TAG = "colab-setup"
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
_BADGE_RE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
# A "check yourself" question's answer: an HTML <details> block with a <summary>, hidden until opened.
QUESTION_RE = re.compile(r"<details>\s*<summary>.*?</summary>.*?</details>", re.DOTALL | re.IGNORECASE)
_STAR_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.M)


def find_course_root(start: Path | str) -> Path:
    """Walk up from ``start`` to the folder that holds ``course.toml``.

    Args:
        start: a file or folder inside the course.

    Returns:
        The course root.

    Raises:
        FileNotFoundError: no ``course.toml`` in ``start`` or any folder above it.
    """
    p = Path(start).resolve()
    for cand in [p, *p.parents]:
        if (cand / "course.toml").is_file():
            return cand
    raise FileNotFoundError(f"no course.toml found in {p} or any parent folder")


def assignments(root: Path | str) -> list[str]:
    """Assignment ids of course ``root``: the folders of ``solutions/`` that hold a notebook."""
    sol = Path(root) / "solutions"
    return sorted(p.name for p in sol.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if sol.is_dir() else []


def lectures(root: Path | str) -> list[Path]:
    """Lecture notebooks of course ``root`` (``lectures/*.ipynb``), in lecture order."""
    return sorted((Path(root) / "lectures").glob("*.ipynb"))


@dataclass(frozen=True)
class CourseConfig:
    """The ``[course]`` table of ``course.toml``: two repositories, one source.

    Attributes:
        title: the course's name (the site's title).
        student_repository: ``owner/name`` of the public student repository on GitHub; every Colab
            badge, setup cell and nbgitpuller link points at it.
        term_tag: the git tag of this term in the student repository (badges, setup cells and
            launch links never follow a moving branch).
        instructor_repository: ``owner/name`` of the private repository with solutions and hidden
            tests ("" when the course names none).
        hub_url: the course JupyterHub's address ("" when there is none): nbgitpuller links go there.
    """

    title: str
    student_repository: str
    term_tag: str
    instructor_repository: str = ""
    hub_url: str = ""


_REPO_RE = re.compile(r"[\w.-]+/[\w.-]+")
_REF_RE = re.compile(r"[\w][\w.+/-]*")


def course_config(root: Path | str) -> CourseConfig:
    """Read ``root/course.toml``'s ``[course]`` table.

    An older one-repository course.toml (``repository`` and ``branch``) is read as a course whose
    student repository is that repository at that ref.

    Args:
        root: the course root (the folder holding ``course.toml``).

    Returns:
        The course's :class:`CourseConfig`.

    Raises:
        ValueError: a missing key, a repository that is not ``owner/name``, a tag that is not a git
            ref name, or a hub URL that is not http(s).
    """
    data = tomllib.loads((Path(root) / "course.toml").read_text())
    course = data.get("course", {})
    repo = course.get("student_repository", course.get("repository"))
    ref = course.get("term_tag", course.get("branch"))
    if not repo or not ref:
        raise ValueError("course.toml needs [course] student_repository (owner/name on GitHub) and term_tag "
                         f"(the term's git tag); found keys {sorted(course)}")
    for key in ("student_repository", "instructor_repository"):
        value = course.get(key, repo if key == "student_repository" else "")
        if value and not _REPO_RE.fullmatch(value):
            raise ValueError(f"course.toml {key} must be 'owner/name', got {value!r}")
    if not _REF_RE.fullmatch(ref) or ".." in ref or ref.endswith((".", "/", ".lock")):
        raise ValueError(f"course.toml term_tag must be a git tag name (letters, digits, . _ - /), got {ref!r}")
    hub = course.get("hub_url", "")
    if hub and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", hub):
        raise ValueError(f"course.toml hub_url must be the hub's http(s) address, got {hub!r}")
    return CourseConfig(title=course.get("title", "Course"), student_repository=repo, term_tag=ref,
                        instructor_repository=course.get("instructor_repository", ""), hub_url=hub.rstrip("/"))


def course_settings(root: Path | str) -> tuple[str, str]:
    """Return ``(student_repository, term_tag)`` of ``root/course.toml``: what badges and setup cells name.

    Raises:
        ValueError: as :func:`course_config`.
    """
    cfg = course_config(root)
    return cfg.student_repository, cfg.term_tag


def badge_target(nb_path: Path | str, root: Path | str) -> str:
    """Repository-relative path the badge of ``nb_path`` opens (solutions map to assignments)."""
    rel = Path(nb_path).resolve().relative_to(Path(root).resolve()).as_posix()
    if rel.startswith("solutions/"):
        rel = "assignments/" + rel[len("solutions/"):]
    return rel


def badge_url(rel_path: str, repo: str, branch: str) -> str:
    """The Colab address that opens ``rel_path`` of ``repo`` at ``branch`` from GitHub.

    Args:
        rel_path: the notebook's path inside the repository, with ``/`` separators
            (e.g. ``assignments/a1_conv_arithmetic/a1_conv_arithmetic.ipynb``).
        repo: ``owner/name`` of the student repository on GitHub.
        branch: the branch or tag to open (the term's tag, ``CourseConfig.term_tag``).

    Returns:
        ``https://colab.research.google.com/github/<repo>/blob/<branch>/<rel_path>``.
    """
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{rel_path}"


def badge_markdown(rel_path: str, repo: str, branch: str) -> str:
    """The "Open In Colab" badge of a notebook, as Markdown (the first cell of every notebook).

    Args:
        rel_path: the notebook's path inside the repository (see :func:`badge_url`).
        repo: ``owner/name`` of the student repository on GitHub.
        branch: the branch or tag the badge opens (the term's tag).

    Returns:
        ``[![Open In Colab](<badge image>)](<badge_url(...)>)``.
    """
    return f"[![Open In Colab]({BADGE_IMG})]({badge_url(rel_path, repo, branch)})"


def setup_cell_source(repo: str, branch: str) -> str:
    """Source of the setup cell: on Colab it installs ``dlcourse`` from ``repo`` at ``branch`` (the term's tag).

    The install keeps the torch, torchvision and torchaudio that Colab already has (a pip constraint
    on each installed version), so nothing of torch is downloaded again; on any machine the cell
    then prints the versions it found (Python, torch, torchvision, torchaudio, dlcourse and where
    dlcourse came from).

    Args:
        repo: ``owner/name`` of the student repository on GitHub.
        branch: the git ref to install from (the term's tag).

    Returns:
        The cell's Python source.
    """
    spec = f"dlcourse @ git+https://github.com/{repo}@{branch}#subdirectory=shared"
    return (
        "# Setup: on Colab, install the course helper `dlcourse` of this term, keeping Colab's own torch;\n"
        "# on the course JupyterHub or your laptop it is already installed (see README). Prints the versions.\n"
        "import json\n"
        "import sys\n"
        "from importlib import metadata\n"
        "\n"
        "\n"
        "def _version(name):\n"
        "    try:\n"
        "        return metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        return None\n"
        "\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "    import tempfile\n"
        "\n"
        '    keep = [f"{n}=={_version(n)}" for n in ("torch", "torchvision", "torchaudio") if _version(n)]\n'
        '    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:\n'
        '        constraints.write("\\n".join(keep))  # pip must keep these: no second torch download\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "-c", constraints.name, "{spec}"],\n'
        "        check=True,\n"
        "    )\n"
        'origin = json.loads(metadata.distribution("dlcourse").read_text("direct_url.json") or "{}") if _version("dlcourse") else {}\n'
        'vcs = origin.get("vcs_info", {})\n'
        'found = [f"python {sys.version.split()[0]}"]\n'
        'found += [f"{n} {_version(n)}" for n in ("torch", "torchvision", "torchaudio", "dlcourse")]\n'
        'if vcs.get("requested_revision"):\n'
        '    found.append(f"dlcourse from {origin[\'url\']}@{vcs[\'requested_revision\']} ({vcs[\'commit_id\'][:10]})")\n'
        'print(" | ".join(found))'
    )


def _is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and SETUP_TAG in cell.get("metadata", {}).get("tags", [])


def stamp(nb_path: Path | str, root: Path | str | None = None) -> bool:
    """Write the badge line and the setup cell into ``nb_path``; return True if it changed."""
    nb_path = Path(nb_path)
    root = Path(root) if root else find_course_root(nb_path)
    repo, branch = course_settings(root)
    nb = nbformat.read(nb_path, as_version=4)
    before = nbformat.writes(nb)
    badge = badge_markdown(badge_target(nb_path, root), repo, branch)
    cells = nb.cells
    if cells and cells[0].cell_type == "markdown":
        lines = cells[0].source.splitlines()
        if lines and _BADGE_RE.match(lines[0]):
            lines[0] = badge
        else:
            lines.insert(0, badge)
            lines.insert(1, "")
        cells[0].source = "\n".join(lines)
    else:
        cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    setup_src = setup_cell_source(repo, branch)
    if len(cells) > 1 and _is_setup_cell(cells[1]):
        cells[1].source = setup_src
    else:
        cell = nbformat.v4.new_code_cell(setup_src)
        cell.metadata["tags"] = [SETUP_TAG]
        cells.insert(1, cell)
    strip_outputs_nb(nb)
    after = nbformat.writes(nb)
    if after != before:
        nbformat.write(nb, nb_path)
        return True
    return False


def strip_outputs_nb(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)


def strip_outputs(nb_path: Path | str) -> bool:
    """Remove outputs and execution counts; return True if the file changed."""
    nb = nbformat.read(nb_path, as_version=4)
    before = nbformat.writes(nb)
    strip_outputs_nb(nb)
    if nbformat.writes(nb) != before:
        nbformat.write(nb, nb_path)
        return True
    return False


def setup_cell_matches(nb, source: str, want: str) -> bool:
    """Whether a notebook's setup cell is the course's.

    A translated edition (``metadata.language`` other than English) translates the cell's comments:
    it matches when it differs from ``want`` in comments only (:func:`.i18n.comment_tokens`).

    Args:
        nb: the notebook (its ``metadata.language`` says whether it is a translated edition).
        source: the notebook's setup cell.
        want: the course's setup cell (:func:`setup_cell_source`).

    Returns:
        True when ``source`` is ``want``, or a translation of its comments only.
    """
    if source == want:
        return True
    if nb.metadata.get("language", "en") == "en":
        return False
    from .i18n import comment_tokens

    mine = comment_tokens(source)
    return mine is not None and mine == comment_tokens(want)


def check(nb_path: Path | str, root: Path | str | None = None, *, outputs: bool = True) -> list[str]:
    """The convention violations of the notebook ``nb_path`` (empty when it conforms).

    Args:
        nb_path: the notebook.
        root: the course root (default: found from ``nb_path``).
        outputs: also report a notebook committed with outputs.

    Returns:
        One message per violation, saying what to do.
    """
    nb_path = Path(nb_path)
    root = Path(root) if root else find_course_root(nb_path)
    repo, branch = course_settings(root)
    nb = nbformat.read(nb_path, as_version=4)
    problems: list[str] = []
    cells = nb.cells
    want_badge = badge_markdown(badge_target(nb_path, root), repo, branch)
    if not cells or cells[0].cell_type != "markdown":
        problems.append("first cell must be a markdown cell with the Colab badge")
    else:
        first = cells[0].source.splitlines()[0] if cells[0].source else ""
        if first != want_badge:
            problems.append(f"first line must be the Colab badge {want_badge!r}, found {first!r}")
    if len(cells) < 2 or not _is_setup_cell(cells[1]):
        problems.append(f"second cell must be the Colab setup cell tagged {SETUP_TAG!r}")
    elif not setup_cell_matches(nb, cells[1].source, setup_cell_source(repo, branch)):
        problems.append("the Colab setup cell differs from the course's (run `python -m dlcourse.course stamp`)")
    code = [c.source for c in cells if c.cell_type == "code"]
    if not any("fast_mode()" in src or "config.pick(" in src for src in code):
        problems.append("no cell reads the FAST switch (dlcourse.config.fast_mode() or config.pick)")
    for src in code:
        if _STAR_IMPORT.search(src):
            problems.append("star import found: import names explicitly")
            break
    if outputs and any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")) for c in cells):
        problems.append("committed with outputs: run `python -m dlcourse.course strip`")
    return problems


_JUNK_REPR = re.compile(r"^\[?<matplotlib\.|^\[?Text\(|^<Figure size ")


def output_problems(nb) -> list[str]:
    """Display faults in an *executed* notebook: what a student would see that the author did not mean.

    * the same image twice in one cell (a pyplot figure that is also the cell's value is drawn
      by the inline backend and again by its repr);
    * a cell whose value is the repr of a matplotlib object (``<matplotlib.legend.Legend at
      0x...>``, ``[Text(...)]``, ``<Figure size ...>``) instead of a figure: the cell should end
      with the figure or ``plt.show()``.
    """
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        seen: set[str] = set()
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            png = data.get("image/png")
            if png:
                h = hashlib.sha1("".join(png).encode()).hexdigest()
                if h in seen:
                    problems.append(f"cell {i}: the same image is shown twice (end the cell with the figure "
                                    "of a detached dlcourse.plotting.subplots, or with plt.show(), not both)")
                seen.add(h)
            text = "".join(data.get("text/plain", ""))
            if out.get("output_type") == "execute_result" and not png and _JUNK_REPR.match(text):
                problems.append(f"cell {i}: its value prints as {text[:60]!r}; end it with the figure or plt.show()")
    return problems


def count_questions(nb) -> int:
    """Number of "check yourself" answers (``<details><summary>…</summary>…</details>``) in markdown cells."""
    return sum(len(QUESTION_RE.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")


def count_figures(nb) -> int:
    """Number of images (PNG, JPEG or SVG outputs) in an executed notebook."""
    kinds = ("image/png", "image/jpeg", "image/svg+xml")
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if o.get("output_type") in ("display_data", "execute_result") and any(k in o.get("data", {}) for k in kinds))
