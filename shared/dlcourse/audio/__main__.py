"""The audio baseline on the command line.

Train (builds or reuses the feature cache, trains :class:`~dlcourse.audio.models.AudioCNN`,
saves it, prints one JSON line)::

    python -m dlcourse.audio train --dataset fsdd --root DIR --out MODEL_DIR [--epochs N] [--cache DIR]

Evaluate a saved model (prints one JSON line with at least ``accuracy`` and ``n``)::

    python -m dlcourse.audio evaluate --model MODEL_DIR --dataset fsdd --root DIR --split all

``--dataset`` is ``fsdd``, ``speechcommands``, ``folder`` or ``generated`` (the offline set,
written into ``--root`` when that folder holds none). ``--split`` is ``train``, ``test`` or
``all``. Classes are matched by name, so ``evaluate`` works on any root whose classes the
model knows, including speakers it never heard.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

__all__ = ["main", "train", "evaluate"]


def _dataset_options(args: argparse.Namespace, split: str) -> dict:
    opts: dict = {}
    speakers = [s for s in (args.test_speakers or "").split(",") if s]
    if args.dataset in ("fsdd", "generated"):
        opts["scheme"] = args.scheme
        if args.scheme == "speaker" and split != "all":
            if args.dataset == "generated":
                opts["test_speakers"] = int(speakers[0]) if len(speakers) == 1 and speakers[0].isdigit() else \
                    (speakers or 2)
            elif not speakers:
                raise ValueError("--scheme speaker needs --test-speakers NAME[,NAME...] for fsdd")
            else:
                opts["test_speakers"] = speakers
    if args.dataset == "speechcommands":
        opts["subset"] = args.subset
    return opts


def _clips(args: argparse.Namespace, split: str):
    from .datasets import get_clips

    if args.dataset == "folder" and split != "all":
        raise ValueError(f"a folder-per-class tree has no {split!r} split: use --split all "
                         f"(and a separate folder for testing)")
    return get_clips(args.dataset, args.root, split, **_dataset_options(args, split))


def _cache_dir(args: argparse.Namespace) -> Path:
    from .. import config

    return Path(args.cache) if args.cache else config.data_dir() / "audio-cache"


def _say(args: argparse.Namespace, line: str) -> None:
    """Progress goes to stderr; stdout holds only the JSON result line."""
    if not args.quiet:
        print(line, file=sys.stderr, flush=True)


class _Progress:
    def __init__(self, args: argparse.Namespace):
        self.args = args

    def on_epoch_end(self, history) -> None:
        rec = history.last
        _say(self.args, f"epoch {int(rec['epoch'])}: loss {rec['train_loss']:.4f}, "
                        f"accuracy {rec.get('train_acc', float('nan')):.4f}, {rec['seconds']:.1f} s")


def train(args: argparse.Namespace) -> dict:
    """Build the cache of the training split, train, save; return the summary."""
    from .. import seed, training
    from .augment import AugmentConfig, SpecAugment
    from .cache import build_cache, make_loader
    from .features import FeatureParams
    from .models import AudioCNN, fit_within, save_model

    seed.seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    split = "all" if args.dataset == "folder" else "train"
    clips = _clips(args, split)
    feats = FeatureParams(sample_rate=args.sample_rate, clip_seconds=args.clip_seconds, n_mels=args.n_mels)
    cache = build_cache(clips, _cache_dir(args), features=feats, augment=AugmentConfig() if args.variants else None,
                        n_variants=args.variants, seed=args.seed, verbose=False)
    _say(args, f"cache {cache.stats['mode']} ({cache.stats['seconds']:.1f} s): {cache}")
    model = AudioCNN(len(cache.class_names), feats.n_mels, band_mean=cache.band_mean, band_std=cache.band_std,
                     spec_augment=SpecAugment() if args.spec_augment else None)
    loader = make_loader(cache.dataset(), batch_size=args.batch_size, seed=args.seed)
    callbacks = [_Progress(args)]
    t_train = time.perf_counter()
    history = fit_within(model, loader, max_epochs=args.epochs, time_budget=args.time_budget, lr=args.lr,
                         callbacks=callbacks)
    train_seconds = time.perf_counter() - t_train
    save_model(model, args.out, class_names=cache.class_names, features=feats, history=history,
               dataset=args.dataset, root=str(args.root) if args.root else None, train_clips=len(cache),
               cache=str(cache.path))
    summary = {"out": str(args.out), "dataset": args.dataset, "n_train": len(cache), "skipped": len(cache.skipped),
               "epochs": len(history), "stop_reason": history.stop_reason,
               "train_accuracy": history.last.get("train_acc"), "train_seconds": round(train_seconds, 2),
               "cache": cache.stats.get("mode"), "seconds": round(time.perf_counter() - t0, 2),
               "n_params": training.count_parameters(model)}
    return summary


@torch.no_grad()
def evaluate(args: argparse.Namespace) -> dict:
    """Evaluate a saved model on a split of a data set; return ``{"accuracy", "n", ...}``."""
    from .cache import build_cache, compute_variants
    from .features import FeatureParams
    from .models import load_model

    model, info = load_model(args.model)
    feats = FeatureParams(**info["features"])
    clips = _clips(args, args.split)
    known = {c: i for i, c in enumerate(info["class_names"])}
    unknown = [c for c in clips.class_names if c not in known]
    present = {clips.class_names[k] for k in np.unique(clips.labels)}
    if unknown and present & set(unknown):
        raise ValueError(f"the model knows the classes {info['class_names']}, but {args.root} has "
                         f"{sorted(present & set(unknown))}")
    if args.cache:
        cache = build_cache(clips, args.cache, features=feats, verbose=False)
        for item in cache.skipped:
            print(f"skipped unreadable audio file {item['path']}: {item['reason']}", file=sys.stderr)
        x, y = cache.dataset().arrays()
        skipped = len(cache.skipped)
    else:
        arr, labels, bad = compute_variants(clips, features=feats)
        x, y = torch.from_numpy(arr[:, :1]), torch.from_numpy(labels)
        skipped = len(bad)
        for path, reason in bad:
            print(f"skipped unreadable audio file {path}: {reason}", file=sys.stderr)
    to_model = torch.tensor([known.get(c, -1) for c in clips.class_names])
    y = to_model[y]
    pred = torch.cat([model(x[i:i + 512]).argmax(1) for i in range(0, len(x), 512)])
    correct = pred == y
    per_class = {info["class_names"][c]: round(float(correct[y == c].float().mean()), 4)
                 for c in sorted(set(y.tolist()))}
    return {"accuracy": float(correct.float().mean()), "n": int(len(y)), "split": args.split,
            "dataset": args.dataset, "skipped": skipped, "per_class": per_class}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m dlcourse.audio", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", required=True, choices=["fsdd", "speechcommands", "folder", "generated"])
        p.add_argument("--root", type=Path, default=None,
                       help="data folder (FSDD repository, Speech Commands folder, class tree, generated set)")
        p.add_argument("--scheme", choices=["standard", "speaker"], default=None,
                       help="fsdd/generated split: standard = takes 0-4 are test; speaker = --test-speakers are test "
                            "(default: standard for fsdd, speaker for generated)")
        p.add_argument("--test-speakers", default=None,
                       help="comma-separated speakers held out (generated: a number = the last N speakers)")
        p.add_argument("--subset", choices=["core10", "all"], default="core10", help="speechcommands words")
        p.add_argument("--cache", type=Path, default=None, help="feature cache folder (default $DLCOURSE_DATA/audio-cache)")

    p = sub.add_parser("train", help="train the baseline CNN on the training split")
    data_args(p)
    p.add_argument("--out", type=Path, required=True, help="folder for model.pt and model.json")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--time-budget", type=float, default=None, help="stop training after this many seconds")
    p.add_argument("--variants", type=int, default=3, help="augmented variants per clip in the cache")
    p.add_argument("--no-spec-augment", dest="spec_augment", action="store_false")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--sample-rate", type=int, default=8000)
    p.add_argument("--clip-seconds", type=float, default=1.0)
    p.add_argument("--n-mels", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("evaluate", help="evaluate a trained model; prints one JSON line")
    data_args(p)
    p.add_argument("--model", type=Path, required=True, help="folder written by train --out")
    p.add_argument("--split", choices=["train", "test", "all"], default="test")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.scheme is None:
        args.scheme = "speaker" if args.dataset == "generated" else "standard"
    if args.dataset in ("fsdd", "folder") and args.root is None:
        raise SystemExit(f"error: --dataset {args.dataset} needs --root DIR")
    from ..data import DatasetUnavailable

    try:
        result = train(args) if args.cmd == "train" else evaluate(args)
    except (DatasetUnavailable, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
