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
