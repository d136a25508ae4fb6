"""Plots of architectures: layer stacks and dataflow graphs measured from the model, and trade-offs.

* :func:`plot_layer_stack` draws the boxes that ``diagrams.layer_stack`` measured (one per leaf
  module, in the order the forward pass calls them);
* :func:`plot_model_graph` lays out and draws the graph ``diagrams.model_graph`` traced with
  torch.fx (a layered, Sugiyama-style layout);
* :func:`plot_tradeoffs`: parameters vs accuracy vs training time of several trained models.

Nothing is measured here: the diagrams cannot disagree with the model because the numbers come
from running it, in :mod:`dlcourse.diagrams`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Patch

from .._core import check_choice, check_int
from ..lang import tr
from .core import new_ax, require

__all__ = ["KIND_COLORS", "plot_layer_stack", "plot_model_graph", "plot_tradeoffs"]


def format_shape(shape: Sequence[int] | None) -> str:
    """``(6, 28, 28)`` -> ``"6×28×28"``; ``()`` or ``None`` -> ``""``."""
    if not shape:
        return ""
    return "×".join(str(int(s)) for s in shape)


#: Fill colour of each kind of layer (the legend of both diagrams).
KIND_COLORS: dict[str, str] = {
    "input": "#e0e0e0",
    "conv": "#8ecae6",
    "pool": "#ffb703",
    "activation": "#b7e4a0",
    "norm": "#cdb4db",
    "dense": "#f4978e",
    "block": "#95d5b2",
    "add": "#ffffff",
    "mul": "#ffffff",
    "cat": "#fff3b0",
    "other": "#d9d9d9",
    "output": "#e0e0e0",
}

_KIND_NAMES = {
    "input": "input", "conv": "convolution", "pool": "pooling", "activation": "activation",
    "norm": "normalization", "dense": "fully connected", "block": "block (drawn as one box)", "add": "addition (+)", "mul": "multiplication (×)", "cat": "concatenation (cat)",
    "other": "other (reshape, dropout, ...)", "output": "output",
}


def _box_height(shape: tuple[int, ...], max_spatial: float) -> float:
    """Relative box height in (0.18, 1]: spatial extent for maps, a short bar for vectors."""
    if len(shape) >= 2:
        spatial = math.sqrt(math.prod(shape[1:])) if len(shape) > 2 else float(shape[-1])
        return 0.3 + 0.7 * math.sqrt(spatial / max_spatial)
    return 0.22


def _legend(ax, kinds: Sequence[str], **kw) -> None:
    handles = [Patch(facecolor=KIND_COLORS[k], edgecolor="0.3", label=_KIND_NAMES[k]) for k in kinds]
    ax.legend(handles=handles, fontsize=7, frameon=False, **kw)


def _arrow(ax, p, q, **kw) -> None:
    style = dict(arrowstyle="-|>", color="0.35", lw=0.9, mutation_scale=8, shrinkA=0, shrinkB=0)
    style.update(kw)
    ax.annotate("", xy=q, xytext=p, arrowprops=style)


def plot_layer_stack(boxes: Sequence[Any], *, title: str | None = None, ax: Axes | None = None,
                     orientation: str = "horizontal", max_per_row: int = 24) -> Figure:
    """Draw a layer stack: one box per layer, its label and measured output shape.

    The boxes come from ``diagrams.layer_stack(model, input_shape)`` (a forward pass with hooks),
    so they are what the model computes. Colour gives the kind (legend); box height follows the
    output's spatial size, so shrinking maps, a flattening and an autoencoder's encoder / latent /
    decoder are visible. A small "⋯" between two boxes marks a functional operation of ``forward``
    (e.g. ``torch.flatten``) that changed the shape without a module.

    Args:
        boxes: the ``StackBox`` list of ``diagrams.layer_stack`` (the input first).
        title: the Axes title; default ``"layer stack for input C×H×W"``.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        orientation: ``"horizontal"`` (left to right, long stacks wrap into rows of
            ``max_per_row`` boxes) or ``"vertical"`` (top to bottom, one row per layer).
        max_per_row: boxes per row in horizontal mode before wrapping (int >= 2).

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``boxes`` is not a list of StackBox.
        ValueError: no boxes, a bad ``orientation`` or ``max_per_row``.
    """
    check_choice(orientation, "orientation", ("horizontal", "vertical"))
    check_int(max_per_row, "max_per_row", min=2)
    if isinstance(boxes, (str, bytes)) or not isinstance(boxes, Sequence):
        raise TypeError(f"boxes must be the list that diagrams.layer_stack(model, input_shape) returns, "
                        f"got {type(boxes).__name__}")
    if not boxes:
        raise ValueError("boxes is empty: measure them with diagrams.layer_stack(model, input_shape)")
    for i, b in enumerate(boxes):
        require(b, ("label", "kind", "input_shape", "output_shape"), "a StackBox (from diagrams.layer_stack)",
                f"boxes[{i}]")
    n = len(boxes)
    max_spatial = max((math.sqrt(math.prod(b.output_shape[1:])) if len(b.output_shape) > 2
                       else float(b.output_shape[-1])) for b in boxes if len(b.output_shape) >= 2) \
        if any(len(b.output_shape) >= 2 for b in boxes) else 1.0
    if title is None:
        title = tr("layer stack for input {shape}", shape=format_shape(boxes[0].output_shape))
    kinds = [k for k in KIND_COLORS if any(b.kind == k for b in boxes)]

    if orientation == "horizontal":
        rows = math.ceil(n / max_per_row)
        per_row = math.ceil(n / rows)
        row_h = 4.6  # data units between rows: a label above (~1.5) and a shape below (~1) each box
        fig, ax = new_ax(ax, (max(6.0, 0.42 * per_row + 1.5), 0.62 * ((rows - 1) * row_h + 5.3) + 0.4))
        for i, b in enumerate(boxes):
            r, c = divmod(i, per_row)
            x0, yc = float(c), -r * row_h
            h = _box_height(b.output_shape, max_spatial)
            ax.add_patch(FancyBboxPatch((x0 - 0.3, yc - h / 2), 0.6, h, boxstyle="round,pad=0.02,rounding_size=0.06",
                                        facecolor=KIND_COLORS[b.kind], edgecolor="0.3", lw=0.8))
            ax.text(x0, yc + 0.62, b.label, rotation=90, ha="center", va="bottom", fontsize=7)
            ax.text(x0, yc - 0.62, format_shape(b.output_shape), rotation=90, ha="center", va="top", fontsize=7,
                    color="0.25")
            if i + 1 < n:
                nxt = boxes[i + 1]
                functional = nxt.input_shape and nxt.input_shape != b.output_shape
                if c + 1 < per_row:
                    _arrow(ax, (x0 + 0.31, yc), (x0 + 0.69, yc))
                    if functional:
                        ax.text(x0 + 0.5, yc + 0.08, "⋯", ha="center", va="bottom", fontsize=8, color="crimson")
                else:
                    ax.text(x0 + 0.5, yc, "↩", ha="center", va="center", fontsize=10, color="0.35")
        ax.set_xlim(-0.8, per_row - 0.2)
        ax.set_ylim(-(rows - 1) * row_h - 2.4, 3.4)
        _legend(ax, kinds, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=min(len(kinds), 4))
    else:
        fig, ax = new_ax(ax, (6.5, 0.36 * n + 1.4))
        for i, b in enumerate(boxes):
            y = -float(i)
            w = 2.2 * _box_height(b.output_shape, max_spatial)
            ax.add_patch(FancyBboxPatch((-w / 2, y - 0.3), w, 0.6, boxstyle="round,pad=0.02,rounding_size=0.06",
                                        facecolor=KIND_COLORS[b.kind], edgecolor="0.3", lw=0.8))
            ax.text(-1.25, y, b.label, ha="right", va="center", fontsize=7.5)
            ax.text(1.25, y, format_shape(b.output_shape), ha="left", va="center", fontsize=7.5, color="0.25")
            if i + 1 < n:
                _arrow(ax, (0, y - 0.31), (0, y - 0.69))
                nxt = boxes[i + 1]
                if nxt.input_shape and nxt.input_shape != b.output_shape:
                    ax.text(0.08, y - 0.5, "⋯", ha="left", va="center", fontsize=8, color="crimson")
        ax.set_xlim(-4.2, 3.4)
        ax.set_ylim(-n + 0.3, 0.8)
        _legend(ax, kinds, loc="lower right", ncols=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return fig


def _layers(graph: Any) -> dict[str, int]:
    """Longest-path layer of every node from the input (nodes are in topological order)."""
    layer: dict[str, int] = {}
    for n in graph.nodes:
        layer[n.name] = 1 + max((layer[i] for i in n.inputs), default=-1)
    return layer


def _positions(graph: Any) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], list[tuple[float, float]]], int, int]:
    """Layered (Sugiyama-style) layout: layers top to bottom, dummy points for long edges, barycentre ordering."""
    layer = _layers(graph)
    depth = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for n in graph.nodes:
        rows[layer[n.name]].append(n.name)
    # dummy vertices for edges that span more than one layer
    chains: dict[tuple[str, str], list[str]] = {}
    preds: dict[str, list[str]] = {n.name: [] for n in graph.nodes}
    for src, dst in graph.edges:
        chain = [src]
        for level in range(layer[src] + 1, layer[dst]):
            d = f"__dummy_{src}_{dst}_{level}"
            rows[level].append(d)
            preds[d] = [chain[-1]]
            chain.append(d)
        preds[dst].append(chain[-1])
        chain.append(dst)
        chains[(src, dst)] = chain
    succs: dict[str, list[str]] = {k: [] for k in preds}
    for k, ps in preds.items():
        for p in ps:
            succs[p].append(k)
    order = {name: float(i) for row in rows for i, name in enumerate(row)}
    for sweep in range(8):  # barycentre heuristic, alternating down and up sweeps
        levels = range(1, depth) if sweep % 2 == 0 else range(depth - 2, -1, -1)
        for level in levels:
            nb = preds if sweep % 2 == 0 else succs
            def key(name, nb=nb):
                ref = nb[name]
                return sum(order[r] for r in ref) / len(ref) if ref else order[name]
            rows[level].sort(key=lambda nm: (key(nm), order[nm]))
            for i, name in enumerate(rows[level]):
                order[name] = float(i)
    # a real node takes a slot of 2.2 units, a dummy (a long edge passing by) a narrow one; rows are centred
    def slot(name: str) -> float:
        return 0.7 if name.startswith("__dummy_") else 2.2

    extents = [sum(slot(nm) for nm in row) for row in rows]
    width = max(extents)
    pos: dict[str, tuple[float, float]] = {}
    for level, row in enumerate(rows):
        x = (width - extents[level]) / 2
        for name in row:
            pos[name] = (x + slot(name) / 2, -level * 1.0)
            x += slot(name)
    paths = {e: [pos[v] for v in chain] for e, chain in chains.items()}
    return pos, paths, width, depth


def plot_model_graph(graph: Any, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw a dataflow graph, the measured shape on every edge.

    Branches run side by side; an addition is a round ``+`` node (ResNet), a concatenation a
    yellow ``cat`` node (DenseNet, Inception), so what combines the branches can be read off
    the drawing, and the shapes on the edges into a ``cat`` add up to the channels out of it.

    Args:
        graph: a ``ModelGraph`` from ``diagrams.model_graph(module, input_shape)`` (traced with torch.fx).
        title: the Axes title; default ``"dataflow graph for input C×H×W"``.
        ax: draw into this Axes; ``None`` makes a new detached figure.

    Returns:
        The figure drawn into.

    Raises:
        TypeError: ``graph`` is not a ModelGraph.
    """
    require(graph, ("nodes", "edges", "kinds"), "a ModelGraph (from diagrams.model_graph)", "graph")
    pos, paths, width, depth = _positions(graph)
    if title is None:
        title = tr("dataflow graph for input {shape}", shape=format_shape(graph.nodes[0].shape))
    fig, ax = new_ax(ax, (max(4.5, 0.9 * width + 1.0), 0.62 * depth + 1.3))
    by_name = {n.name: n for n in graph.nodes}
    half_h = 0.2
    for (src, dst), pts in paths.items():
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        ys[0] -= half_h
        ys[-1] += half_h + 0.02
        ax.plot(xs[:-1], ys[:-1], color="0.35", lw=0.9, zorder=1)
        _arrow(ax, (xs[-2], ys[-2]), (xs[-1], ys[-1]))
    # every edge out of a node carries the same tensor: its shape is written once, just below the node
    for n in graph.nodes:
        if any(src == n.name for src, _ in paths):
            x, y = pos[n.name]
            ax.text(x + 0.08, y - half_h - 0.05, format_shape(n.shape), fontsize=6.5, color="0.2", ha="left",
                    va="top", zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))
    for n in graph.nodes:
        x, y = pos[n.name]
        if n.kind in ("add", "mul"):
            ax.add_patch(Circle((x, y), 0.2, facecolor="white", edgecolor="0.2", lw=1.2, zorder=3))
            ax.text(x, y, n.label, ha="center", va="center", fontsize=12, fontweight="bold", zorder=4)
            continue
        w = 1.9 if n.kind != "cat" else 2.0
        ax.add_patch(FancyBboxPatch((x - w / 2, y - half_h), w, 2 * half_h, boxstyle="round,pad=0.01,rounding_size=0.05",
                                    facecolor=KIND_COLORS[n.kind], edgecolor="0.3", lw=0.8, zorder=3))
        text = n.label if n.kind not in ("input", "output") else f"{n.label} {format_shape(n.shape)}"
        ax.text(x, y, text, ha="center", va="center", fontsize=7, zorder=4,
                fontweight="bold" if n.kind == "cat" else "normal")
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.6)
    ax.set_ylim(-depth + 0.4, 0.5)
    kinds = [k for k in KIND_COLORS if k in graph.kinds() and k not in ("input", "output")]
    _legend(ax, kinds, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=min(len(kinds), 3))
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return fig


