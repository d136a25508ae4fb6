"""The audio baseline on the command line.

Train (builds or reuses the feature cache, trains :class:`~dlcourse.audio.models.AudioCNN`,
saves it, prints one JSON line)::

    python -m dlcourse.audio train --dataset fsdd --root DIR --out MODEL_DIR [--epochs N] [--cache DIR]

With no training options, ``train`` follows :class:`~dlcourse.audio.recipe.Recipe` (the recipe
``bench/audio_fsdd.py`` measures on unseen speakers); each option changes one field of it.

Evaluate a saved model (prints one JSON line: ``accuracy``, ``n``, ``per_class``,
``per_speaker``, ``class_names`` and ``confusion``, rows = true class, columns = predicted)::

    python -m dlcourse.audio evaluate --model MODEL_DIR --dataset fsdd --root DIR --split all

``--dataset`` is ``fsdd``, ``speechcommands``, ``folder`` or ``generated`` (the offline set,
written into ``--root`` when that folder holds none). ``--split`` is ``train``, ``test`` or
``all``. Without ``--scheme`` and ``--test-speakers``, ``evaluate`` splits the data as ``train`` did
(``model.json`` keeps the split), so ``--split test`` is the clips held out of training; the JSON
line then also gives ``scheme``, ``test_speakers`` and ``speakers_seen_in_training`` (speakers of
the evaluated clips that the model trained on; a note on stderr names them). Classes are matched
by name, so ``evaluate`` works on any root whose classes the model knows, including speakers it
never heard.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..lang import tr

__all__ = ["main", "train", "evaluate", "recipe_from_args", "load_models"]


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
                raise ValueError(tr("--scheme speaker needs --test-speakers NAME[,NAME...] for fsdd"))
            else:
                opts["test_speakers"] = speakers
    if args.dataset == "speechcommands":
        opts["subset"] = args.subset
    return opts


def _clips(args: argparse.Namespace, split: str):
    from .datasets import get_clips

    if args.dataset == "folder" and split != "all":
        raise ValueError(tr("a folder-per-class tree has no {split!r} split: use --split all "
                            "(and a separate folder for testing)", split=split))
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
        _say(self.args, tr("epoch {epoch}: loss {loss:.4f}, accuracy {accuracy:.4f}, {seconds:.1f} s",
                           epoch=int(rec["epoch"]), loss=rec["train_loss"],
                           accuracy=rec.get("train_acc", float("nan")), seconds=rec["seconds"]))


def recipe_from_args(args: argparse.Namespace):
    """The :class:`~.recipe.Recipe` that ``train``'s options describe (``Recipe()`` where an option is not given)."""
    from .recipe import Recipe

    base = Recipe()
    changes = {}
    for opt, fld in (("epochs", "max_epochs"), ("time_budget", "time_budget"), ("variants", "variants"),
                     ("batch_size", "batch_size"), ("lr", "lr"), ("max_warp", "max_warp"),
                     ("frame_shift", "frame_shift"), ("mixup", "mixup_alpha"), ("ensemble", "ensemble"),
                     ("label_smoothing", "label_smoothing"), ("weight_decay", "weight_decay")):
        v = getattr(args, opt, None)
        if v is not None:
            changes[fld] = v
    feat_changes = {f: getattr(args, f) for f in ("sample_rate", "clip_seconds", "n_mels")
                    if getattr(args, f, None) is not None}
    if getattr(args, "peak_level", None) is not None:
        feat_changes["peak_level"] = None if args.peak_level <= 0 else args.peak_level
    if getattr(args, "log_floor", None) is not None:
        feat_changes["log_floor"] = args.log_floor
    if feat_changes:
        changes["features"] = dataclasses.replace(base.features, **feat_changes)
    if getattr(args, "spec_augment", None) is not None:
        changes["spec_augment"] = args.spec_augment
    if getattr(args, "deltas", None) is not None:
        changes["deltas"] = args.deltas
    if getattr(args, "time_pool", None) is not None:
        changes["time_pool"] = args.time_pool
    if getattr(args, "utterance_norm", None) is not None:
        changes["utterance_norm"] = None if args.utterance_norm == "none" else args.utterance_norm
    for opt, fld, typ in (("tta_warps", "tta_warps", float), ("tta_shifts", "tta_shifts", int)):
        v = getattr(args, opt, None)
        if v is not None:
            changes[fld] = tuple(typ(t) for t in v.split(",") if t.strip())
    return base.replace(**changes)


