"""An interactive receptive-field and output-size explorer for a stack of identical convolutions.

Everything shown is *measured* by building the layers and running them (DESIGN.md rule 3:
the analytic formulas are what the lectures derive and assignment 1 asks students to write):

* output sizes: a zero image of the chosen size goes through the stack layer by layer and the
  shapes are read; a layer whose output would be empty is reported with PyTorch's own error;
* receptive field: the gradient of the centre output unit with respect to the input of a
  large canvas; the non-zero region is the field and its bounding box its size.

:func:`draw_explorer` draws the figure for given settings (works anywhere, e.g. in FAST mode
or in a rendered notebook); :class:`Explorer` puts sliders in front of it (ipywidgets) and
redraws on every change; :func:`explorer` picks one or the other.
"""
from __future__ import annotations

import base64
import io
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from . import config, plotting

__all__ = [
    "ExplorerSettings",
    "StackMeasurement",
    "conv_stack",
    "gradient_map",
    "measure_stack",
    "draw_explorer",
    "Explorer",
    "explorer",
    "FieldMap",
    "stacked_field_map",
    "plot_field_map",
    "FieldPyramid",
    "field_pyramid",
    "plot_field_pyramid",
    "stack_pattern_tokens",
    "plot_stack_pattern",
]

#: slider ranges of the live explorer: name -> (min, max)
SLIDER_RANGES: dict[str, tuple[int, int]] = {
    "kernel_size": (1, 7),
    "stride": (1, 3),
    "padding": (0, 3),
    "dilation": (1, 3),
    "depth": (1, 6),
    "input_size": (4, 64),
}

_MIN_CANVAS = 64
_MAX_CANVAS = 1024


@dataclass(frozen=True)
class ExplorerSettings:
    """One stack: ``depth`` convolutions ``Conv2d(k, stride, padding, dilation)``, each optionally
    followed by a 2x2 pooling with stride 2, applied to a square ``input_size`` image."""

    kernel_size: int = 3
    stride: int = 1
    padding: int = 1
    dilation: int = 1
    depth: int = 3
    pool: bool = False
    input_size: int = 32

    def __post_init__(self) -> None:
        lows = {"kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1, "depth": 1, "input_size": 1}
        for name, low in lows.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
        if self.depth > 12:
            raise ValueError(f"depth must be at most 12 (the explorer measures on a canvas of at most "
                             f"{_MAX_CANVAS} px), got {self.depth}")
        if not isinstance(self.pool, (bool, np.bool_)):
            raise TypeError(f"pool must be a bool, got {type(self.pool).__name__}")

    def label(self) -> str:
        """Short description, e.g. ``3 x conv 3x3 s1 p1 d1 + pool 2/2``."""
        s = f"{self.depth} x conv {self.kernel_size}x{self.kernel_size} s{self.stride} p{self.padding} d{self.dilation}"
        return s + (" + max-pool 2/2" if self.pool else "")


@dataclass
class StackMeasurement:
    """What :func:`measure_stack` measured for one :class:`ExplorerSettings`.

    Attributes:
        sizes: spatial side after the input and after every layer, measured on an
            ``input_size`` image: ``[input_size, after layer 1, ...]``; it stops at the first
            layer whose output is empty.
        layer_names: names of the layers matching ``sizes[1:]`` (``conv1``, ``pool1``, ...).
        error: PyTorch's message when a layer cannot run (output would be empty), else ``None``.
        receptive_fields: measured field side after each layer (conv and pool),
            ``[1, after layer 1, ...]``, measured even where ``input_size`` is too small; it
            stops early when a field outgrows the largest canvas (then ``cut`` is True).
        grad: ``(H, W)`` gradient magnitude of the centre output unit on the canvas (CPU).
        canvas: side of the square canvas the field was measured on.
        cut: True when the last field touches the canvas border (it is at least as large as
            shown) or later layers could not be measured.
    """

    settings: ExplorerSettings
    sizes: list[int]
    layer_names: list[str]
    error: str | None
    receptive_fields: list[int]
    grad: torch.Tensor
    canvas: int
    cut: bool = False
    field_box: tuple[int, int, int, int] = field(default=(0, 0, 0, 0))  # y0, x0, y1, x1 (exclusive)

    @property
    def receptive_field(self) -> int:
        """Side of the measured receptive field of one output unit of the whole stack."""
        return self.receptive_fields[-1]

    @property
    def output_size(self) -> int | None:
        """Side of the output on an ``input_size`` image, ``None`` when some layer cannot run."""
        return None if self.error else self.sizes[-1]


def conv_stack(settings: ExplorerSettings, *, channels: int = 1, pool: str = "max",
               ones: bool = False) -> nn.Sequential:
    """Build the stack of ``settings``: ``depth`` x (``Conv2d`` [+ ``MaxPool2d(2, 2)``]).

    Args:
        channels: input and output channels of every convolution.
        pool: ``"max"`` or ``"avg"``: the pooling layer (same window, so same shapes and field;
            an average pool passes the gradient to every pixel of its window).
        ones: set every conv weight to 1 and drop biases, so that the gradient of one output
            unit counts the paths from each input pixel (no cancellation, no randomness).

    Returns:
        ``nn.Sequential`` mapping ``(N, channels, H, W)`` to ``(N, channels, H', W')``.
    """
    if not isinstance(settings, ExplorerSettings):
        raise TypeError(f"settings must be an ExplorerSettings, got {type(settings).__name__}")
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    layers: dict[str, nn.Module] = {}
    for i in range(1, settings.depth + 1):
        conv = nn.Conv2d(channels, channels, settings.kernel_size, stride=settings.stride,
                         padding=settings.padding, dilation=settings.dilation, bias=not ones)
        if ones:
            with torch.no_grad():
                conv.weight.fill_(1.0)
        layers[f"conv{i}"] = conv
        if settings.pool:
            layers[f"pool{i}"] = nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2)
    return nn.Sequential(OrderedDict(layers))