def plot_tradeoffs(names: Sequence[str], params: Sequence[float], accuracy: Sequence[float],
                   seconds: Sequence[float], *, ax: Axes | None = None,
                   title: str | None = None) -> Figure:
    """Scatter of accuracy against parameter count (log scale); marker area grows with training time.

    Args:
        names: one label per model (each point is labelled with its name and seconds).
        params: parameter counts (> 0).
        accuracy: test accuracies in [0, 1].
        seconds: training times.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Parameters vs accuracy vs training time"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: nothing to plot, lengths differ, a count <= 0 or an accuracy outside [0, 1].
    """
    n = len(names)
    if n == 0:
        raise ValueError("nothing to plot: names is empty")
    if not (len(params) == len(accuracy) == len(seconds) == n):
        raise ValueError(f"names, params, accuracy and seconds must have the same length; got "
                         f"{n}, {len(params)}, {len(accuracy)}, {len(seconds)}")
    if any(p <= 0 for p in params):
        raise ValueError("params must be positive (log scale)")
    if any(not 0 <= a <= 1 for a in accuracy):
        raise ValueError(f"accuracy must be fractions in [0, 1], got {list(accuracy)}")
    fig, ax = new_ax(ax, (7, 4.5))
    smax = max(max(seconds), 1e-9)
    sizes = [60 + 440 * s / smax for s in seconds]
    sc = ax.scatter(params, [100 * a for a in accuracy], s=sizes, c=list(seconds), cmap="viridis", alpha=0.75,
                    edgecolors="k")
    for name, p, a, s in zip(names, params, accuracy, seconds):
        ax.annotate(f"{name}\n{s:.1f} s", (p, 100 * a), textcoords="offset points", xytext=(8, 4), fontsize=8)
    ax.set_xscale("log")
    ax.margins(x=0.25, y=0.15)
    ax.set_xlabel(tr("parameters (log scale)"))
    ax.set_ylabel(tr("test accuracy (%)"))
    ax.set_title(tr("Parameters vs accuracy vs training time") if title is None else title)
    ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=ax, label=tr("training time (s)"))
    return fig
