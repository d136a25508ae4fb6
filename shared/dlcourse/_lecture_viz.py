"""PRIVATE: the heat-map methods and hook recorders that lecture 4 and ``bench/`` use.

**For lectures and benchmarks only. Assignments must not import this module** (DESIGN.md
rule 3): assignment 3 asks students to write activation recording with hooks, gradients at a
layer, occlusion, saliency, Grad-CAM and embedding extraction themselves, and this module
holds the lecture's versions of exactly those. It is deliberately not part of any public API:
its name starts with an underscore, no ``__all__`` of the package lists it, and
``tests/test_viz.py`` checks that the public ``dlcourse.viz`` does not re-export it.

What is here (all leave the model as they found it: hooks removed and every submodule's
train/eval flag restored in ``finally``, no ``.grad`` left on the parameters):

* hook recorders: :func:`resolve_layers`, :func:`capture_activations`, :func:`capture_gradients`;
* heat maps ``(N, C, H, W) -> (N, H, W)``: :func:`cam`, :func:`grad_cam`, :func:`saliency`,
  :func:`smoothgrad`, :func:`guided_backprop`, :func:`occlusion` (the definition assignment 3
  grades: mean drop of the class *logit* over the windows covering a pixel, last window clipped);
* activations over a data set: :func:`layer_embeddings`, :func:`top_activating`,
  :func:`channel_activity` (dead filters).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ._core import check_choice, check_float, check_int, forward_hooks, model_device
from .lang import tr
from .viz import _MODES, _mode_ctx, check_images, check_targets, upsample_maps

LayerSpec = str | nn.Module


# --------------------------------------------------------------------------- layers
def resolve_layers(model: nn.Module, layers: LayerSpec | Sequence[LayerSpec]) -> dict[str, nn.Module]:
    """Map layer names (as in ``model.named_modules()``) or submodules to ``{name: module}``.

    Args:
        model: the network.
        layers: one name (``"features.3"``), one submodule of ``model``, or a sequence of them.

    Returns:
        ``{name: module}`` in the order given.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or a layer is neither a str nor a module.
        ValueError: no layer given, or a layer is not part of ``model`` (the message lists the
            model's layer names).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    items = [layers] if isinstance(layers, (str, nn.Module)) else layers
    if not isinstance(items, Sequence) or isinstance(items, (bytes, bytearray)):
        raise TypeError(f"layers must be a layer name, a submodule or a list of them, got {type(layers).__name__}")
    if len(items) == 0:
        raise ValueError("layers is empty: name at least one layer of the model")
    named = dict(model.named_modules())
    by_id = {id(m): n for n, m in named.items()}
    out: dict[str, nn.Module] = {}
    for item in items:
        if isinstance(item, str):
            if item not in named or item == "":
                names = [n for n in named if n]
                shown = ", ".join(names[:40]) + (", ..." if len(names) > 40 else "")
                raise ValueError(f"layer {item!r} is not in the model; its layers are: {shown}")
            out[item] = named[item]
        elif isinstance(item, nn.Module):
            if id(item) not in by_id:
                raise ValueError(f"the module {type(item).__name__} given as a layer is not part of the model "
                                 "(a copy, or a layer of another model?)")
            name = by_id[id(item)] or type(item).__name__
            out[name] = item
        else:
            raise TypeError(f"each layer must be a name (str) or a submodule, got {type(item).__name__}")
    return out


# --------------------------------------------------------------------------- hooks
class Captured(dict):
    """``{layer name: tensor}`` filled by hooks; a missing entry explains why it is missing."""

    def __init__(self, names: Sequence[str], what: str):
        super().__init__()
        self._names = list(names)
        self._what = what

    def __missing__(self, key: str):
        if key not in self._names:
            raise KeyError(f"{key!r} is not one of the captured layers {self._names}")
        if self._what == "activation":
            raise KeyError(f"no activation captured for {key!r} yet: run the model inside the `with` block")
        raise KeyError(f"no gradient reached {key!r}: call backward() (or torch.autograd.grad) on a score that "
                       "depends on this layer inside the `with` block; a forward pass under torch.no_grad() "
                       "records no gradient")


def _first_tensor(name: str, output: Any) -> torch.Tensor:
    if torch.is_tensor(output):
        return output
    raise TypeError(f"layer {name!r} returned {type(output).__name__}, not a tensor: capture a layer whose "
                    "output is a single tensor (e.g. a Conv2d or ReLU)")


@contextmanager
def _hooked(model: nn.Module, mode: str, hooks: Mapping[nn.Module, Any]) -> Iterator[None]:
    """Set the mode (``viz._mode_ctx``) and register forward hooks; on exit remove the hooks and
    restore every submodule's flag (``_core.forward_hooks`` inside ``_core.train_mode``)."""
    with _mode_ctx(model, mode), forward_hooks(hooks.items()):
        yield


@contextmanager
def capture_activations(model: nn.Module, layers: LayerSpec | Sequence[LayerSpec], *, detach: bool = True,
                        mode: str = "eval") -> Iterator[Captured]:
    """Record the output of each named layer during forward passes inside the block.

    ``with capture_activations(model, ["conv1", "conv2"]) as acts: model(x)`` leaves
    ``acts["conv1"]: (N, C, H, W)``, the output of the *last* forward pass. On exit every hook is
    removed and every submodule's train/eval flag restored, even when the block raises.

    Args:
        model: the network.
        layers: names from ``model.named_modules()`` or submodules (see :func:`resolve_layers`).
        detach: store detached tensors (default); ``False`` keeps the graph, so gradients can be
            taken with respect to the activations.
        mode: ``"eval"`` (default: dropout off, batch-norm running statistics), ``"train"``, or
            ``"keep"`` the model's current flags.

    Yields:
        a :class:`Captured` dict ``{layer name: tensor}``.

    Raises:
        TypeError, ValueError: see :func:`resolve_layers`; an unknown ``mode``; a layer whose output is
            not a tensor (at the forward pass).
    """
    resolved = resolve_layers(model, layers)
    check_choice(mode, "mode", _MODES)
    store = Captured(list(resolved), "activation")

    def make(name: str):
        def hook(module, inputs, output):
            out = _first_tensor(name, output)
            store[name] = out.detach() if detach else out
        return hook

    with _hooked(model, mode, {m: make(n) for n, m in resolved.items()}):
        yield store


@dataclass
class GradientRecord:
    """Activations ``A: (N, C, h, w)`` and gradients ``dscore/dA`` of the captured layers."""

    activations: Captured
    gradients: Captured


@contextmanager
def capture_gradients(model: nn.Module, layers: LayerSpec | Sequence[LayerSpec], *,
                      mode: str = "eval") -> Iterator[GradientRecord]:
    """Record each layer's output and the gradient that flows back into it.

    Inside the block, run the model and differentiate a score (``score.backward()`` or
    ``torch.autograd.grad(score, x)``); ``rec.gradients[name]`` then holds
    ``d score / d output: (N, C, h, w)`` and ``rec.activations[name]`` the (detached) output.
    The gradient is caught with a hook on the output tensor, so in-place ops after the layer
    are safe. Hooks are removed and train/eval flags restored on exit, even on an exception.

    Args:
        model: the network.
        layers: names from ``model.named_modules()`` or submodules (see :func:`resolve_layers`).
        mode: ``"eval"`` (default), ``"train"`` or ``"keep"`` the model's flags.

    Yields:
        a :class:`GradientRecord`.

    Raises:
        TypeError, ValueError: see :func:`resolve_layers`; an unknown ``mode``.
    """
    resolved = resolve_layers(model, layers)
    check_choice(mode, "mode", _MODES)
    rec = GradientRecord(Captured(list(resolved), "activation"), Captured(list(resolved), "gradient"))

    def make(name: str):
        def hook(module, inputs, output):
            out = _first_tensor(name, output)
            rec.activations[name] = out.detach()
            rec.gradients.pop(name, None)
            if out.requires_grad:
                def grad_hook(grad: torch.Tensor) -> None:
                    rec.gradients[name] = grad.detach()
                out.register_hook(grad_hook)
        return hook

    with _hooked(model, mode, {m: make(n) for n, m in resolved.items()}):
        yield rec


# --------------------------------------------------------------------------- heat maps
def _prepare(model: nn.Module, x: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    x = check_images(x)
    with _hooked(model, "eval", {}), torch.no_grad():
        k = model(x[:1]).shape[-1]
    return x, check_targets(target, x.shape[0], k).to(x.device)


def _class_score(model: nn.Module, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if out.ndim != 2:
        raise ValueError(f"the model must return logits (N, K), got shape {tuple(out.shape)}")
    return out.gather(1, t[:, None])[:, 0]


def cam(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor, *,
        layer: str = "relu3", fc: str = "fc") -> torch.Tensor:
    """Class activation map of a GAP network (Zhou et al., 2016), upsampled to the input.

    ``CAM_c = sum_k w[c, k] * A_k`` with ``A = layer``'s output ``(N, K, h, w)`` and ``w`` the
    weight of the linear layer ``fc`` that follows global average pooling.

    Args:
        model: a network ``... -> layer -> GAP -> fc`` (e.g. :func:`dlcourse.viz.gap_cnn`).
        x: ``(N, C, H, W)``.
        target: one class index or one per image.

    Returns:
        ``(N, H, W)`` (signed: negative where the evidence is against the class).

    Raises:
        TypeError: ``fc`` is not an ``nn.Linear`` (or see :func:`dlcourse.viz.check_images`).
        ValueError: a bad batch, target or layer name.
    """
    x, t = _prepare(model, x, target)
    fc_layer = resolve_layers(model, fc)[fc]
    if not isinstance(fc_layer, nn.Linear):
        raise TypeError(f"{fc!r} must be the nn.Linear after global average pooling, got {type(fc_layer).__name__}")
    with capture_activations(model, layer) as acts, torch.no_grad():
        model(x)
    maps = torch.einsum("nk,nkhw->nhw", fc_layer.weight[t], acts[layer])
    return upsample_maps(maps, x.shape[-2:])


def grad_cam(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor, *,
             layer: LayerSpec) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): ``ReLU(sum_k alpha_k A_k)``, ``alpha_k = mean_ij dy_c/dA_k``.

    Gradients are taken with ``torch.autograd.grad`` with respect to the layer's output only,
    so no parameter gets a ``.grad``. The map is upsampled bilinearly
    (``align_corners=False``) to the input size.

    Args:
        model: any CNN returning logits ``(N, K)``.
        x: ``(N, C, H, W)``.
        target: one class index or one per image.
        layer: the conv layer (name or submodule) whose output ``A: (N, K, h, w)`` is used.

    Returns:
        ``(N, H, W)``, non-negative.

    Raises:
        ValueError: ``layer`` does not give conv maps ``(N, K, h, w)``, or a bad batch / target.
    """
    x, t = _prepare(model, x, target)
    name = next(iter(resolve_layers(model, layer)))
    with capture_activations(model, layer, detach=False) as acts, torch.enable_grad():
        score = _class_score(model, x, t).sum()
        a = acts[name]
        if a.ndim != 4:
            raise ValueError(f"layer {name!r} gives shape {tuple(a.shape)}: Grad-CAM needs a conv layer (N, K, h, w)")
        (g,) = torch.autograd.grad(score, a)
    maps = F.relu((g.mean((2, 3), keepdim=True) * a.detach()).sum(1))
    return upsample_maps(maps, x.shape[-2:])


def saliency(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Saliency (Simonyan et al., 2014): ``|d y_c / d x|``, max over channels: ``(N, C, H, W) -> (N, H, W)``.

    Args:
        model: a classifier returning logits ``(N, K)``.
        x: ``(N, C, H, W)``.
        target: one class index or one per image.

    Returns:
        ``(N, H, W)``, non-negative.
    """
    x, t = _prepare(model, x, target)
    with _hooked(model, "eval", {}), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(_class_score(model, xg, t).sum(), xg)
    return g.abs().amax(1)


def smoothgrad(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor, *,
               samples: int = 25, noise: float = 0.15, seed: int = 0) -> torch.Tensor:
    """SmoothGrad (Smilkov et al., 2017): saliency averaged over noisy copies of each image.

    Each copy is ``x + N(0, sigma^2)`` with ``sigma = noise * (x.max() - x.min())`` per image;
    the map is the mean of ``|d y_c / d x|`` over ``samples`` copies, max over channels.

    Args:
        samples: number of noisy copies (an int >= 1).
        noise: noise level relative to each image's range (>= 0).
        seed: seeds the noise (the same seed gives the same map).

    Returns:
        ``(N, H, W)``.
    """
    check_int(samples, "samples", min=1)
    check_float(noise, "noise", min=0)
    x, t = _prepare(model, x, target)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    sigma = noise * (x.flatten(1).amax(1) - x.flatten(1).amin(1)).view(-1, 1, 1, 1)
    total = torch.zeros(x.shape[0], *x.shape[2:], device=x.device)
    for _ in range(samples):
        eps = torch.randn(x.shape, generator=gen).to(x.device)
        total += saliency(model, x + sigma * eps, t)
    return total / samples


class _GuidedReLU(torch.autograd.Function):
    """Identity on a ReLU's output whose backward also zeroes negative gradients."""

    @staticmethod
    def forward(ctx, out):  # noqa: D102
        ctx.save_for_backward(out)
        return out.clone()

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        (out,) = ctx.saved_tensors
        return grad.clamp(min=0) * (out > 0)


def guided_backprop(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al., 2015): ``|gradient|`` through "guided" ReLUs.

    At every ``nn.ReLU`` module the backward pass keeps only positive gradients at positive
    inputs. (ReLUs written as ``F.relu`` inside ``forward`` are not changed.)

    Args:
        model: a classifier returning logits ``(N, K)``, with ``nn.ReLU`` modules.
        x: ``(N, C, H, W)``.
        target: one class index or one per image.

    Returns:
        ``(N, H, W)``: max over channels of the absolute guided gradient.

    Raises:
        ValueError: the model has no ``nn.ReLU`` module, or a bad batch / target.
    """
    x, t = _prepare(model, x, target)
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("guided backprop needs nn.ReLU modules in the model; this one has none")
    hook = lambda module, inputs, output: _GuidedReLU.apply(output)  # noqa: E731
    with _hooked(model, "eval", {m: hook for m in relus}), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(_class_score(model, xg, t).sum(), xg)
    return g.abs().amax(1)


def occlusion_starts(size: int, patch: int, stride: int) -> list[int]:
    """Window starts ``k * stride`` for ``k = 0 .. ceil((size - patch) / stride)``: the last window
    may hang over the border (it is clipped), so every pixel is covered (as Captum's ``Occlusion``).

    Args:
        size: the image side.
        patch: the window side.
        stride: the step between window starts.

    Returns:
        The window starts, ``0`` first.
    """
    return [k * stride for k in range(math.ceil((size - patch) / stride) + 1)]


@torch.no_grad()
def occlusion(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | torch.Tensor, *,
              patch: int, stride: int, fill: float = 0.0, batch_size: int = 1024) -> torch.Tensor:
    """Occlusion sensitivity (Zeiler & Fergus, 2014), the definition assignment 3 grades.

    A ``patch x patch`` square of every channel is set to ``fill`` at each window position
    (starts from :func:`occlusion_starts`, last window clipped at the border); the score is the
    class **logit**: ``drop = y_c(x) - y_c(x with the square hidden)``. Each pixel gets the
    mean drop over the windows that cover it. Occluded copies are sent through the model
    ``batch_size`` at a time (images x windows), in eval mode.

    Args:
        model: a classifier returning logits ``(N, K)``.
        x: ``(N, C, H, W)``.
        target: one class index or one per image.
        patch: window side in pixels (1 <= patch <= min(H, W)).
        stride: step between window starts (1 <= stride <= patch).
        fill: the value written into the hidden square.
        batch_size: images per forward pass.

    Returns:
        ``(N, H, W)`` float32, positive where hiding the pixel lowers the class score.

    Raises:
        TypeError: a size that is not an int.
        ValueError: a size < 1, a patch larger than the image, or ``stride > patch``.
    """
    x, t = _prepare(model, x, target)
    n, c, h, w = x.shape
    for name, v in (("patch", patch), ("stride", stride), ("batch_size", batch_size)):
        check_int(v, name, min=1)
    if patch > min(h, w):
        raise ValueError(f"patch {patch} does not fit in a {h}x{w} image")
    if stride > patch:
        raise ValueError(f"stride {stride} > patch {patch} would skip pixels")
    rows, cols = occlusion_starts(h, patch, stride), occlusion_starts(w, patch, stride)
    masks = torch.zeros(len(rows) * len(cols), h, w, device=x.device)     # (W, H, W): 1 inside each window
    for k, (r, q) in enumerate((r, q) for r in rows for q in cols):
        masks[k, r:r + patch, q:q + patch] = 1.0
    count = masks.sum(0)
    heat = torch.zeros(n, h, w, device=x.device)
    n_win = masks.shape[0]
    per_image = max(1, min(n_win, batch_size))              # windows per forward pass for one image
    images_per_pass = max(1, batch_size // per_image)
    with _hooked(model, "eval", {}):
        base = _class_score(model, x, t)
        for i0 in range(0, n, images_per_pass):
            xi, ti = x[i0:i0 + images_per_pass], t[i0:i0 + images_per_pass]
            nb = xi.shape[0]
            for w0 in range(0, n_win, per_image):
                mk = masks[w0:w0 + per_image]                                     # (w, H, W)
                copies = torch.where(mk[None, :, None].bool(), torch.as_tensor(fill, dtype=x.dtype, device=x.device),
                                     xi[:, None])                                  # (nb, w, C, H, W)
                scores = _class_score(model, copies.flatten(0, 1), ti.repeat_interleave(mk.shape[0]))
                drops = base[i0:i0 + nb, None] - scores.view(nb, mk.shape[0])      # (nb, w)
                heat[i0:i0 + nb] += torch.einsum("nw,whv->nhv", drops, mk)
    return (heat / count).float()


# --------------------------------------------------------------------------- activations over a data set
@torch.no_grad()
def layer_embeddings(model: nn.Module, layer: LayerSpec, images: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """The output of ``layer`` for every image, flattened: ``(N, C, H, W) -> (N, D)`` (eval mode, CPU).

    Args:
        model: the network (its own device).
        layer: a layer name or submodule.
        images: ``(N, C, H, W)``.
        batch_size: images per forward pass.

    Returns:
        ``(N, D)`` float tensor on the CPU.
    """
    return torch.cat([a.flatten(1).float().cpu() for _, a in _layer_batches(model, layer, images, batch_size)])


def _layer_batches(model: nn.Module, layer: LayerSpec, images: torch.Tensor, batch_size: int):
    """Yield ``(name, output of layer)`` for ``images`` in batches of ``batch_size`` (hooks removed after)."""
    images = check_images(images, name="images")
    name = next(iter(resolve_layers(model, layer)))
    dev = model_device(model)
    with capture_activations(model, layer) as acts:
        for i in range(0, images.shape[0], batch_size):
            model(images[i:i + batch_size].to(dev))
            yield name, acts[name]


@torch.no_grad()
def channel_maxima(model: nn.Module, layer: LayerSpec, images: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """Each channel's spatial maximum of ``layer`` for every image: ``(N, C, H, W) -> (N, K)``.

    Args:
        model: the network (its own device).
        layer: a conv layer name or submodule.
        images: ``(N, C, H, W)``.
        batch_size: images per forward pass.

    Returns:
        ``(N, K)`` float tensor on the CPU.

    Raises:
        ValueError: the layer does not give conv maps ``(N, K, h, w)``.
    """
    out = []
    for name, a in _layer_batches(model, layer, images, batch_size):
        if a.ndim != 4:
            raise ValueError(f"layer {name!r} gives shape {tuple(a.shape)}: expected conv maps (N, K, h, w)")
        out.append(a.amax((2, 3)).float().cpu())
    return torch.cat(out)


def top_activating(maxima: torch.Tensor, unit: int, k: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` images on which ``unit`` fires most: ``maxima: (N, K)`` from :func:`channel_maxima`.

    Args:
        maxima: ``(N, K)`` from :func:`channel_maxima`.
        unit: the channel, in ``0 .. K-1``.
        k: how many images, in ``1 .. N``.

    Returns:
        ``(indices: (k,), values: (k,))``, largest first.

    Raises:
        ValueError: ``maxima`` is not ``(N, K)`` or ``unit`` / ``k`` is out of range.
    """
    if not torch.is_tensor(maxima) or maxima.ndim != 2:
        raise ValueError(f"maxima must be a (N, K) tensor (channel_maxima), got {getattr(maxima, 'shape', maxima)}")
    if not 0 <= unit < maxima.shape[1]:
        raise ValueError(f"unit must be in 0..{maxima.shape[1] - 1}, got {unit}")
    if not 1 <= k <= maxima.shape[0]:
        raise ValueError(f"k must be in 1..{maxima.shape[0]}, got {k}")
    v, i = maxima[:, unit].topk(k)
    return i, v


def channel_activity(maxima: torch.Tensor) -> torch.Tensor:
    """Share of the images on which each channel is ever positive: ``(N, K) -> (K,)``.

    A channel with activity 0 is a **dead filter**: after its ReLU it outputs 0 for every image,
    so nothing downstream can use it and no gradient reaches its weights.

    Args:
        maxima: ``(N, K)`` from :func:`channel_maxima`.

    Returns:
        ``(K,)`` shares in [0, 1].

    Raises:
        ValueError: ``maxima`` is not a ``(N, K)`` tensor.
    """
    if not torch.is_tensor(maxima) or maxima.ndim != 2:
        raise ValueError(f"maxima must be a (N, K) tensor (channel_maxima), got {getattr(maxima, 'shape', maxima)}")
    return (maxima > 0).float().mean(0)


# --------------------------------------------------------------------------- the faithfulness benchmark
#: sizes of the benchmark, shared by ``bench/pointing_game.py`` and lecture 4 section 6 (scenes of
#: ``size`` x ``size`` pixels from ``data.make_shape_scenes``; the model from ``viz.train_scenes_cnn``)
BENCH_CONFIG: dict[str, dict[str, Any]] = {
    "full": {"n_train": 5000, "n_test": 600, "size": 36, "epochs": 12, "width": 12, "batch_size": 32, "lr": 5e-3,
             "n_eval": 600, "occlusion_patch": 8, "occlusion_stride": 4, "smoothgrad_samples": 16, "curve_n": 600,
             "curve_steps": 10},
    "fast": {"n_train": 800, "n_test": 200, "size": 36, "epochs": 4, "width": 8, "batch_size": 16, "lr": 5e-3,
             "n_eval": 100, "occlusion_patch": 12, "occlusion_stride": 8, "smoothgrad_samples": 8, "curve_n": 40,
             "curve_steps": 6},
}

#: model-free baselines of the benchmark (name -> kind of :func:`dlcourse.viz.baseline_maps`)
MODEL_FREE = {"image brightness": "brightness", "edge energy": "edges", "centre prior": "centre", "random": "random"}


def faithfulness_benchmark(model: nn.Module, randomized: nn.Module, scenes: Any, *, n_eval: int | None = None,
                           occlusion_patch: int = 8, occlusion_stride: int = 4, smoothgrad_samples: int = 16,
                           curve_steps: int = 10, curve_fraction: float = 0.25, curve_n: int | None = None,
                           methods: Sequence[str] | None = None) -> dict[str, Any]:
    """Score heat maps of a multi-label scene model, and every baseline, on :class:`ShapeScenes`.

    Object 0 of each scene is the **target** (its class is asked for), object 1 the
    **distractor**. For every map: pointing game on the target's box (a hit only inside it),
    share of maxima on the distractor's box, deletion AUC (sigmoid score of the target class
    while the map's top pixels are replaced by the image mean, up to ``curve_fraction`` of the
    pixels: lower = better) and insertion AUC (top pixels put back into a blurred copy: higher
    = better). Baselines: the model-free maps of :data:`MODEL_FREE`, Grad-CAM for the *other*
    class (the distractor's), and Grad-CAM of ``randomized`` (the model-randomization sanity
    check of Adebayo et al., 2018, with the Spearman rank correlation of its maps to the
    trained model's; for the gradient methods, ``randomized_rank_correlation`` compares each
    method's maps with the same method on ``randomized``: near 0 = the map depends on the learned
    weights, near 1 = it mostly echoes the image). ``curve_n`` limits the deletion / insertion curves to the first scenes
    (default: all ``n_eval``).

    Args:
        model: the trained multi-label scene model.
        randomized: the same network, untrained (the sanity check).
        scenes: a :class:`dlcourse.data.ShapeScenes`.
        n_eval: scenes scored (default: all).
        occlusion_patch: occlusion window side.
        occlusion_stride: occlusion window step.
        smoothgrad_samples: noisy copies per SmoothGrad map.
        curve_steps: steps of the deletion / insertion curves.
        curve_fraction: share of pixels deleted / inserted at the last step.
        curve_n: scenes the curves are computed on (default: ``n_eval``).
        methods: names of the rows to compute (default: all).

    Returns:
        ``{"n": int, "curve_n": int, "rows": [{"name", "kind", "pointing_game", "on_distractor",
        "deletion_auc", "insertion_auc", "randomized_rank_correlation" (float or None), "seconds"}], "rank_correlation_randomized": float,
        "maps": {name: (N, H, W)}, "deletion": {name: DeletionCurve}, "insertion": {...}}``

    Raises:
        TypeError: ``scenes`` is not a ShapeScenes.
        ValueError: ``n_eval`` / ``curve_n`` out of range, or an unknown method.
    """
    from . import data as _data
    from .viz import baseline_maps, deletion_curve, insertion_curve, pointing_game, rank_correlation

    if not isinstance(scenes, _data.ShapeScenes):
        raise TypeError(f"scenes must be a dlcourse.data.ShapeScenes, got {type(scenes).__name__}")
    n = len(scenes) if n_eval is None else n_eval
    if not 1 <= n <= len(scenes):
        raise ValueError(f"n_eval must be in 1..{len(scenes)}, got {n_eval}")
    nc = n if curve_n is None else min(curve_n, n)
    if nc < 1:
        raise ValueError(f"curve_n must be >= 1, got {curve_n}")
    dev = model_device(model)
    x = scenes.images[:n].to(dev)
    tgt, other = scenes.labels[:n, 0], scenes.labels[:n, 1]
    tbox, dbox = scenes.boxes[:n, 0], scenes.boxes[:n, 1]
    randomized = randomized.to(dev)
    table: dict[str, tuple[str, Any]] = {
        "Grad-CAM relu3": ("method", lambda: grad_cam(model, x, tgt, layer="relu3")),
        "Grad-CAM relu2": ("method", lambda: grad_cam(model, x, tgt, layer="relu2")),
        f"occlusion {occlusion_patch}x{occlusion_patch}": (
            "method", lambda: occlusion(model, x, tgt, patch=occlusion_patch, stride=occlusion_stride)),
        "saliency": ("method", lambda: saliency(model, x, tgt)),
        "SmoothGrad": ("method", lambda: smoothgrad(model, x, tgt, samples=smoothgrad_samples)),
        "guided backprop": ("method", lambda: guided_backprop(model, x, tgt)),
        "Grad-CAM, other class": ("model baseline", lambda: grad_cam(model, x, other, layer="relu3")),
        "Grad-CAM, randomized model": ("model baseline", lambda: grad_cam(randomized, x, tgt, layer="relu3")),
    }
    for name, kind in MODEL_FREE.items():
        table[name] = ("model-free baseline", (lambda k=kind: baseline_maps(x, k)))
    # the same method on the randomized network (Adebayo et al.): cheap gradient methods only
    on_random = {
        "Grad-CAM relu3": lambda: grad_cam(randomized, x, tgt, layer="relu3"),
        "Grad-CAM relu2": lambda: grad_cam(randomized, x, tgt, layer="relu2"),
        "saliency": lambda: saliency(randomized, x, tgt),
        "SmoothGrad": lambda: smoothgrad(randomized, x, tgt, samples=smoothgrad_samples),
        "guided backprop": lambda: guided_backprop(randomized, x, tgt),
    }
    if methods is not None:
        unknown = [m for m in methods if m not in table]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; known: {list(table)}")
        table = {k: v for k, v in table.items() if k in methods}
    import time

    rows, maps, dels, inss = [], {}, {}, {}
    kw = {"steps": curve_steps, "max_fraction": curve_fraction, "output": "sigmoid"}
    for name, (kind, fn) in table.items():
        t0 = time.perf_counter()
        m = fn().detach().float().cpu()
        secs = time.perf_counter() - t0
        maps[name] = m
        dels[name] = deletion_curve(model, x[:nc], m[:nc].to(dev), tgt[:nc], **kw)
        inss[name] = insertion_curve(model, x[:nc], m[:nc].to(dev), tgt[:nc], **kw)
        rho = None
        if name in on_random:
            rho = float(rank_correlation(m, on_random[name]().detach().float().cpu()).mean())
        rows.append({
            "name": name, "kind": kind,
            "pointing_game": pointing_game(m, tbox), "on_distractor": pointing_game(m, dbox),
            "deletion_auc": dels[name].auc, "insertion_auc": inss[name].auc,
            "randomized_rank_correlation": rho, "seconds": secs,
        })
    out: dict[str, Any] = {"n": n, "curve_n": nc, "rows": rows, "maps": maps, "deletion": dels, "insertion": inss}
    if "Grad-CAM relu3" in maps and "Grad-CAM, randomized model" in maps:
        out["rank_correlation_randomized"] = float(
            rank_correlation(maps["Grad-CAM relu3"], maps["Grad-CAM, randomized model"]).mean())
    return out


def format_benchmark_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The benchmark rows as a fixed-width text table (what the bench and the lecture print)."""
    # TRANSLATORS: the column names of a fixed-width table: keep each within its width (28, 20, 13, 13, 12, 13, 13)
    names = [tr("map"), tr("kind"), tr("pointing game"), tr("on distractor"), tr("deletion AUC"), tr("insertion AUC"),
             tr("rho vs random")]
    head = (f"{names[0]:28s} {names[1]:20s} {names[2]:>13s} {names[3]:>13s} "
            f"{names[4]:>12s} {names[5]:>13s} {names[6]:>13s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        rho = r.get("randomized_rank_correlation")
        lines.append(f"{r['name']:28s} {r['kind']:20s} {r['pointing_game']:13.1%} {r['on_distractor']:13.1%} "
                     f"{r['deletion_auc']:12.3f} {r['insertion_auc']:13.3f} "
                     f"{'-' if rho is None else format(rho, '.2f'):>13s}")
    return "\n".join(lines)
