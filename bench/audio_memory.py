"""Peak memory of a training epoch: the on-disk cache against an in-RAM pipeline, at 1x and 10x data.

    python bench/audio_memory.py [--base 1000] [--scale 10] [--variants 3] [--work DIR]

Uses the generated spoken-word set (no download): ``base * scale`` clips are written once, and
the first ``base`` of them form the 1x data set. For each data set a cache with ``--variants``
augmented variants per clip is built. Then four fresh processes (so that each peak is its own)
run one training epoch of a small CNN over every clip, with a random variant per clip:

* ``cache``: items read lazily from the memory-mapped cache (:class:`VariantDataset` on the file);
* ``ram``: every variant of every clip held in RAM as float32 (what a pipeline without the cache
  keeps), loaded from the same cache so that both train on identical numbers.

Each process reports its peak resident set size (``VmHWM`` on Linux; ``resource.getrusage``'s
``ru_maxrss`` elsewhere: on Linux it survives ``exec`` and would show the parent's size) and
its RSS before the data was touched (psutil). Prints the peaks and the growth from 1x to 10x
(target for the cache: at most +10 %), and one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mib() -> float:
    """Peak RSS of this process. Linux: ``VmHWM`` of /proc/self/status, because ``ru_maxrss``
    survives ``exec`` and would report the (larger) parent's RSS at ``fork`` time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024


def worker(mode: str, cache_path: str, threads: int) -> dict:
    """One training epoch over the cache at ``cache_path`` (``mode``: ``cache`` or ``ram``)."""
    import torch

    from dlcourse import training
    from dlcourse.audio import cache as C
    from dlcourse.audio import models

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = C.FeatureCache.open(cache_path)
    model = models.AudioCNN(len(c.class_names), c.shape[2], channels=(4, 8), band_mean=c.band_mean,
                            band_std=c.band_std)
    before = _rss_mib()
    if mode == "cache":
        ds = c.dataset()
    else:
        arr = np.empty(c.shape, np.float32)
        step = 256
        for s in range(0, c.shape[0], step):  # a fresh map per chunk: only the float32 copy stays
            mm = c.memmap()
            arr[s:s + step] = mm[s:s + step]
            del mm
        ds = C.VariantDataset(arr, None, c.labels)
    loader = C.make_loader(ds, batch_size=64, seed=0)
    t = time.perf_counter()
    hist = training.fit(model, loader, epochs=1, progress=False)
    return {"mode": mode, "clips": c.shape[0], "variants": c.shape[1], "rss_before_data_mib": before,
            "peak_rss_mib": _peak_rss_mib(),
            "epoch_seconds": time.perf_counter() - t, "train_loss": hist.last["train_loss"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=int, default=1000, help="clips in the 1x data set (a multiple of 10)")
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="folder for the generated set and caches (default: temp)")
    ap.add_argument("--worker", nargs=2, metavar=("MODE", "CACHE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.threads)))
        return 0
    if args.base % 10:
        raise SystemExit("--base must be a multiple of 10 (ten words)")

    from dlcourse.audio import augment, cache, datasets

    with tempfile.TemporaryDirectory(prefix="audio-memory-bench-") as tmp:
        work = args.work or Path(tmp)
        total = args.base * args.scale
        speakers = max(2, total // 10 // 50)
        takes = total // 10 // speakers
        if speakers * takes * 10 != total:
            raise SystemExit(f"--base x --scale = {total} clips must be 10 words x speakers x takes")
        t = time.perf_counter()
        root = datasets.make_spoken_words(work / "words", n_speakers=speakers, takes=takes, seed=0)
        everything = datasets.load_generated(root, "all")
        print(f"generated {len(everything)} clips ({speakers} speakers x {takes} takes x 10 words) in "
              f"{time.perf_counter() - t:.0f} s")
        order = np.lexsort((everything.takes, np.array(everything.speakers)))
        sets = {"1x": everything.subset(order[:args.base]), f"{args.scale}x": everything}
        caches = {}
        for name, clips in sets.items():
            c = cache.build_cache(clips, work / "cache", augment=augment.AugmentConfig(), n_variants=args.variants,
                                  workers=args.threads, verbose=False)
            caches[name] = c
            print(f"{name}: {c} ({c.stats['mode']}, {c.stats['seconds']:.0f} s)")
        rows = {}
        for mode in ("cache", "ram"):
            for name, c in caches.items():
                out = subprocess.run([sys.executable, __file__, "--worker", mode, str(c.path),
                                      "--threads", str(args.threads)], capture_output=True, text=True, check=False)
                if out.returncode:
                    raise SystemExit(f"worker {mode} {name} failed:\n{out.stderr[-2000:]}")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows[(mode, name)] = r
                print(f"{mode:5s} {name:>4s}: {r['clips']:6d} clips x {r['variants']} variants, peak RSS "
                      f"{r['peak_rss_mib']:7.1f} MiB (before the data: {r['rss_before_data_mib']:.1f} MiB), "
                      f"epoch {r['epoch_seconds']:.1f} s")
        big = f"{args.scale}x"
        result = {"base_clips": args.base, "scale": args.scale, "variants": args.variants,
                  "feature_bytes_per_variant": int(np.prod(caches["1x"].shape[2:])) * 4}
        for mode in ("cache", "ram"):
            small_peak, big_peak = rows[(mode, "1x")]["peak_rss_mib"], rows[(mode, big)]["peak_rss_mib"]
            result[mode] = {"peak_rss_1x_mib": small_peak, f"peak_rss_{big}_mib": big_peak,
                            "growth": big_peak / small_peak - 1}
            print(f"{mode}: peak RSS {small_peak:.0f} MiB -> {big_peak:.0f} MiB at {args.scale}x data: "
                  f"{result[mode]['growth']:+.1%}" + (" (target <= +10 %)" if mode == "cache" else ""))
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
