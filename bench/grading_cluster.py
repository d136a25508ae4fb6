"""Grading on a Dask cluster vs the local worker pool, side by side on the same submissions.

In one run, on this machine:

* **local**: ``python -m dlcourse.grading autograde --workers W`` (W sandboxed worker processes);
* **cluster**: a real ``dask scheduler`` and W ``dask worker`` processes (one thread each) on
  127.0.0.1, then ``autograde --scheduler`` (one task per submission, each sandboxed on its
  worker, results recorded by the client);
* **engine overhead**: the round trip of an empty Dask task (submit → result) and the cost of
  bundling one submission into a self-contained task, each the median of many.

Both batches grade N copies of the reference solution and must give every copy full marks.
On one machine the cluster cannot be faster than the local pool (same cores); what it shows is
the price of the engine, which buys grading on many machines. Prints the load average, since
the figures move with it.

    .venv/bin/python bench/grading_cluster.py                     # a1_conv_arithmetic, 12 copies, 2 workers
    .venv/bin/python bench/grading_cluster.py --copies 20 --workers 2 --assignment a2_architectures
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _grade(course: Path, aid: str, subs: Path, out: Path, extra: list[str]) -> tuple[float, int, str]:
    cmd = [sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", "--assignment", aid,
           "--submissions", str(subs), "--out", str(out), "--fast", *extra]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"autograde failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    from dlcourse.grading.autograde import csv_path

    with csv_path(out, aid).open() as fh:
        full = sum(float(r["auto_score"]) == float(r["auto_max_score"]) > 0 for r in csv.DictReader(fh))
    return dt, full, p.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--course", type=Path, default=ROOT)
    ap.add_argument("--assignment", default="a1_conv_arithmetic")
    ap.add_argument("--copies", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probes", type=int, default=200, help="empty tasks timed for the engine's round trip")
    ap.add_argument("--data-root", type=Path, help="unused: the benchmark needs no data set")
    args = ap.parse_args(argv)
    if args.copies < 1 or args.workers < 1 or args.probes < 1:
        ap.error("--copies, --workers and --probes must be positive")
    if shutil.which("bwrap") is None:
        raise SystemExit("bubblewrap is needed (tools/sysdeps.sh): both paths grade sandboxed")
    course, aid = args.course.resolve(), args.assignment
    print(f"{aid}: {args.copies} copies of the reference solution, FAST mode, {args.workers} worker(s), "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} before")
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-cluster-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "submitted"
        for i in range(1, args.copies + 1):
            shutil.copytree(course / "solutions" / aid, subs / f"s{i:02d}" / aid)
        try:
            t_local, full_local, _ = _grade(course, aid, subs, tmp / "local", ["--workers", str(args.workers)])
            load_local = os.getloadavg()[0]

            sched = tmp / "scheduler.json"
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            log = (tmp / "dask.log").open("ab")
            procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                           "--no-dashboard", "--scheduler-file", str(sched)], stdout=log,
                                          stderr=log, env=env, start_new_session=True))
            for i in range(args.workers):
                procs.append(subprocess.Popen([str(BIN / "dask"), "worker", "--scheduler-file", str(sched),
                                               "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                                              stdout=log, stderr=log, env=env, start_new_session=True))
            t0 = time.monotonic()
            while not sched.is_file():
                if time.monotonic() - t0 > 60:
                    raise SystemExit("the Dask scheduler did not start")
                time.sleep(0.2)
            from distributed import Client

            from dlcourse.grading import cluster

            with Client(scheduler_file=str(sched), timeout=30) as c:
                c.wait_for_workers(args.workers, timeout=120)
                c.submit(int, 0, pure=False).result()  # warm the connections
                rtts = []
                for i in range(args.probes):
                    t = time.perf_counter()
                    c.submit(int, i, pure=False).result()
                    rtts.append(time.perf_counter() - t)
            job = {"student": "s01", "assignment": aid, "notebooks": [
                {"name": aid, "source": str(course / "solutions" / aid / f"{aid}.ipynb"),
                 "release": str(course / "assignments" / aid / f"{aid}.ipynb"),
                 "submitted": str(subs / "s01" / aid / f"{aid}.ipynb")}], "home_files": {}}
            bundles = []
            for _ in range(20):
                t = time.perf_counter()
                b = cluster.bundle_job(job)
                cluster.job_digest(b)
                bundles.append(time.perf_counter() - t)
            size = len(json.dumps(cluster.bundle_job(job)))

            t_cluster, full_cluster, _ = _grade(course, aid, subs, tmp / "cluster", ["--scheduler", str(sched)])
            load_cluster = os.getloadavg()[0]
        finally:
            for p in procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()

    n = args.copies
    print(f"{'':44s} {'total s':>8s} {'s/submission':>13s} {'full marks':>11s} {'load after':>10s}")
    print(f"{'local autograde --workers ' + str(args.workers):44s} {t_local:8.1f} {t_local / n:13.2f} "
          f"{full_local:>6d}/{n} {load_local:10.1f}")
    print(f"{f'Dask cluster, {args.workers} workers on 127.0.0.1':44s} {t_cluster:8.1f} {t_cluster / n:13.2f} "
          f"{full_cluster:>6d}/{n} {load_cluster:10.1f}")
    print(f"throughput ratio (local time / cluster time): {t_local / t_cluster:.2f}x")
    print(f"engine round trip of an empty task: median {statistics.median(rtts) * 1000:.1f} ms "
          f"(p90 {sorted(rtts)[int(0.9 * len(rtts))] * 1000:.1f} ms, {len(rtts)} tasks)")
    print(f"bundling one submission into a task: median {statistics.median(bundles) * 1000:.1f} ms, "
          f"{size / 1024:.0f} KiB sent per task")
    print(f"cluster minus local, per submission: {(t_cluster - t_local) / n:+.2f} s")
    return 0 if full_local == n and full_cluster == n else 1


if __name__ == "__main__":
    sys.exit(main())
