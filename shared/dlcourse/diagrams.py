"""Architecture diagrams measured from the model object itself, so a diagram cannot disagree with the code.

Two measurements, each drawn by :mod:`dlcourse.plotting` (``plotting.plot_layer_stack``,
``plotting.plot_model_graph``; ordinary detached matplotlib figures that render the same on Colab,
in JupyterLab and on the HTML build):

* :func:`layer_stack`: one box per leaf module, in the order the forward pass calls them
  (measured with forward hooks on a batch of one), labelled with what the layer is
  ("Conv 5×5, 6 ch", "MaxPool 2×2", "FC 120"), its kind and its measured output shape.
* :func:`model_graph`: the dataflow graph of a block traced with :mod:`torch.fx`: parallel
  branches, additions (``+``, ResNet) and concatenations (``cat``, DenseNet, Inception) as their
  own nodes, the measured shape of every node.

Both leave the model as they found it: the train/eval flag of every submodule is restored and
the hooks they add are removed in ``finally``; the forward pass runs in eval mode without
gradients, so batch-norm running statistics are not touched. Models on the ``meta`` device work
(shapes without arithmetic), which makes VGG16-sized diagrams cheap.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ._core import forward_hooks, model_device, train_mode

__all__ = [
    "StackBox",
    "GraphNode",
    "ModelGraph",
    "describe_module",
    "layer_kind",
    "layer_stack",
    "model_graph",
]

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
    """The kind of a leaf module: ``conv``, ``pool``, ``activation``, ``norm``, ``dense`` or ``other``.

    Args:
        module: the leaf module.

    Returns:
        The kind (a key of ``plotting.KIND_COLORS``).

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
    """
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

    Args:
        module: the leaf module.

    Returns:
        The label (the class name for layers it does not know).

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
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

    def fn_for(name: str):
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

    pairs = []
    inside_block: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(b + ".") for b in inside_block):
            continue  # a layer inside a block drawn as one box
        if leaves and isinstance(module, leaves) and module is not model:
            inside_block.append(name)
            pairs.append((module, fn_for(name)))
        elif not list(module.children()):
            pairs.append((module, fn_for(name or type(module).__name__)))
    try:
        with forward_hooks(pairs), train_mode(model, False), torch.no_grad():
            model(torch.zeros((1, *shape), device=dev))
    except (RuntimeError, TypeError, ValueError) as e:
        raise ValueError(f"the model cannot run on an input of shape {(1, *shape)}: {e}") from e
    if len(boxes) == 1:
        raise ValueError("no leaf module produced a tensor: nothing to draw (is the forward made only of "
                         "functional calls? use plot_model_graph for those)")
    return boxes


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
        """The node called ``name`` (``KeyError`` listing the names otherwise).

        Args:
            name: the node's name.

        Returns:
            The :class:`GraphNode`.

        Raises:
            KeyError: no node of that name (the message lists them).
        """
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
        with train_mode(module, False), torch.no_grad():
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
