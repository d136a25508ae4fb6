"""``autograde --scheduler``: a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

The fixture course's g1_basics is graded (FAST, a few seconds a notebook). Checked: results and
the gradebook equal what the submissions earn; a worker killed mid-task loses nothing and grades
nobody twice; a worker without a sandbox refuses (nothing recorded, the CLI says why and exits
1); a scheduler that goes away stops the batch with what arrived recorded, and a rerun grades
only the rest.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from dlcourse.grading import cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "tests" / "fixtures" / "grading_course"
AID = "g1_basics"
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.xdist_group("cluster"),
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is needed for sandboxed grading")]


class Cluster:
    """A scheduler and workers started as the Dask docs say, killed at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.file = tmp / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        p = subprocess.Popen([str(BIN / "dask"), *args], stdout=log, stderr=log, start_new_session=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
        self.procs[name] = p
        return p

    def scheduler(self) -> None:
        self.file.unlink(missing_ok=True)
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.file)])
        _wait(lambda: self.file.is_file(), 60, "the scheduler did not write its file")

    def worker(self, name: str, env: dict | None = None) -> subprocess.Popen:
        # --no-nanny: the process killed below is the worker itself (a nanny would restart it)
        return self._start(name, ["worker", "--scheduler-file", str(self.file), "--nthreads", "1", "--no-nanny",
                                  "--no-dashboard", "--name", name], env)

    def wait_workers(self, n: int) -> None:
        from distributed import Client

        with Client(scheduler_file=str(self.file), timeout=30) as c:
            c.wait_for_workers(n, timeout=90)

    def kill(self, name: str) -> None:
        p = self.procs.pop(name)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait(timeout=30)

    def close(self) -> None:
        for name in list(self.procs):
            self.kill(name)


