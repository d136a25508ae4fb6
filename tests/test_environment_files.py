"""The environment files agree: lock, environment.yml, the package's loose ranges, CI and README."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, ver = line.partition("==")
            assert ver, f"requirements-lock.txt: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = ver
    return pins


def test_lock_pins_the_versions_known_to_work():
    lock = _lock()
    assert lock["torch"] == "2.14.1" and lock["torchvision"] == "0.29.1" and lock["torchaudio"] == "2.11.0"
    assert lock["jupyterlab"].startswith("4.6.") and lock["notebook"].startswith("7.6.")
    assert lock["nbgrader"] == "0.9.6"
    for pkg in ("matplotlib", "scikit-learn", "ipywidgets", "soundfile", "tqdm", "nbclient", "pytest", "captum"):
        assert pkg in lock, f"{pkg} is missing from requirements-lock.txt"


def test_environment_yml_pins_the_same_versions():
    lock = _lock()
    pins = re.findall(r"^\s*-\s*([A-Za-z0-9_.-]+)==([^\s#]+)", (ROOT / "environment.yml").read_text(), re.M)
    assert len(pins) >= 10
    for name, ver in pins:
        key = name.lower().replace("_", "-")
        assert lock.get(key) == ver, f"environment.yml pins {name}=={ver} but the lock has {lock.get(key)}"
    # conda's Python: 3.11 to 3.13 (Colab's default is 3.13), as `make venv` accepts
    assert re.search(r"^\s*-\s*python>=3\.11,<3\.14\b", (ROOT / "environment.yml").read_text(), re.M)


def test_package_ranges_are_loose_and_admit_the_lock():
    meta = tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text())["project"]
    lock = _lock()
    assert meta["name"] == "dlcourse"
    for dep in meta["dependencies"]:
        req = Requirement(dep)
        assert "==" not in str(req.specifier), f"{dep}: the package must not pin exactly (Colab brings its own torch)"
        key = req.name.lower()
        assert key in lock, f"{dep} is not in the lock"
        assert req.specifier.contains(Version(lock[key]), prereleases=True), f"{dep} excludes the locked {lock[key]}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.strip().startswith(("#", "set ", "cd "))]
    assert commands == ["make test"], f".ci/run must run exactly the README's test command, runs {commands}"


def test_nbgrader_config_points_at_the_course_folders():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in text and 'release_directory = "assignments"' in text
