"""Plots of training and evaluation: learning curves, confusion matrices, bars of measured values."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from .._core import check_bool, to_numpy
from ..lang import tr
from .core import new_ax, new_fig

__all__ = ["plot_history", "plot_confusion_matrix", "plot_bars"]


def plot_history(history: Any, metrics: Sequence[Sequence[str]] = (("train_loss", "val_loss"), ("train_acc", "val_acc")),
                 title: str | None = None, *, fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Draw learning curves, one panel per group of metrics.

    Args:
        history: a ``training.History`` (``keys()`` and ``records``) or a mapping ``{metric: [value per epoch]}``.
        metrics: groups of metric names drawn in one panel each; groups with no key in the
            history are skipped.
        title: the figure's title; default ``"Learning curves"`` (in the notebook's language).
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``history`` is neither a ``training.History`` nor a mapping.
        ValueError: none of the metrics is in the history.
    """
    if hasattr(history, "keys") and hasattr(history, "records"):
        data = {k: history[k] for k in history.keys()}
    elif isinstance(history, Mapping):
        data = dict(history)
    else:
        raise TypeError(f"history must be a training.History or a mapping of metric lists, got {type(history).__name__}")
    groups = [[k for k in g if k in data] for g in metrics]
    groups = [g for g in groups if g]
    if not groups:
        raise ValueError(f"none of the metrics {list(metrics)} are in the history (it has {list(data)})")
    fig = new_fig(fig, (4.5 * len(groups), 3.4))
    axes = fig.subplots(1, len(groups), squeeze=False)
    for ax, group in zip(axes[0], groups):
        for key in group:
            ys = data[key]
            ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, label=key)
        ax.set_xlabel(tr("epoch"))
        ax.set_ylabel(tr("loss") if all("loss" in k for k in group) else (tr("accuracy") if all("acc" in k for k in group)
                                                                     else tr("value")))
        ax.set_title(" / ".join(group))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(tr("Learning curves") if title is None else title)
    return fig


def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, *,
                          normalize: str | None = None, ax: Axes | None = None,
                          title: str | None = None) -> Figure:
    """Confusion matrix via scikit-learn (rows: true class, columns: predicted class).

    Args:
        y_true: ``(N,)`` true class indices (tensor, array or list).
        y_pred: ``(N,)`` predicted class indices.
        class_names: names of classes ``0 .. K-1`` (all of them are rows, even when absent).
        normalize: ``None`` (counts), ``"true"``, ``"pred"`` or ``"all"`` as in scikit-learn.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Confusion matrix"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``y_true`` and ``y_pred`` differ in length.
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    y_true, y_pred = to_numpy(y_true).ravel(), to_numpy(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} entries but y_pred has {y_pred.size}")
    labels = np.arange(len(class_names)) if class_names is not None else None
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    fig, ax = new_ax(ax, (5.5, 5))
    ConfusionMatrixDisplay(cm, display_labels=class_names).plot(
        ax=ax, colorbar=False, values_format=".2f" if normalize else "d", cmap="Blues")
    ax.set_title(tr("Confusion matrix") if title is None else title)
    ax.set_xlabel(tr("predicted class"))
    ax.set_ylabel(tr("true class"))
    return fig


def plot_bars(names: Sequence[Any], values: Sequence[float], *, ax: Axes | None = None, title: str = "",
              ylabel: str = "", log: bool = False, fmt: str = "{:.3g}") -> Figure:
    """Bar chart with each bar's value written above it (for measured comparisons).

    Args:
        names: one label per bar.
        values: one number per bar (the height, written with ``fmt``).
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title.
        ylabel: the y-axis label (say the unit).
        log: a logarithmic y axis.
        fmt: ``str.format`` pattern of the numbers written above the bars.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``names`` and ``values`` differ in length.
    """
    if len(names) != len(values):
        raise ValueError(f"got {len(names)} names but {len(values)} values")
    log = check_bool(log, "log")
    fig, ax = new_ax(ax, (max(4, 0.9 * len(names)), 3.5))
    bars = ax.bar(list(map(str, names)), list(values), color="tab:blue")
    for b, v in zip(bars, values):
        ax.annotate(fmt.format(v), (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=30)
    return fig