def train(args: argparse.Namespace) -> dict:
    """Build the cache of the training split, train the recipe's model(s), save; return the summary."""
    from .. import training
    from .cache import build_cache
    from .models import save_model
    from .recipe import train_models

    if args.threads:
        torch.set_num_threads(args.threads)
    if getattr(args, "scheme", None) is None:
        args.scheme = _default_scheme(args.dataset)
    recipe = recipe_from_args(args)
    t0 = time.perf_counter()
    split = "all" if args.dataset == "folder" else "train"
    clips = _clips(args, split)
    feats = recipe.features
    cache = build_cache(clips, _cache_dir(args), features=feats,
                        augment=recipe.augment if recipe.variants else None, n_variants=recipe.variants,
                        seed=args.seed, verbose=False)
    _say(args, tr("cache {mode} ({seconds:.1f} s): {cache}", mode=tr("warm") if cache.stats["mode"] == "warm"
                  else tr("cold"), seconds=cache.stats["seconds"], cache=cache))
    t_train = time.perf_counter()
    models, histories = train_models(cache, recipe, seed=args.seed, callbacks=[_Progress(args)])
    train_seconds = time.perf_counter() - t_train
    out = Path(args.out)
    meta = dict(dataset=args.dataset, root=str(args.root) if args.root else None, train_clips=len(cache),
                cache=str(cache.path), recipe=recipe.to_dict())
    if args.dataset in ("fsdd", "generated"):   # evaluate reuses the split and names the speakers it trained on
        meta.update(split={"scheme": args.scheme, "test_speakers": args.test_speakers},
                    train_speakers=sorted(set(cache.speakers)))
    if len(models) == 1:
        save_model(models[0], out, class_names=cache.class_names, features=feats, history=histories[0], **meta)
    else:
        for k, (m, h) in enumerate(zip(models, histories)):
            save_model(m, out / f"member-{k}", class_names=cache.class_names, features=feats, history=h, **meta)
        _write_ensemble(out, len(models), recipe)
    return {"out": str(args.out), "dataset": args.dataset, "n_train": len(cache), "skipped": len(cache.skipped),
            "epochs": len(histories[0]) if len(histories) == 1 else [len(h) for h in histories],
            "stop_reason": histories[-1].stop_reason,
            "train_accuracy": histories[-1].last.get("train_acc"), "train_seconds": round(train_seconds, 2),
            "cache": cache.stats.get("mode"), "seconds": round(time.perf_counter() - t0, 2),
            "n_params": sum(training.count_parameters(m) for m in models), "n_models": len(models)}


def _write_ensemble(folder: Path, n: int, recipe) -> None:
    info = {"members": [f"member-{k}" for k in range(n)], "recipe": recipe.to_dict()}
    tmp = folder / "ensemble.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(folder / "ensemble.json")


def load_models(folder: Path | str) -> tuple[list, dict]:
    """The model(s) ``train`` wrote into ``folder`` (one model, or an ensemble's members) and the info of the first.

    Raises:
        FileNotFoundError: ``folder`` holds no trained model.
    """
    from .models import load_model

    folder = Path(folder)
    ens = folder / "ensemble.json"
    if ens.is_file():
        members = json.loads(ens.read_text())["members"]
        loaded = [load_model(folder / m) for m in members]
        return [m for m, _ in loaded], loaded[0][1]
    model, info = load_model(folder)
    return [model], info


