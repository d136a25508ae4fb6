"""Convolutional autoencoder vs PCA on real MNIST digits, and one-class anomaly detection.

Usage (from the repository root):

    .venv/bin/python bench/autoencoder_vs_pca.py --data-root ../shared/data

Reads the MNIST test set (``DIR/mnist/t10k-*``, 10,000 images) with
``dlcourse.data.load_mnist_idx`` and splits it 8,000 / 2,000 with a fixed seed. Prints:

1. the test reconstruction MSE per pixel of a convolutional autoencoder and of PCA
   (scikit-learn) at latent sizes 2 and 32, side by side in one run, with the ratios;
2. one-class anomaly detection: for each digit d, an autoencoder trained on the training
   images of d only scores every test image by its reconstruction error; ROC-AUC of
   "not d" vs "d" (scikit-learn), and the mean over the ten digits;
3. the seconds each part took.

Targets (the issue's must-show): AE-32 MSE <= 0.5 x PCA-32, AE-2 MSE <= 0.75 x PCA-2, mean
one-class ROC-AUC >= 0.90. The script exits with status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from torch import nn

from dlcourse import anomaly_data, data, seed


class ConvAutoencoder(nn.Module):
    """28x28 conv autoencoder: two stride-2 convs (16, 32 channels), a bottleneck MLP, mirrored decoder.

    ``encode``: ``(N, 1, 28, 28) -> (N, latent_dim)``; ``decode``: back to ``(N, 1, 28, 28)`` in [0, 1].
    The bottleneck MLP is ``1568 -> *hidden -> latent_dim`` (and back); by default ``hidden = (256, 64)``
    for codes of at most 8 numbers (squeezing a digit into 2 numbers needs a deeper non-linear map) and
    a single linear layer for larger codes (which train faster that way).
    """

    def __init__(self, latent_dim: int, hidden: tuple[int, ...] | None = None, c1: int = 16, c2: int = 32):
        super().__init__()
        if hidden is None:
            hidden = (256, 64) if latent_dim <= 8 else ()
        dims = [c2 * 49, *hidden, latent_dim]
        enc_mlp: list[nn.Module] = []
        dec_mlp: list[nn.Module] = []
        for i in range(len(dims) - 1):
            enc_mlp += [nn.Linear(dims[i], dims[i + 1])] + ([nn.ReLU()] if i < len(dims) - 2 else [])
            dec_mlp += [nn.Linear(dims[-1 - i], dims[-2 - i]), nn.ReLU()]
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),          # 14x14
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),         # 7x7
            nn.Flatten(), *enc_mlp,
        )
        self.decoder = nn.Sequential(
            *dec_mlp, nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),   # 14x14
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 28x28
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def train_ae(x: torch.Tensor, latent_dim: int, *, epochs: int, seed_value: int, lr: float = 3e-3,
             batch_size: int = 64) -> ConvAutoencoder:
    """Train with Adam on MSE, cosine learning-rate decay; ``x: (N, 1, 28, 28)``."""
    seed.seed_everything(seed_value)
    model = ConvAutoencoder(latent_dim)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(seed_value)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch_size):
            xb = x[perm[i:i + batch_size]]
            loss = nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


@torch.no_grad()
def per_image_mse(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Reconstruction MSE per image, ``(N,)``."""
    out = [((model(x[i:i + batch_size]) - x[i:i + batch_size]) ** 2).flatten(1).mean(1)
           for i in range(0, len(x), batch_size)]
    return torch.cat(out)


def pca_mse(x_train: np.ndarray, x_test: np.ndarray, k: int) -> float:
    pca = PCA(n_components=k, random_state=0).fit(x_train)
    rec = pca.inverse_transform(pca.transform(x_test))
    return float(((rec - x_test) ** 2).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, required=True, help="folder holding mnist/t10k-*-idx*-ubyte[.gz]")
    ap.add_argument("--epochs", type=int, default=20, help="epochs of each latent-size autoencoder")
    ap.add_argument("--oneclass-epochs", type=int, default=30, help="epochs of each one-class autoencoder")
    ap.add_argument("--oneclass-latent", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    ds = data.load_mnist_idx(args.data_root / "mnist")
    x, y = ds.tensors
    x_tr, y_tr, x_te, y_te = data.split_tensors(x, y, 2000, seed=args.seed)
    print(f"MNIST test set from {args.data_root / 'mnist'}: {len(x_tr)} train / {len(x_te)} test images, "
          f"{torch.get_num_threads()} torch threads")

    # ---- 1. reconstruction MSE: conv AE vs PCA at the same latent size
    rows = []
    flat_tr, flat_te = x_tr.flatten(1).numpy(), x_te.flatten(1).numpy()
    for k in (2, 32):
        t = time.perf_counter()
        p = pca_mse(flat_tr, flat_te, k)
        t_pca = time.perf_counter() - t
        t = time.perf_counter()
        model = train_ae(x_tr, k, epochs=args.epochs, seed_value=args.seed)
        a = float(per_image_mse(model, x_te).mean())
        t_ae = time.perf_counter() - t
        rows.append((k, a, p, a / p, t_ae, t_pca))
    print("\nTest reconstruction MSE per pixel (2,000 held-out images)")
    print(f"{'latent':>6} {'conv AE':>9} {'PCA':>9} {'AE/PCA':>7} {'AE s':>6} {'PCA s':>6}")
    for k, a, p, r, ta, tp in rows:
        print(f"{k:>6d} {a:>9.5f} {p:>9.5f} {r:>7.3f} {ta:>6.1f} {tp:>6.2f}")

    # ---- 2. one-class anomaly detection over the ten digits
    t = time.perf_counter()
    aucs = []
    for d in range(10):
        x_norm, x_test, is_anom = anomaly_data.one_class_split(x_tr, y_tr, x_te, y_te, d)
        model = train_ae(x_norm, args.oneclass_latent, epochs=args.oneclass_epochs, seed_value=args.seed + d)
        scores = per_image_mse(model, x_test).numpy()
        aucs.append(roc_auc_score(is_anom.numpy(), scores))
    t_oc = time.perf_counter() - t
    print(f"\nOne-class ROC-AUC (train on one digit's {len(x_tr) // 10}-ish images, latent {args.oneclass_latent}, "
          f"score = reconstruction MSE, anomalies = the other nine digits)")
    print("digit  " + " ".join(f"{d:>5d}" for d in range(10)) + "   mean")
    print("AUC    " + " ".join(f"{a:>5.3f}" for a in aucs) + f"   {np.mean(aucs):.3f}")
    print(f"seconds: {t_oc:.1f}")

    # ---- targets
    (k2, a2, p2, r2, *_), (k32, a32, p32, r32, *_) = rows
    checks = [
        (f"AE-32 MSE <= 0.5 x PCA-32 (ratio {r32:.3f})", r32 <= 0.5),
        (f"AE-2 MSE <= 0.75 x PCA-2 (ratio {r2:.3f})", r2 <= 0.75),
        (f"mean one-class ROC-AUC >= 0.90 ({np.mean(aucs):.3f})", float(np.mean(aucs)) >= 0.90),
    ]
    print("\nTargets")
    for text, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")
    print(f"\nTotal: {time.perf_counter() - t0:.1f} s")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
