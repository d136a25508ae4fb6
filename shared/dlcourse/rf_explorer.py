"""The receptive-field explorer: output sizes and receptive fields of a stack of identical convolutions.

Everything shown is *measured* by building the layers and running them (DESIGN.md rule 3:
the analytic formulas are what the lectures derive and assignment 1 asks students to write):

* output sizes: a zero image of the chosen size goes through the stack layer by layer and the
  shapes are read; a layer whose output would be empty is reported with PyTorch's own error;
* receptive field: the gradient of the centre output unit with respect to the input of a
  large canvas; the non-zero region is the field and its bounding box its size.

:func:`measure_stack` measures one stack; ``plotting.plot_explorer`` draws the measurement (works
anywhere, e.g. in FAST mode or in a rendered notebook); :class:`Explorer` puts sliders in front of
it (ipywidgets) and redraws on every change; :func:`explorer` picks one or the other. The static
figures of lectures 1 and 2 are measured here too (:func:`stacked_field_map`, :func:`field_pyramid`,
:func:`stack_pattern_tokens`) and drawn by ``dlcourse.plotting.receptive_fields``.
"""
from __future__ import annotations

import base64
import io
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from . import config
from ._core import check_bool, check_choice, check_int, in_notebook, model_device, train_mode
from .lang import tr
from .plotting.receptive_fields import plot_explorer

