"""Plots of receptive fields and layer patterns, from what ``dlcourse.rf_explorer`` measured.

* :func:`plot_explorer`: the receptive-field explorer's figure for one ``StackMeasurement``;
* :func:`plot_field_map`: the input pixels (and path counts) that reach one output unit;
* :func:`plot_field_pyramid`: level by level, the units of a 1-D stack that reach the top unit;
* :func:`plot_stack_pattern`: ``INPUT -> [(CONV -> RELU)*n -> POOL?]*m -> (FC -> RELU)*k -> FC`` as boxes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from ..lang import tr
from .core import new_ax, new_fig, require

__all__ = ["plot_explorer", "plot_field_map", "plot_field_pyramid", "plot_stack_pattern"]


def plot_explorer(m: object, *, fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Draw the explorer's figure for a ``StackMeasurement`` (``rf_explorer.measure_stack(settings)``).

    Left: the input pixels one centre output unit sees (gradient magnitude, i.e. the number of
    paths from each pixel), with the field's bounding box and the chosen input image outlined.
    Right: the measured output side and receptive field after every layer.

    Args:
        m: what ``rf_explorer.measure_stack`` measured.
        fig: draw into this Figure (cleared) or SubFigure; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``m`` is not a StackMeasurement.
    """
    require(m, ("settings", "sizes", "receptive_fields", "grad", "canvas", "field_box", "error"),
            "a StackMeasurement (from rf_explorer.measure_stack)", "m")
    settings = m.settings
    fig = new_fig(fig, (10, 4.2))
    ax_map, ax_sizes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})

    # left panel: crop the canvas around the field and the input image
    y0, x0, y1, x1 = m.field_box
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    half = max(y1 - y0, x1 - x0, settings.input_size) / 2 + 3
    top, left = max(0, int(np.floor(cy - half))), max(0, int(np.floor(cx - half)))
    bottom, right = min(m.canvas, int(np.ceil(cy + half))), min(m.canvas, int(np.ceil(cx + half)))
    crop = m.grad[top:bottom, left:right].numpy()
    crop = crop / crop.max() if crop.max() > 0 else crop
    ax_map.imshow(crop, cmap="magma", extent=(left - 0.5, right - 0.5, bottom - 0.5, top - 0.5),
                  interpolation="nearest", vmin=0, vmax=1)
    ax_map.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="tab:cyan", lw=1.5,
                               label=tr("field {n}x{n}", n=m.receptive_field)))
    s = settings.input_size
    ax_map.add_patch(Rectangle((cx - s / 2 - 0.5, cy - s / 2 - 0.5), s, s, fill=False, ec="white", ls="--", lw=1,
                               label=tr("a {s}x{s} input, for scale", s=s)))
    ax_map.legend(loc="lower left", fontsize=7, framealpha=0.7)
    cut = tr(" (cut by the canvas: at least)") if m.cut else ""
    ax_map.set_title(tr("What one output unit sees: {n}x{n} px{cut}", n=m.receptive_field, cut=cut), fontsize=10)
    ax_map.set_xlabel(tr("x (input pixels)"))
    ax_map.set_ylabel(tr("y (input pixels)"))

    # right panel: sizes layer by layer
    steps = list(range(len(m.sizes)))
    ax_sizes.plot(steps, m.sizes, marker="o", label=tr("output side on a {s}x{s} input", s=s))
    rf_x = list(range(len(m.receptive_fields)))
    ax_sizes.plot(rf_x, m.receptive_fields, marker="s", label=tr("receptive field (measured)"))
    for xi, yi in zip(steps, m.sizes):
        ax_sizes.annotate(str(yi), (xi, yi), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    for xi, yi in zip(rf_x, m.receptive_fields):
        ax_sizes.annotate(str(yi), (xi, yi), textcoords="offset points", xytext=(0, -11), ha="center", fontsize=7,
                          color="tab:orange")
    names = [tr("input"), *settings.layer_names()]
    ax_sizes.set_xticks(range(len(names)), names, rotation=45, fontsize=8)
    if m.error:
        ax_sizes.axvline(len(m.sizes) - 0.5, color="tab:red", ls=":")
        ax_sizes.text(len(m.sizes) - 0.4, max(m.sizes) * 0.5, tr("output empty:\nPyTorch raises"), color="tab:red",
                      fontsize=8)
        verdict = tr("input {s} px: {layer} cannot run", s=s, layer=names[len(m.sizes)])
    else:
        verdict = tr("input {s} px -> output {out} px", s=s, out=m.output_size)
    ax_sizes.set_title(verdict, fontsize=10)
    ax_sizes.set_xlabel(tr("layer"))
    ax_sizes.set_ylabel(tr("pixels"))
    ax_sizes.grid(alpha=0.3)
    ax_sizes.legend(fontsize=8, loc="best")
    fig.suptitle(settings.label())
    return fig


def plot_field_map(fmap: object, *, ax: Axes | None = None, title: str | None = None, annotate: bool = True) -> Figure:
    """Draw a ``FieldMap`` (``rf_explorer.stacked_field_map``): path counts as colours, the field's box in cyan.

    Args:
        fmap: the measured map.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: default ``"<depth> x conv <k>x<k>: field <h>x<w>"``.
        annotate: write the number of paths in every pixel of the field.

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``fmap`` is not a FieldMap.
    """
    require(fmap, ("settings", "grad", "field", "box"), "a FieldMap (from rf_explorer.stacked_field_map)", "fmap")
    fig, ax = new_ax(ax, (3.8, 3.6))
    g = fmap.grad.numpy()
    ax.imshow(g, cmap="magma", vmin=0, vmax=max(float(g.max()), 1e-12), interpolation="nearest")
    y0, x0, y1, x1 = fmap.box
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="tab:cyan", lw=2))
    if annotate:
        top = float(g.max())
        for y in range(g.shape[0]):
            for x in range(g.shape[1]):
                if g[y, x] > 0:
                    ax.text(x, y, f"{g[y, x]:.0f}", ha="center", va="center", fontsize=6,
                            color="white" if g[y, x] < top / 2 else "black")
    s = fmap.settings
    ax.set_title(title or tr("{depth} x conv {k}x{k}: field {h}x{w}", depth=s.depth, k=s.kernel_size, h=fmap.field[0],
                             w=fmap.field[1]),
                 fontsize=10)
    ax.set_xlabel(tr("x (input pixels)"))
    ax.set_ylabel(tr("y (input pixels)"))
    return fig


