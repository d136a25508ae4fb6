"""Plots of heat maps (Grad-CAM, occlusion, saliency, baselines) and of their faithfulness curves.

The maps and curves come from ``dlcourse.viz`` (metrics, baselines) and the lecture's private
methods; here they are only drawn.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from ..lang import tr
from .core import as_array, draw_box, new_ax, new_fig, require, show_image

__all__ = ["plot_heatmaps", "plot_deletion_curves"]


def _unit_range(m: np.ndarray) -> np.ndarray:
    """Each map of ``m: (N, H, W)`` scaled to [0, 1] for display (a constant map becomes 0)."""
    lo = m.reshape(len(m), -1).min(1)[:, None, None]
    hi = m.reshape(len(m), -1).max(1)[:, None, None]
    span = hi - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0)


def plot_heatmaps(images: torch.Tensor | np.ndarray, maps: Mapping[str, torch.Tensor | np.ndarray], *,
                  boxes: Any = None, row_labels: Sequence[str] | None = None, alpha: float = 0.55,
                  cmap: str = "jet", title: str | None = None, size: float = 1.6, other_boxes: Any = None,
                  fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Rows = images, columns = the input then one overlay per method.

    Each map is scaled to [0, 1] for display; the white cross marks its maximum (the
    pointing-game point).

    Args:
        images: ``(N, C, H, W)``.
        maps: ``{method: (N, H, W)}`` (or ``(N, 1, H, W)``) at the images' size.
        boxes: ``(N, 4)`` pixel boxes ``(x0, y0, x1, y1)`` of the object (target): white on the
            overlays, red on the input; or ``None``.
        row_labels: one label per image (default ``image i``).
        alpha: opacity of the overlays.
        cmap: colour map of the overlays.
        title: the figure's title; default ``"Heat maps"`` (in the notebook's language).
        size: inches per panel.
        other_boxes: ``(N, 4)`` a second box per image (e.g. the distractor), dashed cyan.
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: images not ``(N, C, H, W)``, no maps, a map of another size (upsample it
            first), or labels / boxes that do not match the images.
    """
    x = as_array(images)
    if x.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {x.shape}"
                         + (": for one image use .unsqueeze(0)" if x.ndim == 3 else ""))
    n, _, h, w = x.shape
    if not maps:
        raise ValueError("maps is empty: give at least one heat map")
    ms = {}
    for name, m in maps.items():
        mm = as_array(m)
        if mm.ndim == 4 and mm.shape[1] == 1:
            mm = mm[:, 0]
        if mm.shape != (n, h, w):
            raise ValueError(f"maps[{name!r}] must be (N, H, W) = {(n, h, w)}, got {mm.shape}: upsample it")
        if np.isnan(mm).any():
            raise ValueError(f"maps[{name!r}] contains NaN")
        ms[name] = _unit_range(mm)
    if row_labels is not None and len(row_labels) != n:
        raise ValueError(f"got {n} images but {len(row_labels)} row labels")
    bx = {}
    for key, b in (("boxes", boxes), ("other_boxes", other_boxes)):
        if b is not None:
            arr = as_array(b)
            if arr.shape != (n, 4):
                raise ValueError(f"{key} must be (N, 4) = ({n}, 4) boxes (x0, y0, x1, y1), got shape {arr.shape}")
            bx[key] = arr
    ncols = 1 + len(ms)
    fig = new_fig(fig, (size * ncols + 0.6, size * n + 0.6))
    axes = fig.subplots(n, ncols, squeeze=False)
    for i in range(n):
        show_image(axes[i, 0], x[i])
        if "boxes" in bx:
            draw_box(axes[i, 0], bx["boxes"][i], "red")
        if "other_boxes" in bx:
            draw_box(axes[i, 0], bx["other_boxes"][i], "cyan", "--")
        axes[i, 0].set_ylabel(row_labels[i] if row_labels is not None else tr("image {i}", i=i), fontsize=8)
        for j, m in enumerate(ms.values(), start=1):
            ax = axes[i, j]
            show_image(ax, x[i])
            ax.imshow(m[i], cmap=cmap, alpha=alpha, vmin=0, vmax=1)
            yy, xx = np.unravel_index(int(np.argmax(m[i])), m[i].shape)
            ax.plot([xx], [yy], marker="x", color="white", ms=6, mew=2)
            if "boxes" in bx:
                draw_box(ax, bx["boxes"][i])
            if "other_boxes" in bx:
                draw_box(ax, bx["other_boxes"][i], "cyan", "--")
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    for j, name in enumerate(["input", *ms]):
        axes[0, j].set_title(name, fontsize=9)
    fig.supxlabel(tr("x (pixels)"), fontsize=9)
    fig.supylabel(tr("y (pixels)"), fontsize=9)
    fig.suptitle(tr("Heat maps") if title is None else title)
    return fig


def plot_deletion_curves(curves: Mapping[str, Any], *, ax: Axes | None = None,
                         title: str | None = None,
                         xlabel: str | None = None,
                         ylabel: str | None = None) -> Figure:
    """Mean class score against the fraction of pixels deleted (or inserted), one line per method.

    Args:
        curves: ``{method: DeletionCurve}`` from ``viz.deletion_curve`` / ``viz.insertion_curve``;
            the legend gives each curve's AUC.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Deletion curves (lower = more faithful)"`` (in the notebook's language).
        xlabel: the x-axis label; default ``"fraction of pixels deleted (most important first)"`` (in the notebook's language).
        ylabel: the y-axis label; default ``"mean probability of the class"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``curves`` is empty.
        TypeError: a value is not a DeletionCurve.
    """
    if not curves:
        raise ValueError("curves is empty")
    for name, c in curves.items():
        require(c, ("fractions", "mean", "auc"), "a DeletionCurve (from viz.deletion_curve)", f"curves[{name!r}]")
    fig, ax = new_ax(ax, (5.5, 4))
    for name, c in curves.items():
        ax.plot(as_array(c.fractions), as_array(c.mean), marker="o", ms=3, label=f"{name} (AUC {c.auc:.3f})")
    ax.set_xlabel(tr("fraction of pixels deleted (most important first)") if xlabel is None else xlabel)
    ax.set_ylabel(tr("mean probability of the class") if ylabel is None else ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(tr("Deletion curves (lower = more faithful)") if title is None else title)
    return fig
