"""Speed of the on-disk feature cache on FSDD: cold build, warm rebuild, reading.

    python bench/audio_cache.py --data-root ../shared/data [--threads 2] [--repeats 3]

``--data-root DIR`` holds ``fsdd/recordings/``. Every clip is read with soundfile, padded or
trimmed to 1 s at 8 kHz and turned into log-mel features. Prints, each the median of
``--repeats`` runs in fresh folders:

* cold build of the base features (clean clips only), clips per second (target >= 1,500 on 2 cores);
* cold build with ``--variants`` augmented variants per clip, clips per second (for reference);
* warm rebuild time as a fraction of the cold time (target <= 10 %); it reads no audio;
* reading the cache through the training DataLoader (random variant per clip, batches of 64),
  items per second (target >= 20,000).

Ends with one JSON line. The load average is printed: on a shared machine the rates are lower.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from dlcourse.audio import augment, cache, datasets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, required=True, help="folder holding fsdd/recordings/")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--read-epochs", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; torch threads: {args.threads}")
    clips = datasets.load_fsdd(args.data_root, "all")
    n = len(clips)
    print(f"{clips}")

    cold, warm, aug = [], [], []
    read_rates = []
    for r in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="audio-cache-bench-") as tmp:
            t = time.perf_counter()
            c = cache.build_cache(clips, tmp, workers=args.threads, verbose=False)
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            w = cache.build_cache(clips, tmp, workers=args.threads, verbose=False)
            warm.append(time.perf_counter() - t)
            assert w.stats["mode"] == "warm" and w.stats["features_computed"] == 0
            t = time.perf_counter()
            ca = cache.build_cache(clips, tmp, augment=augment.AugmentConfig(), n_variants=args.variants,
                                   workers=args.threads, verbose=False)
            aug.append(time.perf_counter() - t)
            loader = cache.make_loader(ca.dataset(), batch_size=64, seed=r)
            items, t = 0, time.perf_counter()
            for _ in range(args.read_epochs):
                for x, y in loader:
                    items += len(y)
            read_rates.append(items / (time.perf_counter() - t))
            print(f"run {r + 1}: cold {cold[-1]:.2f} s ({n / cold[-1]:.0f} clips/s), warm {warm[-1] * 1000:.0f} ms, "
                  f"with {args.variants} variants {aug[-1]:.2f} s ({n / aug[-1]:.0f} clips/s), "
                  f"read {read_rates[-1]:,.0f} items/s")
    med_cold, med_warm, med_aug = statistics.median(cold), statistics.median(warm), statistics.median(aug)
    result = {
        "clips": n, "threads": args.threads,
        "cold_build_clips_per_s": n / med_cold, "cold_build_s": med_cold,
        "warm_rebuild_s": med_warm, "warm_over_cold": med_warm / med_cold,
        "variants": args.variants, "cold_build_with_variants_clips_per_s": n / med_aug,
        "read_items_per_s": statistics.median(read_rates),
        "load_average_end": os.getloadavg()[0],
    }
    print(f"\nbase features, cold build: {result['cold_build_clips_per_s']:,.0f} clips/s (target >= 1,500)")
    print(f"warm rebuild: {med_warm * 1000:.0f} ms = {result['warm_over_cold']:.1%} of the cold build (target <= 10 %)")
    print(f"with {args.variants} augmented variants per clip: {result['cold_build_with_variants_clips_per_s']:,.0f} "
          f"clips/s")
    print(f"reading through the DataLoader: {result['read_items_per_s']:,.0f} items/s (target >= 20,000)")
    print(f"load average at end: {result['load_average_end']:.1f}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
