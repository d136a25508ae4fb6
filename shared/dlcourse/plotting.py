"""Plotting for the course. Compute elsewhere, draw here.

Every function takes ``ax=None`` (or draws its own figure for multi-panel plots), returns the
matplotlib ``Figure`` and never calls ``plt.show()``: notebooks display the returned figure.

The figures a function makes itself are *detached* from pyplot (made with :func:`subplots` /
:func:`figure` below): Jupyter's inline backend shows every open pyplot figure at the end of a
cell, so a pyplot figure that is also the cell's value would be drawn twice. A detached figure
is drawn once, when it is the cell's value or passed to ``display``; ``fig.savefig`` works as
usual.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = [
    "subplots",
    "figure",
    "plot_history",
    "image_grid",
    "plot_confusion_matrix",
    "filter_grid",
    "feature_maps",
    "heatmap_overlay",
    "embedding_scatter",
    "bar_table",
]


def subplots(*args, **kwargs):
    """``plt.subplots`` for a figure detached from pyplot (shown once in a notebook; see the module doc)."""
    fig, axes = plt.subplots(*args, **kwargs)
    plt.close(fig)
    return fig, axes


def figure(**kwargs) -> Figure:
    """``plt.figure`` detached from pyplot (shown once in a notebook; see the module doc)."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _new_ax(ax=None, figsize=(5, 4)):
    if ax is None:
        fig, ax = subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _to_numpy(x: Any) -> np.ndarray:
    if torch.is_tensor(x):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def plot_history(history, metrics: Sequence[Sequence[str]] = (("train_loss", "val_loss"), ("train_acc", "val_acc")),
                 title: str = "Learning curves") -> Figure:
    """Draw learning curves from a ``training.History`` (or a dict of lists), one panel per group.

    Groups whose keys are all absent are skipped.
    """
    data = {k: history[k] for k in history.keys()} if hasattr(history, "keys") and hasattr(history, "records") else dict(history)
    groups = [[k for k in g if k in data] for g in metrics]
    groups = [g for g in groups if g]
    if not groups:
        raise ValueError(f"none of the metrics {list(metrics)} are in the history (it has {list(data)})")
    fig, axes = subplots(1, len(groups), figsize=(4.5 * len(groups), 3.4), layout="constrained", squeeze=False)
    for ax, group in zip(axes[0], groups):
        for key in group:
            ys = data[key]
            ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if all("loss" in k for k in group) else ("accuracy" if all("acc" in k for k in group) else "value"))
        ax.set_title(" / ".join(group))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return fig


def image_grid(images: torch.Tensor | np.ndarray, labels: Sequence[Any] | None = None, *, ncols: int = 8,
               title: str = "Images", cmap: str = "gray", normalize: bool = True, size: float = 1.3,
               vrange: tuple[float, float] | None = None) -> Figure:
    """Show ``images: (N, C, H, W)`` (C in {1, 3}) or ``(N, H, W)`` as a grid with optional captions.

    ``normalize=True`` stretches each image to its own min..max. With ``normalize=False`` a grey image is
    still drawn with matplotlib's automatic per-image scale unless ``vrange=(lo, hi)`` pins one colour scale
    for every image (e.g. ``(0, 1)``, so that a dark or half-contrast input looks dark).
    """
    if vrange is not None and (len(vrange) != 2 or not vrange[0] < vrange[1]):
        raise ValueError(f"vrange must be (lo, hi) with lo < hi, got {vrange!r}")
    arr = _to_numpy(images)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, C, H, W) with C in {{1, 3}} or (N, H, W); got shape {arr.shape}")
    n = arr.shape[0]
    if n == 0:
        raise ValueError("images is empty")
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {n} images but {len(labels)} labels")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.5), squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = arr[i]
        if normalize:
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        if img.shape[0] == 1:
            vmin, vmax = (0, 1) if normalize else (vrange if vrange is not None else (None, None))
            ax.imshow(img[0], cmap=cmap, vmin=vmin, vmax=vmax)
        else:
            ax.imshow(np.clip(img.transpose(1, 2, 0), 0, 1))
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    fig.suptitle(title)
    return fig


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str] | None = None, *, normalize: str | None = None,
                          ax=None, title: str = "Confusion matrix") -> Figure:
    """Confusion matrix via scikit-learn (rows: true class, columns: predicted class)."""
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    y_true, y_pred = _to_numpy(y_true).ravel(), _to_numpy(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} entries but y_pred has {y_pred.size}")
    labels = np.arange(len(class_names)) if class_names is not None else None
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    fig, ax = _new_ax(ax, figsize=(5.5, 5))
    ConfusionMatrixDisplay(cm, display_labels=class_names).plot(
        ax=ax, colorbar=False, values_format=".2f" if normalize else "d", cmap="Blues")
    ax.set_title(title)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return fig


