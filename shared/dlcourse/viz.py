"""Heat-map metrics, model and data recipes, and the plots of lecture 4 (public).

DESIGN.md rule 3: what assignment 3 asks students to write -- recording activations with
hooks, gradients at a layer, occlusion, saliency, CAM / Grad-CAM, embedding extraction -- is
*not* here. Lecture 4 and ``bench/`` use the private module ``dlcourse._lecture_viz`` for those
(assignments must not import it). What is here:

* input checks with clear errors: :func:`check_images` (a 3-D tensor where a batch is
  expected), :func:`check_targets` (a class index out of range);
* heat-map metrics: :func:`pointing_game` (share of images whose heat-map maximum falls in the
  target's box), :func:`deletion_curve` / :func:`insertion_curve` (the class score while the
  pixels a map ranks first are deleted from the image / inserted into a blurred copy);
* model-free baseline maps (:func:`baseline_maps`: brightness, edge energy, centre prior,
  random) and :func:`rank_correlation` (the model-randomization sanity check);
* :func:`knn_accuracy` (separability of an embedding), :func:`nearest_neighbours` (retrieval),
  :func:`filter_roughness` (noise-like filters score about 1, smooth ones near 0);
* :func:`gap_cnn` and :func:`train_shapes_cnn` (the lecture's network and training recipe,
  shared with ``bench/pointing_game.py``), :func:`pretrained_resnet18` (torchvision weights from
  a local file, the torch cache, or a download when online);

The plots of lecture 4 (heat-map grids, deletion curves, filters, embeddings, image rows) are
in :mod:`dlcourse.plotting`; they draw what the functions here compute.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._core import check_choice, check_float, check_int, model_device, to_numpy, train_mode
from .lang import tr

__all__ = [
    "check_images",
    "check_targets",
    "normalize_maps",
    "upsample_maps",
    "pointing_game_hits",
    "pointing_game",
    "DeletionCurve",
    "deletion_curve",
    "insertion_curve",
    "baseline_maps",
    "rank_correlation",
    "knn_accuracy",
    "nearest_neighbours",
    "filter_roughness",
    "gap_cnn",
    "train_shapes_cnn",
    "scene_accuracy",
    "train_scenes_cnn",
    "WeightsUnavailable",
    "Pretrained",
    "pretrained_resnet18",
    "mean_roughness",
]

_MODES = ("eval", "train", "keep")


# --------------------------------------------------------------------------- input checks
def check_images(x: Any, *, channels: int | None = None, name: str = "x") -> torch.Tensor:
    """Check that ``x`` is a floating-point batch ``(N, C, H, W)`` and return it.

    Args:
        x: the argument.
        channels: the channel count ``C`` it must have, or ``None`` for any.
        name: its name, for the messages.

    Returns:
        ``x`` itself.

    Raises:
        TypeError: not a tensor, or not floating point.
        ValueError: not 4-D (a single image ``(C, H, W)`` gets the hint ``x.unsqueeze(0)``),
            an empty batch, or ``C != channels`` when ``channels`` is given.
    """
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        hint = f": for one image use {name}.unsqueeze(0)" if x.ndim == 3 else ""
        raise ValueError(f"{name} must be a 4-D batch (N, C, H, W), got shape {tuple(x.shape)}{hint}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be floating point (e.g. float32 in [0, 1]), got {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (N = 0)")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} has {x.shape[1]} channels, expected {channels}")
    return x


def check_targets(target: int | Sequence[int] | torch.Tensor, n: int, num_classes: int) -> torch.Tensor:
    """Turn ``target`` (one class index, or one per image) into a ``(n,)`` int64 tensor.

    Args:
        target: one class index, or one per image: a sequence of ints or an integer tensor
            ``(n,)`` (a one-element tensor is repeated ``n`` times).
        n: the number of images.
        num_classes: the model's number of classes ``K``.

    Returns:
        ``(n,)`` int64 tensor on the CPU.

    Raises:
        TypeError: not an int, a sequence of ints or an integer tensor.
        ValueError: wrong length, or an index outside ``[0, num_classes)``.
    """
    if isinstance(target, bool):
        raise TypeError("target must be a class index (int) or one per image, got a bool")
    if isinstance(target, (int, np.integer)):
        t = torch.full((n,), int(target), dtype=torch.long)
    elif torch.is_tensor(target):
        if torch.is_floating_point(target) or target.dtype == torch.bool:
            raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
        if target.ndim > 1:
            raise ValueError(f"target must be an int or a (N,) tensor, got shape {tuple(target.shape)}")
        t = target.reshape(-1).long().cpu()
        if t.numel() == 1 and n > 1:
            t = t.expand(n).clone()
    elif isinstance(target, Sequence) and not isinstance(target, str):
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in target):
            raise TypeError("target must be a class index (int) or a sequence of ints")
        t = torch.tensor(list(target), dtype=torch.long)
    else:
        raise TypeError(f"target must be a class index (int), a sequence of ints or a tensor, "
                        f"got {type(target).__name__}")
    if t.numel() != n:
        raise ValueError(f"got {t.numel()} targets for {n} images")
    bad = (t < 0) | (t >= num_classes)
    if bad.any():
        raise ValueError(f"target class {int(t[bad][0])} is out of range: the model has {num_classes} classes "
                         f"(valid indices 0..{num_classes - 1})")
    return t


# --------------------------------------------------------------------------- heat maps
def _check_maps(maps: Any, name: str = "heatmaps") -> torch.Tensor:
    if not torch.is_tensor(maps):
        maps = torch.as_tensor(np.asarray(maps))
    if maps.ndim == 4 and maps.shape[1] == 1:
        maps = maps[:, 0]
    if maps.ndim != 3:
        raise ValueError(f"{name} must be (N, H, W) (or (N, 1, H, W)), got shape {tuple(maps.shape)}"
                         + (": for one map use .unsqueeze(0)" if maps.ndim == 2 else ""))
    if not torch.is_floating_point(maps):
        maps = maps.float()
    if torch.isnan(maps).any():
        raise ValueError(f"{name} contains NaN")
    return maps


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Scale each map of ``maps: (N, H, W)`` to [0, 1] (min -> 0, max -> 1; a constant map -> 0)."""
    m = _check_maps(maps).detach()
    lo = m.flatten(1).min(1).values[:, None, None]
    hi = m.flatten(1).max(1).values[:, None, None]
    span = hi - lo
    return torch.where(span > 0, (m - lo) / span.clamp_min(1e-30), torch.zeros_like(m))


