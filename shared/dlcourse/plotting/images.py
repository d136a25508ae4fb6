"""Plots of images and what a CNN makes of them: image grids, feature maps, filters, rows of images."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure, SubFigure

from .._core import check_bool, check_int
from ..lang import tr
from .core import as_array, as_array_of_ndim, bare, new_fig, show_image

__all__ = [
    "plot_image_grid",
    "plot_feature_maps",
    "plot_layer_activations",
    "plot_filters",
    "plot_image_rows",
]


def plot_image_grid(images: torch.Tensor | np.ndarray, labels: Sequence[Any] | None = None, *, ncols: int = 8,
                    title: str | None = None, cmap: str = "gray", normalize: bool = True, size: float = 1.3,
                    vrange: tuple[float, float] | None = None,
                    fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Show ``images: (N, C, H, W)`` (C in {1, 3}) or ``(N, H, W)`` as a grid with optional captions.

    Args:
        images: the images, ``(N, C, H, W)`` with C in {1, 3} or ``(N, H, W)``.
        labels: one caption per image, or ``None``.
        ncols: images per row (at most ``N``).
        title: the figure's title; default ``"Images"`` (in the notebook's language).
        cmap: colour map of one-channel images.
        normalize: stretch each image to its own min..max. With ``False`` a grey image is drawn
            with matplotlib's automatic per-image scale unless ``vrange`` pins one scale.
        size: inches per image.
        vrange: ``(lo, hi)``: one colour scale for every grey image (e.g. ``(0, 1)``, so that a
            dark or half-contrast input looks dark).
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: a bad shape, an empty batch, as many labels as images not given, a bad ``vrange``.
    """
    if vrange is not None and (len(vrange) != 2 or not vrange[0] < vrange[1]):
        raise ValueError(f"vrange must be (lo, hi) with lo < hi, got {vrange!r}")
    normalize = check_bool(normalize, "normalize")
    ncols = check_int(ncols, "ncols", min=1)
    arr = as_array(images)
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
    fig = new_fig(fig, (size * ncols, size * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, squeeze=False)
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
    fig.suptitle(tr("Images") if title is None else title)
    return fig


def plot_feature_maps(maps: torch.Tensor | np.ndarray, *, max_maps: int = 16, ncols: int = 8,
                      title: str | None = None, cmap: str = "viridis",
                      fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Show the channels of one activation ``maps: (C, H, W)`` (or ``(1, C, H, W)``), each on its own scale.

    Args:
        maps: the activation of one image, ``(C, H, W)`` or ``(1, C, H, W)``.
        max_maps: channels shown (the first ones).
        ncols: maps per row.
        title: the figure's title; default ``"Feature maps"`` (in the notebook's language).
        cmap: colour map.
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``maps`` is not ``(C, H, W)`` or ``(1, C, H, W)``.
    """
    a = as_array(maps)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"maps must be (C, H, W) or (1, C, H, W), got shape {a.shape}")
    a = a[:check_int(max_maps, "max_maps", min=1)]
    return plot_image_grid(a[:, None], labels=[f"ch {i}" for i in range(a.shape[0])], ncols=ncols, title=(tr("Feature maps") if title is None else title),
                           cmap=cmap, fig=fig)


def plot_layer_activations(acts: Mapping[str, torch.Tensor], *, max_maps: int = 8, image: torch.Tensor | None = None,
                           title: str | None = None, cmap: str = "viridis", size: float = 1.25,
                           fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """One row per layer with its first ``max_maps`` channels, each map on its own colour scale.

    Args:
        acts: ``{layer name: (1, C, H, W) or (C, H, W)}`` (e.g. what a hook recorded for one image).
        max_maps: channels per row.
        image: ``(C, H, W)`` drawn first in its own row, or ``None``.
        title: the figure's title; default ``"Feature maps per layer"`` (in the notebook's language).
        cmap: colour map.
        size: inches per map.
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into; the row labels give each layer's name and activation shape.

    Raises:
        ValueError: ``acts`` is empty or an activation is not of one image.
    """
    if not acts:
        raise ValueError("acts is empty: capture at least one layer")
    max_maps = check_int(max_maps, "max_maps", min=1)
    rows = []
    for name, a in acts.items():
        a = as_array(a)
        if a.ndim == 4:
            if a.shape[0] != 1:
                raise ValueError(f"{name}: pass the activations of one image, (1, C, H, W); got {a.shape}")
            a = a[0]
        if a.ndim != 3:
            raise ValueError(f"{name}: activations must be (C, H, W) or (1, C, H, W), got shape {a.shape}")
        rows.append((name, a))
    ncols = max(min(max_maps, a.shape[0]) for _, a in rows)
    nrows = len(rows) + (image is not None)
    fig = new_fig(fig, (size * ncols + 1.2, size * nrows + 0.6))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        bare(ax)
    r0 = 0
    if image is not None:
        img = as_array(image)
        show_image(axes[0, 0], img)
        axes[0, 0].set_ylabel(tr("input") + f"\n{tuple(img.shape)}", fontsize=8)
        axes[0, 0].set_title(tr("input"), fontsize=8)
        r0 = 1
    for r, (name, a) in enumerate(rows, start=r0):
        for j in range(min(ncols, a.shape[0])):
            axes[r, j].imshow(a[j], cmap=cmap)
            axes[r, j].set_title(f"ch {j}", fontsize=7)
        axes[r, 0].set_ylabel(f"{name}\n{tuple(a.shape)}", fontsize=8)
    fig.supxlabel(tr("channel (each map: x = width, y = height, own colour scale)"), fontsize=9)
    fig.supylabel(tr("layer (C, H, W)"), fontsize=9)
    fig.suptitle(tr("Feature maps per layer") if title is None else title)
    return fig


def plot_filters(weights: torch.Tensor | np.ndarray | Mapping[str, torch.Tensor | np.ndarray], *,
                 roughness: Mapping[str, float] | None = None, ncols: int = 8, size: float = 0.9,
                 title: str | None = None, fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Conv filters as images: one grid, or grids side by side for ``{label: weight}``.

    RGB filters (``C_in == 3``) are drawn in colour, others as the mean over input channels;
    each filter is scaled to its own [min, max] so its pattern (or its noise) is visible.

    Args:
        weights: ``(C_out, C_in, kH, kW)``, or ``{panel label: (C_out, C_in, kH, kW)}``.
        roughness: ``{panel label: mean roughness}`` (from ``viz.mean_roughness``) written under
            each panel's label (noise-like filters score about 1), or ``None``.
        ncols: filters per row.
        size: inches per filter.
        title: the figure's title; default ``"Filters"`` (in the notebook's language).
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: no weights, or a weight that is not 4-D.
    """
    ncols = check_int(ncols, "ncols", min=1)
    weights = weights if isinstance(weights, Mapping) else {"": weights}
    if not weights:
        raise ValueError("weights is empty")
    panels = [(label, as_array_of_ndim(w, 4, f"{label or 'weights'}: weight", "(C_out, C_in, kH, kW)"))
              for label, w in weights.items()]
    nmax = max(a.shape[0] for _, a in panels)
    ncols = min(ncols, nmax)
    nrows = math.ceil(nmax / ncols)
    fig = new_fig(fig, (len(panels) * (size * ncols + 0.4), size * nrows + 1.0))
    subs = fig.subfigures(1, len(panels), squeeze=False)[0]
    for sub, (label, arr) in zip(subs, panels):
        axes = sub.subplots(nrows, ncols, squeeze=False)
        for i, ax in enumerate(axes.flat):
            bare(ax)
            if i >= arr.shape[0]:
                ax.axis("off")
                continue
            show_image(ax, arr[i] if arr.shape[1] == 3 else arr[i].mean(0, keepdims=True))
        head = label
        if roughness is not None and label in roughness:
            head = f"{label}\n" + tr("roughness {value:.2f} (noise = 1)", value=float(roughness[label]))
        if head:
            sub.suptitle(head, fontsize=9)
        sub.supxlabel(tr("filter (kernel x)"), fontsize=8)
        sub.supylabel(tr("kernel y"), fontsize=8)
    fig.suptitle(tr("Filters") if title is None else title)
    return fig