def plot_field_pyramid(pyramid: object, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Draw a ``FieldPyramid`` (``rf_explorer.field_pyramid``): one row of cells per level (input at the
    bottom), the cells that reach the top unit filled, each joined to the cells of the level below it reads.

    Args:
        pyramid: the measured pyramid.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: default: the stack and how many input pixels the top unit sees.

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``pyramid`` is not a FieldPyramid.
    """
    require(pyramid, ("kernel_size", "dilation", "reach", "counts"), "a FieldPyramid (from rf_explorer.field_pyramid)",
            "pyramid")
    width = len(pyramid.reach[0])
    levels = len(pyramid.reach)
    fig, ax = new_ax(ax, (max(5.0, 0.42 * width), 0.9 * levels + 0.8))
    half = (pyramid.kernel_size - 1) // 2 * pyramid.dilation
    offsets = [t * pyramid.dilation - half for t in range(pyramid.kernel_size)]
    for lvl in range(levels - 1, 0, -1):  # connections first, under the cells
        for i in np.nonzero(pyramid.reach[lvl])[0]:
            for o in offsets:
                if 0 <= i + o < width:
                    ax.plot([i, i + o], [lvl - 0.3, lvl - 1 + 0.3], color="0.55", lw=0.7, zorder=1)
    for lvl, reach in enumerate(pyramid.reach):
        for i in range(width):
            ax.add_patch(Rectangle((i - 0.4, lvl - 0.3), 0.8, 0.6, zorder=2, ec="0.3", lw=0.6,
                                   fc=("tab:orange" if lvl == levels - 1 else "tab:blue") if reach[i] else "white"))
        name = tr("input") if lvl == 0 else tr("layer {i}", i=lvl)
        ax.text(-1.0, lvl, name, ha="right", va="center", fontsize=9)
        ax.text(width, lvl, (tr("1 unit") if reach.sum() == 1 else tr("{n} units", n=int(reach.sum()))), ha="left", va="center",
                fontsize=9, color="tab:blue" if lvl < levels - 1 else "tab:orange")
    ax.set_xlim(-4.5, width + 2.5)
    ax.set_ylim(-0.7, levels - 0.3)
    ax.axis("off")
    k, d = pyramid.kernel_size, pyramid.dilation
    ax.set_title(title or tr("{n} stacked convolutions of size {k}", n=levels - 1, k=k)
                 + (tr(", dilation {d}", d=d) if d > 1 else "")
                 + tr(": the top unit sees {n} input pixels", n=pyramid.counts[0]), fontsize=10)
    return fig


_PATTERN_COLORS = {"INPUT": "#e0e0e0", "CONV": "#8ecae6", "RELU": "#b7e4a0", "POOL": "#ffb703", "FC": "#f4978e"}


def plot_stack_pattern(tokens: Sequence[tuple[str, str]], *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Draw the layer pattern of ``rf_explorer.stack_pattern_tokens(n, m, k)``: one box per layer, a bracket
    per stage (``(CONV → RELU) × n → POOL``), one for the ``k`` hidden FC layers and the output FC.

    Args:
        tokens: ``(kind, group)`` pairs, input first and the output FC last.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: default: the pattern with the ``n``, ``m``, ``k`` read from the tokens.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``tokens`` does not start with the input and end with the output FC, or has
            an unknown kind.
    """
    tokens = [tuple(t) for t in tokens]
    if len(tokens) < 2 or tokens[0] != ("INPUT", "input") or tokens[-1] != ("FC", "output"):
        raise ValueError("tokens must run from ('INPUT', 'input') to ('FC', 'output'): use "
                         "rf_explorer.stack_pattern_tokens(n, m, k)")
    unknown = sorted({kind for kind, _ in tokens} - set(_PATTERN_COLORS))
    if unknown:
        raise ValueError(f"unknown layer kinds {unknown}; expected {sorted(_PATTERN_COLORS)}")
    groups: dict[str, list[int]] = {}
    for i, (_, group) in enumerate(tokens):
        groups.setdefault(group, []).append(i)
    stages = [g for g in groups if g.startswith("stage")]
    m = len(stages)
    n = sum(1 for kind, g in tokens if kind == "CONV" and g == stages[0]) if stages else 0
    pool = any(kind == "POOL" for kind, _ in tokens)
    k = sum(1 for kind, g in tokens if kind == "FC" and g == "hidden")
    fig, ax = new_ax(ax, (max(6.0, 0.62 * len(tokens) + 1), 2.3))
    for i, (kind, _) in enumerate(tokens):
        ax.add_patch(Rectangle((i - 0.42, 0), 0.84, 1, fc=_PATTERN_COLORS[kind], ec="0.3", lw=0.8))
        ax.text(i, 0.5, kind, rotation=90, ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", (i - 0.42, 0.5), (i - 0.58, 0.5), arrowprops=dict(arrowstyle="->", lw=0.8, color="0.3"))
    for group, idx in groups.items():
        if group == "input":
            continue
        lo, hi = min(idx) - 0.45, max(idx) + 0.45
        ax.plot([lo, lo, hi, hi], [-0.12, -0.25, -0.25, -0.12], color="0.2", lw=1)
        if group.startswith("stage"):
            label = f"{group}: (CONV→RELU)×{n}" + (" → POOL" if pool else "")
        elif group == "hidden":
            label = f"(FC→RELU)×{k}"
        else:
            label = tr("output FC")
        ax.text((lo + hi) / 2, -0.34, label, ha="center", va="top", fontsize=7.5)
    ax.set_xlim(-0.7, len(tokens) - 0.3)
    ax.set_ylim(-0.75, 1.1)
    ax.axis("off")
    ax.set_title(title or tr("INPUT → [(CONV→RELU)*n → POOL?]*m → (FC→RELU)*k → FC with n={n}, m={m}, k={k}: "
                            "{layers} layers", n=n, m=m, k=k, layers=len(tokens) - 1), fontsize=10)
    return fig
