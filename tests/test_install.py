"""`pip install ./shared` into a clean virtual environment that already has torch (as on Colab
or a hub image), without the lock: the loose ranges are met, nothing is downloaded, and the
installed copy (not this checkout's editable one) works."""
from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pip_install_shared_into_a_clean_venv_with_torch(tmp_path):
    env_dir = tmp_path / "clean"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    target = Path(subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # "already has torch": this environment's packages are visible on the new one's path (a plain
    # path entry: the editable dlcourse finder of this checkout is not loaded through it).
    (target / "preinstalled.pth").write_text(site.getsitepackages()[0] + "\n")
    probe = subprocess.run([str(py), "-c", "import importlib.util as u, torch; print(u.find_spec('dlcourse'))"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode == 0 and probe.stdout.strip() == "None", probe.stdout + probe.stderr
    # a copy of shared/: building writes build/ and *.egg-info next to the sources
    src = shutil.copytree(ROOT / "shared", tmp_path / "shared",
                          ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    # --no-index: every dependency must already be satisfied (nothing from the lock, no download)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-index",
                          "--no-build-isolation", "--quiet", str(src)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    code = ("import dlcourse, dlcourse.training, dlcourse.audio, dlcourse.grading, dlcourse.viz; "
            "from dlcourse import device; print(dlcourse.__file__); print(device.pick_device(verbose=False))")
    run = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target / "dlcourse")), run.stdout
    assert (env_dir / "bin" / "dlcourse-grade").exists()