def plot_image_rows(rows: Mapping[str, torch.Tensor], *, captions: Mapping[str, Sequence[str]] | None = None,
                    title: str | None = None, size: float = 1.3,
                    fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """One row of images per entry (a query and its nearest neighbours, the images that excite one unit most).

    Args:
        rows: ``{row label: (k, C, H, W)}``.
        captions: ``{row label: k captions}`` titling each image, or ``None``.
        title: the figure's title; default ``"Images"`` (in the notebook's language).
        size: inches per image.
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: no rows, a row that is not 4-D, or captions that do not match a row.
    """
    if not rows:
        raise ValueError("rows is empty")
    arrs = {}
    for label, imgs in rows.items():
        a = as_array(imgs)
        if a.ndim != 4:
            raise ValueError(f"rows[{label!r}] must be (k, C, H, W), got shape {a.shape}")
        if captions is not None and label in captions and len(captions[label]) != a.shape[0]:
            raise ValueError(f"captions[{label!r}] has {len(captions[label])} entries for {a.shape[0]} images")
        arrs[label] = a
    ncols = max(a.shape[0] for a in arrs.values())
    fig = new_fig(fig, (size * ncols + 0.8, size * len(arrs) + 0.7))
    axes = fig.subplots(len(arrs), ncols, squeeze=False)
    for r, (label, a) in enumerate(arrs.items()):
        for j in range(ncols):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= a.shape[0]:
                ax.axis("off")
                continue
            show_image(ax, a[j])
            if captions is not None and label in captions:
                ax.set_title(str(captions[label][j]), fontsize=7)
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(tr("Images") if title is None else title)
    return fig
