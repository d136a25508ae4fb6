"""Every notebook opens the course's way, reads the FAST switch and is committed without outputs."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from dlcourse.course import conventions as nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for d in ("lectures", "solutions", "assignments") for p in (ROOT / d).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def _id(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_there_are_notebooks():
    assert any(p.parts[-2] == "lectures" for p in NOTEBOOKS), "no lecture notebooks found in lectures/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_conventions(path):
    problems = nbtools.check(path, ROOT)
    assert not problems, f"{_id(path)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_colab_badge_points_to_an_existing_notebook(path):
    repo, branch = nbtools.course_settings(ROOT)
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    m = re.search(rf"colab\.research\.google\.com/github/{re.escape(repo)}/blob/{re.escape(branch)}/([^)]+)\)", first)
    assert m, f"{_id(path)}: badge does not point to {repo}@{branch}: {first}"
    target = ROOT / m.group(1)
    assert target.is_file(), f"{_id(path)}: the badge opens {m.group(1)}, which is not in the repository"


def test_lectures_are_numbered_and_unique():
    names = [p.name for p in sorted((ROOT / "lectures").glob("*.ipynb"))]
    nums = [n.split("_")[0] for n in names]
    assert all(re.fullmatch(r"\d\d", n) for n in nums), f"lecture files must start with a two-digit number: {names}"
    assert len(set(nums)) == len(nums), f"two lectures share a number: {names}"


def test_check_flags_a_broken_notebook(tmp_path):
    (tmp_path / "course.toml").write_text('[course]\nrepository = "o/r"\nbranch = "main"\n')
    (tmp_path / "lectures").mkdir()
    nb_path = tmp_path / "lectures" / "01_x.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from os import *\nprint(1)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(nb, nb_path)
    problems = nbtools.check(nb_path, tmp_path)
    text = "\n".join(problems)
    for needle in ("Colab badge", "setup cell", "FAST switch", "star import", "outputs"):
        assert needle in text, f"check() did not report {needle!r}: {problems}"
    # stamping fixes the badge, the setup cell and the outputs (not the star import / FAST switch)
    assert nbtools.stamp(nb_path, tmp_path)
    left = "\n".join(nbtools.check(nb_path, tmp_path))
    assert "badge" not in left and "setup cell" not in left and "outputs" not in left
    assert "star import" in left and "FAST switch" in left
    assert not nbtools.stamp(nb_path, tmp_path), "stamping twice must change nothing"


def test_solution_badges_open_the_student_release(tmp_path):
    (tmp_path / "course.toml").write_text('[course]\nrepository = "o/r"\nbranch = "dev"\n')
    assert nbtools.badge_target(tmp_path / "solutions" / "a1" / "a1.ipynb", tmp_path) == "assignments/a1/a1.ipynb"
    src = nbtools.setup_cell_source("o/r", "dev")
    assert "git+https://github.com/o/r@dev#subdirectory=shared" in src and "google.colab" in src
