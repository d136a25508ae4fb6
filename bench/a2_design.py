"""Assignment 2, exercise 6: is the grading of the design-and-train exercise fair?

Trains three correct networks with the exercise's recipe (Adam 3e-3, cosine decay, batches of 64,
``torch.optim.swa_utils.update_bn``, one CPU thread) for several seeds and prints, for each run, the
parameters, MACs, shortcuts found, training seconds, validation accuracy (seed-1 images) and the
accuracy on the grader's unseen images (the hidden test's seeds), beside the pass mark:

* ``reference``: the solution's ``build_net`` (read from solutions/a2_architectures), with its
  ``BasicBlock`` replaced by torchvision's, as the grader does;
* ``preact-residual``: written differently: pre-activation units, ``torch.add`` in a functional
  forward, max pooling to downsample, one width throughout;
* ``dense``: DenseNet-style: BN-ReLU-conv layers concatenated, 1x1 transitions with average pooling.

    .venv/bin/python bench/a2_design.py [--fast] [--seeds 0 1 2]

Prints the machine's load beside the times (they move with it).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from dlcourse import arch, data, seed, training

ROOT = Path(__file__).resolve().parents[1]
SIZE, PARAM_BUDGET, MAC_BUDGET = 24, 30_000, 4_000_000
HELD_SEEDS = (90_017, 90_023)          # the hidden test's unseen images


class ReferenceBasicBlock(torchvision.models.resnet.BasicBlock):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        down = None
        if stride != 1 or in_channels != out_channels:
            down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                 nn.BatchNorm2d(out_channels))
        super().__init__(in_channels, out_channels, stride, downsample=down)


def reference_build_net():
    """The solution's build_net, executed with torchvision's basic block."""
    nb = nbformat.read(ROOT / "solutions" / "a2_architectures" / "a2_architectures.ipynb", as_version=4)
    src = next(c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "design")
    ns = {"nn": nn, "torch": torch, "F": F, "BasicBlock": ReferenceBasicBlock}
    exec(src, ns)
    return ns["build_net"]


class PreactResidual(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 5, width: int = 16):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.units = nn.ModuleList(
            nn.ModuleList([nn.BatchNorm2d(width), nn.Conv2d(width, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.Conv2d(width, width, 3, padding=1, bias=False)])
            for _ in range(3))
        self.norm = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for bn1, conv1, bn2, conv2 in self.units:
            x = torch.add(x, conv2(F.relu(bn2(conv1(F.relu(bn1(x)))))))
            x = F.max_pool2d(x, 2)
        return self.fc(F.relu(self.norm(x)).mean(dim=(2, 3)))


class Dense(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 5, growth: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)

        def layer(c):
            return nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, growth, 3, padding=1, bias=False))

        def transition(c, out):
            return nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, out, 1, bias=False), nn.AvgPool2d(2))

        self.stages = nn.ModuleList([nn.ModuleList([layer(16), layer(24)]), transition(32, 16),
                                     nn.ModuleList([layer(16), layer(24), layer(32)]), transition(40, 24),
                                     nn.ModuleList([layer(24), layer(32), layer(40)])])
        self.head = nn.Sequential(nn.BatchNorm2d(48), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(48, num_classes))

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            if isinstance(stage, nn.ModuleList):
                for layer in stage:
                    x = torch.cat([x, layer(x)], dim=1)
            else:
                x = stage(x)
        return self.head(x)


def macs_per_image(model: nn.Module) -> int:
    with training.eval_mode(model), torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.rand(1, 1, SIZE, SIZE))
    return counter.get_total_flops() // 2


def run(build, run_seed: int, n_train: int, epochs: int, time_budget: float, train_set, val_set, held):
    """The exercise's training cell, with the seed as a parameter."""
    seed.seed_everything(run_seed)
    model = build(in_channels=1, num_classes=5)
    loader, _ = data.make_loaders(train_set.dataset(), batch_size=64, seed=run_seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    history = training.fit(model, loader, epochs=epochs, optimizer=opt,
                           scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
                           time_budget=time_budget, progress=False)
    torch.optim.swa_utils.update_bn(loader, model)
    seconds = time.perf_counter() - start
    model.eval()
    val = training.evaluate(model, DataLoader(val_set.dataset(), batch_size=250))["accuracy"]
    with torch.no_grad():
        correct = sum(int((model(p.images).argmax(1) == p.labels).sum()) for p in held)
    return model, len(history), seconds, val, correct / sum(len(p) for p in held)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fast", action="store_true", help="the FAST-mode sizes (600 images, 4 epochs)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    torch.set_num_threads(1)
    n_train, epochs = (600, 4) if args.fast else (2000, 6)
    time_budget, need = (60.0, 0.50) if args.fast else (180.0, 0.90)
    n_held = 250 if args.fast else 500
    train_set, val_set = data.make_shapes(n_train, SIZE, seed=0), data.make_shapes(500, SIZE, seed=1)
    held = [data.make_shapes(n_held, SIZE, seed=s) for s in HELD_SEEDS]
    nets = {"reference": reference_build_net(), "preact-residual": PreactResidual, "dense": Dense}
    print(f"mode {'FAST' if args.fast else 'full'}: {n_train} training images, {epochs} epochs, budget {time_budget:g} s, "
          f"pass mark {need:.0%} on {2 * n_held} unseen images; 1 thread; load at start {os.getloadavg()[0]:.2f}")
    print(f"{'network':16s} {'seed':>4s} {'params':>7s} {'MMACs':>6s} {'shortcuts':>9s} {'epochs':>6s} {'seconds':>7s} "
          f"{'val':>6s} {'unseen':>6s}  verdict")
    for name, build in nets.items():
        for s in args.seeds:
            model, done, secs, val, acc = run(build, s, n_train, epochs, time_budget, train_set, val_set, held)
            n = sum(q.numel() for q in model.parameters())
            m = macs_per_image(model)
            k = len(arch.find_shortcuts(model, (1, SIZE, SIZE)))
            ok = n <= PARAM_BUDGET and m <= MAC_BUDGET and k >= 2 and acc >= need
            print(f"{name:16s} {s:4d} {n:7,d} {m / 1e6:6.2f} {k:9d} {done:6d} {secs:7.1f} {val:6.1%} {acc:6.1%}  "
                  f"{'pass' if ok else 'FAIL'}", flush=True)
    print(f"load at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
