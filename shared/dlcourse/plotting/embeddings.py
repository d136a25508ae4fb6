"""Plots of 2-D embeddings (PCA, t-SNE, an autoencoder's codes): points coloured by class."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from .._core import to_numpy
from ..lang import tr
from .core import as_array, new_ax, new_fig

__all__ = ["plot_embedding", "plot_embedding_panels"]


def plot_embedding(points: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, *,
                   class_names: Sequence[str] | None = None, ax: Axes | None = None, title: str | None = None,
                   xlabel: str | None = None, ylabel: str | None = None, s: float = 8) -> Figure:
    """Scatter ``points: (N, 2)`` coloured by integer ``labels: (N,)``.

    Args:
        points: the 2-D coordinates, ``(N, 2)``.
        labels: one class index per point, ``(N,)`` (any shape with ``N`` elements is flattened).
        class_names: ``class_names[c]`` names class ``c`` in the legend (default: the index).
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Embedding"`` (in the notebook's language).
        xlabel: the x-axis label; default ``"dim 1"`` (in the notebook's language).
        ylabel: the y-axis label; default ``"dim 2"`` (in the notebook's language).
        s: marker area.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``points`` is not ``(N, 2)`` or the number of labels differs.
    """
    p = as_array(points)
    y = to_numpy(labels).ravel()
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), got shape {p.shape}")
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"got {p.shape[0]} points but {y.shape[0]} labels")
    fig, ax = new_ax(ax, (5, 4.5))
    classes = np.unique(y)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i, c in enumerate(classes):
        m = y == c
        name = class_names[int(c)] if class_names is not None else str(c)
        ax.scatter(p[m, 0], p[m, 1], s=s, color=cmap(i % cmap.N), label=name, alpha=0.8)
    ax.legend(markerscale=2, fontsize=7, loc="best")
    ax.set_title(tr("Embedding") if title is None else title)
    ax.set_xlabel(tr("dim 1") if xlabel is None else xlabel)
    ax.set_ylabel(tr("dim 2") if ylabel is None else ylabel)
    return fig


def plot_embedding_panels(points: Mapping[str, torch.Tensor | np.ndarray], labels: torch.Tensor | np.ndarray, *,
                          class_names: Sequence[str] | None = None, scores: Mapping[str, str] | None = None,
                          xlabel: str | None = None, ylabel: str | None = None, title: str | None = None,
                          fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Side-by-side :func:`plot_embedding` panels, one per entry of ``points: {name: (N, 2)}``.

    Args:
        points: ``{panel name: (N, 2)}``, all for the same ``labels``.
        labels: ``(N,)`` class indices.
        class_names: names of the classes (legend).
        scores: ``{panel name: text}`` (e.g. a measured k-NN accuracy) written in that panel's title.
        xlabel: the x-axis label of every panel; default ``"dim 1"`` (in the notebook's language).
        ylabel: the y-axis label of every panel; default ``"dim 2"`` (in the notebook's language).
        title: the figure's title; default ``"Embeddings"`` (in the notebook's language).
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``points`` is empty (or see :func:`plot_embedding`).
    """
    if not points:
        raise ValueError("points is empty")
    fig = new_fig(fig, (4.6 * len(points), 4.2))
    axes = fig.subplots(1, len(points), squeeze=False)
    for ax, (name, p) in zip(axes[0], points.items()):
        sub = name if scores is None or name not in scores else f"{name}\n{scores[name]}"
        plot_embedding(p, labels, class_names=class_names, ax=ax, title=sub, xlabel=(tr("dim 1") if xlabel is None else xlabel), ylabel=(tr("dim 2") if ylabel is None else ylabel), s=6)
    fig.suptitle(tr("Embeddings") if title is None else title)
    return fig
