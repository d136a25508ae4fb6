"""The ground of :mod:`dlcourse.plotting`: detached figures, the one-axes / several-panels helpers.

Jupyter's inline backend shows every open pyplot figure at the end of a cell, so a pyplot
figure that is also the cell's value would be drawn twice. The figures made here are
*detached* from pyplot: drawn once, when they are the cell's value or passed to ``display``;
``fig.savefig`` works as usual.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from .._core import to_numpy

__all__ = ["subplots", "figure"]


def subplots(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` for a figure detached from pyplot (shown once in a notebook; see the module doc)."""
    fig, axes = plt.subplots(*args, **kwargs)
    plt.close(fig)
    return fig, axes


def figure(**kwargs: Any) -> Figure:
    """``plt.figure`` detached from pyplot (shown once in a notebook; see the module doc)."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def new_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(ax.figure, ax)`` when an Axes is given, else a new detached constrained-layout figure and its Axes."""
    if ax is None:
        return subplots(figsize=figsize, layout="constrained")
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (or None for a new figure), got {type(ax).__name__}")
    return ax.figure, ax


def new_fig(fig: Figure | SubFigure | None, figsize: tuple[float, float]) -> Figure | SubFigure:
    """A multi-panel plot's canvas: ``fig`` (a Figure or a SubFigure, cleared when it is a Figure) or a new
    detached constrained-layout figure."""
    if fig is None:
        return figure(figsize=figsize, layout="constrained")
    if isinstance(fig, Figure):
        fig.clear()
        return fig
    if isinstance(fig, SubFigure):
        return fig
    raise TypeError(f"fig must be a matplotlib Figure or SubFigure (or None for a new figure), got {type(fig).__name__}")


def require(obj: Any, attrs: Sequence[str], what: str, name: str) -> None:
    """``TypeError`` unless ``obj`` has every attribute of ``attrs`` (the result of a compute function).

    ``what`` names the expected object and where it comes from, e.g. ``"a FieldMap (from
    rf_explorer.stacked_field_map)"``; the plots never import the topic modules (they sit below them).
    """
    if not all(hasattr(obj, a) for a in attrs):
        raise TypeError(f"{name} must be {what}, got {type(obj).__name__}")


def as_array(x: Any) -> np.ndarray:
    """A tensor or array-like as a float32 NumPy array (for drawing)."""
    return np.asarray(to_numpy(x), dtype=np.float32)


def as_array_of_ndim(x: Any, ndim: int, name: str, expected: str) -> np.ndarray:
    """:func:`as_array`, with a ``ValueError`` saying ``expected`` unless the array has ``ndim`` dimensions."""
    arr = as_array(x)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {expected}, got shape {arr.shape}")
    return arr


def show_image(ax: Axes, img: np.ndarray) -> None:
    """Draw ``img: (C, H, W)`` (C in {1, 3}) or ``(H, W)`` scaled to its own [min, max]."""
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)


def draw_box(ax: Axes, box: Sequence[float], color: str = "white", ls: str = "-", lw: float = 1.2) -> None:
    """Outline the pixel box ``(x0, y0, x1, y1)`` (``x1``, ``y1`` exclusive) on an image drawn with imshow."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = (float(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=color, lw=lw, ls=ls))


def bare(ax: Axes) -> None:
    """No ticks, no spines (an image panel whose axes say nothing)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