def upsample_maps(maps: torch.Tensor, size: int | tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize ``maps: (N, h, w)`` or ``(N, 1, h, w)`` to ``(N, H, W)`` with ``F.interpolate``.

    ``mode="bilinear"`` uses ``align_corners=False`` (pixel centres line up with the input).

    Args:
        maps: ``(N, h, w)`` or ``(N, 1, h, w)`` heat maps.
        size: ``H`` (square) or ``(H, W)``.
        mode: an ``F.interpolate`` mode.

    Returns:
        ``(N, H, W)`` float maps.

    Raises:
        ValueError: ``maps`` is not a stack of 2-D maps, or contains NaN.
    """
    m = _check_maps(maps, "maps")
    size = (size, size) if isinstance(size, int) else tuple(size)
    kw = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return torch.nn.functional.interpolate(m[:, None], size=size, mode=mode, **kw)[:, 0]


def _check_boxes(boxes: Any, n: int, h: int, w: int) -> torch.Tensor:
    b = torch.as_tensor(np.asarray(boxes.cpu() if torch.is_tensor(boxes) else boxes))
    if b.ndim == 1 and b.numel() == 4:
        b = b[None]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) = (x0, y0, x1, y1), got shape {tuple(b.shape)}")
    if b.shape[0] != n:
        raise ValueError(f"got {n} heat maps but {b.shape[0]} boxes")
    b = b.round().long()
    if ((b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])).any():
        raise ValueError("each box must have x1 > x0 and y1 > y0 (x1, y1 exclusive)")
    if (b[:, :2] < 0).any() or (b[:, 2] > w).any() or (b[:, 3] > h).any():
        raise ValueError(f"boxes must lie inside the {h}x{w} heat maps")
    return b


def pointing_game_hits(heatmaps: torch.Tensor, boxes: torch.Tensor, *, tolerance: int = 0) -> torch.Tensor:
    """For each map, does its maximum fall inside the object's box?

    Args:
        heatmaps: ``(N, H, W)``, larger = more important (same size as the images).
        boxes: ``(N, 4)`` pixel boxes ``(x0, y0, x1, y1)``, ``x1``/``y1`` exclusive.
        tolerance: grow every box by this many pixels on each side (0 = strict).

    Returns:
        ``(N,)`` bool. Ties are strict: a hit needs *every* pixel that attains the maximum to be
        inside the box, so a constant map (no information) misses unless the box is the image.
    """
    m = _check_maps(heatmaps).detach().cpu()
    n, h, w = m.shape
    tolerance = check_int(tolerance, "tolerance (pixels)", min=0)
    b = _check_boxes(boxes, n, h, w)
    ys = torch.arange(h)[None, :, None]
    xs = torch.arange(w)[None, None, :]
    x0, y0 = (b[:, 0] - tolerance)[:, None, None], (b[:, 1] - tolerance)[:, None, None]
    x1, y1 = (b[:, 2] + tolerance)[:, None, None], (b[:, 3] + tolerance)[:, None, None]
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    is_max = m == m.flatten(1).max(1).values[:, None, None]
    return ~(is_max & ~inside).flatten(1).any(1)


def pointing_game(heatmaps: torch.Tensor, boxes: torch.Tensor, *, tolerance: int = 0) -> float:
    """Share of images (in [0, 1]) whose heat-map maximum falls in the box; see :func:`pointing_game_hits`.

    Args:
        heatmaps: ``(N, H, W)``, larger = more important.
        boxes: ``(N, 4)`` pixel boxes ``(x0, y0, x1, y1)``, ``x1``/``y1`` exclusive.
        tolerance: grow every box by this many pixels on each side.

    Returns:
        The share of hits, a float in [0, 1].
    """
    return float(pointing_game_hits(heatmaps, boxes, tolerance=tolerance).float().mean())


@dataclass
class DeletionCurve:
    """Class score while the most important pixels are deleted (or inserted).

    ``fractions: (S + 1,)`` from 0 to 1, ``scores: (N, S + 1)`` (one curve per image).
    """

    fractions: torch.Tensor
    scores: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        """Mean curve over the images, ``(S + 1,)``."""
        return self.scores.mean(0)

    @property
    def auc(self) -> float:
        """Area under the mean curve (trapezoid rule) divided by the range of ``fractions``.

        The mean score along the curve (in [0, 1] for probabilities); for a deletion curve lower
        = more faithful heat map, for an insertion curve higher = more faithful.
        """
        return float(self.per_image_auc.mean())

    @property
    def per_image_auc(self) -> torch.Tensor:
        """Normalized area under each image's curve, ``(N,)``."""
        y, x = self.scores, self.fractions
        return ((y[:, 1:] + y[:, :-1]) / 2 * (x[1:] - x[:-1])).sum(1) / (x[-1] - x[0])


def _mode_ctx(model: nn.Module, mode: str) -> AbstractContextManager:
    """The context of ``mode`` (``_core.train_mode``): ``"eval"``, ``"train"`` or ``"keep"`` the flags."""
    check_choice(mode, "mode", _MODES)
    return train_mode(model, None if mode == "keep" else mode == "train")


_OUTPUTS = ("softmax", "sigmoid", "logit")


def _score(logits: torch.Tensor, t: torch.Tensor, output: str) -> torch.Tensor:
    z = logits.float()
    if output == "softmax":
        z = torch.softmax(z, 1)
    elif output == "sigmoid":
        z = torch.sigmoid(z)
    return z.gather(1, t[:, None])[:, 0]


@torch.no_grad()
def _perturbation_curve(kind: str, model: nn.Module, images: torch.Tensor, heatmaps: torch.Tensor,
                        targets: int | Sequence[int] | torch.Tensor, *, steps: int, max_fraction: float,
                        fill: float | str, batch_size: int, mode: str, output: str) -> DeletionCurve:
    x = check_images(images, name="images")
    m = _check_maps(heatmaps)
    n, c, h, w = x.shape
    if m.shape != (n, h, w):
        raise ValueError(f"heatmaps must be (N, H, W) = {(n, h, w)} to match the images, got {tuple(m.shape)}: "
                         "upsample them first (upsample_maps)")
    check_int(steps, "steps", min=1)
    check_int(batch_size, "batch_size", min=1)
    check_float(max_fraction, "max_fraction", min=0, min_open=True, max=1)
    check_choice(output, "output (how logits become the tracked score)", _OUTPUTS)
    dev = model_device(model)
    x = x.to(dev)
    if isinstance(fill, str):
        if fill == "mean":
            base = x.mean((2, 3), keepdim=True).expand_as(x)
        elif fill == "blur":
            k = max(3, (min(h, w) // 4) | 1)
            base = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, [k // 2] * 4, mode="replicate"), k, 1)
        else:
            raise ValueError(f"fill must be a number, 'mean' or 'blur', got {fill!r}")
    else:
        base = torch.full_like(x, float(fill))
    order = torch.argsort(m.to(dev).flatten(1), dim=1, descending=True, stable=True)   # (N, H*W)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(h * w, device=dev).expand(n, -1))          # rank of each pixel
    rank = rank.view(n, 1, h, w)
    counts = [round(s / steps * max_fraction * h * w) for s in range(steps + 1)]
    with _mode_ctx(model, mode):
        out0 = model(x[:1])
        if out0.ndim != 2:
            raise ValueError(f"the model must return logits (N, K), got shape {tuple(out0.shape)}")
        t = check_targets(targets, n, out0.shape[1]).to(dev)
        scores = torch.empty(n, steps + 1)
        for s, k in enumerate(counts):
            for i in range(0, n, batch_size):
                sl = slice(i, i + batch_size)
                top = rank[sl] < k
                xd = torch.where(top, base[sl], x[sl]) if kind == "deletion" else torch.where(top, x[sl], base[sl])
                scores[sl, s] = _score(model(xd), t[sl], output).cpu()
    return DeletionCurve(torch.tensor([k / (h * w) for k in counts]), scores)


def deletion_curve(model: nn.Module, images: torch.Tensor, heatmaps: torch.Tensor,
                   targets: int | Sequence[int] | torch.Tensor, *, steps: int = 16, max_fraction: float = 1.0,
                   fill: float | str = "mean", batch_size: int = 512, mode: str = "eval",
                   output: str = "softmax") -> DeletionCurve:
    """Delete pixels in the order a heat map ranks them and record the class score.

    At step ``s`` the ``round(s / steps * max_fraction * H * W)`` highest-ranked pixels of each
    image (all channels) are replaced by ``fill``; the target class's score is recorded. A
    faithful heat map makes the score fall fast (small :attr:`~DeletionCurve.auc`). Ties in a
    map are broken in raster order (stable sort). (Petsiuk et al., 2018.)

    Args:
        model: a classifier returning logits ``(N, K)``.
        images: ``(N, C, H, W)``.
        heatmaps: ``(N, H, W)`` at the images' resolution.
        targets: the class whose score is tracked (one int, or ``(N,)``).
        steps: number of deletion steps (the curve has ``steps + 1`` points).
        max_fraction: share of the pixels deleted at the last step, in (0, 1]; small objects
            are gone after a few percent, so a finer curve over the first part says more.
        fill: a constant, ``"mean"`` (each image's per-channel mean, the default) or ``"blur"``
            (a box-blurred copy of the image).
        batch_size: images per forward pass.
        mode: ``"eval"``, ``"train"`` or ``"keep"`` during the passes (flags restored afterwards).
        output: ``"softmax"`` probability (single-label models), ``"sigmoid"`` (multi-label
            models) or the raw ``"logit"``.

    Returns:
        a :class:`DeletionCurve` with ``scores: (N, steps + 1)``.
    """
    return _perturbation_curve("deletion", model, images, heatmaps, targets, steps=steps, max_fraction=max_fraction,
                               fill=fill, batch_size=batch_size, mode=mode, output=output)


def insertion_curve(model: nn.Module, images: torch.Tensor, heatmaps: torch.Tensor,
                    targets: int | Sequence[int] | torch.Tensor, *, steps: int = 16, max_fraction: float = 1.0,
                    fill: float | str = "blur", batch_size: int = 512, mode: str = "eval",
                    output: str = "softmax") -> DeletionCurve:
    """Start from a copy with every pixel replaced by ``fill`` (default: blurred) and put back the
    pixels in the order the heat map ranks them; record the class score (Petsiuk et al., 2018).

    A faithful map makes the score *rise* fast: a **higher** AUC is better. Arguments as in
    :func:`deletion_curve`; at step ``s`` the ``round(s / steps * max_fraction * H * W)``
    highest-ranked pixels come from the image, the rest from ``fill``.

    Args:
        model, images, heatmaps, targets, batch_size, mode, output: as in :func:`deletion_curve`
            (``images: (N, C, H, W)``, ``heatmaps: (N, H, W)``, logits ``(N, K)``).
        steps: number of insertion steps (the curve has ``steps + 1`` points).
        max_fraction: share of the pixels inserted at the last step, in (0, 1].
        fill: what the other pixels hold: a constant, ``"mean"`` or ``"blur"`` (default).

    Returns:
        a :class:`DeletionCurve` (same container; ``fractions`` = share of pixels inserted).
    """
    return _perturbation_curve("insertion", model, images, heatmaps, targets, steps=steps, max_fraction=max_fraction,
                               fill=fill, batch_size=batch_size, mode=mode, output=output)


# --------------------------------------------------------------------------- baselines
_BASELINES = ("brightness", "edges", "centre", "random")


def baseline_maps(images: torch.Tensor, kind: str, *, seed: int = 0) -> torch.Tensor:
    """Heat maps that know nothing about any model: what a method must beat.

    Args:
        images: ``(N, C, H, W)``.
        kind: ``"brightness"`` (the channel mean: finds bright objects), ``"edges"`` (Sobel
            gradient magnitude of the channel mean, box-smoothed over 5x5: finds contrast of
            either sign), ``"centre"`` (a Gaussian of std ``min(H, W) / 4`` at the image
            centre: objects are often in the middle) or ``"random"`` (uniform noise).
        seed: seeds ``"random"``.

    Returns:
        ``(N, H, W)`` float32 on the CPU.

    Raises:
        TypeError, ValueError: ``images`` is not a floating ``(N, C, H, W)`` batch, or an unknown ``kind``.
    """
    x = check_images(images, name="images").detach().float().cpu()
    n, _, h, w = x.shape
    if kind not in _BASELINES:
        raise ValueError(f"kind must be one of {_BASELINES}, got {kind!r}")
    if kind == "brightness":
        return x.mean(1)
    if kind == "edges":
        g = x.mean(1, keepdim=True)
        sx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
        gp = torch.nn.functional.pad(g, [1] * 4, mode="replicate")
        mag = (torch.nn.functional.conv2d(gp, sx) ** 2 + torch.nn.functional.conv2d(gp, sx.transpose(2, 3)) ** 2).sqrt()
        return torch.nn.functional.avg_pool2d(torch.nn.functional.pad(mag, [2] * 4, mode="replicate"), 5, 1)[:, 0]
    if kind == "centre":
        yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                indexing="ij")
        s = min(h, w) / 4
        g = torch.exp(-((xx - (w - 1) / 2) ** 2 + (yy - (h - 1) / 2) ** 2) / (2 * s * s))
        return g.expand(n, h, w).clone()
    return torch.rand(n, h, w, generator=torch.Generator().manual_seed(seed))


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation between paired heat maps ``a, b: (N, H, W)`` -> ``(N,)``.

    The model-randomization sanity check (Adebayo et al., 2018) compares a method's maps for
    the trained model with its maps for a randomly re-initialized one: a method that reflects
    what the model learned gives low correlation; one that only echoes the image stays high.
    A constant map has no ranking: its correlation is reported as 0.

    Args:
        a: ``(N, H, W)`` maps.
        b: ``(N, H, W)`` maps paired with ``a``.

    Returns:
        ``(N,)`` float32 correlations in [-1, 1].

    Raises:
        ValueError: the maps differ in shape, are not ``(N, H, W)`` or contain NaN.
    """
    from scipy.stats import rankdata

    x, y = to_numpy(_check_maps(a, "a")).astype(np.float32), to_numpy(_check_maps(b, "b")).astype(np.float32)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    rx = rankdata(x.reshape(len(x), -1), axis=1)
    ry = rankdata(y.reshape(len(y), -1), axis=1)
    rx -= rx.mean(1, keepdims=True)
    ry -= ry.mean(1, keepdims=True)
    den = np.sqrt((rx ** 2).sum(1) * (ry ** 2).sum(1))
    r = np.where(den > 0, (rx * ry).sum(1) / np.where(den > 0, den, 1), 0.0)
    return torch.from_numpy(r.astype(np.float32))


# --------------------------------------------------------------------------- other measures
def knn_accuracy(features: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, *, k: int = 5,
                 folds: int = 5, seed: int = 0) -> float:
    """Cross-validated k-nearest-neighbour accuracy in an embedding: how separable the classes are.

    ``features: (N, D)``, ``labels: (N,)``. Stratified ``folds``-fold CV with scikit-learn.

    Args:
        features: ``(N, D)`` embeddings.
        labels: ``(N,)`` class indices.
        k: neighbours per vote.
        folds: cross-validation folds (>= 2).
        seed: seeds the fold split.

    Returns:
        The mean accuracy over the folds, in [0, 1].

    Raises:
        ValueError: ``features`` is not 2-D, the label count differs, ``k < 1`` or ``folds < 2``.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    f, y = to_numpy(features), to_numpy(labels)
    if f.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {f.shape}")
    y = y.ravel()
    if y.shape[0] != f.shape[0]:
        raise ValueError(f"got {f.shape[0]} feature vectors but {y.shape[0]} labels")
    if k < 1 or folds < 2:
        raise ValueError(f"need k >= 1 and folds >= 2, got k={k}, folds={folds}")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(KNeighborsClassifier(n_neighbors=k), f, y, cv=cv).mean())


def nearest_neighbours(queries: torch.Tensor | np.ndarray, database: torch.Tensor | np.ndarray, *, k: int = 5,
                       metric: str = "cosine", exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest database vectors of each query (scikit-learn ``NearestNeighbors``).

    Args:
        queries: ``(Q, D)`` embeddings.
        database: ``(N, D)`` embeddings searched (same ``D``).
        k: neighbours per query (1 <= k <= N, or N - 1 with ``exclude_self``).
        metric: any scikit-learn metric (``"cosine"``, ``"euclidean"``, ...).
        exclude_self: the queries are rows of the database; drop each query's own row.

    Returns:
        ``(indices: (Q, k) int, distances: (Q, k) float)``, nearest first.

    Raises:
        ValueError: the shapes do not match or ``k`` is out of range.
    """
    from sklearn.neighbors import NearestNeighbors

    q, d = to_numpy(queries).astype(np.float32), to_numpy(database).astype(np.float32)
    if q.ndim != 2 or d.ndim != 2 or q.shape[1] != d.shape[1]:
        raise ValueError(f"queries (Q, D) and database (N, D) must be 2-D with the same D, got {q.shape}, {d.shape}")
    extra = 1 if exclude_self else 0
    check_int(k, "k", min=1, max=d.shape[0] - extra)
    nn_ = NearestNeighbors(n_neighbors=k + extra, metric=metric).fit(d)
    dist, idx = nn_.kneighbors(q)
    if exclude_self:
        keep = [[j for j in row if j != i][:k] for i, row in enumerate(idx)]
        pos = [[list(row).index(j) for j in kk] for row, kk in zip(idx, keep)]
        dist = np.take_along_axis(dist, np.array(pos), 1)
        idx = np.array(keep)
    return idx, dist


def filter_roughness(weight: torch.Tensor) -> torch.Tensor:
    """How noise-like each filter is: ``weight: (C_out, C_in, kH, kW)`` -> ``(C_out,)``.

    Mean squared difference between neighbouring taps divided by twice the taps' variance:
    about 1 for white noise (an untrained or badly trained filter), near 0 for smooth patterns
    (blobs, edges), up to 2 for a checkerboard.

    Args:
        weight: ``(C_out, C_in, kH, kW)`` conv weights with ``kH, kW >= 2``.

    Returns:
        ``(C_out,)`` roughness per filter.

    Raises:
        TypeError: ``weight`` is not a tensor.
        ValueError: it is not 4-D with kernels of at least 2x2.
    """
    if not torch.is_tensor(weight):
        raise TypeError(f"weight must be a tensor (C_out, C_in, kH, kW), got {type(weight).__name__}")
    w = weight.detach().float().cpu()
    if w.ndim != 4 or w.shape[2] < 2 or w.shape[3] < 2:
        raise ValueError(f"weight must be (C_out, C_in, kH, kW) with kH, kW >= 2, got shape {tuple(w.shape)}")
    dy = (w[:, :, 1:, :] - w[:, :, :-1, :]).pow(2).flatten(1).mean(1)
    dx = (w[:, :, :, 1:] - w[:, :, :, :-1]).pow(2).flatten(1).mean(1)
    var = w.flatten(1).var(1, unbiased=False)
    return ((dx + dy) / 2) / (2 * var.clamp_min(1e-20))


def gap_cnn(in_channels: int = 1, num_classes: int = 5, width: int = 8, first_kernel: int = 5) -> nn.Sequential:
    """The lecture's small CNN with global average pooling (so it has a class activation map).

    ``conv1 (k x k) -> pool1 -> conv2 -> conv3 -> gap -> fc``, each conv followed by batch
    norm and ReLU. One pooling only: for a ``(N, C, 32, 32)`` input the last feature map
    ``relu3`` is ``(N, 4 * width, 16, 16)``, fine enough for heat maps to land on small objects
    (with a second pooling, 8 x 8 cells, Grad-CAM peaks drift 1-2 px off the objects).
    ``fc`` maps the channel means of ``relu3`` to ``num_classes`` logits, so
    ``CAM_c = sum_k fc.weight[c, k] * relu3[k]`` and ``logits = mean(CAM) + fc.bias``.

    Args:
        in_channels: channels of the input images.
        num_classes: logits out.
        width: channels of ``conv1`` (``conv2``: 2x, ``conv3``: 4x).
        first_kernel: odd side of ``conv1``'s kernel.

    Returns:
        ``nn.Sequential`` mapping ``(N, in_channels, H, W)`` to ``(N, num_classes)``.

    Raises:
        TypeError: a size is not an int.
        ValueError: a size < 1, or an even ``first_kernel``.
    """
    for name, v in (("in_channels", in_channels), ("num_classes", num_classes), ("width", width),
                    ("first_kernel", first_kernel)):
        check_int(v, name, min=1)
    if first_kernel % 2 == 0:
        raise ValueError(f"first_kernel must be odd (same padding), got {first_kernel}")
    w = width
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, w, first_kernel, padding=first_kernel // 2)),
        ("bn1", nn.BatchNorm2d(w)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(w, 2 * w, 3, padding=1)), ("bn2", nn.BatchNorm2d(2 * w)), ("relu2", nn.ReLU()),
        ("conv3", nn.Conv2d(2 * w, 4 * w, 3, padding=1)), ("bn3", nn.BatchNorm2d(4 * w)), ("relu3", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(4 * w, num_classes)),
    ]))


def _gap_cnn_setup(train, val, kind: type, maker: str, epochs, width, lr, weight_decay, batch_size, seed, device):
    """Checks, seeded model, loaders, AdamW and cosine schedule shared by the two trainers below."""
    from .seed import seed_everything

    for name, v in (("train", train), ("val", val)):
        if (v is not None or name == "train") and not isinstance(v, kind):
            raise TypeError(f"{name} must be a dlcourse.data.{kind.__name__} (from {maker}), got {type(v).__name__}")
    check_int(epochs, "epochs", min=0)
    gen = seed_everything(seed)
    model = gap_cnn(train.images.shape[1], len(train.class_names), width)
    if device is not None:
        model.to(device)
    loader = torch.utils.data.DataLoader(train.dataset(), batch_size=batch_size, shuffle=True, generator=gen)
    val_loader = torch.utils.data.DataLoader(val.dataset(), batch_size=256) if val is not None else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    return model, loader, val_loader, opt, sched


def train_shapes_cnn(train: Any, *, epochs: int, val: Any | None = None, width: int = 8, lr: float = 3e-3,
                     weight_decay: float = 0.0, batch_size: int = 64, seed: int = 0, device: torch.device | str | None = None,
                     progress: bool = True, callbacks: Sequence[Any] = ()) -> tuple[nn.Sequential, Any]:
    """Train :func:`gap_cnn` on generated shapes (AdamW, cosine learning-rate decay, seeded).

    Args:
        train: a :class:`dlcourse.data.ShapesData` (``images: (N, C, H, W)``, ``labels: (N,)``).
        epochs: passes over ``train`` (0 returns the initialized network).
        val: optional ``ShapesData`` evaluated after each epoch.
        width: channels of ``conv1`` (see :func:`gap_cnn`).
        lr: AdamW's initial learning rate (decayed to 0 over ``epochs`` by a cosine).
        weight_decay: AdamW's decoupled weight decay (it also wipes the initial noise out of
            filters that the data does not use).
        batch_size: images per training batch (the shuffle is seeded).
        seed: seeds Python, NumPy and PyTorch (``seed.seed_everything``) before building the model.
        device: where to train (default: the CPU).
        progress: show a progress bar (``training.fit``).
        callbacks: passed to ``training.fit`` (e.g. ``training.LivePlot()``).

    Returns:
        ``(model, history)``; the model is left in eval mode.
    """
    from . import data as _data
    from .training import fit

    model, loader, val_loader, opt, sched = _gap_cnn_setup(train, val, _data.ShapesData, "data.make_shapes", epochs,
                                                           width, lr, weight_decay, batch_size, seed, device)
    history = fit(model, loader, epochs=epochs, optimizer=opt, scheduler=sched, val_loader=val_loader,
                  progress=progress, callbacks=callbacks, desc="shapes")
    return model.eval(), history


def scene_accuracy(model: nn.Module, scenes: Any, *, batch_size: int = 512) -> float:
    """Share of scenes whose ``M`` highest logits are exactly the ``M`` classes present.

    ``scenes``: a :class:`dlcourse.data.ShapeScenes` (``labels: (N, M)``).

    Args:
        model: a multi-label classifier returning ``(N, K)`` logits.
        scenes: the scenes to score.
        batch_size: scenes per forward pass.

    Returns:
        The share in [0, 1].

    Raises:
        TypeError: ``scenes`` is not a ShapeScenes.
    """
    from . import data as _data

    if not isinstance(scenes, _data.ShapeScenes):
        raise TypeError(f"scenes must be a dlcourse.data.ShapeScenes, got {type(scenes).__name__}")
    dev = model_device(model)
    m = scenes.labels.shape[1]
    hits = []
    with train_mode(model, False), torch.no_grad():
        for i in range(0, len(scenes), batch_size):
            top = model(scenes.images[i:i + batch_size].to(dev)).topk(m, 1).indices.sort(1).values.cpu()
            hits.append((top == scenes.labels[i:i + batch_size].sort(1).values).all(1))
    return float(torch.cat(hits).float().mean())


def train_scenes_cnn(train: Any, *, epochs: int, val: Any | None = None, width: int = 8, lr: float = 3e-3,
                     weight_decay: float = 0.0, batch_size: int = 64, seed: int = 0,
                     device: torch.device | str | None = None, progress: bool = True,
                     callbacks: Sequence[Any] = ()) -> tuple[nn.Sequential, Any]:
    """Train :func:`gap_cnn` as a **multi-label** classifier on scenes of several shapes.

    One sigmoid output per class (``BCEWithLogitsLoss`` on the multi-hot labels), AdamW with a
    cosine learning-rate decay, seeded. Heat maps for a class are then asked of that class's
    logit. With ``val``, the history gets ``val_acc`` = :func:`scene_accuracy` after each epoch.

    Args:
        train: a :class:`dlcourse.data.ShapeScenes`.
        epochs: passes over ``train`` (an int >= 0; 0 returns the initialized network).
        val: optional ``ShapeScenes`` evaluated after each epoch.
        width: channels of ``conv1`` (see :func:`gap_cnn`).
        lr: AdamW's initial learning rate (decayed to 0 over ``epochs`` by a cosine).
        weight_decay: AdamW's decoupled weight decay.
        batch_size: images per training batch (the shuffle is seeded).
        seed: seeds Python, NumPy and PyTorch before building the model.
        device: where to train (default: the CPU).
        progress: show a progress bar (``training.fit``).
        callbacks: passed to ``training.fit`` after the one that records ``val_acc``.

    Returns:
        ``(model, history)``; the model is left in eval mode.
    """
    from . import data as _data
    from .training import fit

    model, loader, val_loader, opt, sched = _gap_cnn_setup(train, val, _data.ShapeScenes, "data.make_shape_scenes",
                                                           epochs, width, lr, weight_decay, batch_size, seed, device)

    class _SceneAccuracy:
        def on_epoch_end(self, history) -> None:
            if val is not None:
                history.records[-1]["val_acc"] = scene_accuracy(model, val)

    history = fit(model, loader, epochs=epochs, optimizer=opt, scheduler=sched, val_loader=val_loader,
                  loss_fn=nn.BCEWithLogitsLoss(), progress=progress, callbacks=[_SceneAccuracy(), *callbacks],
                  desc="scenes")
    return model.eval(), history


class WeightsUnavailable(RuntimeError):
    """Pretrained weights are neither in a local file nor in the torch cache, and cannot be downloaded."""


@dataclass
class Pretrained:
    """A pretrained torchvision model with what is needed to feed it photos.

    ``model`` is in eval mode; ``categories[i]`` names logit ``i``; images must be normalized
    with ``mean`` / ``std`` (per RGB channel) after scaling to [0, 1]; ``source`` says where the
    weights came from (print it: one line saying what was used).
    """

    model: nn.Module
    categories: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: str

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (N, 3, H, W)`` in [0, 1] -> the model's input."""
        x = check_images(x, channels=3)
        m = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        s = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - m) / s


def pretrained_resnet18(weights: Path | str | None = None, *, download: bool = True,
                        timeout: float = 3.0) -> Pretrained:
    """torchvision's ResNet-18 with ImageNet weights (``ResNet18_Weights.IMAGENET1K_V1``).

    Where the weights come from, in order: ``weights`` (a local ``state_dict`` file, loaded with
    ``torch.load(weights_only=True)``), the torch hub cache (``torch.hub.get_dir()/checkpoints``),
    a download (when ``download`` and the host answers within ``timeout`` seconds; torchvision
    checks the file's hash).

    Args:
        weights: a local ``state_dict`` file, or ``None`` for the cache / a download.
        download: allow a download when nothing is cached.
        timeout: seconds to wait for the download host to answer.

    Returns:
        a :class:`Pretrained` (model in eval mode, categories, normalization, source).

    Raises:
        FileNotFoundError: ``weights`` names a file that does not exist.
        ValueError: the file is not a ResNet-18 state dict (missing / unexpected keys, shapes).
        WeightsUnavailable: no local file, nothing cached, and no download possible (offline).
    """
    import socket
    from urllib.parse import urlparse

    from torchvision.models import ResNet18_Weights, resnet18

    spec = ResNet18_Weights.IMAGENET1K_V1
    model = resnet18()
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"no weights file at {path}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        source = tr("local weights file {path}", path=path)
    else:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(spec.url).path).name
        if cached.is_file():
            state = torch.load(cached, map_location="cpu", weights_only=True)
            source = tr("torch cache {path}", path=cached)
        else:
            host = urlparse(spec.url).hostname or ""
            online = False
            if download:
                try:
                    with socket.create_connection((host, 443), timeout=timeout):
                        online = True
                except OSError:
                    online = False
            if not online:
                why = "download=False" if not download else f"{host} cannot be reached (offline)"
                raise WeightsUnavailable(f"ResNet-18 ImageNet weights are not in {cached.parent} and {why}")
            state = spec.get_state_dict(progress=False, check_hash=True)
            source = tr("downloaded from {host} (now cached in {folder})", host=host, folder=cached.parent)
    if not isinstance(state, Mapping):
        raise ValueError(f"the weights must be a state dict (a mapping of tensors), got {type(state).__name__}")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"not a torchvision ResNet-18 state dict: {str(err)[:300]}") from err
    transforms = spec.transforms()
    return Pretrained(model.eval(), list(spec.meta["categories"]), tuple(transforms.mean), tuple(transforms.std), source)


def mean_roughness(weights: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """The mean :func:`filter_roughness` of each entry of ``{label: (C_out, C_in, kH, kW)}``
    (what ``plotting.plot_filters(weights, roughness=...)`` writes under each panel)."""
    return {label: float(filter_roughness(torch.as_tensor(w)).mean()) for label, w in weights.items()}
