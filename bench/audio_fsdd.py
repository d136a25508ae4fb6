"""FSDD with the course's baseline CNN, trained from the on-disk feature cache under a time budget.

    python bench/audio_fsdd.py --data-root ../shared/data [--budget 60] [--threads 2] [--no-loso]

``--data-root DIR`` holds ``fsdd/recordings/{digit}_{speaker}_{take}.wav``. The cache (clean
features plus ``--variants`` augmented ones per clip) is built once, outside the budget; then:

1. **Standard split** (takes 0-4 test, 5-49 train): the model (at most 25,000 parameters) trains
   for at most ``--budget`` seconds; prints parameters, seconds, epochs and test accuracy
   (target >= 98.5 %; published anchor: 97.67 % for a residual CNN).
2. **Leave-one-speaker-out**: one model per speaker, trained on the other speakers' clips (all
   takes) with the same budget, tested on the held-out speaker; prints each, the mean and the worst.

Ends with one JSON line of every figure. The machine's load average is printed: on a shared
machine the budget buys fewer epochs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dlcourse import seed, training
from dlcourse.audio import augment, cache, datasets, models


def train_and_test(c: cache.FeatureCache, train_idx: np.ndarray, test_idx: np.ndarray, args) -> dict:
    seed.seed_everything(args.seed)
    model = models.AudioCNN(len(c.class_names), c.shape[2], band_mean=c.band_mean, band_std=c.band_std,
                            spec_augment=augment.SpecAugment())
    loader = cache.make_loader(c.dataset(train_idx), batch_size=args.batch_size, seed=args.seed)
    t = time.perf_counter()
    hist = models.fit_within(model, loader, max_epochs=args.max_epochs, time_budget=args.budget, lr=args.lr)
    seconds = time.perf_counter() - t
    x, y = c.dataset(test_idx).arrays(variant=0)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return {"accuracy": float((pred == y).float().mean()), "n_test": int(len(y)), "n_train": int(len(train_idx)),
            "train_seconds": round(seconds, 2), "epochs": len(hist), "stop_reason": hist.stop_reason,
            "n_params": training.count_parameters(model)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, required=True, help="folder holding fsdd/recordings/")
    ap.add_argument("--budget", type=float, default=60.0, help="training seconds per model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--max-epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None, help="cache folder (default: a temporary one)")
    ap.add_argument("--no-loso", dest="loso", action="store_false", help="skip leave-one-speaker-out")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; torch threads: {args.threads}")

    clips = datasets.load_fsdd(args.data_root, "all")
    print(f"{clips}; classes {clips.class_counts()}")
    with tempfile.TemporaryDirectory(prefix="audio-fsdd-bench-") as tmp:
        c = cache.build_cache(clips, args.cache or tmp, augment=augment.AugmentConfig(), n_variants=args.variants,
                              seed=args.seed, verbose=False)
        print(f"cache {c.stats['mode']} in {c.stats['seconds']:.1f} s: {c}")
        takes = c.takes
        result = {"budget_s": args.budget, "threads": args.threads}
        std = train_and_test(c, np.flatnonzero(takes >= 5), np.flatnonzero(takes < 5), args)
        result["standard"] = std
        print(f"\nStandard split (takes 0-4 test): accuracy {std['accuracy']:.2%} on {std['n_test']} clips; "
              f"{std['n_params']:,} parameters; trained {std['train_seconds']:.1f} s, {std['epochs']} epochs "
              f"({std['stop_reason']})")
        if args.loso:
            speakers = np.array(c.speakers)
            rows = {}
            print("\nLeave-one-speaker-out:")
            for s in sorted(set(c.speakers)):
                r = train_and_test(c, np.flatnonzero(speakers != s), np.flatnonzero(speakers == s), args)
                rows[s] = r
                print(f"  held out {s:10s}: accuracy {r['accuracy']:.2%} ({r['n_test']} clips, "
                      f"{r['train_seconds']:.0f} s, {r['epochs']} epochs)")
            accs = {s: r["accuracy"] for s, r in rows.items()}
            worst = min(accs, key=accs.get)
            result["loso"] = {"per_speaker": rows, "mean": float(np.mean(list(accs.values()))), "worst_speaker": worst,
                              "worst": accs[worst]}
            print(f"  mean {result['loso']['mean']:.2%}; worst: {worst} {accs[worst]:.2%}")
    result["load_average_end"] = os.getloadavg()[0]
    print(f"load average at end: {result['load_average_end']:.1f}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