__all__ = [
    "ExplorerSettings",
    "StackMeasurement",
    "conv_stack",
    "gradient_map",
    "measure_stack",
    "Explorer",
    "explorer",
    "FieldMap",
    "stacked_field_map",
    "FieldPyramid",
    "field_pyramid",
    "stack_pattern_tokens",
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
            check_int(getattr(self, name), name, min=low)
        if self.depth > 12:
            raise ValueError(f"depth must be at most 12 (the explorer measures on a canvas of at most "
                             f"{_MAX_CANVAS} px), got {self.depth}")
        check_bool(self.pool, "pool")

    def label(self) -> str:
        """Short description, e.g. ``3 x conv 3x3 s1 p1 d1 + pool 2/2``."""
        s = f"{self.depth} x conv {self.kernel_size}x{self.kernel_size} s{self.stride} p{self.padding} d{self.dilation}"
        return s + (" + max-pool 2/2" if self.pool else "")

    def layer_names(self) -> list[str]:
        """Names of the stack's layers in order: ``conv1``, ``pool1`` (with ``pool``), ``conv2``, ..."""
        names = []
        for i in range(1, self.depth + 1):
            names.append(f"conv{i}")
            if self.pool:
                names.append(f"pool{i}")
        return names


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
        settings: the stack.
        channels: input and output channels of every convolution.
        pool: ``"max"`` or ``"avg"``: the pooling layer (same window, so same shapes and field;
            an average pool passes the gradient to every pixel of its window).
        ones: set every conv weight to 1 and drop biases, so that the gradient of one output
            unit counts the paths from each input pixel (no cancellation, no randomness).

    Returns:
        ``nn.Sequential`` mapping ``(N, channels, H, W)`` to ``(N, channels, H', W')``.

    Raises:
        TypeError: ``settings`` is not an ExplorerSettings, or ``channels`` not an int.
        ValueError: an unknown ``pool`` or ``channels`` < 1.
    """
    if not isinstance(settings, ExplorerSettings):
        raise TypeError(f"settings must be an ExplorerSettings, got {type(settings).__name__}")
    check_choice(pool, "pool", ("max", "avg"))
    check_int(channels, "channels", min=1)
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
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: if the model cannot run on that input (an empty output) or does not
            return ``(N, C, H, W)`` feature maps.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {input_shape}")
    x = torch.ones((1, *shape), device=model_device(model), requires_grad=True)
    try:
        with train_mode(model, False):
            out = model(x)
    except RuntimeError as e:
        raise ValueError(f"the stack cannot run on a {shape[1]}x{shape[2]} input: {e}") from None
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

    Args:
        settings: the stack.

    Returns:
        a :class:`StackMeasurement` (what ``plotting.plot_explorer`` draws).

    Raises:
        TypeError: ``settings`` is not an ExplorerSettings.
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


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


class Explorer:
    """Sliders (kernel size, stride, padding, dilation, depth, input size, pooling) in front of
    ``plotting.plot_explorer``; the figure is redrawn on every change.

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
        self.controls["pool"] = W.Checkbox(value=bool(self.settings.pool), description=tr("max-pool 2/2 after each conv"))
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

        fig = plot_explorer(measure_stack(self.settings))
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


def explorer(settings: ExplorerSettings | None = None, *, static: bool | None = None, **kwargs) -> Explorer | Figure:
    """The live :class:`Explorer` in a notebook kernel; a static ``plotting.plot_explorer`` figure
    in FAST mode, outside a kernel, without ipywidgets, or when ``static=True``.

    The static figure is closed in pyplot (so the inline backend does not show it a second
    time); it still renders through its own display and ``savefig``.

    Args:
        settings: the stack to start from; ``None`` builds one from ``kwargs``.
        static: ``True`` always draws the static figure, ``False`` asks for the live explorer
            (still static without ipywidgets); ``None`` is static in FAST mode or outside a
            notebook kernel.
        **kwargs: fields of :class:`ExplorerSettings` (``kernel_size=5, depth=4, ...``), used
            only when ``settings`` is None; a bad value raises its ``TypeError`` /
            ``ValueError``.

    Returns:
        the live :class:`Explorer`, or the static figure of the measured stack.
    """
    settings = settings or ExplorerSettings(**kwargs)
    if static is None:
        static = config.fast_mode() or not in_notebook()
    if not static:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            static = True
    if not static:
        return Explorer(settings)
    return plot_explorer(measure_stack(settings))  # detached from pyplot: a notebook shows it once, as the cell's value


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

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(y0, x0, y1, x1)`` (exclusive) of the non-zero gradient: where the field lies on the map."""
        return _support_box(self.grad)


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
        TypeError: a count that is not an int.
        ValueError: an even kernel (no symmetric "same" padding) or a bad size.
    """
    if check_int(kernel_size, "kernel_size", min=1) % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a symmetric 'same' padding), got {kernel_size!r}")
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

    Args:
        depth: number of convolutions (>= 1).
        kernel_size: odd kernel side.
        dilation: dilation of every convolution.
        width: length of the row; default the smallest odd row whose ends the top unit does
            not reach, plus a margin.

    Returns:
        a :class:`FieldPyramid` (input level first, top level last).

    Raises:
        TypeError: a size that is not an int.
        ValueError: a size < 1 or an even kernel.
    """
    for name, value in (("depth", depth), ("kernel_size", kernel_size), ("dilation", dilation)):
        check_int(value, name, min=1)
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
    check_int(width, "width", min=1)
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


# --------------------------------------------------------------------------- the stack pattern as a picture
def stack_pattern_tokens(n: int, m: int, k: int, *, pool: bool = True) -> list[tuple[str, str]]:
    """The layers of ``INPUT -> [(CONV -> RELU)*n -> POOL?]*m -> (FC -> RELU)*k -> FC`` in order.

    Args:
        n: (CONV -> RELU) pairs per stage, 0..3 (the notes' rule).
        m: stages (>= 0).
        k: hidden fully connected layers (>= 0).
        pool: end every stage with a POOL.

    Returns:
        ``(kind, group)`` pairs: kind in ``INPUT, CONV, RELU, POOL, FC``; group ``"input"``,
        ``"stage i"`` (1-based), ``"hidden"`` or ``"output"``.

    Raises:
        TypeError: a count is not an int.
        ValueError: ``n`` outside 0..3 or negative ``m``/``k``.
    """
    for name, value in (("n", n), ("m", m), ("k", k)):
        check_int(value, name)
    check_bool(pool, "pool")
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