@torch.no_grad()
def evaluate(args: argparse.Namespace) -> dict:
    """Evaluate a saved model on a split of a data set.

    Returns ``{"accuracy", "n", "split", "dataset", "skipped", "per_class", "per_speaker",
    "confusion", "class_names"}``: ``confusion[i][j]`` counts clips of class ``class_names[i]``
    predicted as ``class_names[j]`` (the model's classes, in its order); ``per_speaker`` maps each
    speaker of the split to its accuracy.
    """
    from .cache import build_cache, compute_variants
    from .features import FeatureParams
    from .recipe import predict_proba

    models, info = load_models(args.model)
    _scheme_for_evaluate(args, info)
    feats = FeatureParams(**info["features"])
    recipe = info.get("recipe") or {}
    clips = _clips(args, args.split)
    known = {c: i for i, c in enumerate(info["class_names"])}
    unknown = [c for c in clips.class_names if c not in known]
    present = {clips.class_names[k] for k in np.unique(clips.labels)}
    if unknown and present & set(unknown):
        raise ValueError(tr("the model knows the classes {known}, but {root} has {unknown}",
                            known=info["class_names"], root=args.root, unknown=sorted(present & set(unknown))))
    if args.cache:
        cache = build_cache(clips, args.cache, features=feats, verbose=False)
        for item in cache.skipped:
            print(tr("skipped unreadable audio file {path}: {reason}", path=item["path"], reason=item["reason"]),
                  file=sys.stderr)
        x, y = cache.dataset().arrays()
        speakers = cache.speakers
        skipped = len(cache.skipped)
    else:
        arr, labels, bad = compute_variants(clips, features=feats)
        x, y = torch.from_numpy(arr[:, :1]), torch.from_numpy(labels)
        skipped = len(bad)
        bad_paths = {p for p, _ in bad}
        speakers = [s for p, s in zip(clips.paths, clips.speakers) if str(p) not in bad_paths]
        for path, reason in bad:
            print(tr("skipped unreadable audio file {path}: {reason}", path=path, reason=reason), file=sys.stderr)
    to_model = torch.tensor([known.get(c, -1) for c in clips.class_names])
    y = to_model[y]
    proba = predict_proba(models, x, tta_warps=tuple(recipe.get("tta_warps", (1.0,))),
                          tta_shifts=tuple(recipe.get("tta_shifts", (0,))), features=feats)
    pred = proba.argmax(1)
    correct = pred == y
    names = list(info["class_names"])
    per_class = {names[c]: round(float(correct[y == c].float().mean()), 4) for c in sorted(set(y.tolist()))}
    spk = np.asarray(speakers)
    per_speaker = {s: round(float(correct[torch.from_numpy(spk == s)].float().mean()), 4)
                   for s in sorted(set(speakers))}
    confusion = np.zeros((len(names), len(names)), np.int64)
    np.add.at(confusion, (y.numpy(), pred.numpy()), 1)
    result = {"accuracy": float(correct.float().mean()), "n": int(len(y)), "split": args.split,
              "dataset": args.dataset, "skipped": skipped, "per_class": per_class, "per_speaker": per_speaker,
              "class_names": names, "confusion": confusion.tolist()}
    if args.dataset in ("fsdd", "generated"):
        result.update(scheme=args.scheme, test_speakers=args.test_speakers)
        if "train_speakers" in info:
            seen = sorted(set(per_speaker) & set(info["train_speakers"]))
            result["speakers_seen_in_training"] = seen
            if seen:
                print(tr("note: the model was trained on clips of {seen}: their accuracy is not accuracy on "
                         "unseen speakers", seen=", ".join(seen)), file=sys.stderr)
    return result


def _scheme_for_evaluate(args: argparse.Namespace, info: dict) -> None:
    """With neither ``--scheme`` nor ``--test-speakers``, evaluate on the split the model was trained with."""
    if getattr(args, "scheme", None) is None and getattr(args, "test_speakers", None) is None:
        saved = info.get("split") if info.get("dataset") == args.dataset else None
        if saved:
            args.scheme, args.test_speakers = saved["scheme"], saved["test_speakers"]
    if getattr(args, "scheme", None) is None:
        args.scheme = _default_scheme(args.dataset)


def _default_scheme(dataset: str) -> str:
    return "speaker" if dataset == "generated" else "standard"


