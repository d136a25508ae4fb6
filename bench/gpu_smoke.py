"""GPU smoke test: train a small CNN for a few hundred steps with AMP and compare with the CPU.

    python bench/gpu_smoke.py [--steps 300] [--batch 256]

Prints the device name, images/s on the GPU (AMP, non_blocking copies from pinned memory),
images/s on the CPU for the same model, and the GPU/CPU speed ratio. Without CUDA it says so
and exits 0 after the CPU figure.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--cpu-steps", type=int, default=40)
    args = ap.parse_args()
    choice = device.choose_device()
    print(f"device: {choice.reason}")
    cpu_ips, cpu_acc = throughput(torch.device("cpu"), args.cpu_steps, args.batch)
    print(f"cpu : {cpu_ips:9.0f} images/s ({torch.get_num_threads()} threads), train acc {cpu_acc:.3f}")
    if choice.device.type != "cuda":
        print("no CUDA device: GPU part skipped")
        return
    gpu_ips, gpu_acc = throughput(choice.device, args.steps, args.batch)
    print(f"gpu : {gpu_ips:9.0f} images/s on {torch.cuda.get_device_name(0)} with AMP, train acc {gpu_acc:.3f}")
    print(f"GPU/CPU speed ratio: {gpu_ips / cpu_ips:.1f}x")


if __name__ == "__main__":
    main()
