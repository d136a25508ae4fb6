"""Overhead of dlcourse.training.fit against a plain hand-written PyTorch loop.

Same model, data, optimizer and number of steps; the two loops alternate (A B A B ...) in
one process so that they see the same machine state, and the median time of each is compared.

    python bench/train_overhead.py [--repeats 5] [--epochs 2] [--n 4096] [--threads 2]

Prints the seconds of each run, the medians and the ratio (target: at most 1.03 on CPU).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from dlcourse import data, training


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 5),
    )


def plain_loop(model: nn.Module, loader: DataLoader, epochs: int) -> float:
    """What a student would write: zero_grad, forward, loss, backward, step; track loss and accuracy."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    last = 0.0
    for _ in range(epochs):
        total, correct, n = 0.0, 0, 0
        for x, y in loader:
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
            correct += (out.argmax(1) == y).sum().item()
            n += x.shape[0]
        last = total / n
    return last


def dlcourse_loop(model: nn.Module, loader: DataLoader, epochs: int) -> float:
    hist = training.fit(model, loader, epochs=epochs, lr=1e-3, progress=True)
    return hist["train_loss"][-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n", type=int, default=4096, help="number of generated 32x32 shape images")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = data.make_shapes(args.n, 32, seed=0).dataset()

    def loader():
        return DataLoader(ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))

    # warm-up both paths (allocator, kernels)
    plain_loop(make_model(), loader(), 1)
    dlcourse_loop(make_model(), loader(), 1)
    times = {"plain": [], "dlcourse": []}
    losses = {}
    for r in range(args.repeats):
        for name, fn in (("plain", plain_loop), ("dlcourse", dlcourse_loop)) if r % 2 == 0 else \
                (("dlcourse", dlcourse_loop), ("plain", plain_loop)):
            model = make_model()
            t = time.perf_counter()
            losses[name] = fn(model, loader(), args.epochs)
            times[name].append(time.perf_counter() - t)
    steps = args.epochs * len(loader())
    print(f"device: cpu, torch threads: {torch.get_num_threads()}, {steps} steps per run, {args.repeats} runs each")
    for name, ts in times.items():
        print(f"{name:9s} runs: " + " ".join(f"{t:.2f}" for t in ts) + f"  median {statistics.median(ts):.3f} s"
              f"  final loss {losses[name]:.4f}")
    ratio = statistics.median(times["dlcourse"]) / statistics.median(times["plain"])
    print(f"overhead ratio dlcourse/plain = {ratio:.3f} ({(ratio - 1) * 100:+.1f} %)  target <= 1.03")


if __name__ == "__main__":
    main()