def _parser() -> argparse.ArgumentParser:
    from .recipe import Recipe

    ap = argparse.ArgumentParser(prog="python -m dlcourse.audio", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", required=True, choices=["fsdd", "speechcommands", "folder", "generated"])
        p.add_argument("--root", type=Path, default=None,
                       help="data folder (FSDD repository, Speech Commands folder, class tree, generated set)")
        p.add_argument("--scheme", choices=["standard", "speaker"], default=None,
                       help="fsdd/generated split: standard = takes 0-4 are test; speaker = --test-speakers are test "
                            "(train's default: standard for fsdd, speaker for generated; evaluate's default: the "
                            "split the model was trained with)")
        p.add_argument("--test-speakers", default=None,
                       help="comma-separated speakers held out (generated: a number = the last N speakers)")
        p.add_argument("--subset", choices=["core10", "all"], default="core10", help="speechcommands words")
        p.add_argument("--cache", type=Path, default=None, help="feature cache folder (default $DLCOURSE_DATA/audio-cache)")

    p = sub.add_parser("train", help="train the baseline CNN on the training split")
    data_args(p)
    p.add_argument("--out", type=Path, required=True, help="folder for model.pt and model.json")
    d = Recipe()
    p.add_argument("--epochs", type=int, default=None, help=f"training epochs (default {d.max_epochs})")
    p.add_argument("--time-budget", type=float, default=None,
                   help="stop training after this many seconds, all models together (default: none, "
                        "--epochs decides; a budget makes the result depend on the machine's load)")
    p.add_argument("--variants", type=int, default=None,
                   help=f"augmented variants per clip in the cache (default {d.variants})")
    p.add_argument("--spec-augment", default=None, action=argparse.BooleanOptionalAction,
                   help=f"frequency and time masks in training (default {'on' if d.spec_augment else 'off'})")
    p.add_argument("--utterance-norm", choices=["none", "band", "clip"], default=None,
                   help=f"per-utterance feature normalization (default {d.utterance_norm})")
    p.add_argument("--time-pool", choices=["mean", "max"], default=None,
                   help=f"pooling over time at the end of the model (default {d.time_pool})")
    p.add_argument("--max-warp", type=float, default=None,
                   help=f"vocal-tract-length perturbation 1 +- this (default {d.max_warp}; 0 = off)")
    p.add_argument("--frame-shift", type=int, default=None,
                   help=f"random feature shift in frames (default {d.frame_shift}; 0 = off)")
    p.add_argument("--mixup", type=float, default=None, help=f"mixup Beta alpha (default {d.mixup_alpha}; 0 = off)")
    p.add_argument("--ensemble", type=int, default=None, help=f"models averaged (default {d.ensemble})")
    p.add_argument("--label-smoothing", type=float, default=None,
                   help=f"share of each target spread over all classes (default {d.label_smoothing}; 0 = off)")
    p.add_argument("--weight-decay", type=float, default=None, help=f"AdamW weight decay (default {d.weight_decay})")
    p.add_argument("--deltas", default=None, action=argparse.BooleanOptionalAction,
                   help=f"also feed the time derivative of the features (default {'on' if d.deltas else 'off'})")
    p.add_argument("--tta-warps", default=None,
                   help=f"comma-separated test-time warp factors (default {','.join(map(str, d.tta_warps))})")
    p.add_argument("--tta-shifts", default=None,
                   help=f"comma-separated test-time frame shifts (default {','.join(map(str, d.tta_shifts))})")
    p.add_argument("--batch-size", type=int, default=None, help=f"(default {d.batch_size})")
    p.add_argument("--lr", type=float, default=None, help=f"(default {d.lr})")
    p.add_argument("--sample-rate", type=int, default=None, help=f"Hz (default {d.features.sample_rate})")
    p.add_argument("--clip-seconds", type=float, default=None, help=f"(default {d.features.clip_seconds})")
    p.add_argument("--n-mels", type=int, default=None, help=f"(default {d.features.n_mels})")
    p.add_argument("--peak-level", type=float, default=None,
                   help=f"scale every clip to this peak amplitude before the features (default "
                        f"{d.features.peak_level}; 0 = keep the recorded level)")
    p.add_argument("--log-floor", type=float, default=None,
                   help=f"power added before the log, > 0: quieter sound (a microphone's background noise) "
                        f"all looks alike (default {d.features.log_floor:g})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("evaluate", help="evaluate a trained model; prints one JSON line")
    data_args(p)
    p.add_argument("--model", type=Path, required=True, help="folder written by train --out")
    p.add_argument("--split", choices=["train", "test", "all"], default="test")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)   # --scheme's default: train() and _scheme_for_evaluate() fill it in
    if args.dataset in ("fsdd", "folder") and args.root is None:
        raise SystemExit(tr("error: --dataset {dataset} needs --root DIR", dataset=args.dataset))
    from ..data import DatasetUnavailable

    try:
        result = train(args) if args.cmd == "train" else evaluate(args)
    except (DatasetUnavailable, FileNotFoundError, ValueError) as e:
        print(tr("error: {error}", error=e), file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
