"""Measure networks by running them: per-layer shapes, parameters, MACs and activation memory,
the empirical receptive field (gradient of one output unit with respect to the input), and
side-by-side summaries of several models (:func:`compare_models`), optionally built on the
``meta`` device (:func:`on_meta`) so that VGG16-sized models are measured in milliseconds
without allocating their weights.

Nothing here computes output sizes, receptive fields or parameter counts *analytically*:
those formulas are what the lectures derive and assignment 1 asks students to write
(DESIGN.md rule 3). These tools measure, so the formulas can be checked against them.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from ._core import check_int, forward_hooks, model_device, train_mode
from .lang import tr

__all__ = [
    "LayerInfo",
    "layer_table",
    "format_layer_table",
    "model_stats",
    "empirical_receptive_field",
    "ModelSummary",
    "summarize",
    "compare_models",
    "format_summaries",
    "on_meta",
    "copy_weights",
    "own_params_once",
    "Shortcut",
    "find_shortcuts",
]


@dataclass
class LayerInfo:
    """One leaf module's measurements for a single input (batch of 1)."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int


def _macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass of ``module`` (conv, linear; 0 for the rest)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        k = int(torch.tensor(module.kernel_size).prod())
        per_out = (module.in_channels // module.groups) * k
        return int(out.numel() * per_out)
    if isinstance(module, nn.Linear):
        return int(out.numel() * module.in_features)
    return 0


def own_params_once(module: nn.Module, seen: set[int]) -> int:
    """The parameters ``module`` owns itself (not its children's), counted on its first call only.

    A module called twice in one forward pass (weight sharing) owns its weights once: the second
    call counts 0. ``seen`` holds the ``id`` of every module already counted and is updated.
    """
    first = id(module) not in seen
    seen.add(id(module))
    return sum(p.numel() for p in module.parameters(recurse=False)) if first else 0


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")


def _input_shape(input_shape, ndim: int | None = None) -> tuple[int, ...]:
    """``input_shape`` (no batch dimension) as a tuple of positive ints, or a ``ValueError`` saying so."""
    what = "(C, H, W)" if ndim == 3 else "positive int sizes"
    expected = f"input_shape must be {what} without the batch dimension, e.g. (1, 24, 24); got {input_shape!r}"
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") or not len(input_shape) \
            or (ndim is not None and len(input_shape) != ndim):
        raise ValueError(expected)
    try:
        return tuple(check_int(s, "size", min=1) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(expected) from None


def _run_once(model: nn.Module, x: torch.Tensor, *modes) -> torch.Tensor:
    """``model(x)`` in eval mode (flags restored) inside ``modes``; a shape error says which input failed."""
    try:
        with train_mode(model), contextlib.ExitStack() as stack:
            for mode in modes:
                stack.enter_context(mode)
            return model(x)
    except RuntimeError as e:
        raise ValueError(f"the model cannot run on an input of shape {tuple(x.shape)}: {e}") from None


def layer_table(model: nn.Module, input_shape: Sequence[int], *, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> list[LayerInfo]:
    """Run one input of ``input_shape`` = ``(C, H, W)`` (no batch dim) and measure every leaf module.

    Parameters are counted once per module (a shared module called twice appears twice with
    its parameters counted on the first call only). The model's train/eval flags are restored
    and the hooks removed.

    Args:
        model: any module taking ``(1, *input_shape)``.
        input_shape: the input's shape without the batch dimension, e.g. ``(3, 224, 224)``.
        device: where to run; ``None`` is the model's device (``meta`` works: shapes only).
        dtype: the input's dtype.

    Returns:
        One :class:`LayerInfo` per leaf-module call, in the order they ran, plus a
        ``"(container parameters)"`` row when non-leaf modules own parameters.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: bad ``input_shape``, or the model cannot run on that input.
    """
    _check_model(model)
    shape = _input_shape(input_shape)
    dev = torch.device(device) if device is not None else model_device(model)
    rows: list[LayerInfo] = []
    seen: set[int] = set()

    def hook(name):
        def fn(module, inputs, output):
            if torch.is_tensor(output):
                inp = inputs[0] if inputs and torch.is_tensor(inputs[0]) else output
                rows.append(LayerInfo(name, type(module).__name__, tuple(output.shape[1:]),
                                      own_params_once(module, seen), _macs(module, inp, output),
                                      output.numel() * output.element_size()))
        return fn

    leaves = [(module, hook(name or type(module).__name__))
              for name, module in model.named_modules() if not list(module.children())]
    _run_once(model, torch.zeros((1, *shape), device=dev, dtype=dtype), torch.no_grad(), forward_hooks(leaves))
    # parameters of non-leaf modules (e.g. a Parameter owned directly by a container)
    leaf_params = sum(r.params for r in rows)
    total = sum(p.numel() for p in model.parameters())
    if total != leaf_params:
        rows.append(LayerInfo("(container parameters)", "-", (), total - leaf_params, 0, 0))
    return rows


def format_layer_table(rows: Sequence[LayerInfo]) -> str:
    """A plain-text table of :func:`layer_table` rows with a total line."""
    # TRANSLATORS: the column names of a fixed-width table: keep each within its width (28, 18, 18, 12, 10, 10)
    names = [tr("layer"), tr("type"), tr("output shape"), tr("params"), "MMACs", tr("act. KiB")]
    header = f"{names[0]:28s} {names[1]:18s} {names[2]:18s} {names[3]:>12s} {names[4]:>10s} {names[5]:>10s}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.name[:28]:28s} {r.kind[:18]:18s} {str(list(r.output_shape)):18s} {r.params:12,d} "
                     f"{r.macs / 1e6:10.2f} {r.activation_bytes / 1024:10.1f}")
    lines.append("-" * len(header))
    total = tr("total")
    lines.append(f"{total:28s} {'':18s} {'':18s} {sum(r.params for r in rows):12,d} "
                 f"{sum(r.macs for r in rows) / 1e6:10.2f} {sum(r.activation_bytes for r in rows) / 1024:10.1f}")
    return "\n".join(lines)


def model_stats(model: nn.Module, input_shape: Sequence[int]) -> dict[str, float]:
    """Totals for one input: ``params``, ``macs``, ``activation_bytes`` (sum of leaf outputs).

    Raises:
        TypeError, ValueError: as :func:`layer_table`.
    """
    rows = layer_table(model, input_shape)
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "macs": sum(r.macs for r in rows),
        "activation_bytes": sum(r.activation_bytes for r in rows),
    }


def empirical_receptive_field(model: nn.Module, input_shape: Sequence[int], *, position: tuple[int, int] | None = None,
                              channel: int = 0, trials: int = 3, seed: int = 0) -> tuple[int, int]:
    """Measure the receptive field of one output unit: the extent of the non-zero input gradient.

    Args:
        model: maps ``(1, C, H, W)`` to ``(1, C', H', W')``; its train/eval flags are restored.
        input_shape: ``(C, H, W)``; make it large enough that the field is not cut by the border.
        position: output unit ``(y, x)``; default the centre of the output map.
        channel: the output channel of the unit.
        trials: random inputs whose gradient supports are united (a ReLU can hide pixels for one input).
        seed: seed of those random inputs.

    Returns:
        ``(height, width)`` in input pixels of the bounding box of pixels with non-zero gradient.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or ``channel``/``trials``/``seed`` not ints.
        ValueError: ``input_shape`` is not ``(C, H, W)``, the model does not return feature maps,
            the unit is outside them, or the gradient is zero everywhere.
    """
    _check_model(model)
    shape = _input_shape(input_shape, ndim=3)
    channel = check_int(channel, "channel", min=0)
    trials = check_int(trials, "trials", min=1)
    seed = check_int(seed, "seed", min=0)
    dev = model_device(model)
    gen = torch.Generator().manual_seed(seed)
    support = torch.zeros(shape[1:], dtype=torch.bool)
    with train_mode(model):
        for _ in range(trials):
            x = torch.rand((1, *shape), generator=gen).to(dev).requires_grad_(True)
            out = model(x)
            if out.ndim != 4:
                raise ValueError(f"the model must return (N, C, H, W) feature maps, got shape {tuple(out.shape)}")
            y, xx = position if position is not None else (out.shape[2] // 2, out.shape[3] // 2)
            if not (0 <= y < out.shape[2] and 0 <= xx < out.shape[3] and 0 <= channel < out.shape[1]):
                raise ValueError(f"unit (channel={channel}, y={y}, x={xx}) is outside the output {tuple(out.shape[1:])}")
            (grad,) = torch.autograd.grad(out[0, channel, y, xx], x)
            support |= (grad[0].abs().sum(0) > 0).cpu()
    if not support.any():
        raise ValueError("the gradient is zero everywhere: the unit does not depend on the input (dead ReLU?)")
    ys, xs = torch.nonzero(support, as_tuple=True)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


# --------------------------------------------------------------------------- several models side by side
@dataclass
class ModelSummary:
    """Totals of one model for one input ``(C, H, W)`` (batch of 1).

    ``macs`` counts multiply-accumulates of conv and linear layers (1 MAC = 2 FLOPs; papers that
    say "FLOPs" or "multiply-adds" for CNNs usually mean MACs). ``activation_bytes`` is the sum of
    every leaf module's output: what one forward pass writes, an upper bound on what training keeps.
    """

    name: str
    input_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int
    output_shape: tuple[int, ...]

    @property
    def param_bytes(self) -> int:
        """Bytes of the parameters in float32."""
        return 4 * self.params


def summarize(model: nn.Module, input_shape: Sequence[int], name: str | None = None) -> ModelSummary:
    """Measure ``model`` on one input of ``input_shape`` = ``(C, H, W)``; see :class:`ModelSummary`.

    Works on any device, including ``meta`` (shapes and counts without arithmetic).

    Args:
        model: any module taking ``(1, *input_shape)``; its train/eval flags are restored.
        input_shape: the input's shape without the batch dimension.
        name: the summary's name; default the model's class name.

    Returns:
        A :class:`ModelSummary`.

    Raises:
        TypeError, ValueError: as :func:`layer_table`.
    """
    rows = layer_table(model, input_shape)
    shape = _input_shape(input_shape)
    out_shape = rows[-1].output_shape if rows else ()
    # the output of the model is the output of the last leaf that ran, unless the forward ends with
    # a functional op (torch.flatten, torch.cat): measure it directly
    out = _run_once(model, torch.zeros((1, *shape), device=model_device(model)), torch.no_grad())
    if torch.is_tensor(out):
        out_shape = tuple(out.shape[1:])
    return ModelSummary(
        name=name if name is not None else type(model).__name__,
        input_shape=shape,
        params=sum(p.numel() for p in model.parameters()),
        macs=sum(r.macs for r in rows),
        activation_bytes=sum(r.activation_bytes for r in rows),
        output_shape=tuple(int(s) for s in out_shape),
    )


def compare_models(models: Mapping[str, nn.Module], input_shape: Sequence[int] | Mapping[str, Sequence[int]]
                   ) -> list[ModelSummary]:
    """Summaries of several models, in the order of ``models``.

    Args:
        models: ``{name: model}``.
        input_shape: one ``(C, H, W)`` for all, or ``{name: (C, H, W)}`` per model.

    Returns:
        One :class:`ModelSummary` per model.

    Raises:
        TypeError: ``models`` is not a non-empty mapping.
        ValueError: a model without an input shape, or one that cannot run on its input.
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"models must be a non-empty mapping {{name: nn.Module}}, got {type(models).__name__}")
    out = []
    for name, model in models.items():
        if isinstance(input_shape, Mapping):
            if name not in input_shape:
                raise ValueError(f"no input shape for model {name!r}; input_shape has {list(input_shape)}")
            shape = input_shape[name]
        else:
            shape = input_shape
        out.append(summarize(model, shape, name))
    return out


def format_summaries(summaries: Sequence[ModelSummary]) -> str:
    """A plain-text table: parameters, MMACs, activation and weight MiB per image, one line per model.

    Returns:
        the table: a header, a rule, then one line per summary (names cut to 18 characters).

    Raises:
        ValueError: ``summaries`` is empty.
    """
    if not summaries:
        raise ValueError("no summaries to format")
    # TRANSLATORS: the column names of a fixed-width table: keep each within its width (18, 12, 13, 11, 9, 11)
    names = [tr("model"), tr("input"), tr("params"), "MMACs", tr("act. MiB"), tr("weights MiB")]
    header = f"{names[0]:18s} {names[1]:12s} {names[2]:>13s} {names[3]:>11s} {names[4]:>9s} {names[5]:>11s}"
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(f"{s.name[:18]:18s} {'x'.join(map(str, s.input_shape)):12s} {s.params:13,d} {s.macs / 1e6:11,.1f} "
                     f"{s.activation_bytes / 2**20:9.2f} {s.param_bytes / 2**20:11.2f}")
    return "\n".join(lines)


def on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """Call ``build()`` with ``meta`` as the default device: a model with shapes but no storage.

    Parameters, output shapes and MACs of a meta model are exact (``layer_table``/``summarize`` run
    on it) while nothing is allocated or computed: VGG16's 138 M parameters cost no memory.
    The model cannot produce numbers; build it normally to train or run it.

    Returns:
        the module ``build()`` returned, every parameter and buffer on the ``meta`` device.

    Raises:
        TypeError: ``build`` is a module or not callable, or does not return a module.
    """
    if isinstance(build, nn.Module) or not callable(build):
        raise TypeError(f"build must be a function returning an nn.Module (e.g. torchvision.models.vgg16), "
                        f"got {type(build).__name__}")
    with torch.device("meta"):
        model = build()
    if not isinstance(model, nn.Module):
        raise TypeError(f"build() must return an nn.Module, got {type(model).__name__}")
    return model


def copy_weights(src: nn.Module, dst: nn.Module) -> list[tuple[str, str]]:
    """Copy every parameter and buffer of ``src`` into ``dst``, matched by order and shape.

    Two implementations of the same layer (e.g. your own block and torchvision's) usually differ in
    attribute names but register their tensors in the same order; this pairs them up in that order
    (``num_batches_tracked`` counters are skipped) and copies the values in place, so the two
    modules can be compared numerically.

    Returns:
        the ``(src_name, dst_name)`` pairs that were copied.

    Raises:
        TypeError: ``src`` or ``dst`` is not an ``nn.Module``.
        ValueError: when the number of tensors or a shape differs, listing both sides so the
            mismatched layer (wrong order, missing ``bias=False``, BatchNorm on the wrong side of a
            convolution, ...) can be found.
    """
    for name, m in (("src", src), ("dst", dst)):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{name} must be an nn.Module, got {type(m).__name__}")

    def tensors(m: nn.Module) -> list[tuple[str, torch.Tensor]]:
        return [(k, v) for k, v in m.state_dict(keep_vars=True).items() if not k.endswith("num_batches_tracked")]

    a, b = tensors(src), tensors(dst)

    def listing(items: list[tuple[str, torch.Tensor]]) -> str:
        return ", ".join(f"{k}{list(v.shape)}" for k, v in items)

    if len(a) != len(b):
        raise ValueError(f"the modules hold different numbers of parameters/buffers ({len(a)} vs {len(b)}).\n"
                         f"  src: {listing(a)}\n  dst: {listing(b)}")
    for (ka, va), (kb, vb) in zip(a, b):
        if va.shape != vb.shape:
            raise ValueError(f"shape mismatch: src {ka}{list(va.shape)} vs dst {kb}{list(vb.shape)} "
                             f"(tensors are matched in registration order).\n  src: {listing(a)}\n  dst: {listing(b)}")
    with torch.no_grad():
        for (_, va), (_, vb) in zip(a, b):
            vb.copy_(va)
    return [(ka, kb) for (ka, _), (kb, _) in zip(a, b)]


# --------------------------------------------------------------------------- shortcut connections
_WEIGHTED_OPS = frozenset({
    torch.conv1d, torch.conv2d, torch.conv3d, F.conv1d, F.conv2d, F.conv3d,
    torch.conv_transpose1d, torch.conv_transpose2d, torch.conv_transpose3d,
    F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d, F.linear,
})
_ADD_OPS = frozenset({torch.add, torch.Tensor.add, torch.Tensor.add_, torch.Tensor.__add__,
                      torch.Tensor.__radd__, torch.Tensor.__iadd__})
_CAT_OPS = frozenset({torch.cat, torch.concat, torch.concatenate})


@dataclass(frozen=True)
class Shortcut:
    """One merge in a forward pass where a tensor skips over weighted layers to meet a later one.

    ``kind`` is ``"add"`` (ResNet: ``y = F(x) + s(x)``, identity or projection shortcut) or ``"cat"``
    (DenseNet: ``[x, F(x)]`` concatenated along the channels). ``output_shape`` is the merged
    tensor's shape, batch included; ``skipped`` is how many more convolutions (or linear layers) lie
    on the longer path from the input than on the shorter one.
    """

    kind: str
    output_shape: tuple[int, ...]
    skipped: int


def _tensors_in(obj) -> list[torch.Tensor]:
    """Every tensor in ``obj`` (a tensor or nested lists, tuples and dicts of them)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors_in(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors_in(item)]
    return []


class _ShortcutTracker(TorchFunctionMode):
    """Follows every tensor computed from the input: its conv depth and the tensors it came from."""

    def __init__(self, x: torch.Tensor):
        super().__init__()
        # id(tensor) -> (node number, weighted layers on its longest path from the input, ancestor nodes)
        self.info: dict[int, tuple[int, int, frozenset[int]]] = {id(x): (0, 0, frozenset())}
        self.alive: list[torch.Tensor] = [x]   # keeps ids unique for the whole pass
        self.found: list[Shortcut] = []

    def _tracked(self, t) -> bool:
        return isinstance(t, torch.Tensor) and id(t) in self.info

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [self.info[id(t)] for t in _tensors_in((args, kwargs)) if self._tracked(t)]
        if not inputs:
            return out  # parameters, constants: not part of the data path
        depth = max(d for _, d, _ in inputs) + (func in _WEIGHTED_OPS)
        ancestors = frozenset().union(*(anc | {node} for node, _, anc in inputs))
        if func in _ADD_OPS and len(args) >= 2 and self._tracked(args[0]) and self._tracked(args[1]):
            a, b = args[0], args[1]
            if a.shape == b.shape and a.ndim >= 3:
                gap = abs(self.info[id(a)][1] - self.info[id(b)][1])
                if gap:
                    self.found.append(Shortcut("add", tuple(out.shape), gap))
        elif func in _CAT_OPS:
            seq = args[0] if args else kwargs.get("tensors", ())
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            seq = [self.info[id(t)] + (t.ndim,) for t in seq if self._tracked(t)]
            if len(seq) >= 2 and seq[0][3] >= 3 and dim in (1, 1 - seq[0][3]):
                # a DenseNet merge: one of the tensors was computed from another one of the list
                gap = max((dt - ds for ns, ds, _, _ in seq for _, dt, at, _ in seq if ns in at), default=0)
                if gap > 0:
                    self.found.append(Shortcut("cat", tuple(out.shape), gap))
        for t in _tensors_in(out):
            self.info[id(t)] = (len(self.alive), depth, ancestors)
            self.alive.append(t)
        return out


def find_shortcuts(model: nn.Module, input_shape: Sequence[int]) -> list[Shortcut]:
    """Run one input through ``model`` and list its shortcut connections, in the order they run.

    A **shortcut** is (a) an elementwise addition (``+``, ``+=``, ``torch.add``) of two tensors of
    the same shape, both computed from the input, whose paths from the input cross different
    numbers of convolutions / linear layers (a ResNet block, identity or 1x1 projection), or (b) a
    concatenation along the channels (``torch.cat(..., dim=1)``) in which one tensor was computed
    from another one of the same list through at least one convolution (a DenseNet layer).
    Adding two branches of equal depth, adding a tensor to itself, or concatenating parallel
    branches (an Inception module) is not a shortcut. The operations are seen by a
    ``TorchFunctionMode``, so functional code counts as much as modules do.

    Args:
        model: any module taking ``(1, *input_shape)``; its train/eval flags are restored.
        input_shape: ``(C, H, W)`` (or any shape) without the batch dimension, positive sizes.

    Returns:
        one :class:`Shortcut` per merge that was found (empty for a plain network).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: bad ``input_shape``, or the model cannot run on that input.
    """
    _check_model(model)
    x = torch.zeros((1, *_input_shape(input_shape)), device=model_device(model))
    tracker = _ShortcutTracker(x)
    _run_once(model, x, torch.no_grad(), tracker)
    return tracker.found
