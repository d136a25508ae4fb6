"""GPU smoke test: a small image CNN and the audio path, with AMP, each against the CPU.

    python bench/gpu_smoke.py [--steps 300] [--batch 256] [--audio-clips 512]

Images: the device name, images/s on the GPU (AMP, non_blocking copies from pinned memory),
images/s on the CPU for the same model, and the GPU/CPU speed ratio.

Audio (generated spoken words, so it runs offline): log-mel features and the cache's random
augmentation chains computed on the GPU (clips/s, and the largest difference from the CPU's
features), then one training epoch of the audio baseline (:class:`dlcourse.audio.recipe.Recipe`'s
model with its on-the-fly augmentations) from the feature cache with AMP, clips/s on each
device and the ratio. Without CUDA it says so and exits 0 after the CPU figures.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from dlcourse import data, device, training


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(128, 5),
    )


def throughput(dev: torch.device, steps: int, batch: int) -> tuple[float, float]:
    ds = data.make_shapes(batch * 8, 32, seed=0).dataset()
    loader = DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True, pin_memory=dev.type == "cuda")
    m = model().to(dev)
    epochs = max(1, steps // len(loader))
    training.fit(m, loader, epochs=1, progress=False)  # warm-up (cuDNN autotune, allocator)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    hist = training.fit(m, loader, epochs=epochs, progress=False)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t
    return epochs * len(loader) * batch / secs, hist["train_acc"][-1]


def audio_path(dev: torch.device, n_clips: int, tmp: str) -> dict:
    """Features + augmentations on ``dev``, then one AMP training epoch of the audio baseline from the cache."""
    import numpy as np

    from dlcourse.audio import augment, cache, datasets, features
    from dlcourse.audio.recipe import Recipe, build_model

    per = max(1, n_clips // (8 * 10))
    clips = datasets.load_generated(f"{tmp}/words", "all", n_speakers=8, takes=per, seed=0)
    recipe = Recipe()
    fp = recipe.features                 # the default recipe's front end (peak level included)
    waves = torch.stack(list(_waves(clips, fp)))
    out = {}
    for name, d in (("cpu", torch.device("cpu")), (dev.type, dev)):
        w = waves.to(d)
        features.log_mel(w[:8], fp)
        augment.random_variants(w[:8], fp.sample_rate, augment.AugmentConfig(), np.random.default_rng(0))
        _sync(d)
        t = time.perf_counter()
        feats = features.log_mel(augment.random_variants(w, fp.sample_rate, augment.AugmentConfig(),
                                                         np.random.default_rng(1)), fp)
        _sync(d)
        out[f"features_{name}"] = (len(w) / (time.perf_counter() - t), feats.cpu())
    if dev.type != "cpu":
        out["max_feature_diff"] = float((out[f"features_{dev.type}"][1] - out["features_cpu"][1]).abs().max())
    c = cache.build_cache(clips, f"{tmp}/cache", features=fp, augment=recipe.augment, n_variants=2, verbose=False,
                          device=dev)
    for name, d in (("cpu", torch.device("cpu")), (dev.type, dev)):
        torch.manual_seed(0)
        model = build_model(len(c.class_names), c.features, recipe, band_mean=c.band_mean,
                            band_std=c.band_std).to(d)
        loader = cache.make_loader(c.dataset(), batch_size=128, pin_memory=d.type == "cuda")
        training.fit(model, loader, epochs=1, progress=False)  # warm-up
        _sync(d)
        t = time.perf_counter()
        hist = training.fit(model, loader, epochs=1, progress=False, amp=True if d.type == "cuda" else None)
        _sync(d)
        out[f"train_{name}"] = (len(c) / (time.perf_counter() - t), hist["train_loss"][-1])
    return out


def _waves(clips, fp):
    from dlcourse.audio import io

    for p in clips.paths:
        yield io.load_clip(p, fp.sample_rate, fp.clip_samples)


def _sync(d: torch.device) -> None:
    if d.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--cpu-steps", type=int, default=40)
    ap.add_argument("--audio-clips", type=int, default=512, help="generated clips for the audio part")
    ap.add_argument("--no-audio", dest="audio", action="store_false")
    args = ap.parse_args()
    choice = device.choose_device()
    print(f"device: {choice.reason}")
    cpu_ips, cpu_acc = throughput(torch.device("cpu"), args.cpu_steps, args.batch)
    print(f"cpu : {cpu_ips:9.0f} images/s ({torch.get_num_threads()} threads), train acc {cpu_acc:.3f}")
    gpu = choice.device.type == "cuda"
    if gpu:
        gpu_ips, gpu_acc = throughput(choice.device, args.steps, args.batch)
        print(f"gpu : {gpu_ips:9.0f} images/s on {torch.cuda.get_device_name(0)} with AMP, train acc {gpu_acc:.3f}")
        print(f"GPU/CPU speed ratio: {gpu_ips / cpu_ips:.1f}x")
    if args.audio:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="gpu-smoke-audio-") as tmp:
            a = audio_path(choice.device if gpu else torch.device("cpu"), args.audio_clips, tmp)
        print(f"audio features + augmentations, cpu: {a['features_cpu'][0]:8.0f} clips/s")
        print(f"audio training epoch from the cache, cpu: {a['train_cpu'][0]:8.0f} clips/s "
              f"(loss {a['train_cpu'][1]:.3f})")
        if gpu:
            print(f"audio features + augmentations, gpu: {a['features_cuda'][0]:8.0f} clips/s "
                  f"(max |gpu - cpu| = {a['max_feature_diff']:.2e}); ratio {a['features_cuda'][0] / a['features_cpu'][0]:.1f}x")
            print(f"audio training epoch from the cache, gpu with AMP: {a['train_cuda'][0]:8.0f} clips/s "
                  f"(loss {a['train_cuda'][1]:.3f}); GPU/CPU ratio {a['train_cuda'][0] / a['train_cpu'][0]:.1f}x")
    if not gpu:
        print("no CUDA device: GPU part skipped")


if __name__ == "__main__":
    main()