def filter_grid(weight: torch.Tensor, *, title: str = "Filters", ncols: int = 8, size: float = 1.0) -> Figure:
    """Show conv filters ``weight: (C_out, C_in, kH, kW)``; RGB when C_in == 3, else channel 0..mean.

    Each filter is scaled to its own [min, max] so its pattern (or its noise) is visible.
    """
    w = _to_numpy(weight)
    if w.ndim != 4:
        raise ValueError(f"weight must be (C_out, C_in, kH, kW), got shape {w.shape}")
    imgs = w if w.shape[1] == 3 else w.mean(axis=1, keepdims=True)
    return image_grid(imgs, ncols=ncols, title=title, normalize=True, size=size, cmap="gray")


def feature_maps(maps: torch.Tensor, *, max_maps: int = 16, ncols: int = 8, title: str = "Feature maps",
                 cmap: str = "viridis") -> Figure:
    """Show the channels of one activation ``maps: (C, H, W)`` (or ``(1, C, H, W)``)."""
    a = _to_numpy(maps)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"maps must be (C, H, W) or (1, C, H, W), got shape {a.shape}")
    a = a[:max_maps]
    fig = image_grid(a[:, None], labels=[f"ch {i}" for i in range(a.shape[0])], ncols=ncols, title=title, cmap=cmap)
    return fig


def heatmap_overlay(image: torch.Tensor | np.ndarray, heatmap: torch.Tensor | np.ndarray, *, alpha: float = 0.5,
                    ax=None, title: str = "Heat map", cmap: str = "jet", box: Sequence[float] | None = None) -> Figure:
    """Overlay ``heatmap: (H, W)`` on ``image: (C, H, W)`` or ``(H, W)`` (same H, W).

    ``box`` = (x0, y0, x1, y1) in pixels draws a ground-truth rectangle.
    """
    img = _to_numpy(image)
    hm = _to_numpy(heatmap)
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    if hm.ndim != 2:
        raise ValueError(f"heatmap must be (H, W), got shape {hm.shape}")
    if img.shape[:2] != hm.shape:
        raise ValueError(f"image is {img.shape[:2]} but heatmap is {hm.shape}: upsample the heat map first")
    fig, ax = _new_ax(ax, figsize=(3.5, 3.5))
    lo, hi = img.min(), img.max()
    ax.imshow((img - lo) / (hi - lo + 1e-12), cmap="gray" if img.ndim == 2 else None)
    im = ax.imshow(hm, cmap=cmap, alpha=alpha)
    fig.colorbar(im, ax=ax, fraction=0.046)
    if box is not None:
        from matplotlib.patches import Rectangle

        x0, y0, x1, y1 = box
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="white", lw=1.5))
    ax.set_title(title)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return fig


def embedding_scatter(points: torch.Tensor | np.ndarray, labels, *, class_names: Sequence[str] | None = None,
                      ax=None, title: str = "Embedding", xlabel: str = "dim 1", ylabel: str = "dim 2",
                      s: float = 8) -> Figure:
    """Scatter ``points: (N, 2)`` coloured by integer ``labels: (N,)``."""
    p = _to_numpy(points)
    y = _to_numpy(labels).ravel()
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), got shape {p.shape}")
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"got {p.shape[0]} points but {y.shape[0]} labels")
    fig, ax = _new_ax(ax, figsize=(5, 4.5))
    classes = np.unique(y)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i, c in enumerate(classes):
        m = y == c
        name = class_names[int(c)] if class_names is not None else str(c)
        ax.scatter(p[m, 0], p[m, 1], s=s, color=cmap(i % cmap.N), label=name, alpha=0.8)
    ax.legend(markerscale=2, fontsize=7, loc="best")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def bar_table(names: Sequence[str], values: Sequence[float], *, ax=None, title: str = "", ylabel: str = "",
              log: bool = False, fmt: str = "{:.3g}") -> Figure:
    """Bar chart with each bar's value written above it (for measured comparisons)."""
    if len(names) != len(values):
        raise ValueError(f"got {len(names)} names but {len(values)} values")
    fig, ax = _new_ax(ax, figsize=(max(4, 0.9 * len(names)), 3.5))
    bars = ax.bar(list(map(str, names)), list(values), color="tab:blue")
    for b, v in zip(bars, values):
        ax.annotate(fmt.format(v), (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=30)
    return fig
