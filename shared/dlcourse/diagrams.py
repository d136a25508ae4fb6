"""Architecture diagrams drawn from the model object itself, so a diagram cannot disagree with the code.

Two views, each split into a *measuring* function (returns plain data, testable) and a *drawing*
function (``plot_*(..., ax=None) -> Figure``, detached from pyplot, renders the same on Colab, in
JupyterLab and on the HTML build since it is an ordinary matplotlib figure):

* :func:`layer_stack` / :func:`plot_layer_stack`: one box per leaf module, in the order the forward
  pass calls them (measured with forward hooks on a batch of one), labelled with what the layer is
  ("Conv 5×5, 6 ch", "MaxPool 2×2", "FC 120") and its measured output shape, coloured by kind.
  Box heights follow the spatial size of the output, so a stack that shrinks (LeNet, VGG) or an
  encoder / latent / decoder (an autoencoder) can be seen at a glance.
* :func:`model_graph` / :func:`plot_model_graph`: the dataflow graph of a block traced with
  :mod:`torch.fx`: parallel branches side by side, additions (``+``, ResNet) and concatenations
  (``cat``, DenseNet, Inception) drawn as their own nodes, the measured shape on every edge.

Both leave the model as they found it: the train/eval flag of every submodule is restored and
the hooks they add are removed in ``finally``; the forward pass runs in eval mode without
gradients, so batch-norm running statistics are not touched. Models on the ``meta`` device work
(shapes without arithmetic), which makes VGG16-sized diagrams cheap.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Patch
from torch import nn

from .plotting import subplots
from .training import eval_mode, model_device

__all__ = [
    "KIND_COLORS",
    "StackBox",
    "GraphNode",
    "ModelGraph",
    "describe_module",
    "layer_kind",
    "format_shape",
    "layer_stack",
    "plot_layer_stack",
    "model_graph",
    "plot_model_graph",
]

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

_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
                nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softmax, nn.LogSoftmax,
                nn.Softplus)
_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
_POOLS = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
          nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._LPPoolNd)


def _pair(v) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _size(v) -> str:
    t = _pair(v)
    return "×".join(str(int(a)) for a in t)


def _stride_text(stride) -> str:
    s = _pair(stride)
    if all(a == 1 for a in s):
        return ""
    return "/" + (str(s[0]) if len(set(s)) == 1 else "×".join(map(str, s)))


def layer_kind(module: nn.Module) -> str:
    """The kind of a leaf module: ``conv``, ``pool``, ``activation``, ``norm``, ``dense`` or ``other``."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, _POOLS):
        return "pool"
    if isinstance(module, _ACTIVATIONS):
        return "activation"
    if isinstance(module, _NORMS):
        return "norm"
    if isinstance(module, (nn.Linear, nn.Bilinear, nn.LazyLinear)):
        return "dense"
    return "other"