def _wait(pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(what)
        time.sleep(0.2)


@pytest.fixture()
def dask_cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def _submissions(tmp: Path, wrong: set[str], n: int) -> tuple[Path, list[str]]:
    """``n`` students handing in the reference solution; those in ``wrong`` subtract in ``add``."""
    subs = tmp / "submitted"
    students = [f"s{i}" for i in range(1, n + 1)]
    for s in students:
        shutil.copytree(COURSE / "solutions" / AID, subs / s / AID)
        if s in wrong:
            p = subs / s / AID / f"{AID}.ipynb"
            nb = json.loads(p.read_text())
            for c in nb["cells"]:
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ex1_add":
                    c["source"] = "def add(a, b):\n    return a - b\n"
            p.write_text(json.dumps(nb))
    return subs, students


def _autograde(subs: Path, out: Path, sched: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dlcourse.grading", "--course", str(COURSE), "autograde",
                             "--assignment", AID, "--submissions", str(subs), "--out", str(out), "--scheduler",
                             str(sched), "--fast"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _grades(out: Path) -> dict[str, float]:
    from dlcourse.grading.autograde import csv_path

    with csv_path(out, AID).open() as fh:
        return {r["student_id"]: float(r["auto_score"]) for r in csv.DictReader(fh)}


def _gradebook_submissions(out: Path) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        return sorted(s.student.id for s in gb.find_assignment(AID).submissions)


def test_bundle_carries_files_and_refuses_links(tmp_path):
    """A task carries its notebooks as bytes (no shared file system); links are never read."""
    src = COURSE / "solutions" / AID / f"{AID}.ipynb"
    job = {"student": "s1", "assignment": AID, "notebooks": [{"name": AID, "source": str(src), "release": str(src),
                                                              "submitted": str(src)}],
           "home_files": {}, "autograded_dir": "/x", "feedback_dir": "/y", "result": "/z", "work_root": "/w"}
    b = cluster.bundle_job(job)
    assert set(b["files"]) == {"nb0/source.ipynb", "nb0/release.ipynb", "nb0/submitted.ipynb"}
    assert "autograded_dir" not in b["job"] and b["job"]["notebooks"][0]["submitted"] == "nb0/submitted.ipynb"
    d1 = cluster.job_digest(b)
    job["notebooks"][0]["submitted"] = str(COURSE / "assignments" / AID / f"{AID}.ipynb")
    assert cluster.job_digest(cluster.bundle_job(job)) != d1, "a changed submission must be graded again"
    (tmp_path / "link.ipynb").symlink_to(src)
    job["notebooks"][0]["submitted"] = str(tmp_path / "link.ipynb")
    with pytest.raises(ValueError, match="not a regular file"):
        cluster.bundle_job(job)
    with pytest.raises(ValueError, match="outside its folders"):
        cluster._write_files({"../../etc/x": ""}, {"autograded_dir": str(tmp_path / "a"),
                                                   "feedback_dir": str(tmp_path / "f")})


def test_unreachable_scheduler_fails_fast_with_the_address(tmp_path):
    t = time.monotonic()
    with pytest.raises(cluster.ClusterLost, match="127.0.0.1:9"):
        cluster.connect("tcp://127.0.0.1:9", timeout=3)
    assert time.monotonic() - t < 30


def test_batch_on_two_workers_and_a_killed_worker(dask_cluster, tmp_path):
    """Six submissions on two workers; one worker is SIGKILLed while it grades: all six are graded once."""
    dask_cluster.scheduler()
    victim = dask_cluster.worker("w1")
    dask_cluster.worker("w2")
    dask_cluster.wait_workers(2)
    subs, students = _submissions(tmp_path, wrong={"s2", "s5"}, n=6)
    out = tmp_path / "out"
    proc = _autograde(subs, out, dask_cluster.file)

    from distributed import Client

    with Client(scheduler_file=str(dask_cluster.file), timeout=30) as c:
        def busy() -> bool:
            info = c.processing()
            return any(keys for addr, keys in info.items()
                       if c.scheduler_info(n_workers=-1)["workers"].get(addr, {}).get("name") == "w1")
        _wait(busy, 120, "worker w1 never got a task")
        time.sleep(1.5)  # the task is inside the grading job now
        dask_cluster.kill("w1")
    stdout, _ = proc.communicate(timeout=600)
    assert victim.returncode is not None
    assert proc.returncode == 0, stdout
    assert _grades(out) == {s: (2.0 if s in {"s2", "s5"} else 5.0) for s in students}, stdout
    assert _gradebook_submissions(out) == students, "every submission is in the gradebook exactly once"
    assert sorted(p.stem for p in (out / "cluster-journal").glob("*.json")) == students
    for s in students:
        assert len(list(out.glob(f"feedback*/{s}/{AID}/{AID}.html"))) == 1, f"no feedback page for {s}"
        assert (out / "autograded" / s / AID / f"{AID}.ipynb").is_file()


def test_worker_without_sandbox_refuses(dask_cluster, tmp_path):
    dask_cluster.scheduler()
    # bubblewrap is not on this worker's PATH: its sandbox probe fails
    dask_cluster.worker("nobwrap", env={"PATH": str(BIN)})
    dask_cluster.wait_workers(1)
    subs, _ = _submissions(tmp_path, wrong=set(), n=1)
    out = tmp_path / "out"
    proc = _autograde(subs, out, dask_cluster.file)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, stdout
    assert "NOT GRADED" in stdout and "has no working sandbox" in stdout and "bubblewrap" in stdout, stdout
    assert _gradebook_submissions(out) == [], "a refused task records nothing"
    assert not (out / "cluster-journal").exists() or not any((out / "cluster-journal").iterdir())


def test_scheduler_lost_then_rerun_grades_only_the_rest(dask_cluster, tmp_path):
    dask_cluster.scheduler()
    dask_cluster.worker("w1")
    dask_cluster.wait_workers(1)
    subs, students = _submissions(tmp_path, wrong=set(), n=4)
    out = tmp_path / "out"
    proc = _autograde(subs, out, dask_cluster.file)
    journal = out / "cluster-journal"
    _wait(lambda: journal.is_dir() and any(journal.glob("*.json")), 300, "no result arrived")
    dask_cluster.kill("scheduler")
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 3, stdout
    assert "run the same command again" in stdout, stdout
    done = sorted(p.stem for p in journal.glob("*.json"))
    assert 1 <= len(done) < 4, (done, stdout)
    assert _gradebook_submissions(out) == done, "what arrived is recorded"
    dask_cluster.kill("w1")

    dask_cluster.scheduler()
    dask_cluster.worker("w2")
    dask_cluster.wait_workers(1)
    proc = _autograde(subs, out, dask_cluster.file)
    stdout, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, stdout
    assert f"submitted {4 - len(done)} task(s)" in stdout, stdout
    assert stdout.count("(recorded earlier)") == len(done), stdout
    assert _gradebook_submissions(out) == students
    assert _grades(out) == {s: 5.0 for s in students}