def gradient_map(model: nn.Module, input_shape: tuple[int, int, int], *,
                 position: tuple[int, int] | None = None) -> torch.Tensor:
    """``|d out[0, 0, y, x] / d input|`` summed over input channels, for one output unit.

    Args:
        model: maps ``(1, C, H, W)`` to ``(1, C', H', W')`` (runs on its own device).
        input_shape: ``(C, H, W)`` of the input (a constant image of ones: the map of a linear
            stack does not depend on it).
        position: output unit ``(y, x)``; default the centre of the output map.

    Returns:
        ``(H, W)`` float tensor on the CPU; non-zero exactly where the unit looks.

    Raises:
        ValueError: if the model cannot run on that input (an empty output) or does not
            return ``(N, C, H, W)`` feature maps.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {input_shape}")
    params = list(model.parameters())
    dev = params[0].device if params else torch.device("cpu")
    x = torch.ones((1, *shape), device=dev, requires_grad=True)
    was_training = model.training
    model.eval()
    try:
        out = model(x)
    except RuntimeError as e:
        raise ValueError(f"the stack cannot run on a {shape[1]}x{shape[2]} input: {e}") from None
    finally:
        model.train(was_training)
    if out.ndim != 4:
        raise ValueError(f"the model must return (N, C, H, W) feature maps, got shape {tuple(out.shape)}")
    y, xx = position if position is not None else (out.shape[2] // 2, out.shape[3] // 2)
    if not (0 <= y < out.shape[2] and 0 <= xx < out.shape[3]):
        raise ValueError(f"unit (y={y}, x={xx}) is outside the {out.shape[2]}x{out.shape[3]} output")
    (grad,) = torch.autograd.grad(out[0, 0, y, xx], x)
    return grad[0].abs().sum(0).detach().cpu()


def _support_box(grad: torch.Tensor) -> tuple[int, int, int, int] | None:
    ys, xs = torch.nonzero(grad > 0, as_tuple=True)
    if ys.numel() == 0:
        return None
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def _measure_field(model: nn.Module, what: str) -> tuple[torch.Tensor, int, bool, tuple[int, int, int, int]] | None:
    """Gradient map of ``model`` on the smallest canvas (64, 128, ... px) that holds its field;
    ``None`` when the output is empty even on the largest canvas."""
    canvas = _MIN_CANVAS
    while True:
        try:
            grad = gradient_map(model, (1, canvas, canvas))
        except ValueError:
            grad = None  # output empty on this canvas: grow it
        if grad is not None:
            box = _support_box(grad)
            if box is None:
                raise ValueError(f"{what}: the centre unit does not depend on the input")
            touches = box[0] == 0 or box[1] == 0 or box[2] == canvas or box[3] == canvas
            if not touches:
                return grad, canvas, False, box
        if canvas >= _MAX_CANVAS:
            if grad is None:
                return None
            return grad, canvas, True, box
        canvas *= 2


def measure_stack(settings: ExplorerSettings) -> StackMeasurement:
    """Measure output sizes (on ``settings.input_size``) and receptive fields of the stack.

    Output sizes come from running a ``(1, 1, S, S)`` zero image through the layers one by one;
    receptive fields from :func:`gradient_map` of every prefix of the stack (weights set to 1,
    average pooling in place of max pooling: same windows, every path visible) on a canvas
    grown from 64 to at most 1024 px until the field no longer touches its border.
    """
    if not isinstance(settings, ExplorerSettings):
        raise TypeError(f"settings must be an ExplorerSettings, got {type(settings).__name__}")
    model = conv_stack(settings)
    x = torch.zeros(1, 1, settings.input_size, settings.input_size)
    sizes, names, error = [settings.input_size], [], None
    with torch.no_grad():
        for name, layer in model.named_children():
            try:
                x = layer(x)
            except RuntimeError as e:
                error = f"{name} cannot run on a {x.shape[-2]}x{x.shape[-1]} input: {str(e).splitlines()[0]}"
                break
            sizes.append(int(x.shape[-1]))
            names.append(name)
    probe = conv_stack(settings, pool="avg", ones=True)
    fields = [1]
    grad, canvas, cut, box = torch.ones(1, 1), 1, False, (0, 0, 1, 1)
    for i in range(1, len(probe) + 1):
        found = _measure_field(probe[:i], settings.label())
        if found is None:  # the field outgrew the largest canvas: stop measuring
            cut = True
            break
        grad, canvas, cut, box = found
        fields.append(max(box[2] - box[0], box[3] - box[1]))
    return StackMeasurement(settings, sizes, names, error, fields, grad, canvas, cut, box)


def draw_explorer(settings: ExplorerSettings | None = None, *, fig: Figure | None = None, **kwargs) -> Figure:
    """Draw the explorer's figure for ``settings`` (or keyword arguments of :class:`ExplorerSettings`).

    Left: the input pixels one centre output unit sees (gradient magnitude, i.e. the number of
    paths from each pixel), with the field's bounding box and the chosen input image outlined.
    Right: the measured output side and receptive field after every layer.

    Returns the Figure (never calls ``plt.show()``).
    """
    if settings is None:
        settings = ExplorerSettings(**kwargs)
    elif kwargs:
        settings = replace(settings, **kwargs)
    if not isinstance(settings, ExplorerSettings):
        raise TypeError(f"settings must be an ExplorerSettings, got {type(settings).__name__}")
    m = measure_stack(settings)
    if fig is None:
        fig = plotting.figure(figsize=(10, 4.2), layout="constrained")
    else:
        fig.clear()
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
                               label=f"field {m.receptive_field}x{m.receptive_field}"))
    s = settings.input_size
    ax_map.add_patch(Rectangle((cx - s / 2 - 0.5, cy - s / 2 - 0.5), s, s, fill=False, ec="white", ls="--", lw=1,
                               label=f"a {s}x{s} input, for scale"))
    ax_map.legend(loc="lower left", fontsize=7, framealpha=0.7)
    cut = " (cut by the canvas: at least)" if m.cut else ""
    ax_map.set_title(f"What one output unit sees: {m.receptive_field}x{m.receptive_field} px{cut}", fontsize=10)
    ax_map.set_xlabel("x (input pixels)")
    ax_map.set_ylabel("y (input pixels)")

    # right panel: sizes layer by layer
    steps = list(range(len(m.sizes)))
    ax_sizes.plot(steps, m.sizes, marker="o", label=f"output side on a {s}x{s} input")
    rf_x = list(range(len(m.receptive_fields)))
    ax_sizes.plot(rf_x, m.receptive_fields, marker="s", label="receptive field (measured)")
    for xi, yi in zip(steps, m.sizes):
        ax_sizes.annotate(str(yi), (xi, yi), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    for xi, yi in zip(rf_x, m.receptive_fields):
        ax_sizes.annotate(str(yi), (xi, yi), textcoords="offset points", xytext=(0, -11), ha="center", fontsize=7,
                          color="tab:orange")
    names = ["input", *_all_layer_names(settings)]
    ax_sizes.set_xticks(range(len(names)), names, rotation=45, fontsize=8)
    if m.error:
        ax_sizes.axvline(len(m.sizes) - 0.5, color="tab:red", ls=":")
        ax_sizes.text(len(m.sizes) - 0.4, max(m.sizes) * 0.5, "output empty:\nPyTorch raises", color="tab:red",
                      fontsize=8)
        verdict = f"input {s} px: {names[len(m.sizes)]} cannot run"
    else:
        verdict = f"input {s} px -> output {m.output_size} px"
    ax_sizes.set_title(verdict, fontsize=10)
    ax_sizes.set_xlabel("layer")
    ax_sizes.set_ylabel("pixels")
    ax_sizes.grid(alpha=0.3)
    ax_sizes.legend(fontsize=8, loc="best")
    fig.suptitle(settings.label())
    return fig


def _all_layer_names(settings: ExplorerSettings) -> list[str]:
    names = []
    for i in range(1, settings.depth + 1):
        names.append(f"conv{i}")
        if settings.pool:
            names.append(f"pool{i}")
    return names


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


class Explorer:
    """Sliders (kernel size, stride, padding, dilation, depth, input size, pooling) in front of
    :func:`draw_explorer`; the figure is redrawn on every change.

    Displayed in a notebook it is the live widget; viewers without a live kernel (a rendered
    notebook, GitHub) get a PNG of the current figure from the same display bundle.
    """

    def __init__(self, settings: ExplorerSettings | None = None, **kwargs):
        import ipywidgets as W

        self.settings = settings or ExplorerSettings(**kwargs)
        self.controls: dict[str, W.ValueWidget] = {}
        for name, (lo, hi) in SLIDER_RANGES.items():
            value = getattr(self.settings, name)
            self.controls[name] = W.IntSlider(value=int(value), min=lo, max=max(hi, int(value)), description=name,
                                              continuous_update=False, style={"description_width": "80px"})
        self.controls["pool"] = W.Checkbox(value=bool(self.settings.pool), description="max-pool 2/2 after each conv")
        self.output = W.Output()
        self.status = W.HTML()
        for ctl in self.controls.values():
            ctl.observe(self._on_change, names="value")
        sliders = list(self.controls.values())
        self.widget = W.VBox([W.HBox([W.VBox(sliders[:4]), W.VBox(sliders[4:])]), self.status, self.output])
        self._png = b""
        self.redraw()

    def _on_change(self, _change=None) -> None:
        values = {name: ctl.value for name, ctl in self.controls.items()}
        try:
            self.settings = ExplorerSettings(**values)
        except (TypeError, ValueError) as e:
            self.status.value = f"<span style='color:#b00'>{e}</span>"
            return
        self.redraw()

    def redraw(self) -> None:
        """Measure and redraw the figure for the current settings."""
        from IPython.display import display

        fig = draw_explorer(self.settings)
        self._png = _figure_png(fig)
        self.status.value = ""
        with self.output:
            self.output.clear_output(wait=True)
            display(fig)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["image/png"] = base64.b64encode(self._png).decode("ascii")
        bundle["text/plain"] = f"Explorer({self.settings.label()}, input {self.settings.input_size} px)"
        return bundle

    def __repr__(self) -> str:
        return f"Explorer({asdict(self.settings)})"


def _live_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def explorer(settings: ExplorerSettings | None = None, *, static: bool | None = None, **kwargs) -> Explorer | Figure:
    """The live :class:`Explorer` in a notebook kernel; a static :func:`draw_explorer` figure
    in FAST mode, outside a kernel, without ipywidgets, or when ``static=True``.

    The static figure is closed in pyplot (so the inline backend does not show it a second
    time); it still renders through its own display and ``savefig``.
    """
    settings = settings or ExplorerSettings(**kwargs)
    if static is None:
        static = config.fast_mode() or not _live_kernel()
    if not static:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            static = True
    if not static:
        return Explorer(settings)
    return draw_explorer(settings)  # detached from pyplot: a notebook shows it once, as the cell's value


# --------------------------------------------------------------------------- static receptive-field figures
@dataclass
class FieldMap:
    """The input pixels that reach one output unit of a stack of identical convolutions.

    Attributes:
        settings: the stack (``ExplorerSettings``; ``input_size`` is the side of the map).
        grad: ``(H, W)`` gradient of the centre output unit with respect to the input, with every
            weight set to 1: the number of paths from each pixel to the unit (0 outside the field).
        field: ``(height, width)`` of the bounding box of the non-zero gradient, in pixels.
    """

    settings: ExplorerSettings
    grad: torch.Tensor
    field: tuple[int, int]


def stacked_field_map(depth: int, kernel_size: int = 3, *, dilation: int = 1, size: int | None = None) -> FieldMap:
    """Measure the field of ``depth`` stacked ``kernel_size`` convolutions (stride 1, "same" padding).

    Args:
        depth: number of convolutions (>= 1).
        kernel_size: odd kernel side.
        dilation: dilation of every convolution.
        size: side of the input map; default just large enough to hold the field with a margin of 2.

    Returns:
        a :class:`FieldMap` measured with :func:`gradient_map` (weights 1, no bias).

    Raises:
        ValueError: an even kernel (no symmetric "same" padding) or a bad size.
    """
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd positive int, got {kernel_size!r}")
    settings = ExplorerSettings(kernel_size=kernel_size, stride=1, padding=(kernel_size - 1) // 2 * dilation,
                                dilation=dilation, depth=depth, input_size=size or 1)
    stack = conv_stack(settings, ones=True)
    grow = size is None
    side = size if size is not None else 5
    while True:  # measured, not computed: grow the map until the field no longer touches its border
        grad = gradient_map(stack, (1, side, side))
        box = _support_box(grad)
        if box is None:
            raise ValueError("the centre unit does not depend on the input")
        touches = box[0] == 0 or box[1] == 0 or box[2] == side or box[3] == side
        if not grow or not touches or side >= _MAX_CANVAS:
            break
        side += 2
    if grow:  # a margin of two pixels around the field
        side += 4
        settings = replace(settings, input_size=side)
        grad = gradient_map(stack, (1, side, side))
        box = _support_box(grad)
    return FieldMap(settings, grad, (box[2] - box[0], box[3] - box[1]))


def plot_field_map(fmap: FieldMap, *, ax=None, title: str | None = None, annotate: bool = True) -> Figure:
    """Draw a :class:`FieldMap`: path counts as colours (and numbers), the field's box in cyan.

    Args:
        fmap: from :func:`stacked_field_map`.
        ax: axes to draw into (default: a new figure).
        title: default ``"<depth> x conv <k>x<k>: field <h>x<w>"``.
        annotate: write the number of paths in every pixel of the field.
    """
    if not isinstance(fmap, FieldMap):
        raise TypeError(f"fmap must be a FieldMap (from stacked_field_map), got {type(fmap).__name__}")
    if ax is None:
        fig, ax = plotting.subplots(figsize=(3.8, 3.6), layout="constrained")
    else:
        fig = ax.figure
    g = fmap.grad.numpy()
    ax.imshow(g, cmap="magma", vmin=0, vmax=max(float(g.max()), 1e-12), interpolation="nearest")
    box = _support_box(fmap.grad)
    y0, x0, y1, x1 = box
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="tab:cyan", lw=2))
    if annotate:
        top = float(g.max())
        for y in range(g.shape[0]):
            for x in range(g.shape[1]):
                if g[y, x] > 0:
                    ax.text(x, y, f"{g[y, x]:.0f}", ha="center", va="center", fontsize=6,
                            color="white" if g[y, x] < top / 2 else "black")
    s = fmap.settings
    ax.set_title(title or f"{s.depth} x conv {s.kernel_size}x{s.kernel_size}: field {fmap.field[0]}x{fmap.field[1]}",
                 fontsize=10)
    ax.set_xlabel("x (input pixels)")
    ax.set_ylabel("y (input pixels)")
    return fig


@dataclass
class FieldPyramid:
    """Which units of every layer of a 1-D stack reach one unit of the top layer.

    Attributes:
        kernel_size, dilation: of every convolution (stride 1, "same" padding).
        reach: one boolean array per level, input first, top layer last, each of length ``width``:
            True where the unit's value changes the top unit (measured by gradients).
        counts: ``reach[i].sum()`` per level: the field of the top unit on that level.
    """

    kernel_size: int
    dilation: int
    reach: list[np.ndarray]

    @property
    def counts(self) -> list[int]:
        return [int(r.sum()) for r in self.reach]


def field_pyramid(depth: int = 3, kernel_size: int = 3, *, dilation: int = 1, width: int | None = None) -> FieldPyramid:
    """Measure, level by level, the units that reach the centre unit of the last of ``depth`` convolutions.

    A 1-D stack of ``nn.Conv1d(1, 1, kernel_size, padding="same")`` with weights 1 runs on a row of
    ``width`` ones; the gradient of the top centre unit with respect to every intermediate
    activation (kept with ``retain_grad``) marks the units that reach it.
    """
    for name, value, low in (("depth", depth, 1), ("kernel_size", kernel_size, 1), ("dilation", dilation, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a symmetric 'same' padding), got {kernel_size}")
    if width is None:  # measured: the smallest odd row whose ends the top unit does not reach, plus a margin
        width = 3
        while True:
            reach = _pyramid_reach(depth, kernel_size, dilation, width)[0]
            if not (reach[:dilation].any() or reach[-dilation:].any()) or width >= _MAX_CANVAS:  # holes < dilation
                break
            width += 2
        width += 2
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    return FieldPyramid(kernel_size, dilation, _pyramid_reach(depth, kernel_size, dilation, width))


def _pyramid_reach(depth: int, kernel_size: int, dilation: int, width: int) -> list[np.ndarray]:
    x = torch.ones(1, 1, width, requires_grad=True)
    levels = [x]
    h = x
    for _ in range(depth):
        conv = nn.Conv1d(1, 1, kernel_size, padding=(kernel_size - 1) // 2 * dilation, dilation=dilation, bias=False)
        with torch.no_grad():
            conv.weight.fill_(1.0)
        h = conv(h)
        h.retain_grad()
        levels.append(h)
    h[0, 0, width // 2].backward()
    reach = [(lvl.grad[0, 0] != 0).numpy() for lvl in levels[:-1]]
    top = np.zeros(width, dtype=bool)
    top[width // 2] = True
    return [*reach, top]


def plot_field_pyramid(pyramid: FieldPyramid, *, ax=None, title: str | None = None) -> Figure:
    """Draw a :class:`FieldPyramid`: one row of cells per level (input at the bottom), the cells that
    reach the top unit filled, and each reaching cell joined to the cells of the level below it reads."""
    if not isinstance(pyramid, FieldPyramid):
        raise TypeError(f"pyramid must be a FieldPyramid (from field_pyramid), got {type(pyramid).__name__}")
    width = len(pyramid.reach[0])
    levels = len(pyramid.reach)
    if ax is None:
        fig, ax = plotting.subplots(figsize=(max(5.0, 0.42 * width), 0.9 * levels + 0.8), layout="constrained")
    else:
        fig = ax.figure
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
        name = "input" if lvl == 0 else f"layer {lvl}"
        ax.text(-1.0, lvl, name, ha="right", va="center", fontsize=9)
        ax.text(width, lvl, f"{int(reach.sum())} unit{'s' if reach.sum() != 1 else ''}", ha="left", va="center",
                fontsize=9, color="tab:blue" if lvl < levels - 1 else "tab:orange")
    ax.set_xlim(-4.5, width + 2.5)
    ax.set_ylim(-0.7, levels - 0.3)
    ax.axis("off")
    k, d = pyramid.kernel_size, pyramid.dilation
    ax.set_title(title or f"{levels - 1} stacked convolutions of size {k}" + (f", dilation {d}" if d > 1 else "")
                 + f": the top unit sees {pyramid.counts[0]} input pixels", fontsize=10)
    return fig


# --------------------------------------------------------------------------- the stack pattern as a picture
_PATTERN_COLORS = {"INPUT": "#e0e0e0", "CONV": "#8ecae6", "RELU": "#b7e4a0", "POOL": "#ffb703", "FC": "#f4978e"}


def stack_pattern_tokens(n: int, m: int, k: int, *, pool: bool = True) -> list[tuple[str, str]]:
    """The layers of ``INPUT -> [(CONV -> RELU)*n -> POOL?]*m -> (FC -> RELU)*k -> FC`` in order.

    Returns:
        ``(kind, group)`` pairs: kind in ``INPUT, CONV, RELU, POOL, FC``; group ``"input"``,
        ``"stage i"`` (1-based), ``"hidden"`` or ``"output"``.

    Raises:
        TypeError: a count is not an int. ValueError: ``n`` outside 0..3 or negative ``m``/``k``.
    """
    for name, value in (("n", n), ("m", m), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if not 0 <= n <= 3:
        raise ValueError(f"n must be between 0 and 3 (the notes' rule), got {n}")
    if m < 0 or k < 0:
        raise ValueError(f"m and k must be >= 0, got m={m}, k={k}")
    tokens = [("INPUT", "input")]
    for stage in range(1, m + 1):
        for _ in range(n):
            tokens += [("CONV", f"stage {stage}"), ("RELU", f"stage {stage}")]
        if pool:
            tokens.append(("POOL", f"stage {stage}"))
    for _ in range(k):
        tokens += [("FC", "hidden"), ("RELU", "hidden")]
    return tokens + [("FC", "output")]


def plot_stack_pattern(n: int, m: int, k: int, *, pool: bool = True, ax=None, title: str | None = None) -> Figure:
    """Draw the pattern expanded for ``(n, m, k)``: one box per layer, a bracket per stage
    (``(CONV → RELU) × n → POOL``), one for the ``k`` hidden FC layers and the output FC."""
    tokens = stack_pattern_tokens(n, m, k, pool=pool)
    if ax is None:
        fig, ax = plotting.subplots(figsize=(max(6.0, 0.62 * len(tokens) + 1), 2.3), layout="constrained")
    else:
        fig = ax.figure
    for i, (kind, _) in enumerate(tokens):
        ax.add_patch(Rectangle((i - 0.42, 0), 0.84, 1, fc=_PATTERN_COLORS[kind], ec="0.3", lw=0.8))
        ax.text(i, 0.5, kind, rotation=90, ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", (i - 0.42, 0.5), (i - 0.58, 0.5), arrowprops=dict(arrowstyle="->", lw=0.8, color="0.3"))
    groups: dict[str, list[int]] = {}
    for i, (_, group) in enumerate(tokens):
        groups.setdefault(group, []).append(i)
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
            label = "output FC"
        ax.text((lo + hi) / 2, -0.34, label, ha="center", va="top", fontsize=7.5)
    ax.set_xlim(-0.7, len(tokens) - 0.3)
    ax.set_ylim(-0.75, 1.1)
    ax.axis("off")
    ax.set_title(title or f"INPUT → [(CONV→RELU)*n → POOL?]*m → (FC→RELU)*k → FC with n={n}, m={m}, k={k}: "
                 f"{len(tokens) - 1} layers", fontsize=10)
    return fig