def describe_module(module: nn.Module) -> str:
    """A short label saying what a layer is: ``"Conv 11×11/4, 64 ch"``, ``"MaxPool 3×3/2"``, ``"FC 120"``.

    The stride is written after a slash when it is not 1 (for pooling: when it differs from the
    window, i.e. overlapping pooling); ``groups`` is named when used.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if isinstance(module, nn.modules.conv._ConvNd):
        name = "ConvT" if module.transposed else "Conv"
        k = _pair(module.kernel_size)
        label = f"{name} {_size(k)}{_stride_text(module.stride)}, {module.out_channels} ch"
        if module.groups > 1:
            label += (" (depthwise)" if module.groups == module.in_channels else f", {module.groups} groups")
        elif all(a == 1 for a in k) and not module.transposed:
            label += " (pointwise)"
        return label
    if isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        name = "MaxPool" if isinstance(module, nn.modules.pooling._MaxPoolNd) else "AvgPool"
        k = module.kernel_size
        stride = module.stride if module.stride is not None else k
        s = "" if _pair(stride) == _pair(k) else "/" + _size(stride).split("×")[0]
        return f"{name} {_size(k)}{s}"
    if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)):
        name = "AdaptiveAvgPool" if isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd) else "AdaptiveMaxPool"
        out = module.output_size
        if all(o == 1 for o in _pair(out)):
            return "GlobalAvgPool" if name == "AdaptiveAvgPool" else "GlobalMaxPool"
        return f"{name} → {_size(out)}"
    if isinstance(module, nn.Linear):
        return f"FC {module.out_features}"
    if isinstance(module, nn.modules.batchnorm._NormBase):
        return "BatchNorm"
    if isinstance(module, nn.Dropout):
        return f"Dropout {module.p:g}"
    if isinstance(module, nn.Flatten):
        return "Flatten"
    if isinstance(module, nn.Upsample):
        sf = module.scale_factor
        return f"Upsample ×{sf:g}" if isinstance(sf, (int, float)) else "Upsample"
    return type(module).__name__


def format_shape(shape: Sequence[int] | None) -> str:
    """``(6, 28, 28)`` -> ``"6×28×28"``; ``()`` or ``None`` -> ``""``."""
    if not shape:
        return ""
    return "×".join(str(int(s)) for s in shape)


def _check_shape(input_shape) -> tuple[int, ...]:
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(f"input_shape must be a sequence of ints without the batch dimension, e.g. (3, 224, 224); "
                        f"got {input_shape!r}")
    if len(input_shape) == 0 or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in input_shape):
        raise ValueError(f"input_shape must be positive ints without the batch dimension, e.g. (3, 224, 224); "
                         f"got {tuple(input_shape)!r}")
    return tuple(int(s) for s in input_shape)


def _check_module(model, what: str = "model") -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{what} must be a torch.nn.Module, got {type(model).__name__}")


# --------------------------------------------------------------------------- the layer stack
@dataclass(frozen=True)
class StackBox:
    """One box of :func:`layer_stack`: a leaf module call and its measured output (batch of 1).

    ``input_shape`` is what the layer received; when it differs from the previous box's
    ``output_shape`` a functional operation in ``forward`` (e.g. ``torch.flatten``) ran between them.
    """

    name: str
    label: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int


def _check_leaf_types(leaf_modules) -> tuple[type, ...]:
    if isinstance(leaf_modules, type):
        leaf_modules = (leaf_modules,)
    try:
        types = tuple(leaf_modules)
    except TypeError:
        raise TypeError(f"leaf_modules must be a sequence of nn.Module classes, got {leaf_modules!r}") from None
    bad = [t for t in types if not (isinstance(t, type) and issubclass(t, nn.Module))]
    if bad:
        raise TypeError(f"leaf_modules must be nn.Module classes (e.g. (Inception,)), got {bad!r}")
    return types


def _block_label(module: nn.Module, name: str) -> str:
    """``inception3a`` for a block whose attribute name already says its class, else ``"Block (layer1.0)"``."""
    cls = type(module).__name__
    short = name.rsplit(".", 1)[-1] if name else ""
    return short if cls.lower() in short.lower() else (f"{cls} ({name})" if name else cls)


def layer_stack(model: nn.Module, input_shape: Sequence[int], *, leaf_modules: Sequence[type] = ()) -> list[StackBox]:
    """Measure the boxes of a layer-stack diagram: every leaf module in the order forward calls it.

    Args:
        model: any module; it runs once on ``zeros(1, *input_shape)`` on its own device, in eval
            mode and without gradients (running statistics are not updated).
        input_shape: ``(C, H, W)`` (or any shape) without the batch dimension.
        leaf_modules: module classes drawn as one box (``kind="block"``) instead of their layers,
            e.g. GoogLeNet's ``Inception`` (whose parallel branches a stack cannot show).

    Returns:
        one :class:`StackBox` per leaf-module call, the first being the input itself
        (``kind="input"``). A module called twice appears twice; its parameters count once.

    Raises:
        TypeError: ``model`` is not a module or ``input_shape`` not a sequence.
        ValueError: the shape is not positive ints, or the model cannot run on it (the message
            includes PyTorch's), or no leaf module produced a tensor.
    """
    _check_module(model)
    shape = _check_shape(input_shape)
    leaves = _check_leaf_types(leaf_modules)
    dev = model_device(model)
    boxes: list[StackBox] = [StackBox("input", "Input", "input", shape, shape, 0)]
    seen: set[int] = set()
    handles = []

    def hook(name: str):
        def fn(module, inputs, output):
            if not torch.is_tensor(output):
                return
            first = id(module) not in seen
            seen.add(id(module))
            params = sum(p.numel() for p in module.parameters(recurse=False)) if first else 0
            inp = tuple(inputs[0].shape[1:]) if inputs and torch.is_tensor(inputs[0]) else ()
            kind = "block" if leaves and isinstance(module, leaves) else layer_kind(module)
            label = _block_label(module, name) if kind == "block" else describe_module(module)
            boxes.append(StackBox(name, label, kind, inp,
                                  tuple(int(s) for s in output.shape[1:]), int(params)))
        return fn

    try:
        inside_block: list[str] = []
        for name, module in model.named_modules():
            if any(name.startswith(b + ".") for b in inside_block):
                continue  # a layer inside a block drawn as one box
            if leaves and isinstance(module, leaves) and module is not model:
                inside_block.append(name)
                handles.append(module.register_forward_hook(hook(name)))
            elif not list(module.children()):
                handles.append(module.register_forward_hook(hook(name or type(module).__name__)))
        with eval_mode(model), torch.no_grad():
            model(torch.zeros((1, *shape), device=dev))
    except (RuntimeError, TypeError, ValueError) as e:
        raise ValueError(f"the model cannot run on an input of shape {(1, *shape)}: {e}") from e
    finally:
        for h in handles:
            h.remove()
    if len(boxes) == 1:
        raise ValueError("no leaf module produced a tensor: nothing to draw (is the forward made only of "
                         "functional calls? use plot_model_graph for those)")
    return boxes


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


def plot_layer_stack(model: nn.Module, input_shape: Sequence[int], *, title: str | None = None, ax=None,
                     orientation: str = "horizontal", max_per_row: int = 24,
                     leaf_modules: Sequence[type] = ()) -> Figure:
    """Draw the layer stack of ``model``: one box per layer, its label and measured output shape.

    Boxes come from :func:`layer_stack` (a forward pass with hooks), so they are what the model
    computes. Colour gives the kind (legend); box height follows the output's spatial size, so
    shrinking maps, a flattening and an autoencoder's encoder / latent / decoder are visible.
    A small "⋯" between two boxes marks a functional operation of ``forward`` (e.g.
    ``torch.flatten``) that changed the shape without a module.

    Args:
        model: the network (any device, ``meta`` included).
        input_shape: ``(C, H, W)`` without the batch dimension.
        title: figure title; default ``"<ClassName>: layer stack for input C×H×W"``.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        orientation: ``"horizontal"`` (left to right, long stacks wrap into rows of
            ``max_per_row`` boxes) or ``"vertical"`` (top to bottom, one row per layer).
        max_per_row: boxes per row in horizontal mode before wrapping (int >= 2).
        leaf_modules: module classes drawn as one box (see :func:`layer_stack`).

    Returns:
        the Figure.

    Raises:
        ValueError: bad ``orientation`` / ``max_per_row``, or see :func:`layer_stack`.
    """
    if orientation not in ("horizontal", "vertical"):
        raise ValueError(f"orientation must be 'horizontal' or 'vertical', got {orientation!r}")
    if isinstance(max_per_row, bool) or not isinstance(max_per_row, int) or max_per_row < 2:
        raise ValueError(f"max_per_row must be an int >= 2, got {max_per_row!r}")
    boxes = layer_stack(model, input_shape, leaf_modules=leaf_modules)
    n = len(boxes)
    max_spatial = max((math.sqrt(math.prod(b.output_shape[1:])) if len(b.output_shape) > 2
                       else float(b.output_shape[-1])) for b in boxes if len(b.output_shape) >= 2) \
        if any(len(b.output_shape) >= 2 for b in boxes) else 1.0
    if title is None:
        title = f"{type(model).__name__}: layer stack for input {format_shape(boxes[0].output_shape)}"
    kinds = [k for k in KIND_COLORS if any(b.kind == k for b in boxes)]

    if orientation == "horizontal":
        rows = math.ceil(n / max_per_row)
        per_row = math.ceil(n / rows)
        row_h = 4.6  # data units between rows: a label above (~1.5) and a shape below (~1) each box
        if ax is None:
            fig, ax = subplots(figsize=(max(6.0, 0.42 * per_row + 1.5), 0.62 * ((rows - 1) * row_h + 5.3) + 0.4),
                               layout="constrained")
        else:
            fig = ax.figure
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
        if ax is None:
            fig, ax = subplots(figsize=(6.5, 0.36 * n + 1.4), layout="constrained")
        else:
            fig = ax.figure
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


# --------------------------------------------------------------------------- the dataflow graph
@dataclass
class GraphNode:
    """One node of a :class:`ModelGraph`: a module call, an operation, the input or the output."""

    name: str
    label: str
    kind: str
    shape: tuple[int, ...] | None
    inputs: list[str] = field(default_factory=list)


@dataclass
class ModelGraph:
    """The dataflow graph of a traced module: ``nodes`` in execution order, ``edges`` as name pairs."""

    nodes: list[GraphNode]

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(source, target)`` names, one per data dependency."""
        return [(i, n.name) for n in self.nodes for i in n.inputs]

    def node(self, name: str) -> GraphNode:
        """The node called ``name`` (``KeyError`` listing the names otherwise)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r}; nodes: {[n.name for n in self.nodes]}")

    def kinds(self) -> list[str]:
        """The kind of every node, in order."""
        return [n.kind for n in self.nodes]


_ADD_NAMES = {"add", "add_", "iadd", "__add__", "__iadd__"}
_CAT_NAMES = {"cat", "concat", "concatenate"}
_MUL_NAMES = {"mul", "mul_", "imul", "__mul__", "__imul__"}
_FUNC_ACT = {"relu": "ReLU", "relu_": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU",
             "leaky_relu": "LeakyReLU", "softmax": "Softmax", "log_softmax": "LogSoftmax"}
_FUNC_POOL = {"max_pool2d": "MaxPool", "avg_pool2d": "AvgPool", "adaptive_avg_pool2d": "AdaptiveAvgPool",
              "adaptive_max_pool2d": "AdaptiveMaxPool", "max_pool1d": "MaxPool", "avg_pool1d": "AvgPool"}


def _meta_shape(meta) -> tuple[int, ...] | None:
    if meta is None:
        return None
    shape = getattr(meta, "shape", None)
    if shape is None:
        return None
    return tuple(int(s) for s in shape[1:])


def _describe_call(target) -> tuple[str, str]:
    """(label, kind) of a traced function or method call (``operator.add``, ``torch.cat``, ``"relu"``...)."""
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    if name in _ADD_NAMES:
        return "+", "add"
    if name in _CAT_NAMES:
        return "cat", "cat"
    if name in _MUL_NAMES:
        return "×", "mul"
    if name in _FUNC_ACT:
        return _FUNC_ACT[name], "activation"
    if name in _FUNC_POOL:
        return _FUNC_POOL[name], "pool"
    if name in ("flatten", "view", "reshape"):
        return name, "other"
    return name, "other"


def model_graph(module: nn.Module, input_shape: Sequence[int], *, leaf_modules: Sequence[type] = ()) -> ModelGraph:
    """Trace ``module`` with :func:`torch.fx.symbolic_trace` and measure the shape of every node.

    Standard ``torch.nn`` layers stay single nodes; your own submodules are traced through, so a
    residual block's ``out + x`` becomes an ``add`` node and ``torch.cat`` a ``cat`` node.
    Shapes come from running the traced graph on ``zeros(1, *input_shape)`` (eval mode, no
    gradients, the module's device).

    Args:
        module: the block or network; its ``forward`` must be traceable by torch.fx (no control
            flow that depends on tensor values).
        input_shape: ``(C, H, W)`` without the batch dimension.
        leaf_modules: module classes kept as one node (``kind="block"``) instead of being traced
            through, e.g. a network's residual blocks.

    Returns:
        a :class:`ModelGraph`; node shapes exclude the batch dimension. Nodes that produce no
        tensor (``x.size(0)``, attribute reads) are left out.

    Raises:
        TypeError: ``module`` is not a module or ``input_shape`` not a sequence.
        ValueError: the forward cannot be traced (the message says why) or cannot run on the shape.
    """
    _check_module(module, "module")
    shape = _check_shape(input_shape)
    leaves = _check_leaf_types(leaf_modules)
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    class _Tracer(fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return bool(leaves) and isinstance(m, leaves) or super().is_leaf_module(m, qualname)

    try:
        gm = fx.GraphModule(module, _Tracer().trace(module), type(module).__name__)
    except Exception as e:  # torch.fx raises TraceError, TypeError, RuntimeError... depending on the construct
        raise ValueError(f"{type(module).__name__}.forward cannot be traced by torch.fx ({type(e).__name__}: {e}); "
                         f"control flow that depends on tensor values is not traceable: draw the layers with "
                         f"plot_layer_stack instead, or trace a smaller block") from e
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ValueError(f"model_graph draws modules with exactly one input tensor; "
                         f"{type(module).__name__}.forward takes {len(placeholders)}")
    dev = model_device(module)
    try:
        with eval_mode(module), torch.no_grad():
            ShapeProp(gm).propagate(torch.zeros((1, *shape), device=dev))
    except Exception as e:
        raise ValueError(f"the module cannot run on an input of shape {(1, *shape)}: {e}") from e

    nodes: list[GraphNode] = []
    kept: dict[str, str] = {}
    for n in gm.graph.nodes:
        meta = n.meta.get("tensor_meta")
        ins = [kept[a.name] for a in n.all_input_nodes if a.name in kept]
        if n.op == "placeholder":
            g = GraphNode(n.name, "input", "input", _meta_shape(meta))
        elif n.op == "output":
            g = GraphNode("output", "output", "output", _meta_shape(meta), ins)
        elif n.op == "call_module":
            sub = gm.get_submodule(n.target)
            kind = "block" if leaves and isinstance(sub, leaves) else layer_kind(sub)
            label = _block_label(sub, str(n.target)) if kind == "block" else describe_module(sub)
            g = GraphNode(n.name, label, kind, _meta_shape(meta), ins)
        elif n.op in ("call_function", "call_method"):
            if _meta_shape(meta) is None:
                continue  # x.size(0), getattr, ...: not a tensor flowing through the block
            label, kind = _describe_call(n.target)
            g = GraphNode(n.name, label, kind, _meta_shape(meta), ins)
        else:  # get_attr: a parameter or buffer used directly
            continue
        nodes.append(g)
        kept[n.name] = g.name
    return ModelGraph(nodes)


def _layers(graph: ModelGraph) -> dict[str, int]:
    """Longest-path layer of every node from the input (nodes are in topological order)."""
    layer: dict[str, int] = {}
    for n in graph.nodes:
        layer[n.name] = 1 + max((layer[i] for i in n.inputs), default=-1)
    return layer


def _positions(graph: ModelGraph) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], list[tuple[float, float]]], int, int]:
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


def plot_model_graph(module: nn.Module, input_shape: Sequence[int], *, title: str | None = None, ax=None,
                     leaf_modules: Sequence[type] = ()) -> Figure:
    """Draw the dataflow graph of ``module`` traced with torch.fx, the measured shape on every edge.

    Branches run side by side; an addition is a round ``+`` node (ResNet), a concatenation a
    yellow ``cat`` node (DenseNet, Inception), so what combines the branches can be read off
    the drawing, and the shapes on the edges into a ``cat`` add up to the channels out of it.

    Args:
        module: a block or small network whose forward torch.fx can trace (see :func:`model_graph`).
        input_shape: ``(C, H, W)`` without the batch dimension.
        title: figure title; default ``"<ClassName>: dataflow graph for input C×H×W"``.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        leaf_modules: module classes drawn as one node (see :func:`model_graph`).

    Returns:
        the Figure.

    Raises:
        TypeError, ValueError: see :func:`model_graph`.
    """
    graph = model_graph(module, input_shape, leaf_modules=leaf_modules)
    pos, paths, width, depth = _positions(graph)
    if title is None:
        title = f"{type(module).__name__}: dataflow graph for input {format_shape(graph.nodes[0].shape)}"
    if ax is None:
        fig, ax = subplots(figsize=(max(4.5, 0.9 * width + 1.0), 0.62 * depth + 1.3), layout="constrained")
    else:
        fig = ax.figure
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
